/* gen.h — shared by the capture generator's parts (gen-pcap.c: UDP telemetry and the
 * command line; gen-session.c: BGP and BMP sessions over TCP). */
#ifndef TELREP_GEN_H
#define TELREP_GEN_H

#include <pcap/pcap.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "addr.h"

enum format { F_IPFIX, F_V9, F_V5, F_UDP, F_BGP, F_BMP };
enum link { L_ETH, L_VLAN, L_QINQ, L_MPLS, L_RAW, L_SLL, L_SLL2, L_NULL };

struct opts {
    enum format format;
    enum link link;
    unsigned routers, packets, records, template_every;
    unsigned first_seq;         /* the first message's number (with --template-every: a capture that starts mid-stream) */
    struct addr src, dst;
    uint16_t dport;
    uint16_t sport;            /* the first router's source port, TCP and UDP (0: 40000) */
    double start, interval, jitter, backwards_at_fraction, backwards_by;
    const char *out;
    bool erf; /* write ERF (Ethernet records) instead of pcap */
    /* BGP / BMP sessions */
    unsigned segment;          /* largest TCP payload (default 1424) */
    bool pack;                 /* fill segments with several messages (else one message per segment) */
    bool handshake;            /* SYN, SYN-ACK, ACK before the data */
    bool replies;              /* the collector's side sends too (BGP: OPEN, KEEPALIVE) */
    unsigned peers;            /* BMP: monitored peers per router */
    uint32_t asn;              /* BGP: the router's AS (> 65535: AS_TRANS in OPEN + capability) */
    uint16_t hold;             /* BGP: hold time in the OPEN */
    unsigned before_start;     /* messages before the OPEN / INIT (to be skipped) */
    unsigned retransmit_every; /* every Nth segment is sent twice */
    unsigned reorder_every;    /* every Nth segment swaps with the next */
    unsigned drop_segment;     /* this data segment (1-based, per router) is never captured: a hole */
    bool peer_down, term;      /* BMP: end with PEER_DOWN per peer / TERM; BGP --term: a Cease */
};

/* big enough for a whole BGP/BMP session stream; only static or heap instances */
struct buf { uint8_t b[1u << 23]; size_t n; };

static inline void put8(struct buf *b, uint8_t v) { b->b[b->n++] = v; }
static inline void put16(struct buf *b, uint16_t v) { put8(b, v >> 8); put8(b, v & 0xff); }
static inline void put32(struct buf *b, uint32_t v) { put16(b, v >> 16); put16(b, v & 0xffff); }
static inline void put64(struct buf *b, uint64_t v) { put32(b, v >> 32); put32(b, v & 0xffffffff); }
static inline void set16(struct buf *b, size_t at, uint16_t v) { b->b[at] = v >> 8; b->b[at + 1] = v & 0xff; }

struct l4 {
    uint8_t proto; /* 6 TCP, 17 UDP */
    uint16_t sport, dport;
    uint32_t seq, ack;
    uint8_t flags;
};

/* link header + IP + UDP/TCP (valid checksums) around payload, into f */
void frame(const struct opts *o, struct buf *f, const struct addr *src, const struct addr *dst,
           const struct l4 *l4, const struct buf *payload);
/* the r-th router's address: o->src + r */
struct addr router_addr(const struct opts *o, unsigned r);
/* write one frame at ns (pcap or ERF, as the options say) */
void emit(const struct opts *o, pcap_dumper_t *d, FILE *erf, int64_t ns, const uint8_t *frame, size_t len);
/* BGP or BMP sessions, one per router; prints the JSON summary */
int gen_sessions(const struct opts *o, pcap_dumper_t *d, FILE *erf);

#endif
