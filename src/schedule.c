#include "schedule.h"

#include <math.h>
#include <time.h>

void schedule_init(struct schedule *s, double time_factor)
{
    *s = (struct schedule){ .time_factor = time_factor };
}

void schedule_start(struct schedule *s, int64_t start_ns, int64_t first_pcap_ns)
{
    s->start_ns = start_ns;
    s->last_pcap_ns = first_pcap_ns;
    s->elapsed_pcap_ns = 0;
    s->started = true;
}

int64_t schedule_deadline(struct schedule *s, int64_t pcap_ns)
{
    int64_t gap = pcap_ns - s->last_pcap_ns;
    if (gap < 0) {
        s->backward_steps++;
        s->backward_ns_total -= gap;
        gap = 0;
    }
    s->elapsed_pcap_ns += gap;
    s->last_pcap_ns = pcap_ns;
    if (s->time_factor == 0)
        return s->start_ns;
    return s->start_ns + (int64_t)llround((double)s->elapsed_pcap_ns * s->time_factor);
}

int64_t schedule_minute_sync(int64_t now_real_ns, int64_t first_pcap_ns)
{
    const int64_t minute = 60 * NS_PER_SEC;
    int64_t want = ((first_pcap_ns % minute) + minute) % minute;
    int64_t have = ((now_real_ns % minute) + minute) % minute;
    int64_t wait = want - have;
    if (wait < 0)
        wait += minute;
    return now_real_ns + wait;
}

static int64_t now_ns(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (int64_t)ts.tv_sec * NS_PER_SEC + ts.tv_nsec;
}

int64_t schedule_now_monotonic(void) { return now_ns(CLOCK_MONOTONIC); }
int64_t schedule_now_realtime(void) { return now_ns(CLOCK_REALTIME); }

int64_t schedule_monotonic_at(int64_t real_ns)
{
    int64_t best = INT64_MAX, offset = 0;
    for (int i = 0; i < 8 && best > 2000; i++) { /* 2 us apart: as close as it gets */
        int64_t r0 = now_ns(CLOCK_REALTIME), m = now_ns(CLOCK_MONOTONIC), r1 = now_ns(CLOCK_REALTIME);
        if (r1 - r0 >= 0 && r1 - r0 < best) {
            best = r1 - r0;
            offset = m - (r0 + (r1 - r0) / 2);
        }
    }
    return real_ns + offset;
}
