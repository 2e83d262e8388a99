/* gen-session.c — BGP and BMP sessions over TCP for gen-pcap: one session per router from
 * its address to --dst:--dport, messages --interval apart, cut into segments as the options
 * say (split, packed, retransmitted, reordered, with a hole, with or without handshake).
 * Prints per router the messages by type a collector should see (those from the OPEN /
 * INIT on) and the prefixes they carry. */
#include <stdlib.h>
#include <string.h>

#include "gen.h"

struct stream {
    struct buf *bytes;   /* the router's message stream */
    size_t *ends;        /* end offset of each message */
    double *times;       /* when each message is sent */
    size_t n, cap;
};

struct packet {
    int64_t ns;
    unsigned order;      /* ties keep generation order */
    uint8_t *frame;
    size_t len;
};

static struct packet *packets;
static size_t n_packets, cap_packets;
static uint32_t prefix_counter;

static void add_packet(const struct opts *o, double t, const struct addr *src, const struct addr *dst,
                       const struct l4 *l4, const uint8_t *payload, size_t len)
{
    static struct buf p, f;
    p.n = len;
    if (len)
        memcpy(p.b, payload, len);
    frame(o, &f, src, dst, l4, &p);
    if (n_packets == cap_packets) {
        cap_packets = cap_packets ? cap_packets * 2 : 1024;
        packets = realloc(packets, cap_packets * sizeof *packets);
    }
    packets[n_packets] = (struct packet){ (int64_t)(t * 1e9 + 0.5), (unsigned)n_packets, malloc(f.n), f.n };
    memcpy(packets[n_packets].frame, f.b, f.n);
    n_packets++;
}

static void end_message(struct stream *s, double t)
{
    if (s->bytes->n > sizeof s->bytes->b - 70000) {
        fprintf(stderr, "gen-pcap: a session stream is limited to %zu MB: fewer --packets\n", sizeof s->bytes->b >> 20);
        exit(2);
    }
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 64;
        s->ends = realloc(s->ends, s->cap * sizeof *s->ends);
        s->times = realloc(s->times, s->cap * sizeof *s->times);
    }
    s->ends[s->n] = s->bytes->n;
    s->times[s->n] = t;
    s->n++;
}

/* ---- BGP ---- */

static size_t bgp_header(struct buf *b, uint8_t type)
{
    size_t at = b->n;
    for (int i = 0; i < 16; i++)
        put8(b, 0xff);
    put16(b, 0);
    put8(b, type);
    return at;
}

static void bgp_end(struct buf *b, size_t at) { set16(b, at + 16, (uint16_t)(b->n - at)); }

static void bgp_open(struct buf *b, uint32_t asn, uint16_t hold, const uint8_t id[4])
{
    size_t at = bgp_header(b, 1);
    put8(b, 4);
    put16(b, asn > 65535 ? 23456 : (uint16_t)asn);
    put16(b, hold);
    for (int i = 0; i < 4; i++)
        put8(b, id[i]);
    put8(b, 16);                                     /* optional parameters length */
    put8(b, 2); put8(b, 14);                         /* capabilities */
    put8(b, 1); put8(b, 4); put16(b, 1); put8(b, 0); put8(b, 1); /* multiprotocol IPv4 unicast */
    put8(b, 2); put8(b, 0);                          /* route refresh */
    put8(b, 65); put8(b, 4); put32(b, asn);          /* 4-octet AS */
    bgp_end(b, at);
}

static unsigned bgp_update(struct buf *b, uint32_t asn, unsigned prefixes)
{
    size_t at = bgp_header(b, 2);
    put16(b, 0);                                     /* withdrawn routes */
    put16(b, 4 + 9 + 7);                             /* path attributes */
    put8(b, 0x40); put8(b, 1); put8(b, 1); put8(b, 0);                       /* ORIGIN IGP */
    put8(b, 0x40); put8(b, 2); put8(b, 6); put8(b, 2); put8(b, 1); put32(b, asn); /* AS_PATH */
    put8(b, 0x40); put8(b, 3); put8(b, 4); put32(b, 0xc0000201);             /* NEXT_HOP 192.0.2.1 */
    for (unsigned i = 0; i < prefixes; i++) {
        uint32_t c = prefix_counter++;
        put8(b, 24); put8(b, (uint8_t)(10 + (c >> 16))); put8(b, (uint8_t)(c >> 8)); put8(b, (uint8_t)c);
    }
    bgp_end(b, at);
    return prefixes;
}

static void bgp_keepalive(struct buf *b) { bgp_end(b, bgp_header(b, 4)); }
static void bgp_cease(struct buf *b)
{
    size_t at = bgp_header(b, 3);
    put8(b, 6); /* Cease */
    put8(b, 2); /* Administrative Shutdown */
    bgp_end(b, at);
}

/* ---- BMP ---- */

static size_t bmp_header(struct buf *b, uint8_t type)
{
    size_t at = b->n;
    put8(b, 3);
    put32(b, 0);
    put8(b, type);
    return at;
}

static void bmp_end(struct buf *b, size_t at)
{
    uint32_t n = (uint32_t)(b->n - at);
    b->b[at + 1] = (uint8_t)(n >> 24); b->b[at + 2] = (uint8_t)(n >> 16);
    b->b[at + 3] = (uint8_t)(n >> 8); b->b[at + 4] = (uint8_t)n;
}

static void bmp_peer_header(struct buf *b, unsigned peer, double t)
{
    put8(b, 0); put8(b, 0);
    put32(b, 0); put32(b, 0);                        /* route distinguisher */
    put32(b, 0); put32(b, 0); put32(b, 0);
    put32(b, 0xc0000200u | (10 + peer));             /* 192.0.2.(10+p) */
    put32(b, 65100 + peer);
    put32(b, 0xc0000200u | (10 + peer));
    put32(b, (uint32_t)t);
    put32(b, (uint32_t)((t - (uint32_t)t) * 1e6));
}

static void bmp_tlv(struct buf *b, uint16_t type, const char *s)
{
    put16(b, type);
    put16(b, (uint16_t)strlen(s));
    for (const char *p = s; *p; p++)
        put8(b, (uint8_t)*p);
}

/* ---- sessions ---- */

enum { C_OPEN, C_UPDATE, C_KEEPALIVE, C_NOTIFICATION, C_INIT, C_PEER_UP, C_RM, C_STATS, C_PEER_DOWN, C_TERM,
       C_PREFIXES, C_BYTES, C_N };
static const char *count_names[C_N] = { "open", "update", "keepalive", "notification", "init", "peer_up",
                                        "route_monitoring", "stats", "peer_down", "term", "prefixes", "stream_bytes" };

static void build_bgp(const struct opts *o, struct stream *s, const struct addr *src, double t, uint64_t *count)
{
    struct buf *b = s->bytes;
    uint8_t id[4] = { 10, 0, 0, 1 };
    if (src->family == AF_INET)
        memcpy(id, src->bytes, 4);
    for (unsigned i = 0; i < o->before_start; i++, t += o->interval) {
        bgp_update(b, o->asn, 1);
        end_message(s, t);
    }
    bgp_open(b, o->asn, o->hold, id);
    end_message(s, t);
    bgp_keepalive(b);
    end_message(s, t += o->interval);
    count[C_OPEN]++;
    count[C_KEEPALIVE]++;
    for (unsigned i = 0; i < o->packets; i++) {
        count[C_PREFIXES] += bgp_update(b, o->asn, o->records ? o->records : 1);
        count[C_UPDATE]++;
        end_message(s, t += o->interval);
    }
    bgp_keepalive(b);
    end_message(s, t += o->interval);
    count[C_KEEPALIVE]++;
    if (o->term) { /* the router ends the session itself */
        bgp_cease(b);
        end_message(s, t += o->interval);
        count[C_NOTIFICATION]++;
    }
}

static void build_bmp(const struct opts *o, struct stream *s, unsigned r, double t, uint64_t *count)
{
    struct buf *b = s->bytes;
    static struct buf upd;
    unsigned peers = o->peers ? o->peers : 1;
    for (unsigned i = 0; i < o->before_start; i++, t += o->interval) {
        size_t at = bmp_header(b, 0);
        bmp_peer_header(b, 0, t);
        upd.n = 0;
        bgp_update(&upd, 65100, 1);
        memcpy(b->b + b->n, upd.b, upd.n);
        b->n += upd.n;
        bmp_end(b, at);
        end_message(s, t);
    }
    size_t at = bmp_header(b, 4);
    char name[64];
    snprintf(name, sizeof name, "router-%u", r + 1);
    bmp_tlv(b, 1, "telrep gen-pcap synthetic router");
    bmp_tlv(b, 2, name);
    bmp_end(b, at);
    end_message(s, t);
    count[C_INIT]++;
    for (unsigned p = 0; p < peers; p++) {
        at = bmp_header(b, 3);
        bmp_peer_header(b, p, t);
        put32(b, 0); put32(b, 0); put32(b, 0); put32(b, 0xc0000201); /* local address */
        put16(b, 179); put16(b, (uint16_t)(30000 + p));
        uint8_t id[4] = { 192, 0, 2, 1 }, pid[4] = { 192, 0, 2, (uint8_t)(10 + p) };
        bgp_open(b, 65000, 90, id);
        bgp_open(b, 65100 + p, 90, pid);
        bmp_end(b, at);
        end_message(s, t += o->interval);
        count[C_PEER_UP]++;
    }
    for (unsigned i = 0; i < o->packets; i++) {
        at = bmp_header(b, 0);
        bmp_peer_header(b, i % peers, t);
        upd.n = 0;
        count[C_PREFIXES] += bgp_update(&upd, 65100 + i % peers, o->records ? o->records : 1);
        memcpy(b->b + b->n, upd.b, upd.n);
        b->n += upd.n;
        bmp_end(b, at);
        end_message(s, t += o->interval);
        count[C_RM]++;
    }
    for (unsigned p = 0; p < peers; p++) {
        at = bmp_header(b, 1);
        bmp_peer_header(b, p, t);
        put32(b, 2);
        put16(b, 0); put16(b, 4); put32(b, 7 * (p + 1));            /* prefixes rejected */
        put16(b, 7); put16(b, 8); put32(b, 0); put32(b, o->packets); /* routes in Adj-RIB-In */
        bmp_end(b, at);
        end_message(s, t += o->interval);
        count[C_STATS]++;
    }
    if (o->peer_down)
        for (unsigned p = 0; p < peers; p++) {
            at = bmp_header(b, 2);
            bmp_peer_header(b, p, t);
            put8(b, 4); /* remote system closed, no data */
            bmp_end(b, at);
            end_message(s, t += o->interval);
            count[C_PEER_DOWN]++;
        }
    if (o->term) {
        at = bmp_header(b, 5);
        put16(b, 1); put16(b, 2); put16(b, 0); /* reason: administratively closed */
        bmp_end(b, at);
        end_message(s, t += o->interval);
        count[C_TERM]++;
    }
}

/* Cut a router's stream into segments and add them as packets. */
static void segments(const struct opts *o, const struct stream *s, const struct addr *src, uint16_t sport,
                     uint32_t isn, double t0)
{
    struct l4 out = { .proto = 6, .sport = sport, .dport = o->dport, .seq = isn, .ack = 1000, .flags = 0x02 };
    struct l4 in = { .proto = 6, .sport = o->dport, .dport = sport, .seq = 999, .ack = isn + 1, .flags = 0x12 };
    if (o->handshake) {
        add_packet(o, t0 - 0.003, src, &o->dst, &out, NULL, 0);
        add_packet(o, t0 - 0.002, &o->dst, src, &in, NULL, 0);
        out.flags = 0x10;
        out.seq = isn + 1;
        add_packet(o, t0 - 0.001, src, &o->dst, &out, NULL, 0);
    }
    in.seq = 1000;
    in.flags = 0x18;
    if (o->replies && o->format == F_BGP) { /* the collector's OPEN and KEEPALIVE */
        static struct buf rb;
        rb.n = 0;
        uint8_t id[4] = { 192, 0, 2, 100 };
        bgp_open(&rb, 65000, 90, id);
        bgp_keepalive(&rb);
        add_packet(o, t0 + o->interval / 2, &o->dst, src, &in, rb.b, rb.n);
    }
    out.flags = 0x18;
    unsigned seg_max = o->segment ? o->segment : 1424;
    /* segment boundaries: [from, to) with a time */
    size_t n_seg = 0, cap = 64;
    size_t *from = malloc(cap * sizeof *from), *to = malloc(cap * sizeof *to);
    double *when = malloc(cap * sizeof *when);
    size_t start = 0;
    for (size_t m = 0; m < s->n; m++) {
        size_t end = s->ends[m];
        while (start < end) {
            size_t len = end - start < seg_max ? end - start : seg_max;
            if (o->pack && len < seg_max && m + 1 < s->n) /* fill the segment with what follows */
                break;
            if (n_seg == cap) {
                cap *= 2;
                from = realloc(from, cap * sizeof *from);
                to = realloc(to, cap * sizeof *to);
                when = realloc(when, cap * sizeof *when);
            }
            from[n_seg] = start;
            to[n_seg] = start + len;
            when[n_seg] = s->times[m];
            n_seg++;
            start += len;
        }
    }
    for (size_t i = 0; i < n_seg; i++) {
        size_t k = i;
        if (o->reorder_every && (i + 1) % o->reorder_every == 0 && i + 1 < n_seg)
            k = i + 1; /* this slot carries the next segment, the next slot this one */
        else if (o->reorder_every && i % o->reorder_every == 0 && i > 0)
            k = i - 1;
        if (o->drop_segment && k + 1 == o->drop_segment)
            continue;
        out.seq = isn + 1 + (uint32_t)from[k];
        add_packet(o, when[i], src, &o->dst, &out, s->bytes->b + from[k], to[k] - from[k]);
        if (o->retransmit_every && (i + 1) % o->retransmit_every == 0)
            add_packet(o, when[i] + 0.0001, src, &o->dst, &out, s->bytes->b + from[k], to[k] - from[k]);
    }
    free(from);
    free(to);
    free(when);
}

static int by_time(const void *a, const void *b)
{
    const struct packet *x = a, *y = b;
    if (x->ns != y->ns)
        return x->ns < y->ns ? -1 : 1;
    return x->order < y->order ? -1 : x->order > y->order;
}

int gen_sessions(const struct opts *o, pcap_dumper_t *d, FILE *erf)
{
    uint64_t (*counts)[C_N] = calloc(o->routers, sizeof *counts);
    for (unsigned r = 0; r < o->routers; r++) {
        struct addr src = router_addr(o, r);
        struct stream s = { .bytes = calloc(1, sizeof(struct buf)) };
        double t0 = o->start + o->interval * r / o->routers;
        if (o->format == F_BGP)
            build_bgp(o, &s, &src, t0, counts[r]);
        else
            build_bmp(o, &s, r, t0, counts[r]);
        /* sequence numbers near the wrap for odd routers: replay must not care */
        uint32_t isn = r % 2 ? 0xffffffffu - 3000u * (r + 1) : 1000000u * (r + 1);
        segments(o, &s, &src, (uint16_t)((o->sport ? o->sport : 40000) + r), isn, t0);
        counts[r][C_BYTES] = s.bytes->n;
        free(s.bytes);
        free(s.ends);
        free(s.times);
    }
    qsort(packets, n_packets, sizeof *packets, by_time);
    for (size_t i = 0; i < n_packets; i++) {
        emit(o, d, erf, packets[i].ns, packets[i].frame, packets[i].len);
        free(packets[i].frame);
    }
    printf("{\"packets\": %zu, \"routers\": {", n_packets);
    for (unsigned r = 0; r < o->routers; r++) {
        char a[ADDR_STRLEN];
        struct addr src = router_addr(o, r);
        printf("%s\"%s\": {", r ? ", " : "", addr_format(&src, a));
        bool first = true;
        for (int c = 0; c < C_N; c++)
            if (counts[r][c] || c == C_PREFIXES) {
                printf("%s\"%s\": %llu", first ? "" : ", ", count_names[c], (unsigned long long)counts[r][c]);
                first = false;
            }
        printf("}");
    }
    printf("}}\n");
    free(counts);
    free(packets);
    return 0;
}
