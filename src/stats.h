/* stats.h — counters of a run, the progress line and the final JSON report. */
#ifndef TELREP_STATS_H
#define TELREP_STATS_H

#include <stdint.h>
#include <stdio.h>

#include "addr.h"
#include "decode.h"
#include "proto/proto.h"

#define STATS_KINDS 8
#define STATS_KIND_OTHER (-2) /* the last slot, once STATS_KINDS kinds were seen */
#define STATS_UNMAPPED_KEPT 64

/* One router x protocol. */
struct proto_stats {
    uint64_t packets, bytes;  /* sent */
    uint64_t refused;         /* collector not listening (ICMP port unreachable reported) */
    uint64_t send_errors;     /* any other failed send */
    uint64_t malformed;       /* sent, but the plugin found the message malformed */
    uint64_t records;         /* when the protocol tells (NetFlow v5) */
    struct { int kind; uint64_t count; } kinds[STATS_KINDS];
    int n_kinds, last_kind;
};

struct stats {
    uint64_t read;            /* frames read from captures */
    uint64_t sent;
    uint64_t decode[DECODE_UNKNOWN_LINK + 1]; /* by decode result (DECODE_OK unused) */
    uint64_t unselected, unmapped, oversized;
    uint64_t tcp_reverse;     /* segments of the collector's side of a replayed TCP session */
    uint64_t session_failures; /* TCP sessions that ended early (refused, closed, NOTIFICATION) */
    uint64_t refused, send_errors, capture_errors;
    /* timing, time_factor > 0 only */
    uint64_t lag_samples, late_1ms;
    int64_t lag_sum_ns, lag_max_ns, lag_last_ns;
    uint64_t backward_steps;
    struct { struct addr ip; uint64_t packets; } unmapped_sources[STATS_UNMAPPED_KEPT];
    int n_unmapped_sources;
};

/* n messages of this kind (-1: none known) */
void stats_count_kind(struct proto_stats *ps, int kind, uint64_t n);
void stats_note_unmapped(struct stats *s, const struct addr *a);
void stats_note_lag(struct stats *s, int64_t lag_ns);
uint64_t stats_skipped(const struct stats *s);

struct router_table;
struct config;
/* The final report as JSON (see docs/telrep.1, STATISTICS). 0 or -1 (logged). Written to a
 * temporary file and renamed, so a reader never sees half a report. */
/* sessions: a jansson array (taken) or NULL */
int stats_write_json(const struct stats *s, const struct router_table *t, const struct config *c, void *sessions,
                     const char *path);

#endif
