/* mrt-gen — writes MRT dumps (RFC 6396, RFC 8050) for the tests, the bench and the examples:
 * a TABLE_DUMP_V2 RIB of synthetic peers and prefixes, BGP4MP(_ET) updates and state
 * changes, the legacy TABLE_DUMP, the ADD-PATH subtypes, 2-byte AS sessions, and files cut
 * short. Deterministic for a seed. Every record through the writer of src/source/mrt_write.c.
 *
 *   mrt-gen [options] OUT.mrt
 *     --format td2|legacy|bgp4mp   what the file is (td2: a RIB dump; bgp4mp: updates only)
 *     --peers N      peers (default 4; odd ones IPv6, every third one a 2-byte AS)
 *     --v4 N --v6 N  IPv4 / IPv6 prefixes in the RIB (default 1000 / 200)
 *     --updates N    BGP4MP updates after the RIB (td2) or alone (bgp4mp); every 5th a withdrawal
 *     --restart      a peer goes down and up again among the updates (STATE_CHANGE)
 *     --addpath      ADD-PATH subtypes (two paths per prefix and peer)
 *     --as2          BGP4MP_MESSAGE (2-byte AS numbers) rather than MESSAGE_AS4
 *     --et           BGP4MP_ET (microsecond timestamps)
 *     --run N        prefixes that share a path, in a row (default 8)
 *     --time T       the dump's time, seconds since the epoch (default 1767225600)
 *     --seed S       --truncate BYTES (cut the file there: a damaged download)
 *     --junk         an unknown record type and a record whose body contradicts itself */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "proto/proto.h"
#include "source/mrt.h"

struct gen {
    enum { G_TD2, G_LEGACY, G_BGP4MP } format;
    unsigned peers, v4, v6, updates, run;
    bool restart, addpath, as2, et, junk;
    long truncate;
    uint64_t seed;
    int64_t time_ns;
    struct mrt_writer *w;
    struct buf rec, attrs, msg;
};

static uint64_t rnd(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static void peer_addr(unsigned i, struct addr *a)
{
    char s[64];
    if (i % 2)
        snprintf(s, sizeof s, "2001:db8:ffff::%x", i + 1);
    else
        snprintf(s, sizeof s, "198.51.100.%u", i + 1);
    addr_parse(s, a);
}

static uint32_t peer_as(unsigned i) { return i % 3 == 2 ? 64500u + i : 4200000000u + i; }
static uint32_t peer_id(unsigned i) { return 0x0a000000u + i + 1; }
static bool peer_as4(const struct gen *g, unsigned i) { return !(g->as2 && i % 3 == 2); }

/* the k-th prefix of a family: IPv4 /24s from 1.0.0.0, IPv6 /48s from 2a00:: */
static void prefix_of(bool v6, unsigned k, uint8_t out[16], uint8_t *len)
{
    memset(out, 0, 16);
    if (v6) {
        out[0] = 0x2a;
        out[2] = (uint8_t)(k >> 16);
        out[3] = (uint8_t)(k >> 8);
        out[4] = (uint8_t)k;
        out[5] = 0;
        *len = 48;
    } else {
        uint32_t v = 0x01000000u + (k << 8);
        out[0] = (uint8_t)(v >> 24);
        out[1] = (uint8_t)(v >> 16);
        out[2] = (uint8_t)(v >> 8);
        *len = 24;
    }
}

/* A path of peer i for a run of prefixes: ORIGIN, AS_PATH, NEXT_HOP (IPv4) or the
 * abbreviated MP_REACH_NLRI next hop (IPv6, RFC 6396 section 4.3.4: td2 only), MED,
 * COMMUNITIES. */
enum mp_form { MP_NONE, MP_ABBREVIATED, MP_WHOLE };
static void path_attrs(struct gen *g, unsigned peer, unsigned run, bool v6, bool as4, enum mp_form mp)
{
    struct buf *b = &g->attrs;
    uint64_t s = g->seed ^ ((uint64_t)peer << 32) ^ run;
    rnd(&s);
    b->len = 0;
    buf_put_u8(b, BGP_ATTR_FLAG_TRANSITIVE);
    buf_put_u8(b, BGP_ATTR_ORIGIN);
    buf_put_u8(b, 1);
    buf_put_u8(b, (uint8_t)(run % 3));
    unsigned hops = 1 + (unsigned)(rnd(&s) % 5);
    buf_put_u8(b, BGP_ATTR_FLAG_TRANSITIVE);
    buf_put_u8(b, BGP_ATTR_AS_PATH);
    buf_put_u8(b, (uint8_t)(2 + hops * (as4 ? 4 : 2)));
    buf_put_u8(b, BGP_AS_SEQUENCE);
    buf_put_u8(b, (uint8_t)hops);
    for (unsigned h = 0; h < hops; h++) {
        uint32_t as = h == 0 ? peer_as(peer) : 64512u + (uint32_t)(rnd(&s) % 1000);
        if (as4)
            buf_put_u32(b, as);
        else
            buf_put_u16(b, as > 0xffff ? BGP_AS_TRANS : (uint16_t)as);
    }
    if (!v6) {
        buf_put_u8(b, BGP_ATTR_FLAG_TRANSITIVE);
        buf_put_u8(b, BGP_ATTR_NEXT_HOP);
        buf_put_u8(b, 4);
        buf_put_u32(b, 0xc6336400u + peer + 1); /* 198.51.100.x */
    } else if (mp != MP_NONE) {
        buf_put_u8(b, BGP_ATTR_FLAG_OPTIONAL);
        buf_put_u8(b, BGP_ATTR_MP_REACH);
        buf_put_u8(b, mp == MP_WHOLE ? 21 : 17);
        if (mp == MP_WHOLE) {
            buf_put_u16(b, MRT_AFI_IPV6);
            buf_put_u8(b, MRT_SAFI_UNICAST);
        }
        buf_put_u8(b, 16);
        buf_put_u32(b, 0x20010db8u);
        buf_put_u32(b, 0xffff0000u);
        buf_put_u32(b, 0);
        buf_put_u32(b, peer + 1);
        if (mp == MP_WHOLE)
            buf_put_u8(b, 0); /* reserved; no NLRI: the record has the prefix */
    }
    buf_put_u8(b, BGP_ATTR_FLAG_OPTIONAL);
    buf_put_u8(b, BGP_ATTR_MED);
    buf_put_u8(b, 4);
    buf_put_u32(b, (uint32_t)(rnd(&s) % 200));
    buf_put_u8(b, BGP_ATTR_FLAG_OPTIONAL | BGP_ATTR_FLAG_TRANSITIVE);
    buf_put_u8(b, BGP_ATTR_COMMUNITIES);
    buf_put_u8(b, 8);
    buf_put_u32(b, 65000u << 16 | (uint32_t)(run % 100));
    buf_put_u32(b, 65000u << 16 | (100 + peer));
}

static int record(struct gen *g, int64_t ts, uint16_t type, uint16_t subtype)
{
    if (g->rec.failed || mrt_write_record(g->w, ts, type, subtype, g->rec.p, g->rec.len) < 0) {
        fprintf(stderr, "mrt-gen: cannot write\n");
        return -1;
    }
    g->rec.len = 0;
    return 0;
}

static int peer_index_table(struct gen *g)
{
    struct buf *r = &g->rec;
    buf_put_u32(r, 0xc0000201u); /* collector 192.0.2.1 */
    buf_put_u16(r, 4);
    buf_put(r, "test", 4);
    buf_put_u16(r, (uint16_t)g->peers);
    for (unsigned i = 0; i < g->peers; i++) {
        struct addr a;
        peer_addr(i, &a);
        bool as4 = peer_as(i) > 0xffff;
        buf_put_u8(r, (uint8_t)((a.family == AF_INET6 ? MRT_PEER_IPV6 : 0) | (as4 ? MRT_PEER_AS4 : 0)));
        buf_put_u32(r, peer_id(i));
        buf_put_addr(r, &a);
        if (as4)
            buf_put_u32(r, peer_as(i));
        else
            buf_put_u16(r, (uint16_t)peer_as(i));
    }
    return record(g, g->time_ns, MRT_TABLE_DUMP_V2, TD2_PEER_INDEX_TABLE);
}

static int td2_rib(struct gen *g, bool v6, unsigned count)
{
    uint16_t subtype = v6 ? TD2_RIB_IPV6_UNICAST : TD2_RIB_IPV4_UNICAST;
    if (g->addpath)
        subtype += 6;
    for (unsigned k = 0; k < count; k++) {
        struct buf *r = &g->rec;
        uint8_t prefix[16], len;
        prefix_of(v6, k, prefix, &len);
        buf_put_u32(r, k);
        buf_put_prefix(r, prefix, len);
        size_t count_at = r->len;
        buf_put_u16(r, 0);
        uint16_t n = 0;
        for (unsigned i = 0; i < g->peers; i++) {
            if ((k + i) % 7 == 6) /* not every peer has every prefix */
                continue;
            for (unsigned path = 0; path < (g->addpath ? 2u : 1u); path++) {
                path_attrs(g, i, k / g->run + path * 7919, v6, true, MP_ABBREVIATED);
                buf_put_u16(r, (uint16_t)i);
                buf_put_u32(r, (uint32_t)(g->time_ns / 1000000000) - 3600 + i);
                if (g->addpath)
                    buf_put_u32(r, path + 1);
                buf_put_u16(r, (uint16_t)g->attrs.len);
                buf_put(r, g->attrs.p, g->attrs.len);
                n++;
            }
        }
        buf_put_u16_at(r, count_at, n);
        if (record(g, g->time_ns, MRT_TABLE_DUMP_V2, subtype) < 0)
            return -1;
    }
    return 0;
}

static int legacy_rib(struct gen *g, bool v6, unsigned count)
{
    for (unsigned k = 0; k < count; k++)
        for (unsigned i = 0; i < g->peers; i++) {
            struct addr a;
            peer_addr(i, &a);
            if ((a.family == AF_INET6) != v6 || peer_as(i) > 0xffff) /* legacy: 2-byte ASes, one family per file */
                continue;
            struct buf *r = &g->rec;
            uint8_t prefix[16], len;
            prefix_of(v6, k, prefix, &len);
            buf_put_u16(r, 0);                   /* view */
            buf_put_u16(r, (uint16_t)k);         /* sequence */
            buf_put(r, prefix, v6 ? 16 : 4);
            buf_put_u8(r, len);
            buf_put_u8(r, 1);                    /* status */
            buf_put_u32(r, (uint32_t)(g->time_ns / 1000000000) - 3600);
            buf_put_addr(r, &a);
            buf_put_u16(r, (uint16_t)peer_as(i));
            path_attrs(g, i, k / g->run, v6, false, MP_WHOLE);
            buf_put_u16(r, (uint16_t)g->attrs.len);
            buf_put(r, g->attrs.p, g->attrs.len);
            if (record(g, g->time_ns, MRT_TABLE_DUMP, v6 ? MRT_AFI_IPV6 : MRT_AFI_IPV4) < 0)
                return -1;
        }
    return 0;
}

/* the BGP4MP header of peer i (its AS width as the subtype says) */
static void bgp4mp_head(struct gen *g, unsigned i, bool as4)
{
    struct addr a, local;
    peer_addr(i, &a);
    addr_parse(a.family == AF_INET6 ? "2001:db8:ffff::fe" : "198.51.100.254", &local);
    struct buf *r = &g->rec;
    if (as4) {
        buf_put_u32(r, peer_as(i));
        buf_put_u32(r, 65000);
    } else {
        buf_put_u16(r, peer_as(i) > 0xffff ? BGP_AS_TRANS : (uint16_t)peer_as(i));
        buf_put_u16(r, 65000);
    }
    buf_put_u16(r, 0);
    buf_put_u16(r, a.family == AF_INET6 ? MRT_AFI_IPV6 : MRT_AFI_IPV4);
    buf_put_addr(r, &a);
    buf_put_addr(r, &local);
}

static int state_change(struct gen *g, int64_t ts, unsigned i, uint16_t from, uint16_t to)
{
    uint16_t type = g->et ? MRT_BGP4MP_ET : MRT_BGP4MP;
    bgp4mp_head(g, i, true);
    buf_put_u16(&g->rec, from);
    buf_put_u16(&g->rec, to);
    return record(g, ts, type, BGP4MP_STATE_CHANGE_AS4);
}

/* update u: peer u % peers, an announcement of a prefix of the RIB with a new path, or (every
 * 5th) its withdrawal */
static int update(struct gen *g, unsigned u, int64_t ts)
{
    unsigned i = u % g->peers;
    struct addr a;
    peer_addr(i, &a);
    bool v6 = a.family == AF_INET6;
    bool as4 = peer_as4(g, i);
    bool withdraw = u % 5 == 4;
    uint8_t prefix[16], len;
    prefix_of(v6, (u * 37) % (v6 ? (g->v6 ? g->v6 : 1) : (g->v4 ? g->v4 : 1)), prefix, &len);
    struct buf *m = &g->msg;
    m->len = 0;
    size_t at = bgp_begin(m, BGP_UPDATE);
    if (!v6) {
        if (withdraw) {
            buf_put_u16(m, (uint16_t)((g->addpath ? 4 : 0) + 1 + (len + 7) / 8));
            if (g->addpath)
                buf_put_u32(m, 1);
            buf_put_prefix(m, prefix, len);
            buf_put_u16(m, 0);
        } else {
            buf_put_u16(m, 0);
            path_attrs(g, i, 100000 + u, false, as4, MP_NONE);
            buf_put_u16(m, (uint16_t)g->attrs.len);
            buf_put(m, g->attrs.p, g->attrs.len);
            if (g->addpath)
                buf_put_u32(m, 1);
            buf_put_prefix(m, prefix, len);
        }
    } else {
        buf_put_u16(m, 0);
        size_t attrs_at = m->len;
        buf_put_u16(m, 0);
        if (!withdraw) {
            path_attrs(g, i, 100000 + u, true, as4, MP_NONE);
            buf_put(m, g->attrs.p, g->attrs.len);
        }
        buf_put_u8(m, BGP_ATTR_FLAG_OPTIONAL | BGP_ATTR_FLAG_EXTENDED);
        buf_put_u8(m, withdraw ? BGP_ATTR_MP_UNREACH : BGP_ATTR_MP_REACH);
        size_t l_at = m->len;
        buf_put_u16(m, 0);
        buf_put_u16(m, MRT_AFI_IPV6);
        buf_put_u8(m, MRT_SAFI_UNICAST);
        if (!withdraw) {
            buf_put_u8(m, 16);
            buf_put_u32(m, 0x20010db8u);
            buf_put_u32(m, 0xffff0000u);
            buf_put_u32(m, 0);
            buf_put_u32(m, i + 1);
            buf_put_u8(m, 0);
        }
        if (g->addpath)
            buf_put_u32(m, 1);
        buf_put_prefix(m, prefix, len);
        buf_put_u16_at(m, l_at, (uint16_t)(m->len - l_at - 2));
        buf_put_u16_at(m, attrs_at, (uint16_t)(m->len - attrs_at - 2));
    }
    bgp_end(m, at);
    uint16_t type = g->et ? MRT_BGP4MP_ET : MRT_BGP4MP;
    uint16_t subtype = as4 ? (g->addpath ? BGP4MP_MESSAGE_AS4_ADDPATH : BGP4MP_MESSAGE_AS4)
                           : (g->addpath ? BGP4MP_MESSAGE_ADDPATH : BGP4MP_MESSAGE);
    bgp4mp_head(g, i, as4);
    buf_put(&g->rec, m->p, m->len);
    return record(g, ts, type, subtype);
}

static int updates(struct gen *g)
{
    int64_t ts = g->time_ns + 1000000000;
    for (unsigned u = 0; u < g->updates; u++) {
        ts += g->et ? 250000 + (int64_t)(u % 7) * 1000 : (u % 4 == 3 ? 1000000000 : 0); /* 0.25 ms apart, or a s */
        if (g->restart && u == g->updates / 2) {
            unsigned i = 0; /* peer 0 restarts */
            if (state_change(g, ts, i, MRT_STATE_ESTABLISHED, MRT_STATE_IDLE) < 0 ||
                state_change(g, ts + 1000000, i, MRT_STATE_OPENCONFIRM, MRT_STATE_ESTABLISHED) < 0)
                return -1;
            ts += 2000000;
        }
        if (update(g, u, ts) < 0)
            return -1;
    }
    return 0;
}

static int junk(struct gen *g)
{
    buf_put(&g->rec, "unknown", 7);
    if (record(g, g->time_ns, 99, 1) < 0)
        return -1;
    buf_put_u32(&g->rec, 1);  /* a RIB record whose entry count runs past its end */
    buf_put_u8(&g->rec, 24);
    buf_put_u8(&g->rec, 10);
    buf_put_u16(&g->rec, 0);
    buf_put_u16(&g->rec, 5);
    return record(g, g->time_ns, MRT_TABLE_DUMP_V2, TD2_RIB_IPV4_UNICAST);
}

static void usage(void)
{
    fprintf(stderr, "usage: mrt-gen [--format td2|legacy|bgp4mp] [--peers N] [--v4 N] [--v6 N] [--updates N] "
                    "[--restart] [--addpath] [--as2] [--et] [--run N] [--time T] [--seed S] [--truncate BYTES] "
                    "[--junk] OUT\n");
    exit(2);
}

int main(int argc, char **argv)
{
    struct gen g = { .peers = 4, .v4 = 1000, .v6 = 200, .run = 8, .seed = 88172645463325252ull,
                     .time_ns = 1767225600ll * 1000000000, .truncate = -1 };
    const char *out = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        bool takes = true;
        if (!strcmp(a, "--format") && v)
            g.format = !strcmp(v, "legacy") ? G_LEGACY : !strcmp(v, "bgp4mp") ? G_BGP4MP : G_TD2;
        else if (!strcmp(a, "--peers") && v)
            g.peers = (unsigned)strtoul(v, NULL, 10);
        else if (!strcmp(a, "--v4") && v)
            g.v4 = (unsigned)strtoul(v, NULL, 10);
        else if (!strcmp(a, "--v6") && v)
            g.v6 = (unsigned)strtoul(v, NULL, 10);
        else if (!strcmp(a, "--updates") && v)
            g.updates = (unsigned)strtoul(v, NULL, 10);
        else if (!strcmp(a, "--run") && v)
            g.run = (unsigned)strtoul(v, NULL, 10);
        else if (!strcmp(a, "--time") && v)
            g.time_ns = strtoll(v, NULL, 10) * 1000000000;
        else if (!strcmp(a, "--seed") && v)
            g.seed = strtoull(v, NULL, 10) | 1;
        else if (!strcmp(a, "--truncate") && v)
            g.truncate = strtol(v, NULL, 10);
        else {
            takes = false;
            if (!strcmp(a, "--restart"))
                g.restart = true;
            else if (!strcmp(a, "--addpath"))
                g.addpath = true;
            else if (!strcmp(a, "--as2"))
                g.as2 = true;
            else if (!strcmp(a, "--et"))
                g.et = true;
            else if (!strcmp(a, "--junk"))
                g.junk = true;
            else if (a[0] != '-' && !out)
                out = a;
            else
                usage();
        }
        i += takes;
    }
    if (!out || !g.peers || g.peers > 1000 || !g.run)
        usage();
    if (!(g.w = mrt_writer_open(out, g.et))) {
        perror(out);
        return 1;
    }
    int rc = 0;
    if (g.format == G_TD2)
        rc = peer_index_table(&g) < 0 || td2_rib(&g, false, g.v4) < 0 || td2_rib(&g, true, g.v6) < 0 ? -1 : 0;
    else if (g.format == G_LEGACY)
        rc = legacy_rib(&g, false, g.v4) < 0 || legacy_rib(&g, true, g.v6) < 0 ? -1 : 0;
    if (rc == 0 && g.junk)
        rc = junk(&g);
    if (rc == 0)
        rc = updates(&g);
    if (mrt_writer_close(g.w) < 0)
        rc = -1;
    if (rc == 0 && g.truncate >= 0 && truncate(out, g.truncate) < 0) {
        perror(out);
        rc = -1;
    }
    buf_free(&g.rec);
    buf_free(&g.attrs);
    buf_free(&g.msg);
    return rc < 0 ? 1 : 0;
}
