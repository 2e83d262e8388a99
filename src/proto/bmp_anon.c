/* bmp_anon.c — a BMP message anonymised in place (anon.h), its length unchanged: the per-peer
 * header's address, AS, BGP ID and route distinguisher; PEER_UP's local address, both OPENs and
 * its strings; the BGP messages of Route Monitoring and Route Mirroring (bgp_anonymise); INIT
 * and TERM strings (sysName, sysDescr: anon_name).
 *
 * A session's state is which peers send ADD-PATH NLRI: their PEER_UP's OPENs say it (the
 * peer's OPEN offers to send, the router's to receive), and their Route Monitoring is read so.
 * At most BMP_ANON_PEERS peers are remembered; one past that is taken for one without. */
#include <stdlib.h>
#include <string.h>

#include "anon.h"
#include "cursor.h"
#include "proto/proto.h"

#define BMP_ANON_PEERS 4096
#define PEER_HEADER 42
enum { INFO_STRING = 0, INFO_SYS_DESCR = 1, INFO_SYS_NAME = 2, INFO_VRF_TABLE = 3 };
enum { MIRROR_BGP_MESSAGE = 0 };

struct peer_key {
    uint8_t distinguisher[8], addr[16];
};

struct bmp_anon {
    struct anon *a;
    struct peer_key keys[BMP_ANON_PEERS];
    bool addpath[BMP_ANON_PEERS];
    size_t n;
};

struct bmp_anon *bmp_anon_new(struct anon *a)
{
    struct bmp_anon *s = calloc(1, sizeof *s);
    if (s)
        s->a = a;
    return s;
}

void bmp_anon_free(struct bmp_anon *s) { free(s); }

static uint8_t *w(const uint8_t *p) { return (uint8_t *)(uintptr_t)p; }

static bool *peer_slot(struct bmp_anon *s, const struct peer_key *k, bool add)
{
    for (size_t i = 0; i < s->n; i++)
        if (!memcmp(&s->keys[i], k, sizeof *k))
            return &s->addpath[i];
    if (!add || s->n == BMP_ANON_PEERS)
        return NULL;
    s->keys[s->n] = *k;
    s->addpath[s->n] = false;
    return &s->addpath[s->n++];
}

/* the ADD-PATH send/receive bits an OPEN offers, over its families */
static unsigned addpath_offer(const uint8_t *open, size_t len)
{
    struct cursor c = cursor_make(open, len);
    cursor_skip(&c, 19 + 1 + 2 + 2 + 4);
    uint8_t opt_len = cursor_u8(&c);
    struct cursor params = cursor_sub(&c, opt_len);
    unsigned bits = 0;
    while (cursor_ok(&params) && cursor_remaining(&params)) {
        uint8_t type = cursor_u8(&params), plen = cursor_u8(&params);
        struct cursor p = cursor_sub(&params, plen);
        while (type == BGP_OPEN_PARAM_CAPABILITIES && cursor_ok(&p) && cursor_remaining(&p)) {
            uint8_t code = cursor_u8(&p), clen = cursor_u8(&p);
            struct cursor v = cursor_sub(&p, clen);
            while (code == BGP_CAP_ADD_PATH && cursor_remaining(&v) >= 4) {
                cursor_skip(&v, 3);
                bits |= cursor_u8(&v);
            }
        }
    }
    return bits;
}

/* a BGP message inside a BMP message: its own length says where it ends */
static enum anon_result bgp_inside(struct bmp_anon *s, struct cursor *c, bool as4, bool addpath,
                                   struct bgp_anon_counts *n, const uint8_t **msg, size_t *len)
{
    uint8_t hi = 0, lo = 0;
    cursor_peek_u8(c, 16, &hi);
    cursor_peek_u8(c, 17, &lo);
    *len = (size_t)hi << 8 | lo;
    *msg = cursor_take(c, *len);
    if (!*msg || *len < 19)
        return ANON_MALFORMED;
    return bgp_anonymise(s->a, w(*msg), *len, as4, addpath, n);
}

static enum anon_result tlv_names(struct bmp_anon *s, struct cursor c, bool mirror, bool as4, bool addpath,
                                  struct bgp_anon_counts *n)
{
    while (cursor_remaining(&c)) {
        uint16_t type = cursor_be16(&c), len = cursor_be16(&c);
        const uint8_t *v = cursor_take(&c, len);
        if (!cursor_ok(&c))
            return ANON_MALFORMED;
        if (mirror) {
            if (type == MIRROR_BGP_MESSAGE) {
                enum anon_result r = bgp_anonymise(s->a, w(v), len, as4, addpath, n);
                if (r != ANON_OK)
                    return r;
            }
        } else if (type == INFO_STRING || type == INFO_SYS_DESCR || type == INFO_SYS_NAME || type == INFO_VRF_TABLE) {
            anon_name(s->a, w(v), len);
        }
    }
    return ANON_OK;
}

enum anon_result bmp_anonymise(struct bmp_anon *s, uint8_t *msg, size_t len, struct bgp_anon_counts *n)
{
    struct cursor c = cursor_make(msg, len);
    uint8_t version = cursor_u8(&c);
    uint32_t mlen = cursor_be32(&c);
    uint8_t type = cursor_u8(&c);
    if (!cursor_ok(&c) || version != 3 || mlen != len)
        return ANON_MALFORMED;
    if (type == BMP_INIT || type == BMP_TERM)
        return tlv_names(s, c, false, true, false, n);
    if (type > BMP_ROUTE_MIRRORING)
        return ANON_UNMAPPABLE; /* a type this version of BMP does not define: nothing known of it */
    /* the per-peer header */
    uint8_t peer_type = cursor_u8(&c), flags = cursor_u8(&c);
    const uint8_t *rd = cursor_take(&c, 8), *addr = cursor_take(&c, 16), *as = cursor_take(&c, 4),
                  *id = cursor_take(&c, 4);
    cursor_skip(&c, 8); /* timestamp */
    if (!cursor_ok(&c))
        return ANON_MALFORMED;
    bool v6 = flags & BMP_PEER_FLAG_IPV6, as4 = !(flags & BMP_PEER_FLAG_AS2);
    struct peer_key key;
    memcpy(key.distinguisher, rd, 8);
    memcpy(key.addr, addr, 16);
    bool *addpath = peer_slot(s, &key, type == BMP_PEER_UP);
    if (peer_type == BMP_PEER_RD || peer_type == BMP_PEER_LOC_RIB)
        bgp_anon_rd(s->a, w(rd));
    anon_bytes(s->a, w(v6 ? addr : addr + 12), v6 ? 16 : 4);
    uint32_t peer_as = (uint32_t)as[0] << 24 | (uint32_t)as[1] << 16 | (uint32_t)as[2] << 8 | as[3];
    peer_as = anon_as(s->a, peer_as);
    w(as)[0] = (uint8_t)(peer_as >> 24), w(as)[1] = (uint8_t)(peer_as >> 16), w(as)[2] = (uint8_t)(peer_as >> 8),
    w(as)[3] = (uint8_t)peer_as;
    anon_bytes(s->a, w(id), 4);
    n->addresses += 2;
    n->ases++;
    const uint8_t *m;
    size_t mlen2;
    switch (type) {
    case BMP_ROUTE_MONITORING:
        return bgp_inside(s, &c, as4, addpath && *addpath, n, &m, &mlen2);
    case BMP_PEER_UP: {
        const uint8_t *local = cursor_take(&c, 16);
        cursor_skip(&c, 4); /* ports */
        if (!cursor_ok(&c))
            return ANON_MALFORMED;
        anon_bytes(s->a, w(v6 ? local : local + 12), v6 ? 16 : 4);
        const uint8_t *sent, *received;
        size_t sent_len, received_len;
        enum anon_result r;
        /* what each OPEN offers is read before it is anonymised (the capabilities stay as they are) */
        uint8_t hi = 0, lo = 0;
        cursor_peek_u8(&c, 16, &hi), cursor_peek_u8(&c, 17, &lo);
        size_t open_len = (size_t)hi << 8 | lo;
        if (open_len > cursor_remaining(&c)) /* an OPEN longer than the message: bgp_inside says so */
            open_len = cursor_remaining(&c);
        unsigned router = addpath_offer(cursor_rest(&c), open_len);
        if ((r = bgp_inside(s, &c, true, false, n, &sent, &sent_len)) != ANON_OK)
            return r;
        unsigned peer = addpath_offer(cursor_rest(&c), cursor_remaining(&c));
        if ((r = bgp_inside(s, &c, true, false, n, &received, &received_len)) != ANON_OK)
            return r;
        if (addpath)
            *addpath = (router & BGP_ADD_PATH_RECEIVE) && (peer & BGP_ADD_PATH_SEND);
        return tlv_names(s, c, false, true, false, n);
    }
    case BMP_ROUTE_MIRRORING:
        return tlv_names(s, c, true, as4, addpath && *addpath, n);
    default: /* STATS, PEER_DOWN: counters, reasons and a NOTIFICATION: nothing of the network's */
        return ANON_OK;
    }
}
