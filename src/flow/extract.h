/* extract.h — flow-extract: the TCP conversations of captures as Mimic-style events.
 *
 * For each flow (5-tuple, IPv4 or IPv6) one CONN line and its SEND/WAIT/CLOSE events:
 *   CONN,fid,srcIP,srcport,->,dstIP,dstport,stime
 *   EVENT,fid,eid,IP,etype,bytes,rtime,stime
 * src is the initiator (the SYN's sender, else the higher port); stime is seconds since the
 * first packet of the captures, rtime seconds since the flow's previous event (0 for its
 * first). The rules are in docs/flow-extract.1. Flows are streamed: an event is written when
 * it is known, a flow's memory is freed when it ends, and the per-flow details go to a JSON
 * file written as flows end. */
#ifndef TELREP_FLOW_EXTRACT_H
#define TELREP_FLOW_EXTRACT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "flow/values.h"

struct flow_extract_options {
    double quiet_gap;     /* seconds of silence that end a SEND (default 0.5) */
    double idle_timeout;  /* seconds of trace time without a packet that end a flow (default 300) */
    size_t max_flows;     /* tracked at once; beyond, the least recently active one ends (default 1e6) */
    bool payload_only;    /* leave out flows that carried no payload either way (as Mimic's extractor does) */
    const char *const *sources; /* the captures, named in the details file */
    struct values *handshake_rtts_ms; /* if set, each flow's SYN to SYN-ACK time at the capture point */
    size_t n_sources;
};

struct flow_extract_stats {
    uint64_t packets, tcp_packets;          /* the rest: not decodable, not TCP */
    uint64_t flows, events, send_bytes;
    uint64_t flows_without_syn, retransmitted_bytes, missing_bytes;
    uint64_t out_of_window_segments; /* 1 GiB or more from their stream: not part of it */
    uint64_t flows_without_payload;  /* left out with payload_only */
    uint64_t unbalanced;  /* flows whose SENDs and the peer's WAITs disagree (a bug if ever > 0) */
};

struct flow_extract;

/* csv: the events file; meta: the JSON details (may be NULL). */
struct flow_extract *flow_extract_new(const struct flow_extract_options *o, FILE *csv, FILE *meta);
/* One captured frame (dlt: libpcap link type), in capture order. */
void flow_extract_packet(struct flow_extract *x, int dlt, const uint8_t *frame, size_t caplen, int64_t ts_ns);
/* End every flow still open (close reason "capture_end"), finish the JSON. */
void flow_extract_finish(struct flow_extract *x, struct flow_extract_stats *out);
void flow_extract_free(struct flow_extract *x);

#endif
