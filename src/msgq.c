/* msgq.c — see msgq.h. */
#include "msgq.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

void msgq_init(struct msgq *q, size_t mem_limit, ssize_t (*frame)(const uint8_t *, size_t))
{
    memset(q, 0, sizeof *q);
    q->mem_limit = mem_limit;
    q->frame = frame;
}

static struct msgq_entry *entry(const struct msgq *q, size_t i)
{
    return &q->ring[(q->first + i) & (q->ring_size - 1)];
}

/* room for n more entries */
static int ring_reserve(struct msgq *q, size_t more)
{
    if (q->n + more <= q->ring_size)
        return 0;
    size_t size = q->ring_size ? q->ring_size : 256;
    while (size < q->n + more)
        size *= 2;
    struct msgq_entry *r = malloc(size * sizeof *r);
    if (!r)
        return -1;
    for (size_t i = 0; i < q->n; i++)
        r[i] = *entry(q, i);
    free(q->ring);
    q->ring = r;
    q->ring_size = size;
    q->first = 0;
    return 0;
}

/* Chunks of the usual size are recycled through a small pool shared by every queue (the
 * program is single-threaded): a busy session at time_factor 0 frees and takes one every
 * 64 KB, and fresh memory costs page faults and zeroing that warm chunks do not. */
#define POOL_MAX 32
static struct msgq_chunk *pool[POOL_MAX];
static size_t pool_n;

static void chunk_free(struct msgq_chunk *c)
{
    if (c && c->cap == MSGQ_CHUNK && pool_n < POOL_MAX)
        pool[pool_n++] = c;
    else
        free(c);
}

void msgq_pool_release(void)
{
    while (pool_n)
        free(pool[--pool_n]);
}

static struct msgq_chunk *chunk_new(size_t cap)
{
    struct msgq_chunk *c = cap == MSGQ_CHUNK && pool_n ? pool[--pool_n] : malloc(sizeof *c + cap);
    if (c) {
        c->next = NULL;
        c->cap = cap;
        c->used = c->begin = 0;
    }
    return c;
}

/* Chunks at the front whose messages are all acknowledged go (the last one stays, for what
 * comes next), and the write position with them. One left in front of the write position
 * after a lost connection was read past its end once the next preamble was put before it
 * (issue 12 item 13: heap bytes on the wire after a reconnect). */
static void drop_done_chunks(struct msgq *q)
{
    while (q->chunks && q->chunks->next && q->chunks->begin == q->chunks->used) {
        struct msgq_chunk *c = q->chunks;
        if (q->wchunk == c) {
            q->wchunk = c->next;
            q->woff = q->wchunk->begin;
        }
        q->chunks = c->next;
        chunk_free(c);
    }
}

/* the write position, moved to the next chunk when it is at the end of one that is done */
static void wnormalize(struct msgq *q)
{
    if (q->part == 0 && q->wchunk && q->woff == q->wchunk->used && q->wchunk->next) {
        q->wchunk = q->wchunk->next;
        q->woff = q->wchunk->begin;
    }
}

static int memory_push(struct msgq *q, const uint8_t *data, size_t len, size_t count, int64_t due_ns,
                       unsigned flags)
{
    if (ring_reserve(q, 1) < 0)
        return MSGQ_LOST;
    struct msgq_chunk *c = q->last;
    if (!c || c->cap - c->used < len) {
        c = chunk_new(len > MSGQ_CHUNK ? len : MSGQ_CHUNK);
        if (!c)
            return MSGQ_LOST;
        if (q->last)
            q->last->next = c;
        else
            q->chunks = q->wchunk = c;
        q->last = c;
    }
    msgq_store(q, c, data, len, count, due_ns, flags);
    return MSGQ_MEMORY;
}

static int spill_push(struct msgq *q, const uint8_t *data, size_t len, size_t count, int64_t due_ns, unsigned flags)
{
    if (!q->spill) {
        q->spill = tmpfile();
        if (!q->spill)
            return MSGQ_LOST;
        q->spill_buf = malloc(256 * 1024); /* glibc's own would be 4 KB */
        if (q->spill_buf)
            setvbuf(q->spill, q->spill_buf, _IOFBF, 256 * 1024);
    }
    uint32_t head[3] = { (uint32_t)len, flags, (uint32_t)count };
    if (fseek(q->spill, q->spill_write, SEEK_SET) != 0 || fwrite(head, sizeof head, 1, q->spill) != 1 ||
        fwrite(&due_ns, sizeof due_ns, 1, q->spill) != 1 || fwrite(data, 1, len, q->spill) != len)
        return MSGQ_LOST;
    q->spill_write = ftell(q->spill);
    q->spilled++;
    q->spilled_msgs += count;
    return MSGQ_DISK;
}

int msgq_push_slow(struct msgq *q, const uint8_t *data, size_t len, size_t count, int64_t due_ns, unsigned flags)
{
    if (q->spilled || (q->unwritten_bytes && q->unwritten_bytes + len > q->mem_limit))
        return spill_push(q, data, len, count, due_ns, flags);
    return memory_push(q, data, len, count, due_ns, flags);
}

/* Spilled messages come back while memory has room. */
static void refill(struct msgq *q)
{
    if (!q->spilled || q->unwritten_bytes > q->mem_limit / 2)
        return;
    if (fseek(q->spill, q->spill_read, SEEK_SET) != 0)
        return;
    uint8_t *buf = NULL;
    size_t cap = 0;
    long at = q->spill_read; /* the start of the next record (a failed one is read again later) */
    while (q->spilled && q->unwritten_bytes < q->mem_limit) {
        uint32_t head[3];
        int64_t due;
        if (fread(head, sizeof head, 1, q->spill) != 1 || fread(&due, sizeof due, 1, q->spill) != 1)
            break;
        uint32_t l = head[0], f = head[1], count = head[2];
        if (l > cap) {
            uint8_t *b = realloc(buf, l);
            if (!b)
                break;
            buf = b;
            cap = l;
        }
        if (fread(buf, 1, l, q->spill) != l || memory_push(q, buf, l, count, due, f) != MSGQ_MEMORY)
            break;
        q->spilled--;
        q->spilled_msgs -= count;
        at = ftell(q->spill);
    }
    free(buf);
    q->spill_read = at;
    if (!q->spilled) {
        q->spill_read = q->spill_write = 0;
        if (ftruncate(fileno(q->spill), 0) != 0)
            log_debug("spill file: truncate failed");
    }
}

long msgq_prepend(struct msgq *q, const uint8_t *data, size_t len, ssize_t (*frame)(const uint8_t *, size_t),
                  int64_t due_ns, unsigned flags)
{
    if (q->unacked || q->part)
        return -1;
    size_t k = 0, off = 0;
    for (ssize_t l; off < len && (l = frame(data + off, len - off)) > 0; off += (size_t)l)
        k++;
    if (!k)
        return 0;
    struct msgq_chunk *c = chunk_new(off);
    if (!c || ring_reserve(q, k) < 0) {
        chunk_free(c);
        return -1;
    }
    memcpy(c->data, data, off);
    c->used = off;
    c->next = q->chunks;
    q->chunks = q->wchunk = c;
    if (!q->last)
        q->last = c;
    q->woff = 0;
    q->first = (q->first - k) & (q->ring_size - 1);
    q->n += k;
    q->msgs += k;
    q->unwritten_bytes += off;
    off = 0;
    for (size_t i = 0; i < k; i++) {
        size_t l = (size_t)frame(data + off, len - off);
        *entry(q, i) = (struct msgq_entry){ .len = (uint32_t)l, .flags = flags, .count = 1, .due_ns = due_ns };
        off += l;
    }
    return (long)k;
}

const uint8_t *msgq_head(const struct msgq *q, size_t *len, size_t *written)
{
    if (q->n == q->unacked)
        return NULL;
    const struct msgq_chunk *c = q->wchunk;
    size_t off = q->woff;
    if (q->part == 0 && off == c->used && c->next) {
        c = c->next;
        off = c->begin;
    }
    *len = entry(q, q->unacked)->len;
    *written = q->part;
    return c->data + off - q->part;
}

int msgq_iov(struct msgq *q, struct iovec *iov, int max_iov, size_t max_msgs, bool (*alone)(const uint8_t *, size_t))
{
    int k = 0;
    if (q->n == q->unacked)
        return 0;
    wnormalize(q);
    struct msgq_chunk *c = q->wchunk;
    size_t off = q->woff;
    if (!max_msgs && !alone && !q->barriers) { /* whole chunks */
        for (; c && k < max_iov; c = c->next, off = c ? c->begin : 0)
            if (c->used > off)
                iov[k++] = (struct iovec){ c->data + off, c->used - off };
        return k;
    }
    size_t part = q->part;
    for (size_t i = q->unacked, count = 0; i < q->n; i++, count++) {
        if (part == 0 && off == c->used) {
            c = c->next;
            off = c->begin;
        }
        size_t l = entry(q, i)->len;
        if ((max_msgs && count == max_msgs) || (count && alone && alone(c->data + off, l)))
            break;
        if (count && ((entry(q, i)->flags | entry(q, q->unacked)->flags) & MSGQ_BARRIER))
            break;
        uint8_t *p = c->data + off;
        if (k && (uint8_t *)iov[k - 1].iov_base + iov[k - 1].iov_len == p)
            iov[k - 1].iov_len += l - part;
        else if (k < max_iov)
            iov[k++] = (struct iovec){ p, l - part };
        else
            break;
        off += l - part;
        part = 0;
    }
    return k;
}

void msgq_written(struct msgq *q, size_t w, uint64_t at, void (*done)(void *, int64_t), void *ctx)
{
    if (w > q->unwritten_bytes)
        w = q->unwritten_bytes; /* more than was given: cannot be */
    q->unwritten_bytes -= w;
    /* the write position: a chunk at a time (it stays at the end of a chunk until more follows) */
    for (size_t left = w; left;) {
        struct msgq_chunk *c = q->wchunk;
        if (q->woff == c->used) {
            if (!c->next)
                break;
            q->wchunk = c->next;
            q->woff = q->wchunk->begin;
            continue;
        }
        size_t step = c->used - q->woff < left ? c->used - q->woff : left;
        q->woff += step;
        left -= step;
    }
    /* the messages now whole on the connection: where each ends there */
    size_t pos = q->part + w, i = q->unacked, mask = q->ring_size - 1;
    at -= q->part;
    for (; i < q->n; i++) {
        struct msgq_entry *e = &q->ring[(q->first + i) & mask];
        if (e->len > pos)
            break;
        pos -= e->len;
        at += e->len;
        e->end = at;
        q->unacked_msgs += e->count;
        if (done)
            done(ctx, e->due_ns);
    }
    q->unacked = i;
    q->part_at = at;
    q->part = pos;
    refill(q);
}

/* The first entry, a run written (whole or in part) and acknowledged up to `acked` but not
 * to its end: its whole messages acknowledged are passed to ack() and leave it. */
static void ack_part(struct msgq *q, uint64_t acked, msgq_ack_fn ack, void *ctx)
{
    struct msgq_entry *e = entry(q, 0);
    struct msgq_chunk *c = q->chunks;
    if (c->begin == c->used) /* the entry is in the next chunk */
        c = c->next;
    bool whole = q->unacked > 0; /* else it is being written */
    if ((!whole && !q->part) || !q->frame || e->count < 2 || !c)
        return;
    uint64_t start = whole ? e->end - e->len : q->part_at;
    if (acked <= start)
        return;
    const uint8_t *m = c->data + c->begin;
    size_t bytes = 0, count = 0;
    for (ssize_t l; count + 1 < e->count && (l = q->frame(m + bytes, e->len - bytes)) > 0 &&
                    start + bytes + (size_t)l <= acked;
         count++)
        bytes += (size_t)l;
    if (!count)
        return;
    c->begin += bytes; /* (a chunk before it that is done goes with the next msgq_ack) */
    e->len -= (uint32_t)bytes;
    e->count -= (uint32_t)count;
    q->msgs -= count;
    if (whole)
        q->unacked_msgs -= count;
    else {
        q->part -= bytes;
        q->part_at += bytes;
    }
    if (ack)
        ack(ctx, m, bytes, count, e->flags);
}

void msgq_ack(struct msgq *q, uint64_t acked, msgq_ack_fn ack, void *ctx)
{
    size_t mask = q->ring_size - 1;
    while (q->unacked && entry(q, 0)->end <= acked) {
        struct msgq_chunk *c = q->chunks;
        if (c->begin == c->used) { /* the entry is in the next chunk: this one is done */
            q->chunks = c->next;
            chunk_free(c);
            c = q->chunks;
        }
        /* entries of the same flags, in this chunk */
        const uint8_t *first = c->data + c->begin;
        unsigned flags = entry(q, 0)->flags;
        size_t i = q->first, left = q->unacked, count = 0, n = 0, bytes = 0, room = c->used - c->begin;
        do {
            bytes += q->ring[i].len;
            count += q->ring[i].count;
            if (q->ring[i].flags & MSGQ_BARRIER)
                q->barriers--;
            n++;
            i = (i + 1) & mask;
        } while (--left && !(flags & (MSGQ_ALONE | MSGQ_PREAMBLE)) && bytes < room && q->ring[i].flags == flags &&
                 q->ring[i].end <= acked);
        c->begin += bytes;
        q->first = i;
        q->n -= n;
        q->unacked = left;
        q->msgs -= count;
        q->unacked_msgs -= count;
        if (ack)
            ack(ctx, first, bytes, count, flags);
    }
    if (q->n)
        ack_part(q, acked, ack, ctx);
    if (q->n == 0) { /* keep one empty chunk for what comes next */
        while (q->chunks && q->chunks->next) {
            struct msgq_chunk *c = q->chunks;
            q->chunks = c->next;
            chunk_free(c);
        }
        if (q->chunks)
            q->chunks->used = q->chunks->begin = 0;
        q->wchunk = q->last = q->chunks;
        q->woff = q->part = 0;
    } else if (q->part == 0) {
        drop_done_chunks(q);
    }
}

size_t msgq_requeue(struct msgq *q)
{
    size_t r = q->unacked_msgs;
    q->unacked = q->unacked_msgs = q->part = 0;
    q->wchunk = q->chunks;
    q->woff = q->chunks ? q->chunks->begin : 0;
    drop_done_chunks(q);
    q->unwritten_bytes = 0;
    for (size_t i = 0; i < q->n; i++)
        q->unwritten_bytes += entry(q, i)->len;
    return r;
}

size_t msgq_drop_head(struct msgq *q, unsigned flag)
{
    if (q->unacked || q->part)
        return 0;
    size_t k = 0, msgs = 0, bytes = 0;
    for (; k < q->n && (entry(q, k)->flags & flag); k++) {
        entry(q, k)->end = 0;
        msgs += entry(q, k)->count;
        bytes += entry(q, k)->len;
    }
    if (!k)
        return 0;
    /* as if written and acknowledged at once, uncounted */
    q->unacked = k;
    q->unacked_msgs = msgs;
    q->unwritten_bytes -= bytes;
    msgq_ack(q, 0, NULL, NULL);
    /* the preamble had a chunk of its own (msgq_prepend): none is left empty at the front,
     * where the next prepend would put another */
    q->wchunk = q->chunks;
    q->woff = q->chunks ? q->chunks->begin : 0;
    drop_done_chunks(q);
    return msgs;
}

size_t msgq_drop(struct msgq *q)
{
    size_t r = q->msgs + q->spilled_msgs;
    while (q->chunks) {
        struct msgq_chunk *c = q->chunks;
        q->chunks = c->next;
        chunk_free(c);
    }
    q->last = q->wchunk = NULL;
    q->first = q->n = q->unacked = q->part = q->woff = 0;
    q->msgs = q->unacked_msgs = 0;
    q->barriers = 0;
    q->unwritten_bytes = 0;
    if (q->spilled) {
        q->spilled = q->spilled_msgs = 0;
        q->spill_read = q->spill_write = 0;
        if (ftruncate(fileno(q->spill), 0) != 0)
            log_debug("spill file: truncate failed");
    }
    return r;
}

void msgq_free(struct msgq *q)
{
    msgq_drop(q);
    free(q->ring);
    if (q->spill)
        fclose(q->spill);
    free(q->spill_buf);
    msgq_init(q, q->mem_limit, q->frame);
}
