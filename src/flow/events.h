/* events.h — a Mimic-style events file (see flow-extract(1)) read into flows: each flow's
 * two endpoints, its start, and each side's SEND / WAIT / CLOSE events in order. */
#ifndef TELREP_FLOW_EVENTS_H
#define TELREP_FLOW_EVENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "addr.h"

/* BULK (telrep's, not Mimic's): send as fast as the connection allows for `bytes`
 * microseconds (a timed bulk flow); the other side reads what comes, without a WAIT */
enum flow_event_type { FLOW_SEND, FLOW_WAIT, FLOW_CLOSE, FLOW_BULK };

struct flow_event {
    enum flow_event_type type;
    uint64_t bytes;         /* BULK: its duration in microseconds */
    double stime;           /* seconds since the start of the trace */
};

struct flow_side {
    struct addr ip;
    uint16_t port;
    struct flow_event *ev;
    size_t n, cap;
    uint64_t send_bytes, wait_bytes;
};

struct flow_spec {
    uint64_t fid;
    double stime;           /* the CONN's */
    struct flow_side side[2]; /* [0] the client (CONN's source), [1] the server */
    unsigned line;          /* of the CONN, for messages */
};

struct flow_set {
    struct flow_spec *flows; /* sorted by start time */
    size_t n;
    uint64_t events, send_bytes;
};

/* Read and check a whole file. On error returns -1 with "file:line: what" in err. Checks:
 * 8 fields, known record types, numbers, a CONN before its flow's events, an event's IP one of
 * the flow's ends, per flow and side the SENDs equal the other side's WAITs. */
int flow_events_load(const char *path, struct flow_set *out, char *err, size_t errlen);
/* The same from memory; name labels messages. */
int flow_events_parse(const char *name, const char *text, size_t len, struct flow_set *out, char *err, size_t errlen);
void flow_set_free(struct flow_set *s);
/* Whether a set can be written as an events file: its events name their side by address, so
 * a flow whose ends share one (made-up flows with --clients reaching the server's address,
 * both ends on one loopback address) would not read back. 0, or -1 with err naming the flow. */
int flow_events_writable(const struct flow_set *s, char *err, size_t errlen);
/* Write a set as an events file, flows in order, each flow's events of both sides merged by
 * time (the file flow_events_parse() reads back to the same set). 0, or -1 (errno; EINVAL:
 * not flow_events_writable, nothing written). */
int flow_events_write(FILE *out, const struct flow_set *s);
/* Append an event to a side (its SEND / WAIT totals too); 0 or -1 (out of memory). */
int flow_side_add(struct flow_side *sd, enum flow_event_type t, uint64_t bytes, double stime);

#endif
