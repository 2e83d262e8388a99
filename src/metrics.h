/* metrics.h — the run's counters in the Prometheus text exposition format (version 0.0.4),
 * for harnesses and dashboards (telrep --metrics FILE, --metrics-listen [ADDR:]PORT).
 *
 * Rules:
 * - The file is written whole to FILE.tmp and renamed, as node_exporter's textfile
 *   collector wants (it must end in .prom there), every interval and once at the end.
 * - GET /metrics is served by libmicrohttpd on the run's one event loop (its epoll
 *   descriptor is one more loop_io): each scrape renders the counters of that moment; no
 *   thread, no copy of the counters.
 * - Per router (src_ip, repro_ip), protocol and collector, counters:
 *     telrep_messages_total   UDP datagrams sent; TCP messages delivered (acknowledged)
 *     telrep_bytes_total      their bytes
 *     telrep_refused_total    UDP datagrams refused; TCP connection attempts refused
 *     telrep_lost_total       TCP messages lost; UDP sends that failed
 *   for the run: telrep_packets_read_total, telrep_skipped_packets_total{reason},
 *   telrep_lag_seconds (a summary: quantiles 0.5 and 0.99, sum, count), telrep_sessions
 *   {protocol, state} (a gauge), telrep_info{version, shard}, telrep_done (1 once over).
 * - A label value is escaped as the format says (backslash, quote, newline). */
#ifndef TELREP_METRICS_H
#define TELREP_METRICS_H

#include <stdbool.h>
#include <stddef.h>

struct engine;
struct metrics;

/* path: the file (NULL: none); listen: "[ADDR:]PORT" to serve (NULL: none; PORT alone:
 * every address). NULL with a message on failure. */
struct metrics *metrics_new(struct engine *e, const char *path, const char *listen, double interval_s, char *err,
                            size_t errlen);
/* Write the file if the interval passed (or now: force). Cheap between packets. */
void metrics_tick(struct metrics *m, bool force);
/* The run is over: telrep_done 1, the file written a last time. */
void metrics_done(struct metrics *m);
void metrics_free(struct metrics *m);
/* The exposition text of the engine's counters now, malloc'd (*len its length). */
char *metrics_render(struct engine *e, bool done, size_t *len);

#endif
