/* rate.h — caps on the send rate: packets per second and bits per second, for the whole run
 * and per router (config rate:). A packet of n bytes due at `at` leaves at rate_when(at), the
 * earliest instant every cap allows, and rate_take() moves the caps on from there.
 *
 * Rules: no bursts (a cap spaces packets evenly, 1/pps apart and n*8/bps after a packet of n
 * bytes); a packet a little late (under RATE_SLACK_NS, 5 ms: a busy machine's descheduled
 * moment) keeps its slot, so the average holds; a longer stall is not made up for with a
 * burst. With time_factor 0 a cap gives a steady rate; with time_factor > 0 it only delays. */
#ifndef TELREP_RATE_H
#define TELREP_RATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RATE_SLACK_NS 5000000LL

struct rate {
    double pps, bps;          /* 0: no cap */
    int64_t next_ns;          /* the next packet's earliest instant (0: none sent yet) */
};

static inline bool rate_on(const struct rate *r) { return r->pps > 0 || r->bps > 0; }
/* The earliest instant at or after at that the caps allow. */
int64_t rate_when(const struct rate *r, int64_t at);
/* A packet of bytes left at t. */
void rate_take(struct rate *r, int64_t t, size_t bytes);

#endif
