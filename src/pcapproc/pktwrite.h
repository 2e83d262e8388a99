/* pktwrite.h — pcap-proc's output: synthetic Ethernet/IP/UDP and TCP frames with valid
 * IPv4, UDP and TCP checksums, appended to a classic pcap file (libpcap's pcap_dump). */
#ifndef TELREP_PKTWRITE_H
#define TELREP_PKTWRITE_H

#include <pcap/pcap.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "addr.h"

/* the most a frame carries: the IPv4 total length field bounds a TCP payload to 65,495 */
#define PKTWRITE_MAX_PAYLOAD (65535 - 20 - 20)

struct pktwrite {
    pcap_t *dead;
    pcap_dumper_t *dumper; /* NULL: count only (pcap-proc --summary-only) */
    uint16_t ip_id;
    uint8_t frame[14 + 40 + 20 + PKTWRITE_MAX_PAYLOAD];
    uint64_t packets, bytes;
};

struct pktwrite_flow {
    struct addr src, dst;
    uint16_t sport, dport;
    bool tcp;
    uint32_t seq, ack; /* TCP */
    uint8_t flags;     /* TCP flags; 0 = PSH|ACK */
};

/* f: the open output file (taken; closed by pktwrite_close), or NULL to count only. */
int pktwrite_open(struct pktwrite *w, FILE *f, char *err, size_t errlen);
/* One frame at ts_ns carrying payload; for TCP, fl->seq advances by len. len must be at
 * most PKTWRITE_MAX_PAYLOAD. */
int pktwrite_packet(struct pktwrite *w, struct pktwrite_flow *fl, int64_t ts_ns, const uint8_t *payload, size_t len);
/* Flush and close; 0 or -1 (a write error). */
int pktwrite_close(struct pktwrite *w);
/* RFC 1071 one's-complement sum, exposed for tests */
uint16_t pktwrite_checksum(const uint8_t *p, size_t len, uint32_t initial);

#endif
