/* extract.c — see extract.h; the rules, in the order they apply, are in docs/flow-extract.1. */
#include "hash.h"
#include "flow/extract.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "cursor.h"
#include "decode.h"

#define NS 1000000000LL
#define BUCKETS 65536

struct side {
    struct addr ip;
    uint16_t port;
    bool isn_set, syn, fin;
    uint32_t isn;           /* the sequence number of its first byte */
    uint64_t high;          /* bytes sent: the highest sequence end seen, relative */
    uint64_t waited;        /* of the peer's bytes, waited for so far */
    uint64_t retransmitted, reordered, missing;
    struct { uint64_t from, to; } holes[8]; /* gaps not filled yet (more are counted missing at once) */
    unsigned n_holes;
    uint64_t sent;          /* bytes in its SEND events so far */
    bool ack_valid;
    uint32_t last_ack;      /* its latest acknowledgement number */
    json_t *syn_options;    /* of its SYN, when seen */
};

struct flow {
    struct flow *hnext, *prev, *next; /* hash chain; activity list (oldest first) */
    uint32_t hash;
    struct side s[2];       /* [0] the initiator, [1] the responder */
    uint64_t fid, eid;
    int64_t start, last, last_event;
    int64_t syn_ts, synack_ts;
    int run;                /* the side whose SEND is being gathered, -1 none */
    uint64_t run_bytes;
    int64_t run_start, run_last;
    bool conn_written;
};

struct flow_extract {
    struct flow_extract_options o;
    FILE *csv, *meta;
    struct flow *buckets[BUCKETS];
    struct flow *oldest, *newest;
    size_t n_flows;
    uint64_t next_fid;
    int64_t t0;
    bool t0_set, first_meta;
    struct flow_extract_stats st;
};

/* ---- output ---- */

static double rel(const struct flow_extract *x, int64_t ts) { return (double)(ts - x->t0) / 1e9; }

static void write_conn(struct flow_extract *x, struct flow *f)
{
    char a[ADDR_STRLEN], b[ADDR_STRLEN];
    fprintf(x->csv, "CONN,%llu,%s,%u,->,%s,%u,%.6f\n", (unsigned long long)f->fid, addr_format(&f->s[0].ip, a),
            f->s[0].port, addr_format(&f->s[1].ip, b), f->s[1].port, rel(x, f->start));
    f->conn_written = true;
    f->last_event = f->start;
}

static void emit(struct flow_extract *x, struct flow *f, int side, const char *type, uint64_t bytes, int64_t ts)
{
    if (!f->conn_written)
        write_conn(x, f);
    if (ts < f->last_event) /* a side's events keep their order even when the capture's time does not */
        ts = f->last_event;
    char a[ADDR_STRLEN];
    fprintf(x->csv, "EVENT,%llu,%llu,%s,%s,%llu,%.6f,%.6f\n", (unsigned long long)f->fid,
            (unsigned long long)f->eid++, addr_format(&f->s[side].ip, a), type, (unsigned long long)bytes,
            (double)(ts - f->last_event) / 1e9, rel(x, ts));
    f->last_event = ts;
    x->st.events++;
    if (type[0] == 'S')
        x->st.send_bytes += bytes;
}

/* The SEND being gathered ends. */
static void flush_run(struct flow_extract *x, struct flow *f)
{
    if (f->run >= 0 && f->run_bytes) {
        emit(x, f, f->run, "SEND", f->run_bytes, f->run_start);
        f->s[f->run].sent += f->run_bytes;
    }
    f->run = -1;
    f->run_bytes = 0;
}

/* ---- sequence numbers ---- */

/* A 32-bit offset from the start, unwrapped to the 64-bit value nearest to `near` (flows over
 * 4 GB go forwards; a segment from before the first one seen comes out negative). */
static int64_t nearest(uint64_t near, uint32_t rel32)
{
    int64_t c = (int64_t)((near & ~0xffffffffULL) | rel32), n = (int64_t)near;
    if (c - n > 0x80000000LL)
        c -= 1LL << 32;
    else if (n - c > 0x80000000LL)
        c += 1LL << 32;
    return c;
}

/* Bytes further than this from a stream's highest byte are not part of it: TCP's largest
 * window (scaled) is 1 GiB, so a sender cannot be that far ahead of what it sent before. */
#define WINDOW_MAX (1LL << 30)

/* ---- holes: bytes skipped by a later segment ---- */

static void add_hole(struct side *s, uint64_t from, uint64_t to)
{
    if (s->n_holes == sizeof s->holes / sizeof *s->holes) {
        s->missing += s->holes[0].to - s->holes[0].from; /* the oldest is given up */
        memmove(s->holes, s->holes + 1, (s->n_holes - 1) * sizeof *s->holes);
        s->n_holes--;
    }
    s->holes[s->n_holes].from = from;
    s->holes[s->n_holes++].to = to;
}

/* [from, to) arrived late: how much of it was missing (now filled) */
static uint64_t fill_holes(struct side *s, uint64_t from, uint64_t to)
{
    uint64_t filled = 0;
    for (unsigned i = 0; i < s->n_holes;) {
        uint64_t a = s->holes[i].from > from ? s->holes[i].from : from;
        uint64_t b = s->holes[i].to < to ? s->holes[i].to : to;
        if (a >= b) {
            i++;
            continue;
        }
        filled += b - a;
        uint64_t hf = s->holes[i].from, ht = s->holes[i].to;
        if (hf < a && b < ht) { /* split in two */
            s->holes[i].to = a;
            if (s->n_holes < sizeof s->holes / sizeof *s->holes) {
                s->holes[s->n_holes].from = b;
                s->holes[s->n_holes++].to = ht;
            } else {
                s->missing += ht - b;
            }
            i++;
        } else if (hf < a) {
            s->holes[i++].to = a;
        } else if (b < ht) {
            s->holes[i++].from = b;
        } else {
            s->holes[i] = s->holes[--s->n_holes];
        }
    }
    return filled;
}

/* ---- SYN options, for the details ---- */

static json_t *syn_options(const struct decoded *d)
{
    json_t *o = json_object();
    struct cursor c = cursor_make(d->tcp_options, d->tcp_options_len);
    while (cursor_remaining(&c)) {
        uint8_t kind = cursor_u8(&c);
        if (kind == 0)
            break;
        if (kind == 1)
            continue;
        uint8_t len = cursor_u8(&c);
        if (len < 2)
            break;
        struct cursor v = cursor_sub(&c, len - 2u);
        if (!cursor_ok(&c))
            break;
        if (kind == 2 && len == 4)
            json_object_set_new(o, "mss", json_integer(cursor_be16(&v)));
        else if (kind == 3 && len == 3)
            json_object_set_new(o, "wscale", json_integer(cursor_u8(&v)));
        else if (kind == 4)
            json_object_set_new(o, "sack_permitted", json_true());
        else if (kind == 8)
            json_object_set_new(o, "timestamps", json_true());
        else if (kind == 30)
            json_object_set_new(o, "mptcp", json_true());
        else if (kind == 34)
            json_object_set_new(o, "fast_open", json_true());
    }
    return o;
}

/* ---- flows ---- */

static uint32_t flow_hash(const struct addr *a, uint16_t pa, const struct addr *b, uint16_t pb)
{
    /* the same for both directions: the two ends' hashes combined in their order */
    uint32_t ha = hash_u32(addr_hash(a), pa), hb = hash_u32(addr_hash(b), pb);
    return ha < hb ? hash_u32(ha, hb) : hash_u32(hb, ha);
}

static int side_of(const struct flow *f, const struct decoded *d)
{
    if (f->s[0].port == d->sport && addr_equal(&f->s[0].ip, &d->src) && f->s[1].port == d->dport &&
        addr_equal(&f->s[1].ip, &d->dst))
        return 0;
    if (f->s[1].port == d->sport && addr_equal(&f->s[1].ip, &d->src) && f->s[0].port == d->dport &&
        addr_equal(&f->s[0].ip, &d->dst))
        return 1;
    return -1;
}

static void list_unlink(struct flow_extract *x, struct flow *f)
{
    if (f->prev)
        f->prev->next = f->next;
    else
        x->oldest = f->next;
    if (f->next)
        f->next->prev = f->prev;
    else
        x->newest = f->prev;
    f->prev = f->next = NULL;
}

static void list_append(struct flow_extract *x, struct flow *f)
{
    f->prev = x->newest;
    f->next = NULL;
    if (x->newest)
        x->newest->next = f;
    else
        x->oldest = f;
    x->newest = f;
}

static json_t *endpoint(const struct side *s)
{
    char a[ADDR_STRLEN];
    return json_pack("{s:s,s:i}", "ip", addr_format(&s->ip, a), "port", s->port);
}

static void write_meta(struct flow_extract *x, struct flow *f, const char *reason)
{
    if (x->o.handshake_rtts_ms && f->syn_ts && f->synack_ts >= f->syn_ts)
        values_push(x->o.handshake_rtts_ms, (double)(f->synack_ts - f->syn_ts) / 1e6); /* a plot's: best effort */
    if (!x->meta)
        return;
    json_t *j = json_object();
    json_object_set_new(j, "fid", json_integer((json_int_t)f->fid));
    json_object_set_new(j, "initiator", endpoint(&f->s[0]));
    json_object_set_new(j, "responder", endpoint(&f->s[1]));
    json_object_set_new(j, "start", json_real(rel(x, f->start)));
    json_object_set_new(j, "end", json_real(rel(x, f->last)));
    json_object_set_new(j, "syn_seen", json_boolean(f->s[0].syn));
    if (f->s[0].syn_options)
        json_object_set(j, "syn_options", f->s[0].syn_options);
    if (f->s[1].syn_options)
        json_object_set(j, "syn_ack_options", f->s[1].syn_options);
    if (f->syn_ts && f->synack_ts >= f->syn_ts)
        json_object_set_new(j, "handshake_rtt_ms", json_real((double)(f->synack_ts - f->syn_ts) / 1e6));
    json_object_set_new(j, "bytes", json_pack("{s:I,s:I}", "initiator", (json_int_t)f->s[0].high, "responder",
                                              (json_int_t)f->s[1].high));
    json_object_set_new(j, "retransmitted_bytes", json_pack("{s:I,s:I}", "initiator",
                        (json_int_t)f->s[0].retransmitted, "responder", (json_int_t)f->s[1].retransmitted));
    json_object_set_new(j, "reordered_bytes", json_pack("{s:I,s:I}", "initiator", (json_int_t)f->s[0].reordered,
                                                        "responder", (json_int_t)f->s[1].reordered));
    json_object_set_new(j, "missing_bytes", json_pack("{s:I,s:I}", "initiator", (json_int_t)f->s[0].missing,
                                                      "responder", (json_int_t)f->s[1].missing));
    json_object_set_new(j, "events", json_integer((json_int_t)f->eid));
    json_object_set_new(j, "close", json_string(reason));
    fputs(x->first_meta ? "\n    " : ",\n    ", x->meta);
    x->first_meta = false;
    json_dumpf(j, x->meta, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(9));
    json_decref(j);
}

/* The flow ends: what is gathered is sent, each side waits for what the other sent and it
 * has not waited for yet, then closes. */
static void flow_end(struct flow_extract *x, struct flow *f, const char *reason, int64_t ts)
{
    flush_run(x, f);
    if (x->o.payload_only && !f->conn_written) { /* nothing was sent either way: no event yet */
        x->st.flows_without_payload++;
        goto unlink;
    }
    for (int i = 0; i < 2; i++) {
        struct side *s = &f->s[i], *p = &f->s[1 - i];
        if (p->high > s->waited) {
            emit(x, f, i, "WAIT", p->high - s->waited, ts);
            s->waited = p->high;
        }
    }
    for (int i = 0; i < 2; i++)
        emit(x, f, i, "CLOSE", 0, ts);
    if (f->s[0].sent != f->s[1].waited || f->s[1].sent != f->s[0].waited)
        x->st.unbalanced++; /* each side's SENDs must equal the other side's WAITs */
    for (int i = 0; i < 2; i++) /* what never arrived */
        for (unsigned k = 0; k < f->s[i].n_holes; k++)
            f->s[i].missing += f->s[i].holes[k].to - f->s[i].holes[k].from;
    x->st.retransmitted_bytes += f->s[0].retransmitted + f->s[1].retransmitted;
    x->st.missing_bytes += f->s[0].missing + f->s[1].missing;
    x->st.flows_without_syn += !f->s[0].syn;
    write_meta(x, f, reason);
unlink:; /* from its bucket and the activity list */
    struct flow **at = &x->buckets[f->hash % BUCKETS];
    while (*at != f)
        at = &(*at)->hnext;
    *at = f->hnext;
    list_unlink(x, f);
    x->n_flows--;
    json_decref(f->s[0].syn_options);
    json_decref(f->s[1].syn_options);
    free(f);
}

static struct flow *flow_new(struct flow_extract *x, const struct decoded *d, uint32_t h, int64_t ts)
{
    if (x->n_flows >= x->o.max_flows && x->oldest)
        flow_end(x, x->oldest, "evicted", ts);
    struct flow *f = calloc(1, sizeof *f);
    if (!f)
        return NULL;
    /* the initiator: the SYN's sender (a SYN-ACK's receiver), else the higher port */
    bool syn = d->tcp_flags & TCP_SYN, ack = d->tcp_flags & TCP_ACK;
    bool sender_initiates = syn ? !ack : d->sport >= d->dport;
    int si = sender_initiates ? 0 : 1;
    f->s[si].ip = d->src;
    f->s[si].port = d->sport;
    f->s[1 - si].ip = d->dst;
    f->s[1 - si].port = d->dport;
    f->hash = h;
    f->fid = x->next_fid++;
    f->start = f->last = f->last_event = ts;
    f->run = -1;
    f->hnext = x->buckets[h % BUCKETS];
    x->buckets[h % BUCKETS] = f;
    list_append(x, f);
    x->n_flows++;
    x->st.flows++;
    return f;
}

/* New bytes from side i: they join its SEND, or end the other side's and start one of its
 * own, after waiting for what its acknowledgement shows it had received. */
static void new_bytes(struct flow_extract *x, struct flow *f, int i, uint64_t n, int64_t ts)
{
    if (f->run == i && (double)(ts - f->run_last) / 1e9 <= x->o.quiet_gap) {
        f->run_bytes += n;
        f->run_last = ts;
        return;
    }
    flush_run(x, f);
    struct side *s = &f->s[i], *p = &f->s[1 - i];
    if (s->ack_valid && p->isn_set) {
        int64_t a = nearest(p->high, s->last_ack - p->isn);
        uint64_t acked = a < 0 ? 0 : (uint64_t)a;
        if (acked > p->high)
            acked = p->high;
        if (acked > s->waited) {
            emit(x, f, i, "WAIT", acked - s->waited, ts);
            s->waited = acked;
        }
    }
    f->run = i;
    f->run_bytes = n;
    f->run_start = f->run_last = ts;
}

/* A side's bytes [start, start + len) in its stream's offsets, arrived at ts. */
static void payload(struct flow_extract *x, struct flow *f, int i, int64_t start, uint64_t len, int64_t ts)
{
    struct side *s = &f->s[i];
    if (start + (int64_t)len < -WINDOW_MAX || start - (int64_t)s->high > WINDOW_MAX) {
        x->st.out_of_window_segments++;
        return;
    }
    if (start < 0) {
        /* from before the first byte seen (a flow seen without its SYN, its first segment a
         * later one): the stream starts earlier. Its offsets move up; the new front is sent,
         * as a forward hole is, and missing until it arrives. */
        uint64_t shift = (uint64_t)-start;
        s->isn -= (uint32_t)shift;
        s->high += shift;
        for (unsigned h = 0; h < s->n_holes; h++)
            s->holes[h].from += shift, s->holes[h].to += shift;
        if (len < shift)
            add_hole(s, len, shift);
        new_bytes(x, f, i, shift, ts);
        if (len <= shift)
            return;
        start = (int64_t)shift; /* the rest of the segment: at the old front */
        len -= shift;
    }
    uint64_t from = (uint64_t)start, end = from + len;
    uint64_t top = end < s->high ? end : s->high;
    uint64_t old = top > from ? top - from : 0;
    if (old) { /* bytes below the highest seen: they fill a hole (reordering) or come again */
        uint64_t filled = fill_holes(s, from, from + old);
        s->reordered += filled;
        s->retransmitted += old - filled;
    }
    if (end > s->high) {
        if (from > s->high)
            add_hole(s, s->high, from); /* counted as sent; missing unless it fills later */
        uint64_t n = end - s->high;
        s->high = end;
        new_bytes(x, f, i, n, ts);
    }
}

static void segment(struct flow_extract *x, struct flow *f, int i, const struct decoded *d, int64_t ts)
{
    struct side *s = &f->s[i];
    uint8_t fl = d->tcp_flags;
    uint32_t seq = d->seq;
    if (fl & TCP_SYN) {
        if (!s->syn) {
            s->syn = true;
            s->syn_options = syn_options(d);
            if (i == 0)
                f->syn_ts = ts;
            else
                f->synack_ts = ts;
        }
        seq++; /* data on a SYN starts after it */
        if (!s->isn_set || s->high == 0) {
            s->isn = seq;
            s->isn_set = true;
        }
    } else if (!s->isn_set) { /* no SYN: the first segment seen starts the stream */
        s->isn = seq;
        s->isn_set = true;
    }
    if (fl & TCP_ACK) {
        s->last_ack = d->ack;
        s->ack_valid = true;
    }
    if (d->payload_wire_len) /* its length on the wire: header-only captures do */
        payload(x, f, i, nearest(s->high, seq - s->isn), d->payload_wire_len, ts);
    if (fl & TCP_FIN) {
        s->fin = true;
        if (f->run == i)
            flush_run(x, f);
    }
}

struct flow_extract *flow_extract_new(const struct flow_extract_options *o, FILE *csv, FILE *meta)
{
    struct flow_extract *x = calloc(1, sizeof *x);
    if (!x)
        return NULL;
    x->o = *o;
    if (x->o.quiet_gap <= 0)
        x->o.quiet_gap = 0.5;
    if (x->o.idle_timeout <= 0)
        x->o.idle_timeout = 300;
    if (!x->o.max_flows)
        x->o.max_flows = 1000000;
    x->csv = csv;
    x->meta = meta;
    x->first_meta = true;
    if (meta) {
        json_t *src = json_array();
        for (size_t i = 0; i < o->n_sources; i++)
            json_array_append_new(src, json_string(o->sources[i]));
        char *list = json_dumps(src, JSON_COMPACT);
        fprintf(meta, "{\n  \"source\": %s,\n  \"options\": {\"quiet_gap\": %g, \"idle_timeout\": %g, \"max_flows\": %zu},"
                "\n  \"flows\": [", list ? list : "[]", x->o.quiet_gap, x->o.idle_timeout, x->o.max_flows);
        free(list);
        json_decref(src);
    }
    return x;
}

void flow_extract_packet(struct flow_extract *x, int dlt, const uint8_t *frame, size_t caplen, int64_t ts)
{
    x->st.packets++;
    if (!x->t0_set) {
        x->t0 = ts;
        x->t0_set = true;
    }
    struct decoded d;
    if (decode_frame_headers(dlt, frame, caplen, &d) != DECODE_OK || d.ip_proto != IPPROTO_TCP)
        return;
    x->st.tcp_packets++;
    /* flows quiet for idle_timeout (trace time) end first */
    while (x->oldest && (double)(ts - x->oldest->last) / 1e9 > x->o.idle_timeout)
        flow_end(x, x->oldest, "idle_timeout", x->oldest->last);
    uint32_t h = flow_hash(&d.src, d.sport, &d.dst, d.dport);
    struct flow *f = x->buckets[h % BUCKETS];
    int i = -1;
    for (; f; f = f->hnext)
        if (f->hash == h && (i = side_of(f, &d)) >= 0)
            break;
    bool new_syn = (d.tcp_flags & (TCP_SYN | TCP_ACK)) == TCP_SYN;
    if (f && new_syn && (f->s[0].high || f->s[1].high || f->s[0].fin || f->s[1].fin)) {
        flow_end(x, f, "reused", ts); /* the same addresses and ports, a new connection */
        f = NULL;
    }
    if (!f) {
        if (!(d.tcp_flags & TCP_SYN) && !d.payload_wire_len)
            return; /* an ACK, FIN or RST of nothing we know (the last ACK of a flow that ended) */
        if (!(f = flow_new(x, &d, h, ts)))
            return;
        i = side_of(f, &d);
    }
    if (ts > f->last)
        f->last = ts;
    list_unlink(x, f);
    list_append(x, f);
    segment(x, f, i, &d, ts);
    if (d.tcp_flags & TCP_RST)
        flow_end(x, f, "rst", ts);
    else if (f->s[0].fin && f->s[1].fin)
        flow_end(x, f, "fin", ts);
}

void flow_extract_finish(struct flow_extract *x, struct flow_extract_stats *out)
{
    while (x->oldest)
        flow_end(x, x->oldest, "capture_end", x->oldest->last);
    if (x->meta)
        fprintf(x->meta, "%s],\n  \"totals\": {\"packets\": %llu, \"tcp_packets\": %llu, \"flows\": %llu, "
                "\"events\": %llu, \"send_bytes\": %llu, \"flows_without_syn\": %llu, "
                "\"retransmitted_bytes\": %llu, \"missing_bytes\": %llu, \"out_of_window_segments\": %llu, "
                "\"flows_without_payload_dropped\": %llu}\n}\n",
                x->first_meta ? "" : "\n  ", (unsigned long long)x->st.packets,
                (unsigned long long)x->st.tcp_packets, (unsigned long long)x->st.flows,
                (unsigned long long)x->st.events, (unsigned long long)x->st.send_bytes,
                (unsigned long long)x->st.flows_without_syn, (unsigned long long)x->st.retransmitted_bytes,
                (unsigned long long)x->st.missing_bytes, (unsigned long long)x->st.out_of_window_segments,
                (unsigned long long)x->st.flows_without_payload);
    if (out)
        *out = x->st;
}

void flow_extract_free(struct flow_extract *x)
{
    if (!x)
        return;
    while (x->oldest) { /* only when finish was not called */
        struct flow *f = x->oldest;
        list_unlink(x, f);
        json_decref(f->s[0].syn_options);
        json_decref(f->s[1].syn_options);
        free(f);
    }
    free(x);
}
