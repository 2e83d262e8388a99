/* mrt_pack.c — the MRT source's RIB entries packed into UPDATEs by attribute set (PACKS open
 * per speaker, least recently used out first), TABLE_DUMP_V2's abbreviated IPv6 next hops
 * rebuilt, and BMP's Loc-RIB (RFC 9069): the route the router would select. See mrt_source.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "cursor.h"
#include "hash.h"
#include "log.h"
#include "proto/proto.h"
#include "source/mrt_int.h"

/* ---- packing RIB entries into UPDATEs ---- */

static size_t update_size(const struct pack *k, size_t more_nlri)
{
    size_t n = 19 + 2 + 2 + k->attrs.len + k->nlri.len + more_nlri;
    if (!(k->afi == MRT_AFI_IPV4 && k->safi == MRT_SAFI_UNICAST))
        n += 4 + 2 + 1 + 1 + k->nexthop_len + 1; /* MP_REACH_NLRI header */
    return n;
}

static int pack_flush(struct mrt_source *s, uint32_t id, struct speaker *sp, struct pack *k)
{
    if (!k->used)
        return 0;
    k->used = false;
    struct buf *m = &s->msg;
    m->len = 0;
    size_t at = bgp_begin(m, BGP_UPDATE);
    buf_put_u16(m, 0); /* withdrawn routes */
    size_t attrs_at = m->len;
    buf_put_u16(m, 0);
    buf_put(m, k->attrs.p, k->attrs.len);
    bool classic = k->afi == MRT_AFI_IPV4 && k->safi == MRT_SAFI_UNICAST;
    if (!classic) {
        buf_put_u8(m, BGP_ATTR_FLAG_OPTIONAL | BGP_ATTR_FLAG_EXTENDED);
        buf_put_u8(m, BGP_ATTR_MP_REACH);
        buf_put_u16(m, (uint16_t)(2 + 1 + 1 + k->nexthop_len + 1 + k->nlri.len));
        buf_put_u16(m, k->afi);
        buf_put_u8(m, k->safi);
        buf_put_u8(m, k->nexthop_len);
        buf_put(m, k->nexthop, k->nexthop_len);
        buf_put_u8(m, 0); /* reserved */
        buf_put(m, k->nlri.p, k->nlri.len);
    }
    buf_put_u16_at(m, attrs_at, (uint16_t)(m->len - attrs_at - 2));
    if (classic)
        buf_put(m, k->nlri.p, k->nlri.len);
    bgp_end(m, at);
    k->nlri.len = 0;
    if (m->failed) {
        snprintf(s->error, sizeof s->error, "out of memory");
        return -1;
    }
    return mrt_speaker_message(s, id, sp, k->ts_ns, m->p, m->len);
}

int mrt_speaker_flush(struct mrt_source *s, uint32_t id, struct speaker *sp)
{
    for (int i = 0; i < PACKS; i++)
        if (pack_flush(s, id, sp, &sp->packs[i]) < 0)
            return -1;
    return 0;
}

int mrt_flush_dirty(struct mrt_source *s)
{
    while (s->dirty_head) {
        uint32_t id = s->dirty_head - 1;
        struct speaker *sp = id == LOC_RIB ? &s->loc_rib : &s->speakers[id];
        s->dirty_head = sp->next_dirty;
        sp->dirty = false;
        if (mrt_speaker_flush(s, id, sp) < 0)
            return -1;
    }
    return 0;
}

/* The frames being filled go out, before the records' time moves on: a frame carries its
 * first message's time, and the frames of all connections come out in time order. */
int mrt_flush_pending(struct mrt_source *s)
{
    int rc = 0;
    for (size_t i = 0; i < s->n_pending; i++) {
        uint32_t owner = s->pending[i];
        struct conn *c = owner ? &s->speakers[owner - 1].conn : &s->router;
        c->pending = false;
        if (rc == 0 && mrt_conn_flush(s, c) < 0)
            rc = -1;
    }
    s->n_pending = 0;
    return rc;
}

/* One RIB entry's attributes split: all but MP_REACH_NLRI into s->scratch, MP_REACH's next hop
 * (abbreviated as RFC 6396 says, or whole as some writers leave it) into nh. -1: malformed. */
static int split_attrs(struct mrt_source *s, const struct mrt_rib_entry *e, bool as4, uint8_t nh[32],
                       uint8_t *nh_len)
{
    struct cursor c = cursor_make(e->attrs, e->attrs_len);
    s->scratch.len = 0;
    *nh_len = 0;
    while (cursor_remaining(&c)) {
        const uint8_t *start = cursor_rest(&c);
        uint8_t flags = cursor_u8(&c), type = cursor_u8(&c);
        uint16_t len = flags & BGP_ATTR_FLAG_EXTENDED ? cursor_be16(&c) : cursor_u8(&c);
        size_t hlen = flags & BGP_ATTR_FLAG_EXTENDED ? 4 : 3;
        struct cursor v = cursor_sub(&c, len);
        if (!cursor_ok(&c))
            return -1;
        if (type != BGP_ATTR_MP_REACH) {
            buf_put(&s->scratch, start, hlen + len);
            continue;
        }
        uint8_t first = 0;
        cursor_peek_u8(&v, 0, &first);
        if (len >= 1 && first == len - 1) { /* abbreviated: next hop length, next hop */
            *nh_len = cursor_u8(&v);
        } else {                              /* whole: AFI, SAFI, next hop length, ... */
            cursor_skip(&v, 3);
            *nh_len = cursor_u8(&v);
        }
        if (*nh_len > 32 || !cursor_copy(&v, nh, *nh_len))
            return -1;
    }
    if (!as4) { /* the legacy TABLE_DUMP's 2-byte AS_PATH, widened as the session is 4-byte */
        s->wide.len = 0;
        if (bgp_attrs_as4(s->scratch.p, s->scratch.len, &s->wide) < 0)
            return -1;
        s->scratch.len = 0;
        buf_put(&s->scratch, s->wide.p, s->wide.len);
    }
    return s->scratch.failed ? -1 : 0;
}

/* A route of the record's prefix into one of the speaker's packs: its attributes are in
 * s->scratch (split_attrs), its MP_REACH_NLRI next hop in nh. */
static int pack_route(struct mrt_source *s, uint32_t id, struct speaker *sp, const struct mrt_event *ev,
                      const struct mrt_rib_entry *e, const uint8_t nh[32], uint8_t nh_len)
{
    uint8_t prefix_bytes = (uint8_t)((ev->rib.prefix_len + 7u) / 8);
    size_t nlri_len = (sp->addpath ? 4u : 0u) + 1u + prefix_bytes;
    uint32_t h = hash_bytes(hash_bytes(hash_u32(HASH_START, (uint32_t)ev->rib.afi << 16 | ev->rib.safi),
                                       s->scratch.p, s->scratch.len), nh, nh_len);
    struct pack *k = NULL, *lru = &sp->packs[0];
    for (int i = 0; i < PACKS; i++) {
        struct pack *p = &sp->packs[i];
        if (p->used && p->hash == h && p->afi == ev->rib.afi && p->safi == ev->rib.safi &&
            buf_equal(&p->attrs, &s->scratch) && p->nexthop_len == nh_len && !memcmp(p->nexthop, nh, nh_len)) {
            k = p;
            break;
        }
        if (!p->used || (lru->used && p->last_use < lru->last_use))
            lru = p;
    }
    if (k && update_size(k, nlri_len) > BGP_MAX_MESSAGE && pack_flush(s, id, sp, k) < 0)
        return -1;
    if (!k || !k->used) {
        if (!k) {
            k = lru;
            if (pack_flush(s, id, sp, k) < 0)
                return -1;
        }
        k->used = true;
        k->hash = h;
        k->afi = ev->rib.afi;
        k->safi = ev->rib.safi;
        k->ts_ns = (int64_t)e->originated * 1000000000;
        k->attrs.len = 0;
        buf_put(&k->attrs, s->scratch.p, s->scratch.len);
        memcpy(k->nexthop, nh, nh_len);
        k->nexthop_len = nh_len;
        if (update_size(k, nlri_len) > BGP_MAX_MESSAGE) { /* attributes too long for one route */
            k->used = false;
            s->skipped_mismatch++;
            return 0;
        }
    }
    k->last_use = ++s->uses;
    if (sp->addpath)
        buf_put_u32(&k->nlri, e->path_id);
    buf_put_prefix(&k->nlri, ev->rib.prefix, ev->rib.prefix_len);
    if (k->attrs.failed || k->nlri.failed) {
        snprintf(s->error, sizeof s->error, "out of memory");
        return -1;
    }
    if (!sp->dirty) {
        sp->dirty = true;
        sp->next_dirty = s->dirty_head;
        s->dirty_head = id + 1;
    }
    return 0;
}

int mrt_rib_entry(struct mrt_source *s, const struct mrt_event *ev, const struct mrt_rib_entry *e)
{
    struct speaker *sp = mrt_speaker(s, e->peer);
    if (!sp) {
        snprintf(s->error, sizeof s->error, "out of memory");
        return -1;
    }
    if (!mrt_selected(s, e->peer, sp))
        return 0;
    if (mrt_speaker_ready(s, e->peer, sp, ev->rib.addpath) < 0)
        return -1;
    uint8_t nh[32], nh_len;
    if (split_attrs(s, e, ev->rib.as4, nh, &nh_len) < 0) {
        s->skipped_mismatch++;
        return 0;
    }
    return pack_route(s, e->peer, sp, ev, e, nh, nh_len);
}

/* ---- Loc-RIB (BMP, mrt.loc_rib): the route the router would select ---- */

/* What the decision compares of a path (RFC 4271 section 9.1.2.2, as a route collector's
 * view allows: no IGP cost, MED compared whatever the neighbour AS). */
struct rank {
    uint32_t local_pref, path_len, med, bgp_id;
    uint8_t origin;
    const struct addr *ip;
};

static void rank_of(const struct mrt_source *s, const struct mrt_rib_entry *e, bool as4, struct rank *r)
{
    const struct mrt_peer *p = mrt_peer(s->r, e->peer);
    *r = (struct rank){ .local_pref = LOCAL_PREF_DEFAULT, .bgp_id = mrt_peer_bgp_id(p, e->peer), .ip = &p->ip };
    struct cursor c = cursor_make(e->attrs, e->attrs_len);
    while (cursor_remaining(&c) >= 3) {
        uint8_t flags = cursor_u8(&c), type = cursor_u8(&c);
        uint16_t len = flags & BGP_ATTR_FLAG_EXTENDED ? cursor_be16(&c) : cursor_u8(&c);
        struct cursor v = cursor_sub(&c, len);
        if (!cursor_ok(&c))
            return;
        if (type == BGP_ATTR_LOCAL_PREF)
            r->local_pref = cursor_be32(&v);
        else if (type == BGP_ATTR_MED)
            r->med = cursor_be32(&v);
        else if (type == BGP_ATTR_ORIGIN)
            r->origin = cursor_u8(&v);
        else if (type == BGP_ATTR_AS_PATH)
            while (cursor_remaining(&v) >= 2) {
                uint8_t seg = cursor_u8(&v), count = cursor_u8(&v);
                if (!cursor_skip(&v, (size_t)count * (as4 ? 4 : 2)))
                    break;
                r->path_len += seg == BGP_AS_SEQUENCE ? count : seg == BGP_AS_SET ? 1 : 0;
            }
    }
}

/* a before b: higher LOCAL_PREF, shorter AS_PATH, lower ORIGIN, lower MED, lower BGP ID, lower address */
static bool rank_before(const struct rank *a, const struct rank *b)
{
    if (a->local_pref != b->local_pref)
        return a->local_pref > b->local_pref;
    if (a->path_len != b->path_len)
        return a->path_len < b->path_len;
    if (a->origin != b->origin)
        return a->origin < b->origin;
    if (a->med != b->med)
        return a->med < b->med;
    if (a->bgp_id != b->bgp_id)
        return a->bgp_id < b->bgp_id;
    if (a->ip->family != b->ip->family)
        return a->ip->family < b->ip->family;
    return memcmp(a->ip->bytes, b->ip->bytes, a->ip->family == AF_INET6 ? 16 : 4) < 0;
}

/* Of a RIB record's entries from selected peers, the one the router selects goes to the Loc-RIB. */
int mrt_loc_rib_record(struct mrt_source *s, const struct mrt_event *ev)
{
    const struct mrt_rib_entry *best = NULL;
    struct rank rb = { 0 }, r;
    for (size_t i = 0; i < ev->rib.n_entries; i++) {
        const struct mrt_rib_entry *e = &ev->rib.entries[i];
        struct speaker *sp = mrt_speaker(s, e->peer);
        if (!sp || !mrt_selected(s, e->peer, sp))
            continue;
        rank_of(s, e, ev->rib.as4, &r);
        if (!best || rank_before(&r, &rb)) {
            best = e;
            rb = r;
        }
    }
    if (!best)
        return 0;
    struct speaker *sp = &s->loc_rib;
    if (mrt_speaker_ready(s, LOC_RIB, sp, false) < 0)
        return -1;
    uint8_t nh[32], nh_len;
    if (split_attrs(s, best, ev->rib.as4, nh, &nh_len) < 0) {
        s->skipped_mismatch++;
        return 0;
    }
    struct mrt_rib_entry one = *best;
    one.path_id = 0;
    return pack_route(s, LOC_RIB, sp, ev, &one, nh, nh_len);
}
