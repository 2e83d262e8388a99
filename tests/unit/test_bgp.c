/* bgp: OPEN parsing (capabilities, 4-octet AS, AFI/SAFI), rewriting, NOTIFICATION names,
 * KEEPALIVE; malformed OPENs. */
#include "testutil.h"

#include "buf.h"
#include "proto/proto.h"

static void test_open(void **state)
{
    struct tu_buf b;
    tu_bgp_open(&b, 23456, 4200000001u, 180);
    struct bgp_open o;
    assert_int_equal(bgp_parse_open(b.b, b.n, &o), 0);
    assert_int_equal(o.version, 4);
    assert_int_equal(o.my_as, 23456);
    assert_int_equal(o.asn, 4200000001u);
    assert_true(o.four_byte_as);
    assert_int_equal(o.hold_time, 180);
    assert_int_equal(o.bgp_id, 0x0a000001);
    assert_int_equal(o.n_caps, 3);
    assert_string_equal(bgp_capability_name(o.caps[0]), "multiprotocol");
    assert_string_equal(bgp_capability_name(o.caps[2]), "four_octet_as");
    assert_int_equal(o.n_afi_safi, 1);
    assert_int_equal(o.afi[0], 1);
    assert_int_equal(o.safi[0], 128);
    assert_true(proto_bgp.starts_session(b.b, b.n));

    struct bgp_open_rewrite rw = { .asn = 65010, .bgp_id = 0xc0000201, .set_hold_time = true, .hold_time = 9 };
    assert_int_equal(bgp_rewrite_open(b.b, b.n, &rw), 0);
    assert_int_equal(bgp_parse_open(b.b, b.n, &o), 0);
    assert_int_equal(o.my_as, 65010);
    assert_int_equal(o.asn, 65010);
    assert_int_equal(o.hold_time, 9);
    assert_int_equal(o.bgp_id, 0xc0000201);
    rw = (struct bgp_open_rewrite){ .asn = 4200000002u };
    assert_int_equal(bgp_rewrite_open(b.b, b.n, &rw), 0);
    assert_int_equal(bgp_parse_open(b.b, b.n, &o), 0);
    assert_int_equal(o.my_as, 23456);
    assert_int_equal(o.asn, 4200000002u);
    assert_int_equal(o.hold_time, 9); /* kept */
}

static void test_open_malformed(void **state)
{
    struct tu_buf b;
    struct bgp_open o;
    tu_bgp_open(&b, 65001, 65001, 90);
    b.b[28] = 40; /* optional parameters longer than the message */
    assert_int_equal(bgp_parse_open(b.b, b.n, &o), -1);
    tu_bgp_open(&b, 65001, 65001, 90);
    b.b[19] = 3; /* version 3 */
    assert_int_equal(bgp_parse_open(b.b, b.n, &o), -1);
    tu_bgp_open(&b, 65001, 65001, 90);
    b.b[32] = 30; /* a capability longer than its parameter */
    assert_int_equal(bgp_parse_open(b.b, b.n, &o), -1);
    tu_bgp_open(&b, 65001, 65001, 90);
    assert_int_equal(bgp_parse_open(b.b, b.n - 1, &o), -1); /* truncated */
    uint8_t ka[19];
    bgp_keepalive(ka);
    assert_int_equal(bgp_parse_open(ka, sizeof ka, &o), -1);
    assert_int_equal(bgp_parse_open(ka, 0, &o), -1); /* empty: frame() says "need more" */
    uint8_t code, sub;
    assert_int_equal(bgp_parse_notification(ka, 0, &code, &sub), -1);
}

static void test_keepalive_notification(void **state)
{
    uint8_t ka[19];
    assert_int_equal(bgp_keepalive(ka), 19);
    assert_int_equal(proto_bgp.frame(ka, sizeof ka), 19);
    struct msg_info info;
    assert_int_equal(proto_bgp.inspect(ka, sizeof ka, &info), 0);
    assert_string_equal(proto_bgp.kind_name(info.kind), "keepalive");

    uint8_t n[21], code, sub;
    char name[128];
    bgp_notification(n, 2, 2);
    assert_int_equal(bgp_parse_notification(n, sizeof n, &code, &sub), 0);
    assert_string_equal(bgp_notification_name(code, sub, name, sizeof name), "OPEN Message Error / Bad Peer AS (2/2)");
    assert_string_equal(bgp_notification_name(6, 4, name, sizeof name), "Cease / Administrative Reset (6/4)");
    assert_string_equal(bgp_notification_name(4, 0, name, sizeof name), "Hold Timer Expired (4/0)");
    assert_string_equal(bgp_notification_name(99, 1, name, sizeof name), "unknown code (99/1)");
    assert_int_equal(bgp_parse_notification(ka, sizeof ka, &code, &sub), -1);
}

/* bmp timestamps: now: the per-peer header's timestamp of route monitoring, peer up and down,
 * stats becomes the given moment; INIT, TERM and a timestamp of 0 stay as they are. */
/* Issue 14 item 2: clone k's INIT names it "sysName-k" (the TLV and message lengths follow,
 * the TLVs after it move); other messages, an INIT without a sysName, and a message with no
 * room to grow are left as they are. */
static void test_bmp_clone_sysname(void **state)
{
    struct tu_buf b = { .n = 0 };
    tu_u8(&b, 3);
    tu_u32(&b, 0);
    tu_u8(&b, 4);               /* INIT */
    tu_u16(&b, 1); tu_u16(&b, 1); tu_u8(&b, 'd'); /* sysDescr "d" */
    tu_u16(&b, 2); tu_u16(&b, 2); tu_u8(&b, 'r'); tu_u8(&b, '1'); /* sysName "r1" */
    tu_u16(&b, 0); tu_u16(&b, 1); tu_u8(&b, 'x'); /* a string after it */
    tu_set16(&b, 3, (uint16_t)b.n); /* the length: its low bytes */
    uint8_t m[64];
    memcpy(m, b.b, b.n);
    size_t n = proto_bmp.clone_identity(m, b.n, sizeof m, 12, CLONE_SYSNAME);
    assert_int_equal(n, b.n + 3);
    assert_int_equal(proto_bmp.frame(m, n), (ssize_t)n); /* its length says so */
    assert_memory_equal(m + 6 + 5, "\x00\x02\x00\x05r1-12", 9);
    assert_memory_equal(m + 6 + 5 + 9, "\x00\x00\x00\x01x", 5);
    /* not asked, no room, not an INIT: as it was */
    memcpy(m, b.b, b.n);
    assert_int_equal(proto_bmp.clone_identity(m, b.n, sizeof m, 12, CLONE_DOMAIN), b.n);
    assert_int_equal(proto_bmp.clone_identity(m, b.n, b.n + 2, 12, CLONE_SYSNAME), b.n);
    assert_memory_equal(m, b.b, b.n);
    size_t rm = tu_bmp(m, 0, 1, 65001);
    assert_int_equal(proto_bmp.clone_identity(m, rm, sizeof m, 3, CLONE_SYSNAME), rm);
    size_t init = tu_bmp(m, 4, 0, 0); /* no sysName */
    assert_int_equal(proto_bmp.clone_identity(m, init, sizeof m, 3, CLONE_SYSNAME), init);
}

static void test_bmp_timestamps(void **state)
{
    const struct rewrite_config now = { .export_time_now = true }, keep = { 0 };
    const int64_t t = 1800000000LL * 1000000000 + 654321000;
    uint8_t m[256], orig[256];
    for (uint8_t type = 0; type <= 5; type++) {
        size_t n = tu_bmp(m, type, 1, 65001);
        if (type != 4 && type != 5) { /* a timestamp captured: 2023-01-01 */
            m[40] = 0x63; m[41] = 0xb0; m[42] = 0xcd; m[43] = 0x00; m[47] = 7;
        }
        memcpy(orig, m, n);
        assert_int_equal(proto_bmp.rewrite(NULL, &keep, m, n, t), 0);
        assert_memory_equal(m, orig, n);
        assert_int_equal(proto_bmp.rewrite(NULL, &now, m, n, t), 0);
        if (type == 4 || type == 5) {
            assert_memory_equal(m, orig, n);
            continue;
        }
        assert_memory_equal(m, orig, 40);            /* nothing before it moves */
        assert_memory_equal(m + 48, orig + 48, n - 48); /* nor after */
        assert_int_equal((uint32_t)m[40] << 24 | m[41] << 16 | m[42] << 8 | m[43], 1800000000u);
        assert_int_equal((uint32_t)m[44] << 24 | m[45] << 16 | m[46] << 8 | m[47], 654321);
    }
    size_t n = tu_bmp(m, 0, 1, 65001); /* timestamp 0: not available, stays so */
    memcpy(orig, m, n);
    assert_int_equal(proto_bmp.rewrite(NULL, &now, m, n, t), 0);
    assert_memory_equal(m, orig, n);
    assert_int_equal(proto_bmp.rewrite(NULL, &now, m, 20, t), -1); /* cut short */
}

/* an attribute: flags, type, one-byte length, value */
static void attr(struct buf *b, uint8_t flags, uint8_t type, const struct buf *v)
{
    buf_put_u8(b, flags);
    buf_put_u8(b, type);
    buf_put_u8(b, (uint8_t)v->len);
    buf_put(b, v->p, v->len);
}

/* A 2-byte AS_PATH widened; with AS4_PATH (RFC 6793 section 4.2.3) its ASes replace the
 * AS_TRANS ones at the end and it is dropped; AGGREGATOR takes AS4_AGGREGATOR's AS. */
static void test_attrs_as4(void **state)
{
    struct buf in = { 0 }, v = { 0 }, out = { 0 };
    v.len = 0; buf_put_u8(&v, 0); attr(&in, BGP_ATTR_FLAG_TRANSITIVE, BGP_ATTR_ORIGIN, &v);
    v.len = 0;                                   /* AS_PATH 65001 65002 {65003 65004} 23456 23456 */
    buf_put_u8(&v, BGP_AS_SEQUENCE); buf_put_u8(&v, 2); buf_put_u16(&v, 65001); buf_put_u16(&v, 65002);
    buf_put_u8(&v, BGP_AS_SET); buf_put_u8(&v, 2); buf_put_u16(&v, 65003); buf_put_u16(&v, 65004);
    buf_put_u8(&v, BGP_AS_SEQUENCE); buf_put_u8(&v, 2); buf_put_u16(&v, BGP_AS_TRANS); buf_put_u16(&v, BGP_AS_TRANS);
    attr(&in, BGP_ATTR_FLAG_TRANSITIVE, BGP_ATTR_AS_PATH, &v);
    v.len = 0;                                   /* AGGREGATOR 23456 192.0.2.9 */
    buf_put_u16(&v, BGP_AS_TRANS); buf_put_u32(&v, 0xc0000209u);
    attr(&in, BGP_ATTR_FLAG_OPTIONAL | BGP_ATTR_FLAG_TRANSITIVE, BGP_ATTR_AGGREGATOR, &v);
    v.len = 0;                                   /* AS4_PATH 4200000001 4200000002 */
    buf_put_u8(&v, BGP_AS_SEQUENCE); buf_put_u8(&v, 2); buf_put_u32(&v, 4200000001u); buf_put_u32(&v, 4200000002u);
    attr(&in, BGP_ATTR_FLAG_OPTIONAL | BGP_ATTR_FLAG_TRANSITIVE, BGP_ATTR_AS4_PATH, &v);
    v.len = 0;
    buf_put_u32(&v, 4200000009u); buf_put_u32(&v, 0xc0000209u);
    attr(&in, BGP_ATTR_FLAG_OPTIONAL | BGP_ATTR_FLAG_TRANSITIVE, BGP_ATTR_AS4_AGGREGATOR, &v);
    assert_int_equal(bgp_attrs_as4(in.p, in.len, &out), 0);
    struct buf want = { 0 };
    v.len = 0; buf_put_u8(&v, 0); attr(&want, BGP_ATTR_FLAG_TRANSITIVE, BGP_ATTR_ORIGIN, &v);
    v.len = 0;
    buf_put_u8(&v, BGP_AS_SEQUENCE); buf_put_u8(&v, 2); buf_put_u32(&v, 65001); buf_put_u32(&v, 65002);
    buf_put_u8(&v, BGP_AS_SET); buf_put_u8(&v, 2); buf_put_u32(&v, 65003); buf_put_u32(&v, 65004);
    buf_put_u8(&v, BGP_AS_SEQUENCE); buf_put_u8(&v, 2); buf_put_u32(&v, 4200000001u); buf_put_u32(&v, 4200000002u);
    attr(&want, BGP_ATTR_FLAG_TRANSITIVE, BGP_ATTR_AS_PATH, &v);
    v.len = 0;
    buf_put_u32(&v, 4200000009u); buf_put_u32(&v, 0xc0000209u);
    attr(&want, BGP_ATTR_FLAG_OPTIONAL | BGP_ATTR_FLAG_TRANSITIVE, BGP_ATTR_AGGREGATOR, &v);
    assert_int_equal(out.len, want.len);
    assert_memory_equal(out.p, want.p, want.len);

    /* an AS4_PATH longer than AS_PATH is ignored (and still dropped) */
    in.len = out.len = 0;
    v.len = 0;
    buf_put_u8(&v, BGP_AS_SEQUENCE); buf_put_u8(&v, 1); buf_put_u16(&v, 65001);
    attr(&in, BGP_ATTR_FLAG_TRANSITIVE, BGP_ATTR_AS_PATH, &v);
    v.len = 0;
    buf_put_u8(&v, BGP_AS_SEQUENCE); buf_put_u8(&v, 2); buf_put_u32(&v, 1); buf_put_u32(&v, 2);
    attr(&in, BGP_ATTR_FLAG_OPTIONAL | BGP_ATTR_FLAG_TRANSITIVE, BGP_ATTR_AS4_PATH, &v);
    assert_int_equal(bgp_attrs_as4(in.p, in.len, &out), 0);
    assert_int_equal(out.len, 3 + 2 + 4);
    assert_int_equal(out.p[5 + 3], 0xe9); /* 65001 = 0x0000fde9 */

    /* a segment that runs past its attribute: malformed */
    in.len = out.len = 0;
    v.len = 0;
    buf_put_u8(&v, BGP_AS_SEQUENCE); buf_put_u8(&v, 3); buf_put_u16(&v, 65001);
    attr(&in, BGP_ATTR_FLAG_TRANSITIVE, BGP_ATTR_AS_PATH, &v);
    assert_int_equal(bgp_attrs_as4(in.p, in.len, &out), -1);

    /* a whole UPDATE: withdrawn routes and NLRI kept, the attributes' length put right */
    struct buf m = { 0 }, w = { 0 };
    size_t at = bgp_begin(&m, BGP_UPDATE);
    buf_put_u16(&m, 2); buf_put_u8(&m, 8); buf_put_u8(&m, 10);   /* withdrawn 10.0.0.0/8 */
    in.len = 0;
    v.len = 0; buf_put_u8(&v, BGP_AS_SEQUENCE); buf_put_u8(&v, 1); buf_put_u16(&v, 65001);
    attr(&in, BGP_ATTR_FLAG_TRANSITIVE, BGP_ATTR_AS_PATH, &v);
    buf_put_u16(&m, (uint16_t)in.len); buf_put(&m, in.p, in.len);
    buf_put_u8(&m, 16); buf_put_u8(&m, 172); buf_put_u8(&m, 16);  /* 172.16.0.0/16 */
    bgp_end(&m, at);
    assert_int_equal(bgp_update_as4(m.p, m.len, &w), 0);
    assert_int_equal(w.len, m.len + 2);
    assert_int_equal(w.p[16] << 8 | w.p[17], w.len);
    assert_int_equal(w.p[23] << 8 | w.p[24], in.len + 2);
    assert_memory_equal(w.p + w.len - 3, m.p + m.len - 3, 3);
    buf_free(&m); buf_free(&w);
    buf_free(&in); buf_free(&v); buf_free(&out); buf_free(&want);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bmp_timestamps),
        cmocka_unit_test(test_bmp_clone_sysname),
        cmocka_unit_test(test_open),
        cmocka_unit_test(test_attrs_as4),
        cmocka_unit_test(test_open_malformed),
        cmocka_unit_test(test_keepalive_notification),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
