/* stats.h — counters of a run, the progress line and the final JSON report. */
#ifndef TELREP_STATS_H
#define TELREP_STATS_H

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>

#include "addr.h"
#include "decode.h"
#include "proto/proto.h"

#define STATS_KINDS 8
#define STATS_KIND_OTHER (-2) /* the last slot, once STATS_KINDS kinds were seen */
#define STATS_UNMAPPED_KEPT 64
#define STATS_PORTS_KEPT 8
/* lag histogram: 8 buckets per power of two of nanoseconds (HDR-style, within 12.5%) */
#define STATS_LAG_SUB 8
#define STATS_LAG_BUCKETS (64 * STATS_LAG_SUB)

/* A histogram of nanosecond durations (how late, how delayed): 8 buckets per power of two. */
struct stats_hist {
    uint64_t n;
    int64_t sum_ns, max_ns;
    uint64_t b[STATS_LAG_BUCKETS];
};
void stats_hist_note(struct stats_hist *h, int64_t ns);
double stats_hist_mean_us(const struct stats_hist *h);
/* the value under which a fraction q (0..1) of the samples fall, in microseconds (the upper
 * end of its bucket: within 12.5%); 0 without samples */
double stats_hist_quantile_us(const struct stats_hist *h, double q);

/* One router x protocol. */
struct proto_stats {
    uint64_t packets, bytes;  /* sent */
    uint64_t refused;         /* UDP datagrams the collector refused (ICMP port unreachable), not in packets */
    uint64_t connect_refused; /* TCP connection attempts refused (attempts, not messages) */
    size_t last_len;          /* UDP: the last datagram sent, which a later refusal is about */
    uint64_t send_errors;     /* any other failed send */
    uint64_t malformed;       /* sent, but the plugin found the message malformed */
    uint64_t records;         /* when the protocol tells (NetFlow v5) */
    uint64_t rewritten, not_rewritten; /* rewrites asked (export_time, sequence): done, or unreadable */
    uint64_t primed;          /* messages of templates sent before an exporter's data (templates: prime) */
    struct { int kind; uint64_t count; } kinds[STATS_KINDS];
    int n_kinds, last_kind;
};

struct stats {
    uint64_t read;            /* frames read from captures */
    uint64_t sent;
    uint64_t decode[DECODE_UNKNOWN_LINK + 1]; /* by decode result (DECODE_OK unused) */
    uint64_t routed;          /* packets selected and from a mapped router: what the run is for */
    uint64_t unselected, unmapped, oversized;
    uint64_t other_shard;     /* --shard: packets of routers another shard replays */
    int64_t first_due_real_ns; /* the run's first packet was due then (realtime; 0: not waited for) */
    unsigned shard_index, shard_count; /* --shard (count 0: none): the report names it */
    uint64_t tcp_reverse;     /* segments of the collector's side of a replayed TCP session */
    uint64_t session_failures; /* TCP sessions that ended early (refused, closed, NOTIFICATION) */
    uint64_t refused, send_errors, capture_errors;
    uint64_t connect_refused; /* TCP connection attempts refused */
    uint64_t lost, incomplete; /* TCP messages, from the sessions at the end */
    const char *outcome;      /* "success", "recovered", "failed", "nothing sent" */
    /* timing, time_factor > 0 only */
    struct stats_hist lag;
    uint64_t late_1ms;
    uint64_t backward_steps;
    /* rate caps (config rate:): the packets they paced, over which span, and the wall time
     * they added between packets */
    uint64_t paced_packets, paced_bytes;
    int64_t paced_first_ns, paced_last_ns, held_ns;
    struct { struct addr ip; uint64_t packets; } unmapped_sources[STATS_UNMAPPED_KEPT];
    int n_unmapped_sources;
    /* what the unselected packets were, so that a wrong port can be named */
    struct { uint8_t ip_proto; uint16_t port; uint64_t packets; } unselected_ports[STATS_PORTS_KEPT];
    int n_unselected_ports;
    uint64_t unselected_other_ports;
    json_t *sources;          /* what each source read (source_summary), by its spec; NULL: none said */
    /* a live interface relayed (live:): frames read, those dropped for waiting longer than
     * max_delay, the kernel's drops, and each relayed frame's delay from its capture */
    struct {
        bool on;
        double max_delay;
        uint64_t frames, late, kernel_dropped;
        struct stats_hist delay;
    } live;
};

/* n messages of this kind (-1: none known) */
void stats_count_kind(struct proto_stats *ps, int kind, uint64_t n);
void stats_note_unmapped(struct stats *s, const struct addr *a);
/* An unselected packet; port: UDP the destination, TCP the lower of the two (the service's) */
void stats_note_unselected(struct stats *s, uint8_t ip_proto, uint16_t port);
/* "UDP port 2055 (1200 packets), TCP port 179 (40 packets)" into buf; "" when none */
const char *stats_unselected_text(const struct stats *s, char *buf, size_t len);
/* "192.0.2.7 (20 packets), ..." (the first few); "" when none */
const char *stats_unmapped_text(const struct stats *s, char *buf, size_t len);
void stats_note_lag(struct stats *s, int64_t lag_ns);
static inline double stats_lag_mean_us(const struct stats *s) { return stats_hist_mean_us(&s->lag); }
static inline double stats_lag_quantile_us(const struct stats *s, double q) { return stats_hist_quantile_us(&s->lag, q); }
uint64_t stats_skipped(const struct stats *s);

struct router_table;
struct config;
struct collector_config;
/* "192.0.2.10:2055" (IPv6 in brackets): a collector as configured, its first address */
const char *stats_collector_name(const struct collector_config *cc, char *buf, size_t len);
/* The final report as JSON (see docs/telrep.1, STATISTICS). 0 or -1 (logged). Written to a
 * temporary file and renamed, so a reader never sees half a report; path "-": one line on
 * stdout. */
/* sessions: a jansson array (taken) or NULL */
int stats_write_json(const struct stats *s, const struct router_table *t, const struct config *c, void *sessions,
                     const char *path);

#endif
