/* test_mrt — the MRT reader (records in, events out, bad records counted and skipped) and
 * the MRT source (a dump out as the frames of live BGP and BMP sessions), without sockets. */
#define _GNU_SOURCE /* memmem */
#include "testutil.h"

#include "buf.h"
#include "cursor.h"
#include "decode.h"
#include "proto/proto.h"
#include "source.h"
#include "source/mrt.h"

/* a record's bytes: the MRT header, then the body */
static void record(struct buf *out, uint32_t sec, uint16_t type, uint16_t subtype, const struct buf *body)
{
    buf_put_u32(out, sec);
    buf_put_u16(out, type);
    buf_put_u16(out, subtype);
    buf_put_u32(out, (uint32_t)body->len);
    buf_put(out, body->p, body->len);
}

static void peer_table_of(struct buf *b, unsigned peers, uint32_t collector)
{
    buf_put_u32(b, collector);
    buf_put_u16(b, 0);
    buf_put_u16(b, (uint16_t)peers);
    for (unsigned i = 0; i < peers; i++) {
        buf_put_u8(b, MRT_PEER_AS4);
        buf_put_u32(b, 0x0a000001u + i);
        buf_put_u32(b, 0xc6336401u + i); /* 198.51.100.1 + i */
        buf_put_u32(b, 65001 + i);
    }
}

static void peer_table(struct buf *b, unsigned peers) { peer_table_of(b, peers, 0xc0000201u); }

/* ORIGIN IGP, AS_PATH (4-byte) [as], NEXT_HOP 198.51.100.1 */
static void attrs_v4(struct buf *b, uint32_t as)
{
    buf_put_u8(b, BGP_ATTR_FLAG_TRANSITIVE); buf_put_u8(b, BGP_ATTR_ORIGIN); buf_put_u8(b, 1); buf_put_u8(b, 0);
    buf_put_u8(b, BGP_ATTR_FLAG_TRANSITIVE); buf_put_u8(b, BGP_ATTR_AS_PATH); buf_put_u8(b, 6);
    buf_put_u8(b, BGP_AS_SEQUENCE); buf_put_u8(b, 1); buf_put_u32(b, as);
    buf_put_u8(b, BGP_ATTR_FLAG_TRANSITIVE); buf_put_u8(b, BGP_ATTR_NEXT_HOP); buf_put_u8(b, 4); buf_put_u32(b, 0xc6336401u);
}

/* a RIB_IPV4_UNICAST record of prefix 10.<k>.0.0/16 with one entry per peer in peers[] */
static void rib_v4(struct buf *out, unsigned k, const unsigned *peers, size_t n, uint32_t as)
{
    struct buf b = { 0 }, a = { 0 };
    attrs_v4(&a, as);
    buf_put_u32(&b, k);
    uint8_t prefix[2] = { 10, (uint8_t)k };
    buf_put_prefix(&b, prefix, 16);
    buf_put_u16(&b, (uint16_t)n);
    for (size_t i = 0; i < n; i++) {
        buf_put_u16(&b, (uint16_t)peers[i]);
        buf_put_u32(&b, 1700000000);
        buf_put_u16(&b, (uint16_t)a.len);
        buf_put(&b, a.p, a.len);
    }
    record(out, 1767225600, MRT_TABLE_DUMP_V2, TD2_RIB_IPV4_UNICAST, &b);
    buf_free(&a);
    buf_free(&b);
}

static void test_reader_rib(void **state)
{
    struct buf f = { 0 }, b = { 0 };
    peer_table(&b, 3);
    record(&f, 1767225600, MRT_TABLE_DUMP_V2, TD2_PEER_INDEX_TABLE, &b);
    unsigned peers[] = { 0, 2 };
    rib_v4(&f, 1, peers, 2, 65001);
    struct mrt_reader *r = mrt_open_memory(f.p, f.len);
    struct mrt_event ev;
    assert_int_equal(mrt_next(r, &ev), 1);
    assert_int_equal(ev.kind, MRT_EV_PEER_TABLE);
    assert_int_equal(mrt_peer_count(r), 3);
    assert_int_equal(mrt_collector_id(r), 0xc0000201u);
    assert_int_equal(mrt_peer(r, 2)->as, 65003);
    assert_int_equal(mrt_peer(r, 2)->bgp_id, 0x0a000003u);
    assert_int_equal(mrt_next(r, &ev), 1);
    assert_int_equal(ev.kind, MRT_EV_RIB);
    assert_int_equal(ev.rib.afi, MRT_AFI_IPV4);
    assert_int_equal(ev.rib.safi, MRT_SAFI_UNICAST);
    assert_int_equal(ev.rib.prefix_len, 16);
    assert_int_equal(ev.rib.prefix[1], 1);
    assert_true(ev.rib.as4);
    assert_int_equal(ev.rib.n_entries, 2);
    assert_int_equal(ev.rib.entries[1].peer, 2);
    assert_int_equal(ev.rib.entries[1].originated, 1700000000);
    assert_int_equal(ev.ts_ns, 1767225600ll * 1000000000);
    assert_int_equal(mrt_next(r, &ev), 0);
    assert_int_equal(mrt_counts(r)->rib_entries, 2);
    assert_int_equal(mrt_peer(r, 0)->n.rib_entries[0][0], 1);
    assert_int_equal(mrt_peer(r, 1)->n.rib_entries[0][0], 0);
    /* the summary's attribute statistics: two paths of ORIGIN, a one-AS AS_PATH, NEXT_HOP */
    const struct mrt_counts *n = mrt_counts(r);
    assert_int_equal(n->paths, 2);
    assert_int_equal(n->attr_paths[BGP_ATTR_AS_PATH], 2);
    assert_int_equal(n->attr_paths[BGP_ATTR_MED], 0);
    assert_int_equal(n->as_path_len[1], 2);
    assert_int_equal(n->as_path_len_max, 1);
    json_t *sum = mrt_summary_json(r);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(json_object_get(sum, "attributes"), "carried"),
                                                        "NEXT_HOP")), 2);
    json_decref(sum);
    mrt_close(r);
    buf_free(&f);
    buf_free(&b);
}

/* an unknown type, a RIB record whose entry runs past its end and an entry of a peer the
 * table does not have are skipped and counted; the records after them are read */
static void test_reader_skips_bad_records(void **state)
{
    struct buf f = { 0 }, b = { 0 };
    peer_table(&b, 1);
    record(&f, 1, MRT_TABLE_DUMP_V2, TD2_PEER_INDEX_TABLE, &b);
    b.len = 0;
    buf_put(&b, "junk", 4);
    record(&f, 1, 99, 1, &b);
    b.len = 0;
    buf_put_u32(&b, 0);
    buf_put_u8(&b, 8);
    buf_put_u8(&b, 10);
    buf_put_u16(&b, 1);
    buf_put_u16(&b, 0);
    buf_put_u32(&b, 0);
    buf_put_u16(&b, 200); /* attributes longer than the record */
    record(&f, 1, MRT_TABLE_DUMP_V2, TD2_RIB_IPV4_UNICAST, &b);
    unsigned bad_peer[] = { 7 };
    rib_v4(&f, 2, bad_peer, 1, 65001);
    unsigned good[] = { 0 };
    rib_v4(&f, 3, good, 1, 65001);
    struct mrt_reader *r = mrt_open_memory(f.p, f.len);
    struct mrt_event ev;
    assert_int_equal(mrt_next(r, &ev), 1);
    assert_int_equal(mrt_next(r, &ev), 1);
    assert_int_equal(ev.kind, MRT_EV_RIB);
    assert_int_equal(ev.rib.n_entries, 0); /* the entry of peer index 7 */
    uint64_t said = 0;
    const char *w = mrt_take_warning(r, &said);
    assert_non_null(w);
    assert_int_equal(said, 3);
    assert_non_null(strstr(w, "peer index 7"));
    assert_null(mrt_take_warning(r, &said));
    assert_int_equal(mrt_next(r, &ev), 1);
    assert_int_equal(ev.rib.n_entries, 1);
    assert_int_equal(ev.rib.prefix[1], 3);
    assert_int_equal(mrt_next(r, &ev), 0);
    const struct mrt_counts *n = mrt_counts(r);
    assert_int_equal(n->skipped_unknown_type, 1);
    assert_int_equal(n->skipped_malformed, 1);
    assert_int_equal(n->skipped_no_peer, 1);
    assert_int_equal(n->records, 5);
    mrt_close(r);
    buf_free(&f);
    buf_free(&b);
}

/* a file that ends within a record: the records before it, then -1 and a message */
static void test_reader_truncated(void **state)
{
    struct buf f = { 0 }, b = { 0 };
    peer_table(&b, 1);
    record(&f, 1, MRT_TABLE_DUMP_V2, TD2_PEER_INDEX_TABLE, &b);
    unsigned good[] = { 0 };
    rib_v4(&f, 1, good, 1, 65001);
    struct mrt_reader *r = mrt_open_memory(f.p, f.len - 5);
    struct mrt_event ev;
    assert_int_equal(mrt_next(r, &ev), 1);
    assert_int_equal(mrt_next(r, &ev), -1);
    assert_non_null(strstr(mrt_error(r), "ends within it"));
    assert_int_equal(mrt_counts(r)->truncated, 1);
    mrt_close(r);
    /* a length no record has */
    f.len = 0;
    b.len = 0;
    buf_put_u32(&f, 1); buf_put_u16(&f, MRT_BGP4MP); buf_put_u16(&f, 4); buf_put_u32(&f, 0x7fffffff);
    r = mrt_open_memory(f.p, f.len);
    assert_int_equal(mrt_next(r, &ev), -1);
    assert_non_null(strstr(mrt_error(r), "not an MRT record"));
    mrt_close(r);
    buf_free(&f);
    buf_free(&b);
}

/* BGP4MP_ET: the microseconds; MESSAGE (2-byte ASes); _LOCAL skipped; a legacy TABLE_DUMP's
 * peer joins the same table, and its prefix loses the bits past its length */
static void test_reader_bgp4mp_and_legacy(void **state)
{
    struct buf f = { 0 }, b = { 0 }, m = { 0 };
    size_t at = bgp_begin(&m, BGP_KEEPALIVE);
    bgp_end(&m, at);
    buf_put_u32(&b, 250);                        /* microseconds */
    buf_put_u16(&b, 65010); buf_put_u16(&b, 65000); buf_put_u16(&b, 0); buf_put_u16(&b, MRT_AFI_IPV4);
    buf_put_u32(&b, 0xc6336409u); buf_put_u32(&b, 0xc63364feu);
    buf_put(&b, m.p, m.len);
    record(&f, 100, MRT_BGP4MP_ET, BGP4MP_MESSAGE, &b);
    b.len = 0;
    buf_put_u16(&b, 65010); buf_put_u16(&b, 65000); buf_put_u16(&b, 0); buf_put_u16(&b, MRT_AFI_IPV4);
    buf_put_u32(&b, 0xc6336409u); buf_put_u32(&b, 0xc63364feu);
    buf_put(&b, m.p, m.len);
    record(&f, 101, MRT_BGP4MP, BGP4MP_MESSAGE_LOCAL, &b);
    b.len = 0;
    buf_put_u16(&b, 0); buf_put_u16(&b, 0);
    buf_put_u32(&b, 0x0a0101ffu);                /* 10.1.1.255/24 */
    buf_put_u8(&b, 24); buf_put_u8(&b, 1); buf_put_u32(&b, 5);
    buf_put_u32(&b, 0xc6336409u); buf_put_u16(&b, 65010);
    buf_put_u16(&b, 0);
    record(&f, 102, MRT_TABLE_DUMP, MRT_AFI_IPV4, &b);
    struct mrt_reader *r = mrt_open_memory(f.p, f.len);
    struct mrt_event ev;
    assert_int_equal(mrt_next(r, &ev), 1);
    assert_int_equal(ev.kind, MRT_EV_MESSAGE);
    assert_int_equal(ev.ts_ns, 100 * 1000000000ll + 250000);
    assert_false(ev.bgp.as4);
    assert_int_equal(ev.bgp.len, 19);
    assert_int_equal(mrt_peer(r, ev.bgp.peer)->as, 65010);
    assert_int_equal(mrt_peer(r, ev.bgp.peer)->local.bytes[3], 0xfe);
    assert_int_equal(mrt_next(r, &ev), 1);
    assert_int_equal(ev.kind, MRT_EV_RIB);
    assert_false(ev.rib.as4);
    assert_int_equal(ev.rib.entries[0].peer, 0); /* the BGP4MP message's peer */
    assert_int_equal(ev.rib.prefix[3], 0);
    assert_int_equal(ev.rib.prefix[2], 1);
    assert_int_equal(mrt_next(r, &ev), 0);
    assert_int_equal(mrt_counts(r)->skipped_local, 1);
    assert_int_equal(mrt_peer_count(r), 1);
    mrt_close(r);
    buf_free(&f);
    buf_free(&b);
    buf_free(&m);
}

/* RIB_GENERIC: IPv4/IPv6 unicast and multicast are read as the per-family subtypes are;
 * another AFI/SAFI (here VPNv4, SAFI 128) is skipped and counted */
static void test_reader_rib_generic(void **state)
{
    struct buf f = { 0 }, b = { 0 }, a = { 0 };
    peer_table(&b, 1);
    record(&f, 1, MRT_TABLE_DUMP_V2, TD2_PEER_INDEX_TABLE, &b);
    attrs_v4(&a, 65001);
    for (int safi = 1; safi <= 128; safi += 127) {
        b.len = 0;
        buf_put_u32(&b, 0);
        buf_put_u16(&b, MRT_AFI_IPV4);
        buf_put_u8(&b, (uint8_t)safi);
        uint8_t prefix[3] = { 192, 0, 2 };
        buf_put_prefix(&b, prefix, 24);
        buf_put_u16(&b, 1);
        buf_put_u16(&b, 0); buf_put_u32(&b, 5); buf_put_u16(&b, (uint16_t)a.len); buf_put(&b, a.p, a.len);
        record(&f, 2, MRT_TABLE_DUMP_V2, TD2_RIB_GENERIC, &b);
    }
    struct mrt_reader *r = mrt_open_memory(f.p, f.len);
    struct mrt_event ev;
    assert_int_equal(mrt_next(r, &ev), 1);
    assert_int_equal(mrt_next(r, &ev), 1);
    assert_int_equal(ev.kind, MRT_EV_RIB);
    assert_int_equal(ev.rib.afi, MRT_AFI_IPV4);
    assert_int_equal(ev.rib.safi, MRT_SAFI_UNICAST);
    assert_int_equal(ev.rib.prefix_len, 24);
    assert_int_equal(ev.rib.prefix[2], 2);
    assert_int_equal(ev.rib.n_entries, 1);
    assert_int_equal(mrt_next(r, &ev), 0);
    assert_int_equal(mrt_counts(r)->skipped_family, 1);
    mrt_close(r);
    buf_free(&f);
    buf_free(&b);
    buf_free(&a);
}

/* ---- the source ---- */

struct frames {
    unsigned syn, fin;
    struct buf stream; /* the payloads in order (one connection in these tests) */
    unsigned conns;
    unsigned backwards; /* frames earlier than the one before: the replay would see time go back */
};

static bool loc_rib_option;
#define LOCAL_AS_TEST 64512u /* the router's AS when neither the config nor the dump says it */

static void read_all(const char *path, enum mrt_as as, struct frames *out)
{
    char *files[] = { (char *)path };
    struct mrt_options o = { .files = files, .n_files = 1, .as = as, .port = as == MRT_AS_BGP ? 179 : 1790,
                             .loc_rib = loc_rib_option };
    struct source_options so = { .mrt = &o, .n_mrt = 1 };
    char spec[300], err[300];
    snprintf(spec, sizeof spec, "mrt:%s", path);
    struct source *s = source_open(spec, &so, err, sizeof err);
    assert_non_null(s);
    struct capture_packet p;
    int rc;
    int64_t last = INT64_MIN;
    double done = 0;
    while ((rc = source_next(s, &p)) == 1) {
        out->backwards += p.ts_ns < last;
        last = p.ts_ns;
        double f = source_progress(s); /* an uncompressed file: how far the records read reach */
        assert_true(f >= done && f <= 1);
        done = f;
        struct decoded d;
        assert_int_equal(decode_frame(p.dlt, p.data, p.caplen, &d), DECODE_OK);
        assert_int_equal(d.dport, o.port);
        if (d.tcp_flags & TCP_SYN) {
            out->syn++;
        }
        if (d.tcp_flags & TCP_FIN)
            out->fin++;
        buf_put(&out->stream, d.payload, d.payload_len);
    }
    assert_int_equal(rc, 0);
    assert_true(source_progress(s) == 1.0);
    json_t *sum = source_summary(s);
    assert_non_null(sum);
    json_decref(sum);
    source_close(s);
}

/* a BMP stream's messages by type, and the NLRI bytes of its Route Monitoring UPDATEs */
static void bmp_count(const struct buf *stream, unsigned types[8], unsigned *nlri_bytes)
{
    struct cursor c = cursor_make(stream->p, stream->len);
    while (cursor_remaining(&c)) {
        assert_int_equal(cursor_u8(&c), 3);
        uint32_t len = cursor_be32(&c);
        uint8_t type = cursor_u8(&c);
        assert_true(len >= 6 && type < 8);
        const uint8_t *body = cursor_take(&c, len - 6);
        assert_non_null(body);
        types[type]++;
        if (type == BMP_ROUTE_MONITORING) {
            struct cursor u = cursor_make(body + 42, len - 6 - 42);
            cursor_skip(&u, 16);
            uint16_t ulen = cursor_be16(&u);
            assert_int_equal(ulen, len - 6 - 42);
            cursor_skip(&u, 1);
            assert_int_equal(cursor_be16(&u), 0);
            uint16_t alen = cursor_be16(&u);
            cursor_skip(&u, alen);
            *nlri_bytes += (unsigned)cursor_remaining(&u);
        }
    }
}

/* BMP: INIT, a PEER_UP per peer before its first route, and routes of one attribute set
 * packed into one Route Monitoring message per peer */
static void test_source_bmp_packs(void **state)
{
    char *dir = tu_tmpdir(), path[256];
    snprintf(path, sizeof path, "%s/rib.mrt", dir);
    struct buf f = { 0 }, b = { 0 };
    peer_table(&b, 2);
    record(&f, 1767225600, MRT_TABLE_DUMP_V2, TD2_PEER_INDEX_TABLE, &b);
    unsigned both[] = { 0, 1 };
    for (unsigned k = 0; k < 5; k++)
        rib_v4(&f, k, both, 2, 65001);
    tu_write(path, f.p, f.len);
    struct frames fr = { 0 };
    read_all(path, MRT_AS_BMP, &fr);
    assert_int_equal(fr.syn, 1);
    unsigned types[8] = { 0 }, nlri_bytes = 0;
    bmp_count(&fr.stream, types, &nlri_bytes);
    assert_int_equal(types[BMP_INIT], 1);
    assert_int_equal(types[BMP_PEER_UP], 2);
    assert_int_equal(types[BMP_ROUTE_MONITORING], 2); /* 5 prefixes each, one attribute set */
    assert_int_equal(nlri_bytes, 2 * 5 * 3);          /* /16: a length byte and two bytes */
    buf_free(&fr.stream);
    buf_free(&f);
    buf_free(&b);
    tu_rmdir(dir);
}

/* RIB entries without attributes (hostile, or a dump's oddity): one empty attribute set, its
 * routes packed together like any other set's (nothing compared byte by byte but the empty) */
static void test_source_rib_without_attributes(void **state)
{
    char *dir = tu_tmpdir(), path[256];
    snprintf(path, sizeof path, "%s/rib.mrt", dir);
    struct buf f = { 0 }, b = { 0 };
    peer_table(&b, 1);
    record(&f, 1767225600, MRT_TABLE_DUMP_V2, TD2_PEER_INDEX_TABLE, &b);
    for (unsigned k = 0; k < 3; k++) {
        b.len = 0;
        buf_put_u32(&b, k);
        uint8_t prefix[2] = { 10, (uint8_t)k };
        buf_put_prefix(&b, prefix, 16);
        buf_put_u16(&b, 1);
        buf_put_u16(&b, 0);          /* peer index */
        buf_put_u32(&b, 1700000000); /* originated */
        buf_put_u16(&b, 0);          /* no attributes */
        record(&f, 1767225600, MRT_TABLE_DUMP_V2, TD2_RIB_IPV4_UNICAST, &b);
    }
    tu_write(path, f.p, f.len);
    struct frames fr = { 0 };
    read_all(path, MRT_AS_BMP, &fr);
    unsigned types[8] = { 0 }, nlri_bytes = 0;
    bmp_count(&fr.stream, types, &nlri_bytes);
    assert_int_equal(types[BMP_PEER_UP], 1);
    assert_int_equal(types[BMP_ROUTE_MONITORING], 1);
    assert_int_equal(nlri_bytes, 3 * 3);
    buf_free(&fr.stream);
    buf_free(&f);
    buf_free(&b);
    tu_rmdir(dir);
}

/* BGP: a connection with an OPEN of the peer's AS (4-byte capability), its UPDATE; a
 * STATE_CHANGE out of Established closes it, the next route opens another */
static void test_source_bgp_session(void **state)
{
    char *dir = tu_tmpdir(), path[256];
    snprintf(path, sizeof path, "%s/rib.mrt", dir);
    struct buf f = { 0 }, b = { 0 };
    peer_table(&b, 1);
    record(&f, 1767225600, MRT_TABLE_DUMP_V2, TD2_PEER_INDEX_TABLE, &b);
    unsigned one[] = { 0 };
    rib_v4(&f, 1, one, 1, 65001);
    rib_v4(&f, 2, one, 1, 65009); /* another attribute set: another UPDATE */
    b.len = 0;
    buf_put_u32(&b, 65001); buf_put_u32(&b, 65000); buf_put_u16(&b, 0); buf_put_u16(&b, MRT_AFI_IPV4);
    buf_put_u32(&b, 0xc6336401u); buf_put_u32(&b, 0xc63364feu);
    buf_put_u16(&b, MRT_STATE_ESTABLISHED); buf_put_u16(&b, MRT_STATE_IDLE);
    record(&f, 1767225601, MRT_BGP4MP, BGP4MP_STATE_CHANGE_AS4, &b);
    rib_v4(&f, 3, one, 1, 65001);
    tu_write(path, f.p, f.len);
    struct frames fr = { 0 };
    read_all(path, MRT_AS_BGP, &fr);
    assert_int_equal(fr.syn, 2);
    assert_int_equal(fr.fin, 1);
    unsigned types[6] = { 0 };
    bool first_open = true;
    struct cursor c = cursor_make(fr.stream.p, fr.stream.len);
    while (cursor_remaining(&c)) {
        const uint8_t *m = cursor_rest(&c);
        cursor_skip(&c, 16);
        uint16_t len = cursor_be16(&c);
        uint8_t type = cursor_u8(&c);
        assert_true(len >= 19 && type >= 1 && type <= 5);
        assert_true(cursor_skip(&c, len - 19u));
        types[type]++;
        if (type == BGP_OPEN && first_open) {
            struct bgp_open o;
            assert_int_equal(bgp_parse_open(m, len, &o), 0);
            assert_int_equal(o.asn, 65001);
            assert_true(o.four_byte_as);
            assert_int_equal(o.bgp_id, 0x0a000001u);
            assert_int_equal(o.hold_time, 180);
            first_open = false;
        }
    }
    assert_int_equal(types[BGP_OPEN], 2);
    assert_int_equal(types[BGP_UPDATE], 3);
    buf_free(&fr.stream);
    buf_free(&f);
    buf_free(&b);
    tu_rmdir(dir);
}

/* the IPv6 next hop TABLE_DUMP_V2 abbreviates comes out as a whole MP_REACH_NLRI with the
 * prefix in it */
static void test_source_ipv6_mp_reach(void **state)
{
    char *dir = tu_tmpdir(), path[256];
    snprintf(path, sizeof path, "%s/rib.mrt", dir);
    struct buf f = { 0 }, b = { 0 }, a = { 0 };
    peer_table(&b, 1);
    record(&f, 1, MRT_TABLE_DUMP_V2, TD2_PEER_INDEX_TABLE, &b);
    buf_put_u8(&a, BGP_ATTR_FLAG_TRANSITIVE); buf_put_u8(&a, BGP_ATTR_ORIGIN); buf_put_u8(&a, 1); buf_put_u8(&a, 0);
    buf_put_u8(&a, BGP_ATTR_FLAG_OPTIONAL); buf_put_u8(&a, BGP_ATTR_MP_REACH); buf_put_u8(&a, 17); buf_put_u8(&a, 16);
    buf_put_u32(&a, 0x20010db8u); buf_put_u32(&a, 0); buf_put_u32(&a, 0); buf_put_u32(&a, 1);
    b.len = 0;
    buf_put_u32(&b, 0);
    uint8_t prefix[4] = { 0x20, 0x01, 0x0d, 0xb8 };
    buf_put_prefix(&b, prefix, 32);
    buf_put_u16(&b, 1);
    buf_put_u16(&b, 0); buf_put_u32(&b, 0); buf_put_u16(&b, (uint16_t)a.len); buf_put(&b, a.p, a.len);
    record(&f, 1, MRT_TABLE_DUMP_V2, TD2_RIB_IPV6_UNICAST, &b);
    tu_write(path, f.p, f.len);
    struct frames fr = { 0 };
    read_all(path, MRT_AS_BGP, &fr);
    /* the UPDATE after the OPEN: no withdrawn routes, ORIGIN, then MP_REACH_NLRI whole */
    struct cursor c = cursor_make(fr.stream.p, fr.stream.len);
    cursor_skip(&c, 16);
    cursor_skip(&c, cursor_be16(&c) - 18u);    /* the OPEN */
    cursor_skip(&c, 16 + 2 + 1 + 2);
    uint16_t alen = cursor_be16(&c);
    cursor_skip(&c, 4);                        /* ORIGIN */
    assert_int_equal(cursor_u8(&c), BGP_ATTR_FLAG_OPTIONAL | BGP_ATTR_FLAG_EXTENDED);
    assert_int_equal(cursor_u8(&c), BGP_ATTR_MP_REACH);
    uint16_t mlen = cursor_be16(&c);
    assert_int_equal(alen, 4 + 4 + mlen);
    assert_int_equal(cursor_be16(&c), MRT_AFI_IPV6);
    assert_int_equal(cursor_u8(&c), MRT_SAFI_UNICAST);
    assert_int_equal(cursor_u8(&c), 16);
    cursor_skip(&c, 16);
    assert_int_equal(cursor_u8(&c), 0);        /* reserved */
    assert_int_equal(cursor_u8(&c), 32);       /* the prefix */
    assert_int_equal(cursor_be32(&c), 0x20010db8u);
    assert_true(cursor_ok(&c));
    assert_int_equal(cursor_remaining(&c), 0);
    buf_free(&fr.stream);
    buf_free(&f);
    buf_free(&b);
    buf_free(&a);
    tu_rmdir(dir);
}

/* a BGP4MP_MESSAGE_AS4 UPDATE of peer k of peer_table() announcing 10.<k>.<n>.0/24 */
static void update_v4(struct buf *out, uint32_t sec, unsigned k, unsigned n)
{
    struct buf b = { 0 }, m = { 0 }, a = { 0 };
    attrs_v4(&a, 65001 + k);
    size_t at = bgp_begin(&m, BGP_UPDATE);
    buf_put_u16(&m, 0);
    buf_put_u16(&m, (uint16_t)a.len);
    buf_put(&m, a.p, a.len);
    uint8_t prefix[3] = { 10, (uint8_t)k, (uint8_t)n };
    buf_put_prefix(&m, prefix, 24);
    bgp_end(&m, at);
    buf_put_u32(&b, 65001 + k); buf_put_u32(&b, 65000); buf_put_u16(&b, 0); buf_put_u16(&b, MRT_AFI_IPV4);
    buf_put_u32(&b, 0xc6336401u + k); buf_put_u32(&b, 0xc63364feu);
    buf_put(&b, m.p, m.len);
    record(out, sec, MRT_BGP4MP, BGP4MP_MESSAGE_AS4, &b);
    buf_free(&a);
    buf_free(&m);
    buf_free(&b);
}

/* Frames come out in time order across connections: a message waiting in one session's frame
 * goes out when the records' time moves, not after another session's later ones (the replay
 * saw time go backwards and sent the earlier message late). */
static void test_source_frames_in_time_order(void **state)
{
    char *dir = tu_tmpdir(), path[256];
    snprintf(path, sizeof path, "%s/upd.mrt", dir);
    struct buf f = { 0 }, b = { 0 };
    peer_table(&b, 2);
    record(&f, 1767225600, MRT_TABLE_DUMP_V2, TD2_PEER_INDEX_TABLE, &b);
    update_v4(&f, 1767225601, 1, 1);
    update_v4(&f, 1767225602, 0, 1);
    update_v4(&f, 1767225603, 1, 2);
    tu_write(path, f.p, f.len);
    struct frames fr = { 0 };
    read_all(path, MRT_AS_BGP, &fr);
    assert_int_equal(fr.syn, 2);
    assert_int_equal(fr.backwards, 0);
    buf_free(&fr.stream);
    buf_free(&f);
    buf_free(&b);
    tu_rmdir(dir);
}

/* AS_PATH of n ASes (4-byte) from first */
static void attrs_path(struct buf *b, uint32_t first, unsigned n)
{
    buf_put_u8(b, BGP_ATTR_FLAG_TRANSITIVE); buf_put_u8(b, BGP_ATTR_ORIGIN); buf_put_u8(b, 1); buf_put_u8(b, 0);
    buf_put_u8(b, BGP_ATTR_FLAG_TRANSITIVE); buf_put_u8(b, BGP_ATTR_AS_PATH); buf_put_u8(b, (uint8_t)(2 + 4 * n));
    buf_put_u8(b, BGP_AS_SEQUENCE); buf_put_u8(b, (uint8_t)n);
    for (unsigned i = 0; i < n; i++)
        buf_put_u32(b, first + i);
    buf_put_u8(b, BGP_ATTR_FLAG_TRANSITIVE); buf_put_u8(b, BGP_ATTR_NEXT_HOP); buf_put_u8(b, 4); buf_put_u32(b, 0xc6336401u);
}

/* loc_rib: per prefix the path the router selects (here the shorter AS_PATH, peer 1's for
 * 10.1/16, peer 0's for 10.2/16) as Route Monitoring of the Loc-RIB peer (type 3, no
 * address, the router's AS), after its PEER_UP with the table's name */
static void test_source_loc_rib(void **state)
{
    char *dir = tu_tmpdir(), path[256];
    snprintf(path, sizeof path, "%s/rib.mrt", dir);
    struct buf f = { 0 }, b = { 0 }, a0 = { 0 }, a1 = { 0 };
    peer_table(&b, 2);
    record(&f, 1767225600, MRT_TABLE_DUMP_V2, TD2_PEER_INDEX_TABLE, &b);
    for (unsigned k = 1; k <= 2; k++) {
        a0.len = a1.len = b.len = 0;
        attrs_path(&a0, 65001, k == 1 ? 3 : 1);
        attrs_path(&a1, 65002, k == 1 ? 2 : 4);
        buf_put_u32(&b, k);
        uint8_t prefix[2] = { 10, (uint8_t)k };
        buf_put_prefix(&b, prefix, 16);
        buf_put_u16(&b, 2);
        buf_put_u16(&b, 0); buf_put_u32(&b, 1700000000); buf_put_u16(&b, (uint16_t)a0.len); buf_put(&b, a0.p, a0.len);
        buf_put_u16(&b, 1); buf_put_u32(&b, 1700000000); buf_put_u16(&b, (uint16_t)a1.len); buf_put(&b, a1.p, a1.len);
        record(&f, 1767225600, MRT_TABLE_DUMP_V2, TD2_RIB_IPV4_UNICAST, &b);
    }
    tu_write(path, f.p, f.len);
    struct frames fr = { 0 };
    loc_rib_option = true;
    read_all(path, MRT_AS_BMP, &fr);
    loc_rib_option = false;
    unsigned loc_up = 0, loc_rm = 0, peer_rm = 0;
    uint32_t first_as[3] = { 0 };
    struct cursor c = cursor_make(fr.stream.p, fr.stream.len);
    while (cursor_remaining(&c)) {
        cursor_skip(&c, 1);
        uint32_t len = cursor_be32(&c);
        uint8_t type = cursor_u8(&c);
        const uint8_t *body = cursor_take(&c, len - 6);
        assert_non_null(body);
        if (type != BMP_PEER_UP && type != BMP_ROUTE_MONITORING)
            continue;
        struct cursor h = cursor_make(body, 42);
        uint8_t peer_type = cursor_u8(&h);
        cursor_skip(&h, 1 + 8 + 16);
        uint32_t as = cursor_be32(&h);
        if (peer_type != BMP_PEER_LOC_RIB) {
            peer_rm += type == BMP_ROUTE_MONITORING;
            continue;
        }
        assert_int_equal(as, LOCAL_AS_TEST);
        for (int i = 9; i < 25; i++)
            assert_int_equal(body[i], 0); /* no peer address */
        if (type == BMP_PEER_UP) {
            loc_up++;
            assert_non_null(memmem(body, len - 6, "global", 6)); /* the VRF/Table Name TLV */
            continue;
        }
        loc_rm++;
        /* UPDATE: no withdrawn, attributes (ORIGIN, AS_PATH, NEXT_HOP), NLRI */
        struct cursor u = cursor_make(body + 42 + 19, len - 6 - 42 - 19);
        cursor_skip(&u, 2 + 2 + 4 + 3 + 2);
        uint32_t first = cursor_be32(&u);
        cursor_skip(&u, (size_t)(body[42 + 19 + 2 + 2 + 4 + 3 + 1] - 1) * 4 + 7);
        assert_int_equal(cursor_u8(&u), 16);
        uint8_t prefix_b1 = (uint8_t)(cursor_be16(&u) & 0xff);
        assert_true(cursor_ok(&u));
        assert_true(prefix_b1 == 1 || prefix_b1 == 2);
        first_as[prefix_b1] = first;
    }
    assert_int_equal(loc_up, 1);
    assert_int_equal(loc_rm, 2);     /* one per prefix: different paths, different UPDATEs */
    assert_int_equal(peer_rm, 4);    /* the peers' Adj-RIB-In as before */
    assert_int_equal(first_as[1], 65002);
    assert_int_equal(first_as[2], 65001);
    buf_free(&fr.stream);
    buf_free(&f); buf_free(&b); buf_free(&a0); buf_free(&a1);
    tu_rmdir(dir);
}

/* a dump of collector `id` (its BGP ID, the router's default address): a RIB of `prefixes`
 * prefixes for two peers at T, then one update per second in `at` */
#define T0 1767225600u
static void collector_dump(const char *path, uint32_t id, unsigned prefixes, const unsigned *at, size_t n_at)
{
    struct buf f = { 0 }, b = { 0 };
    peer_table_of(&b, 2, id);
    record(&f, T0, MRT_TABLE_DUMP_V2, TD2_PEER_INDEX_TABLE, &b);
    unsigned both[] = { 0, 1 };
    for (unsigned k = 0; k < prefixes; k++)
        rib_v4(&f, k, both, 2, 65001);
    for (size_t i = 0; i < n_at; i++)
        update_v4(&f, T0 + at[i], (unsigned)i % 2, 100 + (unsigned)i);
    tu_write(path, f.p, f.len);
    buf_free(&f);
    buf_free(&b);
}

/* several dumps, one BMP router each, played side by side: the frames of both in time order,
 * each router its own connection from its collector's BGP ID with its own INIT, PEER_UPs and
 * routes */
static void test_source_dumps_side_by_side(void **state)
{
    char *dir = tu_tmpdir(), a[256], b[256];
    snprintf(a, sizeof a, "%s/rrc00.mrt", dir);
    snprintf(b, sizeof b, "%s/rrc01.mrt", dir);
    unsigned at_a[] = { 2, 4 }, at_b[] = { 1, 3 };
    collector_dump(a, 0xc0000201u, 3, at_a, 2); /* 192.0.2.1 */
    collector_dump(b, 0xc0000202u, 2, at_b, 2); /* 192.0.2.2 */
    char *fa[] = { a }, *fb[] = { b };
    struct mrt_options o[2] = {
        { .files = fa, .n_files = 1, .as = MRT_AS_BMP, .port = 1790, .sysname = "rrc00" },
        { .files = fb, .n_files = 1, .as = MRT_AS_BMP, .port = 1790, .sysname = "rrc01" },
    };
    struct source_options so = { .mrt = o, .n_mrt = 2 };
    char err[300];
    struct source *s = source_open("mrt:rrc00.mrt", &so, err, sizeof err);
    assert_non_null(s);
    struct capture_packet p;
    int rc;
    int64_t last = INT64_MIN;
    unsigned syn[2] = { 0 }, types[2][8] = { { 0 } }, backwards = 0, n_late = 0;
    int late[8]; /* which router sent each update after the RIB, in the order sent */
    struct buf stream[2] = { { 0 } };
    while ((rc = source_next(s, &p)) == 1) {
        backwards += p.ts_ns < last;
        last = p.ts_ns;
        struct decoded d;
        assert_int_equal(decode_frame(p.dlt, p.data, p.caplen, &d), DECODE_OK);
        assert_int_equal(d.src.family, AF_INET);
        uint8_t last_byte = d.src.bytes[3];
        assert_true(last_byte == 1 || last_byte == 2);
        int r = last_byte - 1;
        syn[r] += !!(d.tcp_flags & TCP_SYN);
        buf_put(&stream[r], d.payload, d.payload_len);
        if (d.payload_len && p.ts_ns > (int64_t)T0 * 1000000000 && n_late < 8)
            late[n_late++] = r;
    }
    assert_int_equal(rc, 0);
    assert_int_equal(backwards, 0);
    assert_int_equal(syn[0], 1);
    assert_int_equal(syn[1], 1);
    for (int r = 0; r < 2; r++) {
        struct cursor c = cursor_make(stream[r].p, stream[r].len);
        const char *want = r ? "rrc01" : "rrc00";
        while (cursor_remaining(&c)) {
            assert_int_equal(cursor_u8(&c), 3);
            uint32_t len = cursor_be32(&c);
            uint8_t type = cursor_u8(&c);
            const uint8_t *body = cursor_take(&c, len >= 6 ? len - 6 : 0);
            assert_true(cursor_ok(&c) && body && type < 8);
            types[r][type]++;
            if (type == BMP_INIT) /* its own sysName */
                assert_non_null(memmem(body, len - 6, want, strlen(want)));
        }
        assert_int_equal(types[r][BMP_INIT], 1);
        assert_int_equal(types[r][BMP_PEER_UP], 2);
        assert_int_equal(types[r][BMP_ROUTE_MONITORING], 2 + 2); /* the RIB packed per peer, two updates */
    }
    /* the updates as their times interleave them: rrc01 at 1 s, rrc00 at 2, rrc01 at 3, rrc00 at 4 */
    assert_int_equal(n_late, 4);
    assert_int_equal(late[0], 1);
    assert_int_equal(late[1], 0);
    assert_int_equal(late[2], 1);
    assert_int_equal(late[3], 0);
    json_t *sum = source_summary(s);
    assert_int_equal(json_array_size(json_object_get(sum, "dumps")), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(sum, "dumps"), 1), "router")),
                        "192.0.2.2");
    json_decref(sum);
    source_close(s);
    buf_free(&stream[0]);
    buf_free(&stream[1]);

    /* two dumps of one collector ID would be one router to the replay: refused, saying how */
    collector_dump(b, 0xc0000201u, 2, at_b, 2);
    s = source_open("mrt:rrc00.mrt", &so, err, sizeof err);
    assert_non_null(s);
    while ((rc = source_next(s, &p)) == 1)
        ;
    assert_int_equal(rc, -1);
    assert_non_null(strstr(source_error(s), "both router 192.0.2.1"));
    assert_non_null(strstr(source_error(s), "router: of its own"));
    source_close(s);
    /* ... and played when the config gives one of them another address */
    addr_parse("192.0.2.9", &o[1].router);
    s = source_open("mrt:rrc00.mrt", &so, err, sizeof err);
    unsigned frames = 0;
    while ((rc = source_next(s, &p)) == 1)
        frames++;
    assert_int_equal(rc, 0);
    assert_true(frames > 4);
    source_close(s);
    tu_rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reader_rib),
        cmocka_unit_test(test_reader_skips_bad_records),
        cmocka_unit_test(test_reader_truncated),
        cmocka_unit_test(test_reader_bgp4mp_and_legacy),
        cmocka_unit_test(test_reader_rib_generic),
        cmocka_unit_test(test_source_bmp_packs),
        cmocka_unit_test(test_source_rib_without_attributes),
        cmocka_unit_test(test_source_bgp_session),
        cmocka_unit_test(test_source_ipv6_mp_reach),
        cmocka_unit_test(test_source_frames_in_time_order),
        cmocka_unit_test(test_source_loc_rib),
        cmocka_unit_test(test_source_dumps_side_by_side),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
