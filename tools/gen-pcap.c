/* gen-pcap — writes synthetic telemetry captures: IPFIX, NetFlow v9, NetFlow v5 or
 * generic UDP, from N routers, for examples, tests and benchmarks. Every flow record is
 * unique (source address and port), so a collector's rows can be counted against it.
 * Prints a JSON summary (packets, records per router) on stdout. */
#include <getopt.h>
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"

#include "gen.h"

/* the fields of every template: IE id, length (IPFIX and v9 share these numbers). The flow's
 * times: v9 as routers send them, relative to sysUptime (FIRST_SWITCHED 22, LAST_SWITCHED
 * 21); IPFIX, which has no sysUptime, as absolute flowStartMilliseconds (152) and
 * flowEndMilliseconds (153), 8 bytes each, so that a collector can place its flows in time. */
static const uint16_t fields[][2] = { { 8, 4 }, { 12, 4 }, { 7, 2 }, { 11, 2 }, { 4, 1 }, { 5, 1 },
                                      { 1, 8 }, { 2, 8 }, { 22, 4 }, { 21, 4 } };
#define N_FIELDS (sizeof fields / sizeof *fields)
#define IE_FLOW_START_MILLISECONDS 152
#define IE_FLOW_END_MILLISECONDS 153

/* the flows' addresses count up from here; each format starts at its own 2^16 (see main), so
 * that captures of several formats replayed together never carry the same flow */
static uint64_t record_counter;

/* start and end: uptime milliseconds (v9, 4 bytes) or milliseconds since the epoch (IPFIX,
 * 8 bytes) */
static void flow_record(struct buf *b, bool v9, uint64_t start, uint64_t end)
{
    uint64_t i = record_counter++;
    put32(b, 0xac100000u | (uint32_t)(i >> 8 & 0xfffff) << 8 | (uint32_t)(i & 0xff)); /* 172.16/12 */
    put32(b, 0xc0000200u | (uint32_t)(i % 250 + 1));                                /* 192.0.2.x */
    put16(b, (uint16_t)(1024 + i % 60000));
    put16(b, 443);
    put8(b, 6);
    put8(b, 0);
    put64(b, 1000 + i % 5000);
    put64(b, 1 + i % 50);
    if (v9) {
        put32(b, (uint32_t)start);
        put32(b, (uint32_t)end);
    } else {
        put64(b, start);
        put64(b, end);
    }
}

static void template_set(struct buf *b, bool v9)
{
    size_t at = b->n;
    put16(b, v9 ? 0 : 2);
    put16(b, 0);
    put16(b, 256);
    put16(b, N_FIELDS);
    for (size_t f = 0; f < N_FIELDS; f++) {
        uint16_t ie = fields[f][0], len = fields[f][1];
        if (!v9 && (ie == 22 || ie == 21)) {
            ie = ie == 22 ? IE_FLOW_START_MILLISECONDS : IE_FLOW_END_MILLISECONDS;
            len = 8;
        }
        put16(b, ie);
        put16(b, len);
    }
    set16(b, at + 2, (uint16_t)(b->n - at));
}

static unsigned data_set(struct buf *b, unsigned records, bool v9, uint64_t start, uint64_t end)
{
    size_t at = b->n;
    put16(b, 256);
    put16(b, 0);
    for (unsigned r = 0; r < records; r++)
        flow_record(b, v9, start, end);
    set16(b, at + 2, (uint16_t)(b->n - at));
    return records;
}

/* One export message; returns its data records. */
static unsigned message(const struct opts *o, struct buf *b, unsigned seq, uint32_t domain, double t)
{
    uint32_t secs = (uint32_t)t, uptime_ms = 3600000 + (uint32_t)(seq * 10);
    bool with_template = seq % o->template_every == 0;
    unsigned records = o->records;
    b->n = 0;
    switch (o->format) {
    case F_IPFIX:
        put16(b, 10); put16(b, 0); put32(b, secs); put32(b, seq * records); put32(b, domain);
        if (with_template)
            template_set(b, false);
        /* a flow of a second that ended at the export */
        data_set(b, records, false, (uint64_t)secs * 1000 - 1000, (uint64_t)secs * 1000);
        set16(b, 2, (uint16_t)b->n);
        return records;
    case F_V9:
        put16(b, 9); put16(b, (uint16_t)(records + with_template)); put32(b, uptime_ms); put32(b, secs);
        put32(b, seq); put32(b, domain);
        if (with_template)
            template_set(b, true);
        data_set(b, records, true, uptime_ms - 1000, uptime_ms);
        return records;
    case F_V5:
        if (records > 30)
            records = 30;
        put16(b, 5); put16(b, (uint16_t)records); put32(b, uptime_ms); put32(b, secs);
        put32(b, (uint32_t)((t - secs) * 1e9)); put32(b, seq * records); put8(b, 0); put8(b, (uint8_t)domain);
        put16(b, 0);
        for (unsigned r = 0; r < records; r++) {
            uint64_t i = record_counter++;
            put32(b, 0xac100000u | (uint32_t)(i >> 8 & 0xfffff) << 8 | (uint32_t)(i & 0xff));
            put32(b, 0xc0000200u | (uint32_t)(i % 250 + 1));
            put32(b, 0); put16(b, 1); put16(b, 2);
            put32(b, (uint32_t)(1 + i % 50)); put32(b, (uint32_t)(1000 + i % 5000));
            put32(b, uptime_ms - 1000); put32(b, uptime_ms);
            put16(b, (uint16_t)(1024 + i % 60000)); put16(b, 443);
            put8(b, 0); put8(b, 0x18); put8(b, 6); put8(b, 0);
            put16(b, 0); put16(b, 0); put8(b, 24); put8(b, 24); put16(b, 0);
        }
        return records;
    case F_UDP:
        for (unsigned i = 0; i < 64 + records; i++)
            put8(b, (uint8_t)(seq + i));
        return 0;
    case F_BGP: case F_BMP: /* gen-session.c */
        break;
    }
    return 0;
}

static uint32_t sum16(const uint8_t *p, size_t n, uint32_t s)
{
    for (size_t i = 0; i + 1 < n; i += 2)
        s += (uint32_t)p[i] << 8 | p[i + 1];
    if (n & 1)
        s += (uint32_t)p[n - 1] << 8;
    return s;
}

static uint16_t fold(uint32_t s)
{
    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
    return (uint16_t)~s;
}

/* link header + IP + UDP or TCP around payload */
void frame(const struct opts *o, struct buf *f, const struct addr *src, const struct addr *dst,
           const struct l4 *l4, const struct buf *payload)
{
    bool v6 = src->family == AF_INET6;
    uint16_t ethertype = v6 ? 0x86dd : 0x0800;
    f->n = 0;
    switch (o->link) {
    case L_ETH: case L_VLAN: case L_QINQ: case L_MPLS:
        for (int i = 0; i < 6; i++) put8(f, (uint8_t)(0x02 + i));
        for (int i = 0; i < 6; i++) put8(f, (uint8_t)(0x12 + i));
        if (o->link == L_QINQ) { put16(f, 0x88a8); put16(f, 100); }
        if (o->link == L_VLAN || o->link == L_QINQ) { put16(f, 0x8100); put16(f, 200); }
        if (o->link == L_MPLS) { put16(f, 0x8847); put32(f, 16000u << 12 | 0x100 | 64); }
        else put16(f, ethertype);
        break;
    case L_SLL:
        put16(f, 4); put16(f, 1); put16(f, 6); for (int i = 0; i < 8; i++) put8(f, (uint8_t)i); put16(f, ethertype);
        break;
    case L_SLL2:
        put16(f, ethertype); put16(f, 0); put32(f, 1); put16(f, 1); put8(f, 4); put8(f, 6);
        for (int i = 0; i < 8; i++) put8(f, (uint8_t)i);
        break;
    case L_NULL: {
        uint32_t fam = v6 ? 30 : 2; /* host byte order, as BSD writes it */
        memcpy(f->b + f->n, &fam, 4);
        f->n += 4;
        break;
    }
    case L_RAW:
        break;
    }
    bool tcp = l4->proto == 6;
    size_t ip = f->n, l4_len = (tcp ? 20 : 8) + payload->n;
    if (!v6) {
        put8(f, 0x45); put8(f, 0); put16(f, (uint16_t)(20 + l4_len)); put16(f, 0); put16(f, 0x4000);
        put8(f, 64); put8(f, l4->proto); put16(f, 0);
        for (int i = 0; i < 4; i++) put8(f, src->bytes[i]);
        for (int i = 0; i < 4; i++) put8(f, dst->bytes[i]);
        set16(f, ip + 10, fold(sum16(f->b + ip, 20, 0)));
    } else {
        put32(f, 0x60000000); put16(f, (uint16_t)l4_len); put8(f, l4->proto); put8(f, 64);
        for (int i = 0; i < 16; i++) put8(f, src->bytes[i]);
        for (int i = 0; i < 16; i++) put8(f, dst->bytes[i]);
    }
    size_t l4_at = f->n, csum_at;
    if (tcp) {
        put16(f, l4->sport); put16(f, l4->dport); put32(f, l4->seq); put32(f, l4->ack);
        put8(f, 5 << 4); put8(f, l4->flags); put16(f, 65535); put16(f, 0); put16(f, 0);
        csum_at = l4_at + 16;
    } else {
        put16(f, l4->sport); put16(f, l4->dport); put16(f, (uint16_t)l4_len); put16(f, 0);
        csum_at = l4_at + 6;
    }
    memcpy(f->b + f->n, payload->b, payload->n);
    f->n += payload->n;
    /* checksum over the pseudo header */
    size_t alen = v6 ? 16 : 4;
    uint32_t s = sum16(src->bytes, alen, 0);
    s = sum16(dst->bytes, alen, s);
    s += l4->proto + (uint32_t)l4_len;
    s = sum16(f->b + l4_at, l4_len, s);
    uint16_t c = fold(s);
    set16(f, csum_at, c || tcp ? c : 0xffff);
}

/* One ERF record: type 2 (Ethernet), 2 bytes of offset/pad before the frame. */
static void erf_record(FILE *f, int64_t ns, const uint8_t *frame_bytes, size_t len)
{
    uint64_t ts = (uint64_t)(ns / 1000000000) << 32 | (uint64_t)(((ns % 1000000000) << 32) / 1000000000);
    uint16_t rlen = (uint16_t)(16 + 2 + len);
    uint8_t h[18] = { 0 };
    for (int i = 0; i < 8; i++)
        h[i] = (uint8_t)(ts >> (8 * i)); /* little-endian */
    h[8] = 2;
    h[10] = rlen >> 8; h[11] = rlen & 0xff;
    h[14] = (uint8_t)(len >> 8); h[15] = len & 0xff;
    fwrite(h, 1, sizeof h, f);
    fwrite(frame_bytes, 1, len, f);
}

struct addr router_addr(const struct opts *o, unsigned r)
{
    struct addr a = o->src;
    unsigned carry = r;
    for (int k = (a.family == AF_INET ? 3 : 15); k >= 0 && carry; k--) {
        unsigned v = a.bytes[k] + (carry & 0xff);
        a.bytes[k] = (uint8_t)v;
        carry = (carry >> 8) + (v >> 8);
    }
    return a;
}

void emit(const struct opts *o, pcap_dumper_t *d, FILE *erf, int64_t ns, const uint8_t *frame_bytes, size_t len)
{
    if (erf) {
        erf_record(erf, ns, frame_bytes, len);
        return;
    }
    struct pcap_pkthdr h = { .caplen = (bpf_u_int32)len, .len = (bpf_u_int32)len };
    h.ts.tv_sec = (time_t)(ns / 1000000000);
    h.ts.tv_usec = (suseconds_t)(ns % 1000000000); /* nanoseconds: the dumper is nano */
    pcap_dump((u_char *)d, &h, frame_bytes);
}

static int link_dlt(enum link l)
{
    switch (l) {
    case L_RAW: return DLT_RAW;
    case L_SLL: return DLT_LINUX_SLL;
    case L_SLL2: return DLT_LINUX_SLL2;
    case L_NULL: return DLT_NULL;
    default: return DLT_EN10MB;
    }
}

static void usage(void)
{
    fprintf(stderr,
        "usage: gen-pcap -o OUT.pcap [--format ipfix|v9|v5|udp] [--routers N] [--packets N] [--records N]\n"
        "               [--src IP] [--dst IP] [--dport P] [--start EPOCH] [--interval S] [--jitter S]\n"
        "               [--link eth|vlan|qinq|mpls|raw|sll|sll2|null] [--template-every N]\n"
        "               [--first-seq N (the first message's number: with --template-every, a capture\n"
        "                that starts after its template)]\n"
        "               [--backwards-at FRACTION --backwards-by S] [--erf]\n"
        "       gen-pcap -o OUT.pcap --format bgp|bmp [--routers N] [--packets N (UPDATEs / route monitoring)]\n"
        "               [--records N (prefixes each)] [--peers N] [--asn AS] [--hold S] [--segment BYTES] [--pack]\n"
        "               [--handshake] [--replies] [--before-start N] [--retransmit-every N] [--reorder-every N]\n"
        "               [--drop-segment N] [--peer-down] [--term (BMP TERM; BGP: the router's Cease)]\n"
        "               [--sport P (the first router's source port, TCP and UDP; the next ones count up)]\n"
        "Routers get consecutive source addresses from --src; packets go round-robin over them.\n"
        "Prints a JSON summary: per router, the messages by type (and prefixes) a collector should see.\n");
}

int main(int argc, char **argv)
{
    struct opts o = { .format = F_IPFIX, .routers = 1, .packets = 10, .records = 5, .template_every = 50,
                      .dport = 9991, .start = 1672534805, .interval = 0.1,
                      .segment = 1424, .peers = 2, .asn = 65001, .hold = 90 };
    addr_parse("10.0.0.1", &o.src);
    addr_parse("192.0.2.100", &o.dst);
    static const struct option lo[] = {
        { "format", 1, 0, 'f' }, { "routers", 1, 0, 'r' }, { "packets", 1, 0, 'n' }, { "records", 1, 0, 'R' },
        { "src", 1, 0, 's' }, { "dst", 1, 0, 'D' }, { "dport", 1, 0, 'p' }, { "start", 1, 0, 'S' },
        { "interval", 1, 0, 'i' }, { "jitter", 1, 0, 'j' }, { "link", 1, 0, 'l' }, { "out", 1, 0, 'o' },
        { "template-every", 1, 0, 'T' }, { "erf", 0, 0, 'E' }, { "backwards-at", 1, 0, 'b' }, { "backwards-by", 1, 0, 'B' },
        { "segment", 1, 0, 1000 }, { "pack", 0, 0, 1001 }, { "handshake", 0, 0, 1002 }, { "replies", 0, 0, 1003 },
        { "peers", 1, 0, 1004 }, { "asn", 1, 0, 1005 }, { "hold", 1, 0, 1006 }, { "before-start", 1, 0, 1007 },
        { "retransmit-every", 1, 0, 1008 }, { "reorder-every", 1, 0, 1009 }, { "drop-segment", 1, 0, 1010 },
        { "peer-down", 0, 0, 1011 }, { "term", 0, 0, 1012 }, { "sport", 1, 0, 1013 }, { "first-seq", 1, 0, 1014 }, { 0 } };
    int c;
    bool dport_given = false;
    while ((c = getopt_long(argc, argv, "o:", lo, NULL)) != -1) {
        switch (c) {
        case 'f':
            o.format = !strcmp(optarg, "v9") ? F_V9 : !strcmp(optarg, "v5") ? F_V5 : !strcmp(optarg, "udp") ? F_UDP
                     : !strcmp(optarg, "bgp") ? F_BGP : !strcmp(optarg, "bmp") ? F_BMP : F_IPFIX;
            break;
        case 'r': o.routers = (unsigned)atoi(optarg); break;
        case 'n': o.packets = (unsigned)atoi(optarg); break;
        case 'R': o.records = (unsigned)atoi(optarg); break;
        case 's': if (addr_parse(optarg, &o.src) < 0) { usage(); return 2; } break;
        case 'D': if (addr_parse(optarg, &o.dst) < 0) { usage(); return 2; } break;
        case 'p': o.dport = (uint16_t)atoi(optarg); dport_given = true; break;
        case 'S': o.start = atof(optarg); break;
        case 'i': o.interval = atof(optarg); break;
        case 'j': o.jitter = atof(optarg); break;
        case 'T': o.template_every = (unsigned)atoi(optarg); break;
        case 'b': o.backwards_at_fraction = atof(optarg); break;
        case 'B': o.backwards_by = atof(optarg); break;
        case 'l': {
            const char *names[] = { "eth", "vlan", "qinq", "mpls", "raw", "sll", "sll2", "null" };
            int found = -1;
            for (int i = 0; i < 8; i++)
                if (!strcmp(optarg, names[i]))
                    found = i;
            if (found < 0) { usage(); return 2; }
            o.link = (enum link)found;
            break;
        }
        case 'o': o.out = optarg; break;
        case 'E': o.erf = true; break;
        case 1000: o.segment = (unsigned)atoi(optarg); break;
        case 1001: o.pack = true; break;
        case 1002: o.handshake = true; break;
        case 1003: o.replies = true; break;
        case 1004: o.peers = (unsigned)atoi(optarg); break;
        case 1005: o.asn = (uint32_t)strtoul(optarg, NULL, 10); break;
        case 1006: o.hold = (uint16_t)atoi(optarg); break;
        case 1007: o.before_start = (unsigned)atoi(optarg); break;
        case 1008: o.retransmit_every = (unsigned)atoi(optarg); break;
        case 1009: o.reorder_every = (unsigned)atoi(optarg); break;
        case 1010: o.drop_segment = (unsigned)atoi(optarg); break;
        case 1011: o.peer_down = true; break;
        case 1012: o.term = true; break;
        case 1013: o.sport = (uint16_t)atoi(optarg); break;
        case 1014: o.first_seq = (unsigned)atoi(optarg); break;
        default: usage(); return 2;
        }
    }
    if (!o.out || o.routers == 0 || o.routers > 65000 || o.template_every == 0 || o.src.family != o.dst.family) {
        usage();
        return 2;
    }
    if (!dport_given && (o.format == F_BGP || o.format == F_BMP))
        o.dport = o.format == F_BGP ? 179 : 1790;
    record_counter = (uint64_t)o.format << 16;
    if (o.erf && o.link != L_ETH) {
        usage();
        return 2;
    }
    pcap_t *dead = pcap_open_dead_with_tstamp_precision(link_dlt(o.link), 262144, PCAP_TSTAMP_PRECISION_NANO);
    pcap_dumper_t *d = o.erf ? NULL : pcap_dump_open(dead, o.out);
    FILE *erf = o.erf ? fopen(o.out, "wb") : NULL;
    if (!d && !erf) {
        fprintf(stderr, "gen-pcap: %s\n", pcap_geterr(dead));
        return 1;
    }
    if (o.format == F_BGP || o.format == F_BMP) {
        int rc = gen_sessions(&o, d, erf);
        if (d)
            pcap_dump_close(d);
        if (erf)
            fclose(erf);
        pcap_close(dead);
        return rc;
    }
    static struct buf payload, f;
    uint64_t *per_router = calloc(o.routers, sizeof *per_router);
    unsigned *seq = calloc(o.routers, sizeof *seq);
    for (unsigned r = 0; seq && r < o.routers; r++)
        seq[r] = o.first_seq;
    uint64_t total = 0, rng = 88172645463325252ull;
    double t = o.start;
    unsigned back_at = (unsigned)(o.backwards_at_fraction * o.packets);
    for (unsigned i = 0; i < o.packets; i++) {
        unsigned r = i % o.routers;
        struct addr src = router_addr(&o, r);
        unsigned n = message(&o, &payload, seq[r]++, 1000 + r, t);
        per_router[r] += n;
        total += n;
        struct l4 udp = { .proto = 17, .sport = o.sport ? (uint16_t)(o.sport + r) : 40000, .dport = o.dport };
        frame(&o, &f, &src, &o.dst, &udp, &payload);
        emit(&o, d, erf, (int64_t)(t * 1e9 + 0.5), f.b, f.n);
        rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17; /* xorshift: reproducible jitter */
        t += o.interval + (o.jitter > 0 ? o.jitter * (double)(rng % 1000000) / 1e6 : 0);
        if (back_at && i + 1 == back_at)
            t -= o.backwards_by;
    }
    if (d)
        pcap_dump_close(d);
    if (erf)
        fclose(erf);
    pcap_close(dead);
    printf("{\"packets\": %u, \"records\": %llu, \"routers\": {", o.packets, (unsigned long long)total);
    for (unsigned r = 0; r < o.routers; r++) {
        struct addr src = router_addr(&o, r);
        char a[ADDR_STRLEN];
        printf("%s\"%s\": %llu", r ? ", " : "", addr_format(&src, a), (unsigned long long)per_router[r]);
    }
    printf("}}\n");
    free(per_router);
    free(seq);
    return 0;
}
