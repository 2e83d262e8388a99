/* conversation: a captured conversation's messages in order whatever the segments' order,
 * a FIN closing it, a SYN after data starting a new connection, the counters summed at the
 * end; the table finds thousands by addresses and ports, and forgets removed ones. */
#include "testutil.h"

#include "conversation.h"

struct got {
    unsigned messages, runs;
    uint8_t types[64];
};

static void on_run(void *ctx, const uint8_t *p, const uint32_t *lens, size_t n, int64_t ts)
{
    struct got *g = ctx;
    g->runs++;
    for (size_t i = 0; i < n; p += lens[i++])
        if (g->messages < sizeof g->types)
            g->types[g->messages++] = p[5];
}

static struct decoded seg(const char *src, uint16_t sport, uint32_t seq, uint8_t flags, const uint8_t *m, size_t len)
{
    struct decoded d = { .ip_proto = IPPROTO_TCP, .sport = sport, .dport = 1790, .seq = seq, .tcp_flags = flags,
                         .payload = m, .payload_len = len };
    assert_int_equal(addr_parse(src, &d.src), 0);
    assert_int_equal(addr_parse("192.0.2.99", &d.dst), 0);
    return d;
}

static void test_order_close_restart(void **state)
{
    uint8_t init[64], up[64], rm[64];
    size_t li = tu_bmp(init, 4, 0, 0), lu = tu_bmp(up, 3, 1, 65001), lr = tu_bmp(rm, 0, 1, 65001);
    struct conversation c;
    struct got g = { 0 };
    struct decoded d = seg("10.0.0.1", 40000, 100, TCP_SYN, NULL, 0);
    conversation_init(&c, &proto_bmp, &d, NULL, on_run);
    conversation_segment(&c, &d, 0, &g);
    /* INIT, then route monitoring before the PEER_UP it follows (reordered) */
    d = seg("10.0.0.1", 40000, 101, TCP_ACK, init, li);
    conversation_segment(&c, &d, 0, &g);
    d = seg("10.0.0.1", 40000, (uint32_t)(101 + li + lu), TCP_ACK, rm, lr);
    conversation_segment(&c, &d, 0, &g);
    assert_int_equal(g.messages, 1);
    d = seg("10.0.0.1", 40000, (uint32_t)(101 + li), TCP_ACK, up, lu);
    conversation_segment(&c, &d, 0, &g);
    assert_int_equal(g.messages, 3);
    assert_memory_equal(g.types, "\x04\x03\x00", 3);
    assert_true(c.open);
    assert_false(conversation_restarted(&c, &d));
    d = seg("10.0.0.1", 40000, (uint32_t)(101 + li + lu + lr), TCP_FIN | TCP_ACK, NULL, 0);
    conversation_segment(&c, &d, 0, &g);
    assert_false(c.open);
    d = seg("10.0.0.1", 40000, 5000, TCP_SYN, NULL, 0); /* the port again, a new connection */
    assert_true(conversation_restarted(&c, &d));
    struct conversation_counts n = { 0 };
    conversation_finish(&c, &n, &g);
    assert_int_equal(n.bytes, li + lu + lr);
    assert_int_equal(n.reordered_segments, 1);
    assert_int_equal(n.incomplete_messages, 0);
}

static void test_cut_last_message_counted(void **state)
{
    uint8_t init[64];
    size_t li = tu_bmp(init, 4, 0, 0);
    struct conversation c;
    struct got g = { 0 };
    struct decoded d = seg("10.0.0.1", 40000, 1, TCP_ACK, init, li - 2);
    conversation_init(&c, &proto_bmp, &d, NULL, on_run);
    conversation_segment(&c, &d, 0, &g);
    struct conversation_counts n = { 0 };
    conversation_finish(&c, &n, &g);
    assert_int_equal(g.messages, 0);
    assert_int_equal(n.incomplete_messages, 1);
    assert_int_equal(n.incomplete_bytes, li - 2);
}

static void test_table(void **state)
{
    enum { N = 3000 };
    static struct conversation cs[N];
    struct conversation_table t = { 0 };
    char a[32];
    for (unsigned i = 0; i < N; i++) {
        snprintf(a, sizeof a, "10.%u.%u.1", i >> 8, i & 255);
        struct decoded d = seg(a, (uint16_t)(40000 + i % 7), 1, TCP_SYN, NULL, 0);
        conversation_init(&cs[i], &proto_bmp, &d, NULL, on_run);
        assert_int_equal(conversation_insert(&t, &cs[i]), 0);
    }
    assert_true(t.size >= N); /* it grew */
    for (unsigned i = 0; i < N; i++) {
        snprintf(a, sizeof a, "10.%u.%u.1", i >> 8, i & 255);
        struct decoded d = seg(a, (uint16_t)(40000 + i % 7), 1, TCP_ACK, NULL, 0);
        assert_ptr_equal(conversation_find(&t, &d, NULL), &cs[i]);
        d.sport++; /* another port: another conversation, not known */
        assert_null(conversation_find(&t, &d, NULL));
    }
    struct decoded d = seg("10.0.7.1", 40000, 1, TCP_ACK, NULL, 0);
    assert_ptr_equal(conversation_find(&t, &d, NULL), &cs[7]); /* found, and remembered as the last */
    assert_ptr_equal(conversation_find(&t, &d, NULL), &cs[7]);
    conversation_remove(&t, &cs[7]); /* forgotten with it */
    assert_null(conversation_find(&t, &d, NULL));
    assert_int_equal(t.n, N - 1);
    /* the same addresses and ports replayed by two clones: two conversations, each its key's */
    static struct conversation clone[2];
    static const int keys[2];
    d = seg("192.0.2.1", 41000, 1, TCP_SYN, NULL, 0);
    for (int k = 0; k < 2; k++) {
        conversation_init(&clone[k], &proto_bmp, &d, &keys[k], on_run);
        assert_int_equal(conversation_insert(&t, &clone[k]), 0);
    }
    assert_ptr_equal(conversation_find(&t, &d, &keys[0]), &clone[0]);
    assert_ptr_equal(conversation_find(&t, &d, &keys[1]), &clone[1]);
    assert_null(conversation_find(&t, &d, NULL));
    for (int k = 0; k < 2; k++) {
        struct conversation_counts n = { 0 };
        conversation_finish(&clone[k], &n, NULL);
    }
    for (unsigned i = 0; i < N; i++) {
        struct conversation_counts n = { 0 };
        conversation_finish(&cs[i], &n, NULL);
    }
    conversation_table_free(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_order_close_restart),
        cmocka_unit_test(test_cut_last_message_counted),
        cmocka_unit_test(test_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
