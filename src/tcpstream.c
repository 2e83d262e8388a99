/* tcpstream.c — captured TCP segments -> ordered bytes -> whole messages. See tcpstream.h. */
#include <stdlib.h>
#include <string.h>

#include "tcpstream.h"

#define DEFAULT_MAX_PENDING (1u << 20)
#define MAX_PENDING_SEGMENTS 1024 /* bounds the per-segment overhead of tiny hostile segments */

struct tcpstream_segment {
    struct tcpstream_segment *next;
    uint32_t seq;
    size_t len;
    uint8_t data[];
};

/* serial-number distance (RFC 1982): negative = a is before b */
static int32_t seq_diff(uint32_t a, uint32_t b) { return (int32_t)(a - b); }

void tcpstream_init(struct tcpstream *s, size_t max_pending_bytes)
{
    memset(s, 0, sizeof *s);
    s->max_pending_bytes = max_pending_bytes ? max_pending_bytes : DEFAULT_MAX_PENDING;
}

/* Deliver what of [seq, seq+len) is new and starts at s->next; returns false if the
 * bytes start beyond s->next (they must wait). */
static bool deliver_if_next(struct tcpstream *s, uint32_t seq, const uint8_t *data, size_t len, int64_t ts,
                            bool after_hole, tcpstream_deliver_fn deliver, void *ctx)
{
    int32_t rel = seq_diff(seq, s->next);
    if (rel > 0)
        return false;
    size_t old = (size_t)(-(int64_t)rel);
    if (old >= len) {
        s->duplicate_bytes += len;
        return true;
    }
    s->duplicate_bytes += old;
    deliver(ctx, data + old, len - old, ts, after_hole);
    s->next += (uint32_t)(len - old);
    s->delivered_bytes += len - old;
    return true;
}

/* Deliver the waiting segments that have become contiguous; they leave at `ts`, the time
 * of the segment that filled the gap before them. */
static void drain(struct tcpstream *s, int64_t ts, bool after_hole, tcpstream_deliver_fn deliver, void *ctx)
{
    while (s->pending && seq_diff(s->pending->seq, s->next) <= 0) {
        struct tcpstream_segment *g = s->pending;
        s->pending = g->next;
        s->pending_bytes -= g->len;
        s->pending_count--;
        uint64_t before = s->delivered_bytes;
        deliver_if_next(s, g->seq, g->data, g->len, ts, after_hole, deliver, ctx);
        if (s->delivered_bytes != before)
            after_hole = false;
        free(g);
    }
}

/* The first hole will not fill: jump to the first waiting segment. */
static void skip_hole(struct tcpstream *s, int64_t ts, tcpstream_deliver_fn deliver, void *ctx)
{
    if (!s->pending)
        return;
    uint32_t gap = s->pending->seq - s->next;
    s->holes++;
    s->hole_bytes += gap;
    s->next = s->pending->seq;
    drain(s, ts, true, deliver, ctx);
}

static void hold(struct tcpstream *s, uint32_t seq, const uint8_t *data, size_t len)
{
    struct tcpstream_segment *g = malloc(sizeof *g + len);
    if (!g)
        return; /* counted as a hole later: the bytes never arrive */
    g->seq = seq;
    g->len = len;
    memcpy(g->data, data, len);
    struct tcpstream_segment **at = &s->pending;
    int32_t rel = seq_diff(seq, s->next);
    while (*at && seq_diff((*at)->seq, s->next) <= rel)
        at = &(*at)->next;
    g->next = *at;
    *at = g;
    s->pending_bytes += len;
    s->pending_count++;
    s->reordered_segments++;
}

void tcpstream_add(struct tcpstream *s, uint32_t seq, uint8_t tcp_flags, const uint8_t *payload, size_t len,
                   int64_t ts_ns, tcpstream_deliver_fn deliver, void *ctx)
{
    if (tcp_flags & 0x02) { /* SYN: the stream starts after it */
        seq++;
        if (!s->started || (s->delivered_bytes == 0 && !s->pending)) {
            s->next = seq;
            s->started = true;
        }
    }
    if (len == 0)
        return;
    /* Data on a SYN starts at ISN+1 (RFC 9293), but some capture writers put it at the SYN's
     * own sequence number. The bytes are the same either way; only where the next segment
     * starts differs. When the first segment after such a SYN begins exactly one byte early,
     * follow the capture's numbering instead of dropping that byte and the message with it. */
    if (s->syn_data && !(tcp_flags & 0x02)) {
        s->syn_data = false;
        if (seq == s->next - 1 && !s->pending)
            s->next = seq;
    }
    if ((tcp_flags & 0x02) && s->started && s->delivered_bytes == 0 && !s->pending)
        s->syn_data = true;
    s->last_ts = ts_ns;
    if (!s->started) {
        s->next = seq;
        s->started = true;
    }
    if (deliver_if_next(s, seq, payload, len, ts_ns, false, deliver, ctx)) {
        drain(s, ts_ns, false, deliver, ctx);
        return;
    }
    hold(s, seq, payload, len);
    while (s->pending && (s->pending_bytes > s->max_pending_bytes || s->pending_count > MAX_PENDING_SEGMENTS))
        skip_hole(s, ts_ns, deliver, ctx);
}

void tcpstream_finish(struct tcpstream *s, tcpstream_deliver_fn deliver, void *ctx)
{
    while (s->pending)
        skip_hole(s, s->last_ts, deliver, ctx);
}

void tcpstream_free(struct tcpstream *s)
{
    while (s->pending) {
        struct tcpstream_segment *g = s->pending;
        s->pending = g->next;
        free(g);
    }
    s->pending_bytes = s->pending_count = 0;
}

/* ---- messages ---- */

void msgstream_init(struct msgstream *m, ssize_t (*frame)(const uint8_t *, size_t), size_t max_message)
{
    memset(m, 0, sizeof *m);
    m->frame = frame;
    m->max = max_message ? max_message : 65536;
}

static void consume(struct msgstream *m, size_t n)
{
    memmove(m->buf, m->buf + n, m->len - n);
    m->len -= n;
}

/* the n messages cut so far, from start, handed on as a run */
static void hand_on(struct msgstream *m, const uint8_t *start, const uint32_t *lens, size_t *n, int64_t ts,
                    msgstream_run_fn run, void *ctx)
{
    if (*n) {
        run(ctx, start, lens, *n, ts);
        m->messages += *n;
        *n = 0;
    }
}

/* Cut whole messages from p[0..len), handed on in runs of up to MSGSTREAM_RUN_MAX back to
 * back; resynchronise past anything frame() rejects. Returns how many bytes were used (the
 * rest is the start of an incomplete message). */
static size_t cut(struct msgstream *m, const uint8_t *p, size_t len, int64_t ts, msgstream_run_fn run, void *ctx)
{
    uint32_t lens[MSGSTREAM_RUN_MAX];
    size_t off = 0, start = 0, n = 0;
    while (off < len) {
        ssize_t k = m->frame(p + off, len - off);
        if (k > 0) {
            m->resync = false;
            lens[n++] = (uint32_t)k;
            off += (size_t)k;
            if (m->upgrades && m->upgrades(p + off - (size_t)k, (size_t)k)) {
                m->upgrades = NULL; /* once: the messages after this one may be longer */
                m->frame = m->frame_ext;
                m->max = m->max_ext;
            }
            if (n == MSGSTREAM_RUN_MAX) {
                hand_on(m, p + start, lens, &n, ts, run, ctx);
                start = off;
            }
            continue;
        }
        if (k == 0 && len - off < m->max)
            break; /* incomplete */
        hand_on(m, p + start, lens, &n, ts, run, ctx);
        if (!m->resync)
            m->resyncs++;
        m->resync = true;
        m->skipped_bytes++;
        start = ++off;
    }
    hand_on(m, p + start, lens, &n, ts, run, ctx);
    return off;
}

/* Make room for `want` bytes in the buffer (bounded by max); false when it cannot grow. */
static bool reserve(struct msgstream *m, size_t want)
{
    if (want > m->max)
        want = m->max;
    if (want <= m->cap)
        return true;
    size_t cap = m->cap ? m->cap : 4096;
    while (cap < want)
        cap *= 2;
    if (cap > m->max)
        cap = m->max;
    uint8_t *b = realloc(m->buf, cap);
    if (!b)
        return false;
    m->buf = b;
    m->cap = cap;
    return true;
}

/* Messages are cut in place from the delivered bytes; only a message that straddles two
 * deliveries is copied, and only until it is complete: its head waits in the buffer, which
 * takes the next bytes in doubling steps until frame() accepts it. Bytes copied beyond it are
 * dropped from the buffer and cut in place again. */
void msgstream_add_runs(struct msgstream *m, const uint8_t *data, size_t len, int64_t ts_ns, bool after_hole,
                        msgstream_run_fn run, void *ctx)
{
    if (after_hole && m->len) {
        /* the partial message before the hole can never complete */
        m->skipped_bytes += m->len;
        m->len = 0;
        m->resyncs++;
        m->resync = true;
    }
    while (len > 0) {
        if (m->len == 0) {
            size_t used = cut(m, data, len, ts_ns, run, ctx);
            data += used;
            len -= used;
            if (len == 0)
                return;
            if (!reserve(m, len)) {
                m->skipped_bytes += len;
                return;
            }
            memcpy(m->buf, data, len); /* the start of an incomplete message (len < max) */
            m->len = len;
            return;
        }
        size_t old = m->len, step = old < 64 ? 64 : old;
        if (!reserve(m, old + step) || m->cap == old) {
            m->skipped_bytes += len;
            return;
        }
        size_t take = step < len ? step : len;
        if (take > m->cap - old)
            take = m->cap - old;
        memcpy(m->buf + old, data, take);
        m->len = old + take;
        size_t used = cut(m, m->buf, m->len, ts_ns, run, ctx);
        if (used >= old) { /* the buffered head is done: go on from the delivered bytes */
            m->len = 0;
            data += used - old;
            len -= used - old;
        } else {
            consume(m, used);
            data += take;
            len -= take;
        }
    }
}

struct one_by_one {
    msgstream_message_fn message;
    void *ctx;
};

static void each(void *ctx, const uint8_t *p, const uint32_t *lens, size_t n, int64_t ts)
{
    struct one_by_one *o = ctx;
    for (size_t i = 0; i < n; p += lens[i++])
        o->message(o->ctx, p, lens[i], ts);
}

void msgstream_add(struct msgstream *m, const uint8_t *data, size_t len, int64_t ts_ns, bool after_hole,
                   msgstream_message_fn message, void *ctx)
{
    struct one_by_one o = { message, ctx };
    msgstream_add_runs(m, data, len, ts_ns, after_hole, each, &o);
}

void msgstream_set_upgrade(struct msgstream *m, bool (*upgrades)(const uint8_t *, size_t),
                           ssize_t (*frame_ext)(const uint8_t *, size_t), size_t max_ext)
{
    if (!upgrades || !frame_ext || max_ext < m->max)
        return;
    m->upgrades = upgrades;
    m->frame_ext = frame_ext;
    m->max_ext = max_ext;
}

void msgstream_finish(struct msgstream *m)
{
    /* what waits in the buffer is a head frame() could not yet judge: a message cut short */
    if (m->len) {
        m->incomplete_messages++;
        m->incomplete_bytes += m->len;
    }
    m->len = 0;
}

void msgstream_free(struct msgstream *m)
{
    free(m->buf);
    m->buf = NULL;
    m->len = m->cap = 0;
}
