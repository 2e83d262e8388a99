/* schedule.h — capture time -> wall-clock deadline.
 *
 * deadline(pkt) = start + elapsed(pkt) x time_factor, where elapsed is the capture time
 * since the first packet, accumulated gap by gap. The rule for non-monotonic captures
 * (two captures concatenated, clock steps): a step backwards counts as a zero gap, so the
 * packet goes right after its predecessor and later gaps are measured from it: no burst
 * of "overdue" packets, no stall waiting for the clock to catch up. Steps are counted. */
#ifndef TELREP_SCHEDULE_H
#define TELREP_SCHEDULE_H

#include <stdbool.h>
#include <stdint.h>

#define NS_PER_SEC 1000000000LL

struct schedule {
    double time_factor;      /* 0 = as fast as possible */
    int64_t start_ns;        /* CLOCK_MONOTONIC of the first packet's deadline */
    int64_t last_pcap_ns;    /* capture time of the previous packet */
    int64_t elapsed_pcap_ns; /* capture time since the first packet, steps back removed */
    bool started;
    uint64_t backward_steps;
    int64_t backward_ns_total;
};

void schedule_init(struct schedule *s, double time_factor);
/* The first packet: its deadline is start_ns. */
void schedule_start(struct schedule *s, int64_t start_ns, int64_t first_pcap_ns);
/* Deadline (CLOCK_MONOTONIC ns) for a packet with capture time pcap_ns. */
int64_t schedule_deadline(struct schedule *s, int64_t pcap_ns);

/* Minute sync: the earliest realtime instant >= now_real_ns whose position in the minute
 * (seconds and fraction) equals that of first_pcap_ns. */
int64_t schedule_minute_sync(int64_t now_real_ns, int64_t first_pcap_ns);

int64_t schedule_now_monotonic(void);
int64_t schedule_now_realtime(void);
/* The CLOCK_MONOTONIC instant of a CLOCK_REALTIME one (--start-at's instant, a minute sync's
 * second): the clocks' offset from the tightest of a few bracketed readings (realtime,
 * monotonic, realtime). Two single readings would be apart by any preemption between them
 * (milliseconds on a loaded machine or under sanitizers), and time 0 with them. */
int64_t schedule_monotonic_at(int64_t real_ns);
/* Waiting for a deadline is the event loop's (loop.h: loop_run), which serves the sockets
 * while it waits. */

#endif
