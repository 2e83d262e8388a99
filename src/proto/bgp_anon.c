/* bgp_anon.c — a BGP message anonymised in place (anon.h): every address, prefix and AS number
 * it carries, at the same length, so that the framing around it (TCP, BMP) stays true.
 *
 * OPEN: My AS (unless AS_TRANS), the BGP identifier, the 4-octet AS capability.
 * UPDATE: withdrawn routes and NLRI (as prefixes), AS_PATH and AS4_PATH (each AS), NEXT_HOP,
 * AGGREGATOR and AS4_AGGREGATOR (AS and address), ORIGINATOR_ID, CLUSTER_LIST, the AS half of
 * COMMUNITIES and the global administrator of LARGE_COMMUNITY, MP_REACH_NLRI (next hops and
 * NLRI) and MP_UNREACH_NLRI of IPv4/IPv6 unicast and multicast. Another family's NLRI cannot be
 * mapped here (VPN labels, EVPN, flowspec): the message is said unmappable, and the caller
 * drops it or stops, never passes it on as it is. */
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

/* prefixes (with ADD-PATH's path identifier before each) to the end of c */
static enum anon_result map_prefixes(struct anon *a, struct cursor c, size_t addr_len, bool addpath,
                                     struct bgp_anon_counts *n)
{
    while (cursor_remaining(&c)) {
        if (addpath)
            cursor_skip(&c, 4);
        uint8_t bits = cursor_u8(&c);
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
    return (afi == 1 || afi == 2) && (safi == 1 || safi == 2);
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
        if (nh_len == 4 || nh_len == 16) /* IPv4, IPv6 (also RFC 8950's for IPv4 routes) */
            map_addr(a, nh, nh_len, n);
        else if (nh_len == 32) { /* global and link-local */
            map_addr(a, nh, 16, n);
            map_addr(a, nh + 16, 16, n);
        } else
            return ANON_UNMAPPABLE;
    }
    return map_prefixes(a, v, afi == 2 ? 16 : 4, addpath, n);
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
    enum anon_result r = map_prefixes(a, withdrawn, 4, addpath, n);
    while (r == ANON_OK && cursor_remaining(&attrs)) {
        uint8_t flags = cursor_u8(&attrs), type = cursor_u8(&attrs);
        uint16_t len = flags & BGP_ATTR_FLAG_EXTENDED ? cursor_be16(&attrs) : cursor_u8(&attrs);
        struct cursor v = cursor_sub(&attrs, len);
        if (!cursor_ok(&attrs))
            return ANON_MALFORMED;
        r = map_attr(a, type, v, as4, addpath, n);
    }
    return r == ANON_OK ? map_prefixes(a, c, 4, addpath, n) : r;
}

enum { CAP_FOUR_OCTET_AS = 65, OPEN_PARAM_CAPABILITIES = 2 };

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
        while (type == OPEN_PARAM_CAPABILITIES && cursor_remaining(&p)) {
            uint8_t code = cursor_u8(&p), clen = cursor_u8(&p);
            const uint8_t *value = cursor_take(&p, clen);
            if (!cursor_ok(&p))
                return ANON_MALFORMED;
            if (code == CAP_FOUR_OCTET_AS && clen == 4)
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
