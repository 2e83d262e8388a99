/* msgq.h — a TCP session's message queue: whole messages in order, each written, then
 * acknowledged, then gone.
 *
 * Messages are copied into 64 KB chunks (one chunk per entry only when an entry is larger),
 * never split across two, with a small index entry (length, message count, due time, flags,
 * where it ends on the connection) per message or per run of messages that arrived together
 * with the same flags. A writev therefore sends a few large pieces rather than one iovec per
 * message, and neither memory nor bookkeeping is spent per message. Written messages stay
 * until the collector's TCP acknowledges them (msgq_ack; a run acknowledged in part is cut
 * after its last whole message acknowledged, with the protocol's frame()); after a lost
 * connection msgq_requeue makes them unwritten again, in order. Beyond mem_limit unwritten
 * bytes, new entries wait in an unlinked temporary file and come back as memory frees up. */
#ifndef TELREP_MSGQ_H
#define TELREP_MSGQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <sys/uio.h>

#define MSGQ_CHUNK (64u * 1024)
#define MSGQ_PREAMBLE 1u /* flag: a copy sent again after a reconnect; bits 8.. are the caller's */
#define MSGQ_ALONE 2u    /* flag: acknowledged on its own, with its bytes (see msgq_ack) */
#define MSGQ_BARRIER 4u  /* flag: written alone, in a write of its own (see msgq_iov) */

struct msgq_entry {
    uint32_t len, flags;
    uint32_t count; /* messages, back to back */
    int64_t due_ns;
    uint64_t end;   /* once written: where it ends in the connection's byte stream */
};

struct msgq_chunk {
    struct msgq_chunk *next;
    size_t cap, used, begin; /* begin: the first byte of a message not yet acknowledged */
    uint8_t data[];
};

struct msgq {
    size_t mem_limit;
    ssize_t (*frame)(const uint8_t *, size_t); /* to cut a run acknowledged in part (NULL: not cut) */
    size_t msgs, unacked_msgs, spilled_msgs;   /* messages in the entries (n, unacked, spilled) */
    /* the index: a ring of entries from the oldest unacknowledged one */
    struct msgq_entry *ring;
    size_t ring_size, first, n;   /* n entries from first (mod ring_size) */
    size_t unacked;               /* of them, written (the first ones) */
    size_t part;                  /* bytes of the first unwritten entry already written */
    uint64_t part_at;             /* where that entry starts on the connection */
    /* the bytes: a list of chunks; the first holds the oldest message */
    struct msgq_chunk *chunks, *last;
    struct msgq_chunk *wchunk;    /* where the next unwritten byte is */
    size_t aoff, woff;            /* offset of the oldest message / next unwritten byte in its chunk */
    size_t unwritten_bytes;       /* in memory, not yet written */
    /* the spill file: [len u32][flags u32][due i64][bytes] records between spill_read and spill_write */
    FILE *spill;
    char *spill_buf;
    long spill_read, spill_write;
    size_t spilled;               /* entries in it now */
    size_t barriers;              /* entries flagged MSGQ_BARRIER, in memory or on disk */
};

enum { MSGQ_LOST = -1, MSGQ_MEMORY = 0, MSGQ_DISK = 1 };

/* frame: the protocol's, to cut a run acknowledged in part (may be NULL) */
void msgq_init(struct msgq *q, size_t mem_limit, ssize_t (*frame)(const uint8_t *, size_t));
void msgq_free(struct msgq *q);
/* Appends count messages back to back from data (len bytes in all, the same flags) as one
 * entry: MSGQ_MEMORY, MSGQ_DISK (over the memory bound), or MSGQ_LOST (no memory and no
 * temporary file). */
int msgq_push_slow(struct msgq *q, const uint8_t *data, size_t len, size_t count, int64_t due_ns, unsigned flags);
/* (msgq.c's) the entry goes at the end of chunk c, the last, which has room, as does the index */
static inline void msgq_store(struct msgq *q, struct msgq_chunk *c, const uint8_t *data, size_t len, size_t count,
                              int64_t due_ns, unsigned flags)
{
    memcpy(c->data + c->used, data, len);
    c->used += len;
    struct msgq_entry *e = &q->ring[(q->first + q->n) & (q->ring_size - 1)];
    e->len = (uint32_t)len;
    e->flags = flags;
    e->count = (uint32_t)count;
    e->due_ns = due_ns; /* end: set once written */
    q->n++;
    q->msgs += count;
    q->unwritten_bytes += len;
}

static inline int msgq_push_n(struct msgq *q, const uint8_t *data, size_t len, size_t count, int64_t due_ns,
                              unsigned flags)
{
    /* the usual case, inline (once per run at time_factor 0): room in the last chunk and in
     * the index, nothing spilled, under the memory bound */
    struct msgq_chunk *c = q->last;
    if (flags & MSGQ_BARRIER)
        q->barriers++;
    if (c && !q->spilled && c->cap - c->used >= len && q->n < q->ring_size &&
        q->unwritten_bytes + len <= q->mem_limit) {
        msgq_store(q, c, data, len, count, due_ns, flags);
        return MSGQ_MEMORY;
    }
    return msgq_push_slow(q, data, len, count, due_ns, flags);
}

static inline int msgq_push(struct msgq *q, const uint8_t *data, size_t len, int64_t due_ns, unsigned flags)
{
    return msgq_push_n(q, data, len, 1, due_ns, flags);
}
/* With nothing written (after msgq_requeue): drops the leading entries flagged `flag` (an
 * earlier preamble copy the collector never acknowledged). Returns the messages dropped. */
size_t msgq_drop_head(struct msgq *q, unsigned flag);
/* Puts the messages framed from data[0..len) before everything else; only when nothing is
 * written but unacknowledged (after msgq_requeue). Returns how many, or -1. */
long msgq_prepend(struct msgq *q, const uint8_t *data, size_t len, ssize_t (*frame)(const uint8_t *, size_t),
                  int64_t due_ns, unsigned flags);

/* Messages not written yet (memory and disk), written but not acknowledged. */
static inline size_t msgq_queued(const struct msgq *q) { return q->msgs - q->unacked_msgs + q->spilled_msgs; }
static inline size_t msgq_unacked(const struct msgq *q) { return q->unacked_msgs; }
static inline bool msgq_pending(const struct msgq *q) { return q->n || q->spilled; }
static inline bool msgq_unwritten(const struct msgq *q) { return q->n > q->unacked; }
/* The flags of the first entry not yet written whole (0: none in memory). */
static inline unsigned msgq_head_flags(const struct msgq *q)
{
    return q->n > q->unacked ? q->ring[(q->first + q->unacked) & (q->ring_size - 1)].flags : 0;
}
/* The first unwritten entry in memory (a message, or a run that starts with one), or NULL;
 * *written = how much of it is already out. */
const uint8_t *msgq_head(const struct msgq *q, size_t *len, size_t *written);

/* The unwritten bytes as iovecs, for writev. Whole chunks at a time, unless a limit applies:
 * at most max_msgs entries (0: no limit), and, with alone(), stop before an entry (other
 * than the first) whose first message alone() is true of. An entry flagged MSGQ_BARRIER is
 * never in a write with another: the write stops before it, or it is the write. */
int msgq_iov(struct msgq *q, struct iovec *iov, int max_iov, size_t max_msgs,
             bool (*alone)(const uint8_t *, size_t));
/* w bytes were written, starting at offset at of the connection; each entry completed is
 * passed to done() (with its due time). */
void msgq_written(struct msgq *q, size_t w, uint64_t at, void (*done)(void *, int64_t), void *ctx);
/* Messages that end at or before offset acked are acknowledged, then freed: passed to ack()
 * in runs of `count` messages with the same flags, back to back from `first`, `bytes` in all.
 * A message flagged MSGQ_ALONE or MSGQ_PREAMBLE is a run of its own (push it alone). */
typedef void (*msgq_ack_fn)(void *ctx, const uint8_t *first, size_t bytes, size_t count, unsigned flags);
void msgq_ack(struct msgq *q, uint64_t acked, msgq_ack_fn ack, void *ctx);
/* The connection is gone: what was written but not acknowledged is unwritten again (and a
 * partly written message is whole again). Returns how many messages that was. */
size_t msgq_requeue(struct msgq *q);
/* Free the pool of recycled chunks every queue shares (at the end of a run). */
void msgq_pool_release(void);
/* Everything is dropped; returns how many messages that was. */
size_t msgq_drop(struct msgq *q);

#endif
