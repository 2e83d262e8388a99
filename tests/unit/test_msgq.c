/* msgq: order through chunks, partial writes, acknowledgement, requeue after a reset, the
 * preamble put in front, the BGP limits (alone, one message), spill to disk and back. */
#include "testutil.h"

#include "msgq.h"

/* message i: [length][i low][i high][filler...] */
static size_t make(uint8_t *m, unsigned i, size_t len)
{
    memset(m, 0xab, len);
    m[0] = (uint8_t)(len < 256 ? len : 0);
    m[1] = (uint8_t)i;
    m[2] = (uint8_t)(i >> 8);
    return len;
}

static ssize_t frame_first_byte(const uint8_t *p, size_t len)
{
    return len && p[0] && p[0] <= len ? p[0] : 0;
}

struct seen {
    unsigned n, ids[4096], flags[4096];
    size_t lens[4096];
    unsigned runs;
};

/* a run: its messages are walked by their length byte (0: the run's only message) */
static void on_ack(void *ctx, const uint8_t *m, size_t bytes, size_t count, unsigned flags)
{
    struct seen *s = ctx;
    s->runs++;
    size_t off = 0;
    for (size_t i = 0; i < count; i++) {
        assert_true(s->n < 4096);
        size_t len = m[off] ? m[off] : bytes;
        s->ids[s->n] = m[off + 1] | (unsigned)m[off + 2] << 8;
        s->lens[s->n] = len;
        s->flags[s->n++] = flags;
        off += len;
    }
    assert_int_equal(off, bytes);
}

static void on_done(void *ctx, int64_t due) { (*(unsigned *)ctx)++; (void)due; }

/* "writes" up to limit bytes of the iovecs into out; returns how many */
static size_t fake_writev(const struct iovec *iov, int n, uint8_t *out, size_t limit)
{
    size_t w = 0;
    for (int i = 0; i < n && w < limit; i++) {
        size_t l = iov[i].iov_len < limit - w ? iov[i].iov_len : limit - w;
        memcpy(out + w, iov[i].iov_base, l);
        w += l;
    }
    return w;
}

/* a queue of n messages of 20 bytes, 0..n-1 */
static void queue_of(struct msgq *q, unsigned n)
{
    uint8_t m[20];
    msgq_init(q, 1 << 20, frame_first_byte);
    for (unsigned i = 0; i < n; i++)
        assert_int_equal(msgq_push(q, m, make(m, i, 20), 0, 0), MSGQ_MEMORY);
}

static void test_chunks_partial_ack(void **state)
{
    struct msgq q;
    msgq_init(&q, 1 << 20, frame_first_byte);
    uint8_t m[100];
    for (unsigned i = 0; i < 1000; i++)
        assert_int_equal(msgq_push(&q, m, make(m, i, sizeof m), i, 0), MSGQ_MEMORY);
    assert_int_equal(msgq_queued(&q), 1000);
    struct iovec iov[16];
    int n = msgq_iov(&q, iov, 16, 0, NULL);
    assert_int_equal(n, 2); /* 655 messages fill the first 64 KB chunk, the rest the second */
    assert_int_equal(iov[0].iov_len, 65500);
    assert_int_equal(iov[1].iov_len, 34500);

    static uint8_t wire[100000];
    unsigned done = 0;
    size_t w = fake_writev(iov, n, wire, 150); /* a message and a half */
    msgq_written(&q, w, 0, on_done, &done);
    assert_int_equal(done, 1);
    assert_int_equal(msgq_unacked(&q), 1);
    size_t len, written;
    const uint8_t *h = msgq_head(&q, &len, &written);
    assert_non_null(h);
    assert_int_equal(h[1], 1);
    assert_int_equal(len, 100);
    assert_int_equal(written, 50);

    n = msgq_iov(&q, iov, 16, 0, NULL);
    size_t w2 = fake_writev(iov, n, wire + w, sizeof wire - w);
    assert_int_equal(w2, 100000 - 150);
    msgq_written(&q, w2, w, on_done, &done);
    assert_int_equal(done, 1000);
    assert_false(msgq_unwritten(&q));
    for (unsigned i = 0; i < 1000; i++)
        assert_int_equal(wire[i * 100 + 1] | wire[i * 100 + 2] << 8, i);

    struct seen s = { 0 };
    msgq_ack(&q, 250, on_ack, &s); /* messages 0 and 1 end at 100 and 200 */
    assert_int_equal(s.n, 2);
    assert_int_equal(s.ids[1], 1);
    assert_int_equal(msgq_unacked(&q), 998);
    msgq_ack(&q, 100000, on_ack, &s);
    assert_int_equal(s.n, 1000);
    for (unsigned i = 0; i < 1000; i++)
        assert_int_equal(s.ids[i], i);
    assert_false(msgq_pending(&q));
    /* empty again: the next message starts a fresh stream */
    assert_int_equal(msgq_push(&q, m, make(m, 7, 10), 0, 0), MSGQ_MEMORY);
    n = msgq_iov(&q, iov, 16, 0, NULL);
    assert_int_equal(n, 1);
    assert_int_equal(((uint8_t *)iov[0].iov_base)[1], 7);
    msgq_free(&q);
}

static void test_requeue_and_preamble(void **state)
{
    struct msgq q;
    msgq_init(&q, 1 << 20, frame_first_byte);
    uint8_t m[50], wire[1000];
    struct iovec iov[8];
    for (unsigned i = 0; i < 5; i++)
        msgq_push(&q, m, make(m, i, 20), 0, 0);
    int n = msgq_iov(&q, iov, 8, 0, NULL);
    msgq_written(&q, fake_writev(iov, n, wire, 90), 0, NULL, NULL); /* 4 whole, 1 partly */
    struct seen s = { 0 };
    msgq_ack(&q, 40, on_ack, &s);
    assert_int_equal(s.n, 2);
    assert_int_equal(msgq_requeue(&q), 2); /* messages 2 and 3 written, not acknowledged */
    assert_int_equal(msgq_queued(&q), 3);

    uint8_t pre[30];
    make(pre, 100, 10);
    make(pre + 10, 101, 20);
    assert_int_equal(msgq_prepend(&q, pre, sizeof pre, frame_first_byte, 0, MSGQ_PREAMBLE), 2);
    assert_int_equal(msgq_queued(&q), 5);
    n = msgq_iov(&q, iov, 8, 0, NULL);
    size_t w = fake_writev(iov, n, wire, sizeof wire);
    assert_int_equal(w, 30 + 3 * 20);
    static const unsigned want[] = { 100, 101, 2, 3, 4 };
    static const size_t at[] = { 0, 10, 30, 50, 70 };
    for (int i = 0; i < 5; i++)
        assert_int_equal(wire[at[i] + 1], want[i]);
    msgq_written(&q, w, 0, NULL, NULL);
    msgq_ack(&q, w, on_ack, &s);
    assert_int_equal(s.n, 7);
    assert_int_equal(s.ids[2], 100);
    assert_int_equal(s.flags[2], MSGQ_PREAMBLE);
    assert_int_equal(s.lens[3], 20);
    assert_int_equal(s.ids[4], 2);
    assert_int_equal(s.flags[4], 0);
    assert_false(msgq_pending(&q));
    /* not while something is written and unacknowledged */
    msgq_push(&q, m, make(m, 9, 20), 0, 0);
    n = msgq_iov(&q, iov, 8, 0, NULL);
    msgq_written(&q, 20, 0, NULL, NULL);
    assert_int_equal(msgq_prepend(&q, pre, sizeof pre, frame_first_byte, 0, MSGQ_PREAMBLE), -1);
    assert_int_equal(msgq_drop(&q), 1);
    msgq_free(&q);
}

/* issue 12 item 3: a reconnect reset before the collector acknowledged anything leaves the
 * preamble copy queued; the next reconnect drops it before putting the preamble in front
 * again, so the collector sees it once */
static void test_preamble_not_twice(void **state)
{
    struct msgq q;
    queue_of(&q, 3);
    uint8_t pre[30];
    make(pre, 100, 10);
    make(pre + 10, 101, 20);
    for (int connection = 0; connection < 3; connection++) {
        assert_int_equal(msgq_drop_head(&q, MSGQ_PREAMBLE), connection ? 2 : 0);
        assert_int_equal(msgq_prepend(&q, pre, sizeof pre, frame_first_byte, 0, MSGQ_PREAMBLE), 2);
        /* a part is written, then the connection is reset: nothing acknowledged */
        struct iovec iov[8];
        int n = msgq_iov(&q, iov, 8, 0, NULL);
        static uint8_t wire[256];
        msgq_written(&q, fake_writev(iov, n, wire, 35), 0, NULL, NULL);
        msgq_requeue(&q);
    }
    assert_int_equal(msgq_queued(&q), 5); /* one preamble and the three messages */
    struct iovec iov[8];
    int n = msgq_iov(&q, iov, 8, 0, NULL);
    static uint8_t wire[256];
    size_t w = fake_writev(iov, n, wire, sizeof wire);
    assert_int_equal(w, 30 + 3 * 20);
    static const unsigned want[] = { 100, 101, 0, 1, 2 };
    static const size_t at[] = { 0, 10, 30, 50, 70 };
    for (int i = 0; i < 5; i++)
        assert_int_equal(wire[at[i] + 1], want[i]);
    struct seen s = { .n = 0 };
    msgq_written(&q, w, 0, NULL, NULL);
    msgq_ack(&q, w, on_ack, &s);
    assert_int_equal(s.n, 5);
    assert_false(msgq_pending(&q));
    /* nothing is dropped while something is written and unacknowledged */
    msgq_push(&q, pre, 10, 0, MSGQ_PREAMBLE);
    n = msgq_iov(&q, iov, 8, 0, NULL);
    msgq_written(&q, 5, 0, NULL, NULL);
    assert_int_equal(msgq_drop_head(&q, MSGQ_PREAMBLE), 0);
    msgq_free(&q);
}

/* Issue 12 item 13: the preamble acknowledged, the connection lost before the messages
 * after it: its chunk, now empty, was left in front of the write position, and the next
 * preamble was put before it; the write after that preamble read past the empty chunk's
 * end (bytes of the heap on the wire, that do not start a message). Every connection must
 * carry the preamble and then the messages, whole. */
static void test_preamble_acked_then_lost(void **state)
{
    struct msgq q;
    queue_of(&q, 2);
    uint8_t pre[10];
    make(pre, 100, 10);
    for (int connection = 0; connection < 3; connection++) {
        msgq_drop_head(&q, MSGQ_PREAMBLE);
        assert_int_equal(msgq_prepend(&q, pre, sizeof pre, frame_first_byte, 0, MSGQ_PREAMBLE), 1);
        /* a message at a time (BGP: the OPEN, then the rest once the collector answered) */
        static const unsigned want[] = { 100, 0, 1 };
        int upto = connection < 2 ? 1 : 3; /* lost after the preamble, but the last time */
        for (int i = 0; i < upto; i++) {
            struct iovec iov[8];
            static uint8_t wire[256];
            int n = msgq_iov(&q, iov, 8, 1, NULL);
            assert_int_equal(n, 1);
            size_t w = fake_writev(iov, n, wire, sizeof wire);
            assert_int_equal(w, i ? 20 : 10);
            assert_int_equal(wire[1], want[i]);
            msgq_written(&q, w, i ? 10 + 20 * (unsigned)(i - 1) : 0, NULL, NULL);
            if (i == 0)
                msgq_ack(&q, 10, NULL, NULL); /* the preamble is acknowledged */
        }
        assert_int_equal(msgq_requeue(&q), connection < 2 ? 0 : 2);
    }
    msgq_free(&q);
}

static bool alone_if_ff(const uint8_t *m, size_t len) { return len > 3 && m[3] == 0xff; }

static void test_limits(void **state)
{
    struct msgq q;
    msgq_init(&q, 1 << 20, frame_first_byte);
    uint8_t m[40];
    for (unsigned i = 0; i < 4; i++) {
        make(m, i, 40);
        m[3] = i == 2 ? 0xff : 0;
        msgq_push(&q, m, 40, 0, 0);
    }
    struct iovec iov[8];
    int n = msgq_iov(&q, iov, 8, 0, alone_if_ff);
    assert_int_equal(n, 1); /* 0 and 1, contiguous: one iovec; 2 must start a write */
    assert_int_equal(iov[0].iov_len, 80);
    n = msgq_iov(&q, iov, 8, 1, alone_if_ff);
    assert_int_equal(n, 1);
    assert_int_equal(iov[0].iov_len, 40);
    msgq_written(&q, 80, 0, NULL, NULL);
    n = msgq_iov(&q, iov, 8, 0, alone_if_ff); /* at the head, 2 goes with what follows */
    assert_int_equal(iov[0].iov_len, 80);
    msgq_free(&q);
}

static void test_spill_and_big(void **state)
{
    struct msgq q;
    msgq_init(&q, 1000, frame_first_byte);
    static uint8_t m[200000], wire[400000];
    unsigned disk = 0;
    for (unsigned i = 0; i < 100; i++) {
        int rc = msgq_push(&q, m, make(m, i, i == 50 ? 200000 : 100), i, i << 8); /* the caller's flags */
        assert_true(rc == MSGQ_MEMORY || rc == MSGQ_DISK);
        disk += rc == MSGQ_DISK;
    }
    assert_int_equal(disk, 90);
    assert_int_equal(q.spilled, 90);
    assert_int_equal(msgq_queued(&q), 100);
    struct seen s = { 0 };
    size_t total = 0;
    while (msgq_pending(&q)) {
        struct iovec iov[8];
        int n = msgq_iov(&q, iov, 8, 0, NULL);
        assert_true(n > 0);
        size_t w = fake_writev(iov, n, wire + total, 333); /* small, uneven writes */
        msgq_written(&q, w, total, NULL, NULL);
        total += w;
        msgq_ack(&q, total, on_ack, &s);
    }
    assert_int_equal(total, 99 * 100 + 200000);
    assert_int_equal(s.n, 100);
    for (unsigned i = 0; i < 100; i++) {
        assert_int_equal(s.ids[i], i);
        assert_int_equal(s.lens[i], i == 50 ? 200000 : 100);
        assert_int_equal(s.flags[i], i << 8); /* kept through the spill file too */
    }
    for (int i = 0; i < 5; i++)
        msgq_push(&q, m, make(m, i, 100), 0, 0);
    assert_int_equal(msgq_drop(&q), 5);
    assert_int_equal(msgq_queued(&q), 0);
    msgq_free(&q);
}

/* runs: one entry and one copy for many messages; acknowledged in runs of equal flags that
 * never cross a chunk and leave a MSGQ_ALONE message on its own; counted as messages */
static void test_runs(void **state)
{
    struct msgq q;
    msgq_init(&q, 1 << 20, frame_first_byte);
    uint8_t m[200];
    msgq_push(&q, m, make(m, 0, 100), 0, 0);
    static uint8_t run[50 * 100];
    for (unsigned i = 0; i < 50; i++)
        make(run + i * 100, i + 1, 100);
    assert_int_equal(msgq_push_n(&q, run, 20 * 100, 20, 7, 0), MSGQ_MEMORY);                /* 1..20 */
    assert_int_equal(msgq_push(&q, run + 2000, 100, 7, MSGQ_ALONE), MSGQ_MEMORY);           /* 21 */
    assert_int_equal(msgq_push_n(&q, run + 2100, 9 * 100, 9, 7, 0), MSGQ_MEMORY);            /* 22..30 */
    assert_int_equal(msgq_push_n(&q, run + 3000, 20 * 100, 20, 7, 1u << 8), MSGQ_MEMORY);    /* 31..50 */
    assert_int_equal(q.n, 5);
    assert_int_equal(msgq_queued(&q), 51);
    uint8_t one[100];
    for (unsigned i = 0; i < 700; i++) /* 51..750: the first chunk is full at 654 */
        assert_int_equal(msgq_push(&q, one, make(one, 51 + i, 100), 0, 0), MSGQ_MEMORY);
    static uint8_t wire[100000];
    struct iovec iov[8];
    int n = msgq_iov(&q, iov, 8, 0, NULL);
    assert_int_equal(n, 2);
    size_t total = fake_writev(iov, n, wire, sizeof wire);
    assert_int_equal(total, 751 * 100);
    msgq_written(&q, total, 0, NULL, NULL);
    assert_int_equal(msgq_unacked(&q), 751);
    struct seen s = { 0 };
    msgq_ack(&q, total, on_ack, &s);
    assert_int_equal(s.n, 751);
    for (unsigned i = 0; i < 751; i++)
        assert_int_equal(s.ids[i], i);
    assert_int_equal(s.flags[21], MSGQ_ALONE);
    assert_int_equal(s.flags[40], 1u << 8);
    /* 0..20 | 21 alone | 22..30 | 31..50 (other flags) | the rest of chunk 1 | chunk 2 */
    assert_int_equal(s.runs, 6);
    assert_false(msgq_pending(&q));
    assert_int_equal(msgq_unacked(&q), 0);
    msgq_free(&q);
}

/* after a reset: the rest of the 10-message run goes out whole (`bytes`, starting with message
 * `first`) on a connection at offset `at`, is acknowledged, and all 10 were, in order */
static void finish_run(struct msgq *q, size_t bytes, unsigned first, uint64_t at, struct seen *s)
{
    struct iovec iov[4];
    uint8_t wire[400];
    int n = msgq_iov(q, iov, 4, 0, NULL);
    size_t w = fake_writev(iov, n, wire, sizeof wire);
    assert_int_equal(w, bytes);
    assert_int_equal(wire[1], first);
    msgq_written(q, w, at, NULL, NULL);
    msgq_ack(q, at + w, on_ack, s);
    assert_int_equal(s->n, 10);
    for (unsigned i = 0; i < 10; i++)
        assert_int_equal(s->ids[i], i);
    assert_false(msgq_pending(q));
}

/* a run acknowledged in part gives up its whole messages acknowledged; after a reset only
 * the rest is sent again */
static void test_run_acked_in_part(void **state)
{
    struct msgq q;
    msgq_init(&q, 1 << 20, frame_first_byte);
    uint8_t run[10 * 20], wire[400];
    for (unsigned i = 0; i < 10; i++)
        make(run + i * 20, i, 20);
    msgq_push_n(&q, run, sizeof run, 10, 0, 0);
    struct iovec iov[4];
    int n = msgq_iov(&q, iov, 4, 0, NULL);
    msgq_written(&q, fake_writev(iov, n, wire, sizeof wire), 0, NULL, NULL);
    struct seen s = { 0 };
    msgq_ack(&q, 95, on_ack, &s); /* 4 whole messages, the fifth in part */
    assert_int_equal(s.n, 4);
    assert_int_equal(s.ids[3], 3);
    assert_int_equal(msgq_unacked(&q), 6);
    msgq_ack(&q, 100, on_ack, &s); /* to the end of the fifth */
    assert_int_equal(s.n, 5);
    assert_int_equal(msgq_requeue(&q), 5);
    assert_int_equal(msgq_queued(&q), 5);
    finish_run(&q, 100, 5, 1000, &s); /* from the sixth message */
    /* a run still being written (the socket took 90 of its 200 bytes): its 4 whole messages
     * acknowledged leave it, and after a reset the rest goes out from the fifth */
    msgq_push_n(&q, run, sizeof run, 10, 0, 0);
    n = msgq_iov(&q, iov, 4, 0, NULL);
    msgq_written(&q, fake_writev(iov, n, wire, 90), 2000, NULL, NULL);
    assert_int_equal(msgq_unacked(&q), 0);
    s.n = 0;
    msgq_ack(&q, 2000 + 90, on_ack, &s);
    assert_int_equal(s.n, 4);
    assert_int_equal(s.ids[3], 3);
    assert_int_equal(msgq_queued(&q), 6);
    size_t len, written;
    const uint8_t *h = msgq_head(&q, &len, &written);
    assert_int_equal(h[1], 4);
    assert_int_equal(len, 120);
    assert_int_equal(written, 10);
    assert_int_equal(msgq_requeue(&q), 0);
    finish_run(&q, 120, 4, 3000, &s); /* from the fifth */
    /* without frame() a run is acknowledged whole or not at all */
    struct msgq q2;
    msgq_init(&q2, 1 << 20, NULL);
    msgq_push_n(&q2, run, sizeof run, 10, 0, 0);
    n = msgq_iov(&q2, iov, 4, 0, NULL);
    msgq_written(&q2, fake_writev(iov, n, wire, sizeof wire), 0, NULL, NULL);
    msgq_ack(&q2, 195, on_ack, &s);
    assert_int_equal(s.n, 10);
    assert_int_equal(msgq_drop(&q2), 10);
    msgq_free(&q2);
    msgq_free(&q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chunks_partial_ack),
        cmocka_unit_test(test_requeue_and_preamble),
        cmocka_unit_test(test_preamble_not_twice),
        cmocka_unit_test(test_preamble_acked_then_lost),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_spill_and_big),
        cmocka_unit_test(test_runs),
        cmocka_unit_test(test_run_acked_in_part),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

