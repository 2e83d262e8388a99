/* events.h — what a run says to a harness while it happens (telrep --events FILE): one JSON
 * object per line, each line written whole and flushed, so that a test can follow the file
 * (tail -f, or read it after the run) instead of polling logs and sleeping.
 *
 * Every line has "time" (RFC 3339, UTC, microseconds) and "event"; the others (telrep(1),
 * EVENTS, lists their fields):
 *   run_start        routers, sessions_max, shard
 *   capture_start    capture, play, plays, pass
 *   capture_end      capture, packets
 *   loop_pass        pass
 *   session_connected  router, repro_ip, protocol, collector, reconnect (bool)
 *   collector_open   the same and as, hold_time, bgp_id (BGP: the collector's OPEN)
 *   notification     the same and code, subcode, name (received from the collector)
 *   session_down     the same and reason, retry (bool: it will reconnect)
 *   collector_refused   router, repro_ip, protocol, collector (UDP: its first refusal; TCP:
 *                    a refused connection attempt after a connection or at the start)
 *   collector_recovered the same (TCP: connected again after a loss or refusals)
 *   ready            routers, sessions, failed (the first packet went and each session the
 *                    captures hold was established once, or failed for good: --ready)
 *   replayed         sent, lost, keep_open (every capture played, the queues drained)
 *   done             outcome, sent, refused, lost, exit_status
 * Nothing is written when no file was opened; a line that cannot be written is dropped once
 * said (the run goes on). */
#ifndef TELREP_EVENTS_H
#define TELREP_EVENTS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* 0, or -1 with a message. */
int events_open(const char *path, char *err, size_t errlen);
void events_close(void);
bool events_on(void);
/* One line: event `name` with the fields of an object (taken; NULL: none). Build it with
 * json_pack() only when events_on(): a run without --events pays nothing. */
void events_emit(const char *name, json_t *fields);

#endif
