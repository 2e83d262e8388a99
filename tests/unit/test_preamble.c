/* preamble: what a reconnect sends first follows the acknowledged messages. BMP: the INIT
 * and the PEER_UP of each peer that is up; a PEER_DOWN removes its peer (issue 12 item 4: a
 * reconnect revived peers the capture had taken down), a second PEER_UP of a peer replaces
 * the first, a TERM empties it, a new INIT starts again. BGP: the last OPEN. */
#include "testutil.h"

#include "preamble.h"

/* the types and peers the preamble holds, as "I U1 U2" */
static const char *show(struct preamble *p)
{
    static char out[128];
    size_t off = 0, o = 0, len, msgs, count = 0;
    const uint8_t *b = preamble_bytes(p, &len, &msgs);
    out[0] = 0;
    while (off < len) {
        count++;
        ssize_t n = proto_bmp.frame(b + off, len - off);
        assert_true(n > 0);
        uint8_t t = b[off + 5];
        o += (size_t)snprintf(out + o, sizeof out - o, "%s%c", o ? " " : "", t == 4 ? 'I' : t == 3 ? 'U' : '?');
        if (t == 3)
            o += (size_t)snprintf(out + o, sizeof out - o, "%u", b[off + 6 + 2 + 8 + 15]);
        off += (size_t)n;
    }
    assert_int_equal(count, msgs);
    return out;
}

static void apply(struct preamble *p, const uint8_t *m, size_t len)
{
    preamble_apply(p, &proto_bmp, m[5], m, len);
}

static void test_bmp_peers(void **state)
{
    struct preamble p = { 0 };
    uint8_t m[256];
    size_t n;
    n = tu_bmp(m, 4, 0, 0); apply(&p, m, n);
    n = tu_bmp(m, 3, 1, 65001); apply(&p, m, n);
    n = tu_bmp(m, 3, 2, 65002); apply(&p, m, n);
    n = tu_bmp(m, 0, 1, 65001); apply(&p, m, n); /* route monitoring: no role */
    assert_string_equal(show(&p), "I U1 U2");
    assert_int_equal(p.up, 2);
    n = tu_bmp(m, 2, 1, 65009); apply(&p, m, n); /* peer 1 down (its AS does not matter) */
    assert_string_equal(show(&p), "I U2");
    n = tu_bmp(m, 3, 2, 65002); apply(&p, m, n); /* peer 2 up again: replaced, not twice */
    assert_string_equal(show(&p), "I U2");
    n = tu_bmp(m, 2, 7, 65007); apply(&p, m, n); /* a peer never up: nothing */
    assert_string_equal(show(&p), "I U2");
    n = tu_bmp(m, 5, 0, 0); apply(&p, m, n);     /* TERM */
    assert_string_equal(show(&p), "");
    assert_int_equal(p.bytes, 0);
    n = tu_bmp(m, 4, 0, 0); apply(&p, m, n);     /* a new session */
    n = tu_bmp(m, 3, 3, 65003); apply(&p, m, n);
    assert_string_equal(show(&p), "I U3");
    /* a PEER_DOWN too short to name its peer changes nothing */
    n = tu_bmp(m, 2, 3, 65003);
    preamble_apply(&p, &proto_bmp, 2, m, 10);
    assert_string_equal(show(&p), "I U3");
    preamble_free(&p);
    assert_null(p.peers);
}

static void test_bgp_last_open(void **state)
{
    struct preamble p = { 0 };
    uint8_t open1[29] = { [0 ... 15] = 0xff, 0, 29, 1, 4 }, open2[29] = { [0 ... 15] = 0xff, 0, 29, 1, 4, 1 };
    uint8_t ka[19] = { [0 ... 15] = 0xff, 0, 19, 4 };
    preamble_apply(&p, &proto_bgp, 1, open1, sizeof open1);
    preamble_apply(&p, &proto_bgp, 4, ka, sizeof ka);
    preamble_apply(&p, &proto_bgp, 1, open2, sizeof open2);
    size_t len, msgs;
    const uint8_t *b = preamble_bytes(&p, &len, &msgs);
    assert_int_equal(msgs, 1);
    assert_int_equal(len, sizeof open2);
    assert_memory_equal(b, open2, sizeof open2);
    preamble_free(&p);
}

/* bounded: PEER_UPs beyond PREAMBLE_MAX are not kept, and counted; peers that come and go
 * do not grow it; each message is O(1) (this runs in well under a second) */
static void test_bounded(void **state)
{
    struct preamble p = { 0 };
    uint8_t m[256];
    size_t n = tu_bmp(m, 4, 0, 0);
    apply(&p, m, n);
    for (unsigned i = 0; i < 40000; i++) {
        n = tu_bmp(m, 3, (uint8_t)i, 65000);
        m[6 + 2 + 8 + 14] = (uint8_t)(i >> 8); /* 40,000 distinct peers */
        apply(&p, m, n);
    }
    assert_true(p.bytes <= PREAMBLE_MAX);
    assert_true(p.dropped > 0);
    assert_int_equal(p.up + p.dropped, 40000);
    /* every peer down, then 100,000 up and down again: nothing accumulates */
    for (unsigned i = 0; i < 40000; i++) {
        n = tu_bmp(m, 2, (uint8_t)i, 65000);
        m[6 + 2 + 8 + 14] = (uint8_t)(i >> 8);
        apply(&p, m, n);
    }
    assert_int_equal(p.up, 0);
    for (unsigned i = 0; i < 100000; i++) {
        for (uint8_t t = 3; t >= 2; t--) {
            n = tu_bmp(m, t, (uint8_t)i, 65000);
            m[6 + 2 + 8 + 13] = (uint8_t)(i >> 16);
            m[6 + 2 + 8 + 14] = (uint8_t)(i >> 8);
            apply(&p, m, n);
        }
    }
    assert_int_equal(p.up, 0);
    assert_true(p.n_peers <= 2 * 1024 + 2);
    size_t len, msgs;
    preamble_bytes(&p, &len, &msgs);
    assert_int_equal(msgs, 1); /* the INIT */
    preamble_free(&p);
}

/* keep_down (the loops' view of what was queued): a peer that went down is not in the
 * preamble but keeps its PEER_UP, given back to bring it up again; a new PEER_UP replaces it. */
static void test_keep_down(void **state)
{
    struct preamble p = { .keep_down = true };
    uint8_t m[256], rm[256];
    size_t n, lr = tu_bmp(rm, 0, 1, 65001);
    const uint8_t *up;
    size_t up_len;
    assert_int_equal(preamble_peer(&p, &proto_bmp, rm, lr, &up, &up_len), -1); /* never seen */
    n = tu_bmp(m, 4, 0, 0); apply(&p, m, n);
    n = tu_bmp(m, 3, 1, 65001); apply(&p, m, n);
    assert_int_equal(preamble_peer(&p, &proto_bmp, rm, lr, &up, &up_len), 1);
    n = tu_bmp(m, 2, 1, 65001); apply(&p, m, n);   /* down */
    assert_string_equal(show(&p), "I");
    assert_int_equal(preamble_peer(&p, &proto_bmp, rm, lr, &up, &up_len), 0);
    assert_int_equal(up_len, tu_bmp(m, 3, 1, 65001));
    assert_memory_equal(up, m, up_len);              /* its last PEER_UP */
    n = tu_bmp(m, 3, 1, 65009); apply(&p, m, n);   /* up again, another AS */
    assert_string_equal(show(&p), "I U1");
    assert_int_equal(preamble_peer(&p, &proto_bmp, rm, lr, &up, &up_len), 1);
    assert_memory_equal(up, m, n);
    preamble_free(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keep_down),
        cmocka_unit_test(test_bmp_peers),
        cmocka_unit_test(test_bgp_last_open),
        cmocka_unit_test(test_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
