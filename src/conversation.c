/* conversation.c — see conversation.h. */
#include "conversation.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"

void conversation_init(struct conversation *c, const struct proto *p, const struct decoded *d, const void *key,
                       msgstream_run_fn run)
{
    memset(c, 0, sizeof *c);
    c->key = key;
    c->src = d->src;
    c->dst = d->dst;
    c->sport = d->sport;
    c->dport = d->dport;
    c->open = true;
    c->run = run;
    tcpstream_init(&c->stream, 0);
    msgstream_init(&c->msgs, p->frame, p->max_message);
    msgstream_set_upgrade(&c->msgs, p->upgrades, p->frame_ext, p->max_message_ext);
}

bool conversation_of(const struct conversation *c, const struct decoded *d)
{
    return c->sport == d->sport && c->dport == d->dport && addr_equal(&c->src, &d->src) && addr_equal(&c->dst, &d->dst);
}

bool conversation_restarted(const struct conversation *c, const struct decoded *d)
{
    return (d->tcp_flags & TCP_SYN) && c->stream.delivered_bytes;
}

struct delivery {
    struct conversation *c;
    void *ctx;
};

static void on_bytes(void *ctx, const uint8_t *data, size_t len, int64_t ts, bool after_hole)
{
    struct delivery *dl = ctx;
    msgstream_add_runs(&dl->c->msgs, data, len, ts, after_hole, dl->c->run, dl->ctx);
}

void conversation_segment(struct conversation *c, const struct decoded *d, int64_t ts_ns, void *ctx)
{
    if (d->tcp_flags & (TCP_FIN | TCP_RST))
        c->open = false;
    if (!d->payload_len && !(d->tcp_flags & TCP_SYN))
        return; /* it only said whether the router closed the connection */
    struct delivery dl = { c, ctx };
    tcpstream_add(&c->stream, d->seq, d->tcp_flags, d->payload, d->payload_len, ts_ns, on_bytes, &dl);
}

void conversation_finish(struct conversation *c, struct conversation_counts *n, void *ctx)
{
    struct delivery dl = { c, ctx };
    tcpstream_finish(&c->stream, on_bytes, &dl);
    msgstream_finish(&c->msgs);
    n->bytes += c->stream.delivered_bytes;
    n->duplicate_bytes += c->stream.duplicate_bytes;
    n->reordered_segments += c->stream.reordered_segments;
    n->holes += c->stream.holes;
    n->hole_bytes += c->stream.hole_bytes;
    n->resyncs += c->msgs.resyncs;
    n->skipped_bytes += c->msgs.skipped_bytes;
    n->incomplete_messages += c->msgs.incomplete_messages;
    n->incomplete_bytes += c->msgs.incomplete_bytes;
    tcpstream_free(&c->stream);
    msgstream_free(&c->msgs);
}

void *conversation_counts_json(const struct conversation_counts *n)
{
    return json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "bytes", (json_int_t)n->bytes, "duplicate_bytes",
                     (json_int_t)n->duplicate_bytes, "reordered_segments", (json_int_t)n->reordered_segments, "holes",
                     (json_int_t)n->holes, "hole_bytes", (json_int_t)n->hole_bytes, "skipped_bytes",
                     (json_int_t)n->skipped_bytes, "resyncs", (json_int_t)n->resyncs, "incomplete_messages",
                     (json_int_t)n->incomplete_messages, "incomplete_bytes", (json_int_t)n->incomplete_bytes);
}

/* ---- the table ---- */

static size_t slot(const struct conversation_table *t, const struct addr *src, const struct addr *dst,
                   uint16_t sport, uint16_t dport, const void *key)
{
    uintptr_t k = (uintptr_t)key; /* the clones of a router: one conversation each, in buckets of their own */
    uint32_t h = hash_u32(hash_u32(addr_hash(src), addr_hash(dst)), (uint32_t)sport << 16 | dport);
    return hash_u32(h, (uint32_t)(k ^ (uint64_t)k >> 32)) & (t->size - 1);
}

int conversation_table_init(struct conversation_table *t)
{
    t->size = 256;
    t->n = 0;
    t->b = calloc(t->size, sizeof *t->b);
    return t->b ? 0 : -1;
}

struct conversation *conversation_find(struct conversation_table *t, const struct decoded *d, const void *key)
{
    if (t->last && t->last->key == key && conversation_of(t->last, d))
        return t->last;
    struct conversation *c = t->b ? t->b[slot(t, &d->src, &d->dst, d->sport, d->dport, key)] : NULL;
    while (c && (c->key != key || !conversation_of(c, d)))
        c = c->hnext;
    return c ? t->last = c : NULL;
}

/* twice the buckets once there are as many conversations as buckets */
static void grow(struct conversation_table *t)
{
    struct conversation **b = calloc(t->size * 2, sizeof *b);
    if (!b)
        return; /* longer chains, still correct */
    struct conversation_table n = { b, t->size * 2, t->n, t->last };
    for (size_t i = 0; i < t->size; i++)
        for (struct conversation *c = t->b[i], *next; c; c = next) {
            next = c->hnext;
            size_t h = slot(&n, &c->src, &c->dst, c->sport, c->dport, c->key);
            c->hnext = b[h];
            b[h] = c;
        }
    free(t->b);
    *t = n;
}

int conversation_insert(struct conversation_table *t, struct conversation *c)
{
    if (!t->b && conversation_table_init(t) < 0)
        return -1;
    if (t->n >= t->size)
        grow(t);
    size_t h = slot(t, &c->src, &c->dst, c->sport, c->dport, c->key);
    c->hnext = t->b[h];
    t->b[h] = c;
    t->n++;
    return 0;
}

void conversation_remove(struct conversation_table *t, struct conversation *c)
{
    if (t->last == c)
        t->last = NULL;
    if (!t->b)
        return;
    for (struct conversation **p = &t->b[slot(t, &c->src, &c->dst, c->sport, c->dport, c->key)]; *p; p = &(*p)->hnext)
        if (*p == c) {
            *p = c->hnext;
            c->hnext = NULL;
            t->n--;
            return;
        }
}

void conversation_table_free(struct conversation_table *t)
{
    free(t->b);
    t->b = NULL;
    t->last = NULL;
    t->size = t->n = 0;
}
