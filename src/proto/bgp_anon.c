/* bgp_anon.c — a BGP message anonymised in place (anon.h): every address, prefix and AS number
 * it carries, at the same length, so that the framing around it (TCP, BMP) stays true.
 *
 * OPEN: My AS (unless AS_TRANS), the BGP identifier, the 4-octet AS capability.
 * UPDATE: withdrawn routes and NLRI (as prefixes), AS_PATH and AS4_PATH (each AS), NEXT_HOP,
 * AGGREGATOR and AS4_AGGREGATOR (AS and address), ORIGINATOR_ID, CLUSTER_LIST, the AS half of
 * COMMUNITIES and the global administrator of LARGE_COMMUNITY, MP_REACH_NLRI (next hops and
 * NLRI) and MP_UNREACH_NLRI of IPv4/IPv6 unicast, multicast, labeled unicast (RFC 8277) and
 * labeled VPN unicast (RFC 4364, 4659: the route distinguisher's administrator mapped, labels
 * kept). Another family's NLRI cannot be mapped here (EVPN, flowspec, ...): the message is said
 * unmappable, and the caller drops it or stops, never passes it on as it is. */
#include <string.h>

#include "anon.h"
#include "cursor.h"
#include "proto/proto.h"

/* The cursor hands out read-only views of the message; the message is the caller's and
 * writable, so a view is written back where it points. */
static uint8_t *w(const uint8_t *p) { return (uint8_t *)(uintptr_t)p; }

static void map_addr(struct anon *a, const uint8_t *p, size_t len, struct bgp_anon_counts *n)
{
    if (p) {
        anon_bytes(a, w(p), len);
        n->addresses++;
    }
}

static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8), p[1] = (uint8_t)v; }
static void put32(uint8_t *p, uint32_t v) { put16(p, (uint16_t)(v >> 16)), put16(p + 2, (uint16_t)v); }
static uint32_t get32(const uint8_t *p) { return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }

static void map_as(struct anon *a, const uint8_t *p, bool four, struct bgp_anon_counts *n)
{
    if (!p)
        return;
    uint32_t as = four ? get32(p) : (uint32_t)p[0] << 8 | p[1];
    uint32_t m = anon_as(a, as); /* a 2-byte AS maps to a 2-byte AS */
    if (four)
        put32(w(p), m);
    else
        put16(w(p), (uint16_t)m);
    n->ases++;
}

enum { SAFI_UNICAST = 1, SAFI_MULTICAST = 2, SAFI_LABELED = 4, SAFI_VPN = 128 };
#define LABEL_BOTTOM 0x01        /* the last label of the stack (its third byte's low bit) */
#define LABEL_WITHDRAWN 0x800000 /* RFC 8277 section 2.4: the label of a withdrawal */

void bgp_anon_rd(struct anon *a, uint8_t *rd)
{
    uint16_t type = (uint16_t)(rd[0] << 8 | rd[1]);
    if (type == 1) { /* an IPv4 address, then a number */
        anon_bytes(a, rd + 2, 4);
    } else if (type == 0) { /* a 2-byte AS */
        uint32_t v = anon_as(a, (uint32_t)rd[2] << 8 | rd[3]);
        rd[2] = (uint8_t)(v >> 8), rd[3] = (uint8_t)v;
    } else if (type == 2) { /* a 4-byte AS */
        uint32_t v = anon_as(a, (uint32_t)rd[2] << 24 | (uint32_t)rd[3] << 16 | (uint32_t)rd[4] << 8 | rd[5]);
        rd[2] = (uint8_t)(v >> 24), rd[3] = (uint8_t)(v >> 16), rd[4] = (uint8_t)(v >> 8), rd[5] = (uint8_t)v;
    }
}

/* prefixes (with ADD-PATH's path identifier before each; labeled families: the label stack,
 * VPN: then the route distinguisher) to the end of c */
static enum anon_result map_prefixes(struct anon *a, struct cursor c, size_t addr_len, uint8_t safi, bool addpath,
                                     struct bgp_anon_counts *n)
{
    while (cursor_remaining(&c)) {
        if (addpath)
            cursor_skip(&c, 4);
        unsigned bits = cursor_u8(&c);
        if (safi == SAFI_LABELED || safi == SAFI_VPN) {
            for (;;) {
                const uint8_t *label = cursor_take(&c, 3);
                if (!label || bits < 24)
                    return ANON_MALFORMED;
                bits -= 24;
                uint32_t v = (uint32_t)label[0] << 16 | (uint32_t)label[1] << 8 | label[2];
                if ((label[2] & LABEL_BOTTOM) || v == LABEL_WITHDRAWN || v == 0)
                    break;
            }
        }
        if (safi == SAFI_VPN) {
            const uint8_t *rd = cursor_take(&c, 8);
            if (!rd || bits < 64)
                return ANON_MALFORMED;
            bits -= 64;
            bgp_anon_rd(a, w(rd));
        }
        const uint8_t *p = cursor_take(&c, (bits + 7u) / 8);
        if (!cursor_ok(&c) || bits > addr_len * 8)
            return ANON_MALFORMED;
        anon_prefix(a, w(p), bits, addr_len);
        n->prefixes++;
    }
    return ANON_OK;
}

static enum anon_result map_path(struct anon *a, struct cursor v, bool four, struct bgp_anon_counts *n)
{
    while (cursor_remaining(&v)) {
        cursor_skip(&v, 1);
        uint8_t count = cursor_u8(&v);
        for (unsigned i = 0; i < count; i++)
            map_as(a, cursor_take(&v, four ? 4 : 2), four, n);
        if (!cursor_ok(&v))
            return ANON_MALFORMED;
    }
    return ANON_OK;
}

static bool family_mapped(uint16_t afi, uint8_t safi)
{
    return (afi == 1 || afi == 2) &&
           (safi == SAFI_UNICAST || safi == SAFI_MULTICAST || safi == SAFI_LABELED || safi == SAFI_VPN);
}

static enum anon_result map_mp(struct anon *a, struct cursor v, bool reach, bool addpath, struct bgp_anon_counts *n)
{
    uint16_t afi = cursor_be16(&v);
    uint8_t safi = cursor_u8(&v);
    if (!cursor_ok(&v))
        return ANON_MALFORMED;
    if (!family_mapped(afi, safi))
        return ANON_UNMAPPABLE;
    if (reach) {
        uint8_t nh_len = cursor_u8(&v);
        const uint8_t *nh = cursor_take(&v, nh_len);
        cursor_skip(&v, 1); /* reserved */
        if (!cursor_ok(&v))
            return ANON_MALFORMED;
        /* VPN next hops: each address after a route distinguisher (zero, RFC 4364 / 4659) */
        size_t rd = safi == SAFI_VPN ? 8 : 0;
        if (nh_len == rd + 4 || nh_len == rd + 16) { /* IPv4, IPv6 (also RFC 8950's for IPv4 routes) */
            map_addr(a, nh + rd, nh_len - rd, n);
        } else if (nh_len == 2 * (rd + 16)) { /* global and link-local */
            map_addr(a, nh + rd, 16, n);
            map_addr(a, nh + 2 * rd + 16, 16, n);
        } else {
            return ANON_UNMAPPABLE;
        }
    }
    return map_prefixes(a, v, afi == 2 ? 16 : 4, safi, addpath, n);
}

static enum anon_result map_attr(struct anon *a, uint8_t type, struct cursor v, bool as4, bool addpath,
                                 struct bgp_anon_counts *n)
{
    size_t len = cursor_remaining(&v);
    switch (type) {
    case BGP_ATTR_AS_PATH:
        return map_path(a, v, as4, n);
    case BGP_ATTR_AS4_PATH:
        return map_path(a, v, true, n);
    case BGP_ATTR_NEXT_HOP:
    case BGP_ATTR_ORIGINATOR_ID:
    case BGP_ATTR_CLUSTER_LIST:
        if (len % 4)
            return ANON_MALFORMED;
        for (size_t i = 0; i < len; i += 4)
            map_addr(a, cursor_take(&v, 4), 4, n);
        return ANON_OK;
    case BGP_ATTR_AGGREGATOR:
    case BGP_ATTR_AS4_AGGREGATOR: {
        bool four = type == BGP_ATTR_AS4_AGGREGATOR || as4;
        if (len != (four ? 8u : 6u))
            return ANON_MALFORMED;
        map_as(a, cursor_take(&v, four ? 4 : 2), four, n);
        map_addr(a, cursor_take(&v, 4), 4, n);
        return ANON_OK;
    }
    case BGP_ATTR_COMMUNITIES: /* ASN:value; the well-known ones (0xFFFF....) and private ASes stay */
        if (len % 4)
            return ANON_MALFORMED;
        for (size_t i = 0; i < len; i += 4)
            map_as(a, cursor_take(&v, 4), false, n); /* the first two bytes */
        return ANON_OK;
    case BGP_ATTR_LARGE_COMMUNITY: /* global administrator (an AS), two local data parts */
        if (len % 12)
            return ANON_MALFORMED;
        for (size_t i = 0; i < len; i += 12) {
            map_as(a, cursor_take(&v, 4), true, n);
            cursor_skip(&v, 8);
        }
        return ANON_OK;
    case BGP_ATTR_MP_REACH:
    case BGP_ATTR_MP_UNREACH:
        return map_mp(a, v, type == BGP_ATTR_MP_REACH, addpath, n);
    default:
        return ANON_OK;
    }
}

static enum anon_result map_update(struct anon *a, struct cursor c, bool as4, bool addpath, struct bgp_anon_counts *n)
{
    uint16_t wlen = cursor_be16(&c);
    struct cursor withdrawn = cursor_sub(&c, wlen);
    uint16_t alen = cursor_be16(&c);
    struct cursor attrs = cursor_sub(&c, alen);
    if (!cursor_ok(&c))
        return ANON_MALFORMED;
    enum anon_result r = map_prefixes(a, withdrawn, 4, SAFI_UNICAST, addpath, n);
    while (r == ANON_OK && cursor_remaining(&attrs)) {
        uint8_t flags = cursor_u8(&attrs), type = cursor_u8(&attrs);
        uint16_t len = flags & BGP_ATTR_FLAG_EXTENDED ? cursor_be16(&attrs) : cursor_u8(&attrs);
        struct cursor v = cursor_sub(&attrs, len);
        if (!cursor_ok(&attrs))
            return ANON_MALFORMED;
        r = map_attr(a, type, v, as4, addpath, n);
    }
    return r == ANON_OK ? map_prefixes(a, c, 4, SAFI_UNICAST, addpath, n) : r;
}


static enum anon_result map_open(struct anon *a, struct cursor c, struct bgp_anon_counts *n)
{
    cursor_skip(&c, 1); /* version */
    const uint8_t *my_as = cursor_take(&c, 2);
    cursor_skip(&c, 2); /* hold time */
    const uint8_t *id = cursor_take(&c, 4);
    uint8_t opt_len = cursor_u8(&c);
    struct cursor params = cursor_sub(&c, opt_len);
    if (!cursor_ok(&c))
        return ANON_MALFORMED;
    if (((uint16_t)my_as[0] << 8 | my_as[1]) != BGP_AS_TRANS)
        map_as(a, my_as, false, n);
    map_addr(a, id, 4, n);
    while (cursor_remaining(&params)) {
        uint8_t type = cursor_u8(&params), plen = cursor_u8(&params);
        struct cursor p = cursor_sub(&params, plen);
        if (!cursor_ok(&params))
            return ANON_MALFORMED;
        while (type == BGP_OPEN_PARAM_CAPABILITIES && cursor_remaining(&p)) {
            uint8_t code = cursor_u8(&p), clen = cursor_u8(&p);
            const uint8_t *value = cursor_take(&p, clen);
            if (!cursor_ok(&p))
                return ANON_MALFORMED;
            if (code == BGP_CAP_FOUR_OCTET_AS && clen == 4)
                map_as(a, value, true, n);
        }
    }
    return ANON_OK;
}

enum anon_result bgp_anonymise(struct anon *a, uint8_t *msg, size_t len, bool as4, bool addpath,
                               struct bgp_anon_counts *n)
{
    struct cursor c = cursor_make(msg, len);
    cursor_skip(&c, 16);
    uint16_t mlen = cursor_be16(&c);
    uint8_t type = cursor_u8(&c);
    if (!cursor_ok(&c) || mlen != len)
        return ANON_MALFORMED;
    switch (type) {
    case BGP_OPEN:
        return map_open(a, c, n);
    case BGP_UPDATE:
        return map_update(a, c, as4, addpath, n);
    default: /* KEEPALIVE, NOTIFICATION, ROUTE-REFRESH: nothing of the network's */
        return ANON_OK;
    }
}
