/* tcpstream: in-order, duplicate, overlapping, out-of-order, hole, sequence wraparound,
 * SYN handling; msgstream: BGP/BMP messages split over many segments, many messages in
 * one segment, resynchronisation after garbage and after a hole. */
#include "testutil.h"

#include "proto/proto.h"
#include "tcpstream.h"

/* what the stream delivered */
struct got {
    uint8_t bytes[70000];
    size_t n;
    int64_t ts[64];
    bool hole[64];
    size_t runs;
};

static void collect(void *ctx, const uint8_t *data, size_t len, int64_t ts, bool after_hole)
{
    struct got *g = ctx;
    assert_true(g->n + len <= sizeof g->bytes);
    memcpy(g->bytes + g->n, data, len);
    g->n += len;
    if (g->runs < 64) {
        g->ts[g->runs] = ts;
        g->hole[g->runs] = after_hole;
    }
    g->runs++;
}

static const uint8_t text[] = "0123456789abcdefghijklmnopqrstuvwxyz";

static void add(struct tcpstream *s, struct got *g, uint32_t base, size_t from, size_t to, int64_t ts)
{
    tcpstream_add(s, base + (uint32_t)from, 0x18, text + from, to - from, ts, collect, g);
}

static void test_in_order(void **state)
{
    struct tcpstream s;
    struct got g = { .n = 0 };
    tcpstream_init(&s, 0);
    tcpstream_add(&s, 999, 0x02, NULL, 0, 1, collect, &g); /* SYN: data starts at 1000 */
    add(&s, &g, 1000, 0, 10, 2);
    add(&s, &g, 1000, 10, 36, 3);
    assert_int_equal(g.n, 36);
    assert_memory_equal(g.bytes, text, 36);
    assert_int_equal(g.ts[0], 2);
    assert_int_equal(g.ts[1], 3);
    assert_false(g.hole[0]);
    assert_int_equal(s.duplicate_bytes, 0);
    tcpstream_free(&s);
}

/* data on the SYN: at ISN+1 as RFC 9293 says, or at the SYN's own number as some capture
 * writers put it; both give every byte once */
static void test_syn_with_data(void **state)
{
    for (int writer = 0; writer < 2; writer++) {
        struct tcpstream s;
        struct got g = { .n = 0 };
        tcpstream_init(&s, 0);
        tcpstream_add(&s, 999, 0x02, text, 10, 1, collect, &g);
        add(&s, &g, writer ? 999 : 1000, 10, 36, 2); /* 1009 (capture's numbering) or 1010 (RFC) */
        assert_int_equal(g.n, 36);
        assert_memory_equal(g.bytes, text, 36);
        assert_int_equal(s.duplicate_bytes, 0);
        assert_int_equal(s.holes, 0);
        tcpstream_free(&s);
    }
    /* a real retransmission of the SYN's last byte later on is still a duplicate */
    struct tcpstream s;
    struct got g = { .n = 0 };
    tcpstream_init(&s, 0);
    tcpstream_add(&s, 999, 0x02, text, 10, 1, collect, &g);
    add(&s, &g, 1000, 10, 20, 2);
    add(&s, &g, 1000, 19, 30, 3);
    assert_int_equal(g.n, 30);
    assert_memory_equal(g.bytes, text, 30);
    assert_int_equal(s.duplicate_bytes, 1);
    tcpstream_free(&s);
}

static void test_duplicate_and_overlap(void **state)
{
    struct tcpstream s;
    struct got g = { .n = 0 };
    tcpstream_init(&s, 0);
    add(&s, &g, 5, 0, 10, 1);  /* no SYN: the first data segment sets the start */
    add(&s, &g, 5, 0, 10, 2);  /* retransmission */
    add(&s, &g, 5, 5, 20, 3);  /* overlaps 5 bytes */
    add(&s, &g, 5, 12, 18, 4); /* inside what was delivered */
    assert_int_equal(g.n, 20);
    assert_memory_equal(g.bytes, text, 20);
    assert_int_equal(s.duplicate_bytes, 10 + 5 + 6);
    assert_int_equal(s.delivered_bytes, 20);
    tcpstream_free(&s);
}

static void test_out_of_order(void **state)
{
    struct tcpstream s;
    struct got g = { .n = 0 };
    tcpstream_init(&s, 0);
    add(&s, &g, 100, 0, 5, 1);
    add(&s, &g, 100, 20, 30, 2); /* waits */
    add(&s, &g, 100, 10, 20, 3); /* waits */
    assert_int_equal(g.n, 5);
    assert_int_equal(s.pending_count, 2);
    add(&s, &g, 100, 5, 10, 4);  /* fills the gap: everything leaves, stamped 4 */
    assert_int_equal(g.n, 30);
    assert_memory_equal(g.bytes, text, 30);
    assert_int_equal(g.ts[g.runs - 1], 4);
    assert_int_equal(s.reordered_segments, 2);
    assert_int_equal(s.holes, 0);
    assert_int_equal(s.pending_bytes, 0);
    tcpstream_free(&s);
}

static void test_hole(void **state)
{
    struct tcpstream s;
    struct got g = { .n = 0 };
    tcpstream_init(&s, 8); /* at most 8 bytes wait */
    add(&s, &g, 0, 0, 5, 1);
    add(&s, &g, 0, 10, 15, 2); /* waits: 5 bytes */
    assert_int_equal(g.n, 5);
    add(&s, &g, 0, 15, 20, 3); /* 10 bytes would wait: skip the hole [5,10) */
    assert_int_equal(s.holes, 1);
    assert_int_equal(s.hole_bytes, 5);
    assert_int_equal(g.n, 15);
    assert_memory_equal(g.bytes + 5, text + 10, 10);
    assert_true(g.hole[1]);
    assert_false(g.hole[2]);
    /* the late segment of the hole is a duplicate now */
    add(&s, &g, 0, 5, 10, 4);
    assert_int_equal(g.n, 15);
    /* a hole at the end of the capture */
    add(&s, &g, 0, 25, 30, 5);
    assert_int_equal(g.n, 15);
    tcpstream_finish(&s, collect, &g);
    assert_int_equal(g.n, 20);
    assert_int_equal(s.holes, 2);
    assert_int_equal(s.hole_bytes, 10);
    tcpstream_free(&s);
}

static void test_wraparound(void **state)
{
    struct tcpstream s;
    struct got g = { .n = 0 };
    tcpstream_init(&s, 0);
    uint32_t base = 0xfffffff0u;
    add(&s, &g, base, 0, 10, 1);
    add(&s, &g, base, 20, 30, 2); /* past the wrap, out of order */
    add(&s, &g, base, 10, 20, 3); /* crosses the wrap */
    add(&s, &g, base, 5, 15, 4);  /* old, across the wrap */
    assert_int_equal(g.n, 30);
    assert_memory_equal(g.bytes, text, 30);
    assert_int_equal(s.next, base + 30);
    assert_int_equal(s.holes, 0);
    tcpstream_free(&s);
}

static void test_many_tiny_segments_bounded(void **state)
{
    struct tcpstream s;
    struct got g = { .n = 0 };
    tcpstream_init(&s, 0);
    add(&s, &g, 0, 0, 1, 1);
    uint8_t b = 'x';
    for (uint32_t i = 0; i < 5000; i++) /* every other byte: none contiguous */
        tcpstream_add(&s, 10 + 2 * i, 0x18, &b, 1, 2, collect, &g);
    assert_true(s.pending_count <= 1024);
    tcpstream_finish(&s, collect, &g);
    assert_int_equal(s.pending_count, 0);
    assert_int_equal(g.n, 5001);
    tcpstream_free(&s);
}

/* ---- messages ---- */

struct msgs {
    size_t n;
    uint8_t types[64];
    size_t lens[64];
    int64_t ts[64];
};

static void on_message(void *ctx, const uint8_t *msg, size_t len, int64_t ts)
{
    struct msgs *m = ctx;
    if (m->n < 64) {
        m->types[m->n] = msg[18];
        m->lens[m->n] = len;
        m->ts[m->n] = ts;
    }
    m->n++;
}

static void bgp_msg(struct tu_buf *b, uint8_t type, size_t body)
{
    for (int i = 0; i < 16; i++)
        tu_u8(b, 0xff);
    tu_u16(b, (uint16_t)(19 + body));
    tu_u8(b, type);
    for (size_t i = 0; i < body; i++)
        tu_u8(b, (uint8_t)i);
}

static void test_bgp_split_and_packed(void **state)
{
    struct tu_buf b = { .n = 0 };
    bgp_msg(&b, 1, 10);  /* OPEN */
    bgp_msg(&b, 4, 0);   /* KEEPALIVE */
    bgp_msg(&b, 2, 300); /* UPDATE */
    bgp_msg(&b, 2, 40);
    struct msgstream m;
    struct msgs got = { .n = 0 };
    msgstream_init(&m, proto_bgp.frame, proto_bgp.max_message);
    /* byte by byte: every message completes on its last byte */
    for (size_t i = 0; i < b.n; i++)
        msgstream_add(&m, b.b + i, 1, (int64_t)i, false, on_message, &got);
    assert_int_equal(got.n, 4);
    assert_int_equal(got.types[0], 1);
    assert_int_equal(got.ts[0], 29 - 1);
    assert_int_equal(got.lens[2], 319);
    assert_int_equal(got.ts[3], (int64_t)b.n - 1);
    /* all in one segment */
    got.n = 0;
    msgstream_add(&m, b.b, b.n, 7, false, on_message, &got);
    assert_int_equal(got.n, 4);
    assert_int_equal(got.ts[3], 7);
    assert_int_equal(m.len, 0);
    assert_int_equal(m.resyncs, 0);
    msgstream_free(&m);
}

static void test_bgp_resync(void **state)
{
    struct tu_buf b = { .n = 0 };
    tu_bytes(&b, "garbage!", 8);
    bgp_msg(&b, 4, 0);
    size_t cut_at = b.n + 25;
    bgp_msg(&b, 2, 30); /* will be cut by a hole */
    bgp_msg(&b, 3, 2);  /* NOTIFICATION after the hole */
    struct msgstream m;
    struct msgs got = { .n = 0 };
    msgstream_init(&m, proto_bgp.frame, proto_bgp.max_message);
    msgstream_add(&m, b.b, cut_at, 1, false, on_message, &got);
    assert_int_equal(got.n, 1);
    assert_int_equal(got.types[0], 4);
    assert_int_equal(m.skipped_bytes, 8);
    /* the rest of the UPDATE is lost; the stream resumes at the NOTIFICATION */
    size_t notif = b.n - 21;
    msgstream_add(&m, b.b + notif, b.n - notif, 2, true, on_message, &got);
    assert_int_equal(got.n, 2);
    assert_int_equal(got.types[1], 3);
    assert_int_equal(m.skipped_bytes, 8 + 25);
    assert_int_equal(m.resyncs, 2);
    msgstream_free(&m);
}

/* An OPEN, with the extended message capability (RFC 8654) or without. */
static void bgp_open(struct tu_buf *b, bool extended)
{
    for (int i = 0; i < 16; i++)
        tu_u8(b, 0xff);
    tu_u16(b, (uint16_t)(19 + 10 + (extended ? 4 : 0)));
    tu_u8(b, 1);
    tu_u8(b, 4);          /* version */
    tu_u16(b, 65001);     /* my AS */
    tu_u16(b, 90);        /* hold time */
    tu_u32(b, 0x0a000001); /* BGP identifier */
    tu_u8(b, extended ? 4 : 0);
    if (extended) {
        tu_u8(b, 2); /* capabilities */
        tu_u8(b, 2);
        tu_u8(b, 6); /* extended message, no value */
        tu_u8(b, 0);
    }
}

/* A header claiming 65535 bytes on a stream without extended messages is corrupt: the
 * messages after it are found, not swallowed while waiting for 64 KB. */
static void test_bgp_length_past_stream(void **state)
{
    struct tu_buf b = { .n = 0 };
    for (int i = 0; i < 16; i++)
        tu_u8(&b, 0xff);
    tu_u16(&b, 65535);
    tu_u8(&b, 2);
    for (int i = 0; i < 3; i++)
        bgp_msg(&b, 4, 0);
    struct msgstream m;
    struct msgs got = { .n = 0 };
    msgstream_init(&m, proto_bgp.frame, proto_bgp.max_message);
    msgstream_set_upgrade(&m, proto_bgp.upgrades, proto_bgp.frame_ext, proto_bgp.max_message_ext);
    msgstream_add(&m, b.b, b.n, 1, false, on_message, &got);
    msgstream_finish(&m);
    assert_int_equal(got.n, 3);
    assert_int_equal(m.resyncs, 1);
    assert_int_equal(m.skipped_bytes, 19);
    assert_int_equal(m.incomplete_messages, 0);
    msgstream_free(&m);
}

/* After an OPEN announcing extended messages, a 5000-byte UPDATE is one message; without
 * it the same bytes are a corrupt header. */
static void test_bgp_extended_messages(void **state)
{
    for (int extended = 0; extended < 2; extended++) {
        static struct tu_buf b;
        b.n = 0;
        bgp_open(&b, extended);
        bgp_msg(&b, 2, 5000);
        bgp_msg(&b, 4, 0);
        struct msgstream m;
        struct msgs got = { .n = 0 };
        msgstream_init(&m, proto_bgp.frame, proto_bgp.max_message);
        msgstream_set_upgrade(&m, proto_bgp.upgrades, proto_bgp.frame_ext, proto_bgp.max_message_ext);
        for (size_t off = 0; off < b.n; off += 1000) /* across deliveries */
            msgstream_add(&m, b.b + off, b.n - off < 1000 ? b.n - off : 1000, 1, false, on_message, &got);
        msgstream_finish(&m);
        if (extended) {
            assert_int_equal(got.n, 3);
            assert_int_equal(got.lens[1], 5019);
            assert_int_equal(m.resyncs, 0);
        } else {
            assert_int_equal(got.n, 2); /* the OPEN and the KEEPALIVE */
            assert_int_equal(got.types[1], 4);
            assert_int_equal(m.resyncs, 1);
            assert_true(m.skipped_bytes >= 5019);
        }
        msgstream_free(&m);
    }
}

/* The capture ends inside a message: not sent, but counted. */
static void test_incomplete_last_message(void **state)
{
    struct tu_buf b = { .n = 0 };
    bgp_msg(&b, 4, 0);
    bgp_msg(&b, 2, 200);
    struct msgstream m;
    struct msgs got = { .n = 0 };
    msgstream_init(&m, proto_bgp.frame, proto_bgp.max_message);
    msgstream_add(&m, b.b, b.n - 8, 1, false, on_message, &got);
    assert_int_equal(m.incomplete_messages, 0);
    msgstream_finish(&m);
    assert_int_equal(got.n, 1);
    assert_int_equal(m.incomplete_messages, 1);
    assert_int_equal(m.incomplete_bytes, 219 - 8);
    assert_int_equal(m.skipped_bytes, 0);
    msgstream_free(&m);
}

static void test_bmp_framing(void **state)
{
    struct tu_buf b = { .n = 0 };
    uint8_t types[] = { 4, 3, 0, 0, 1, 2 };
    for (size_t i = 0; i < sizeof types; i++) {
        tu_u8(&b, 3);
        tu_u32(&b, 6 + 20);
        tu_u8(&b, types[i]);
        for (int k = 0; k < 20; k++)
            tu_u8(&b, 0);
    }
    struct msgstream m;
    struct msgs got = { .n = 0 };
    msgstream_init(&m, proto_bmp.frame, proto_bmp.max_message);
    for (size_t off = 0; off < b.n; off += 7) /* 7-byte segments */
        msgstream_add(&m, b.b + off, b.n - off < 7 ? b.n - off : 7, (int64_t)off, false, on_message, &got);
    assert_int_equal(got.n, 6);
    assert_int_equal(m.len, 0);
    assert_true(proto_bmp.starts_session(b.b, 26));
    assert_false(proto_bmp.starts_session(b.b + 26, 26));
    /* a length beyond the bound is corrupt, not a reason to buffer */
    uint8_t huge[6] = { 3, 0x7f, 0xff, 0xff, 0xff, 0 };
    assert_true(proto_bmp.frame(huge, sizeof huge) < 0);
    msgstream_free(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_in_order),
        cmocka_unit_test(test_syn_with_data),
        cmocka_unit_test(test_duplicate_and_overlap),
        cmocka_unit_test(test_out_of_order),
        cmocka_unit_test(test_hole),
        cmocka_unit_test(test_wraparound),
        cmocka_unit_test(test_many_tiny_segments_bounded),
        cmocka_unit_test(test_bgp_split_and_packed),
        cmocka_unit_test(test_bgp_resync),
        cmocka_unit_test(test_bgp_length_past_stream),
        cmocka_unit_test(test_bgp_extended_messages),
        cmocka_unit_test(test_incomplete_last_message),
        cmocka_unit_test(test_bmp_framing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
