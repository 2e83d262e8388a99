/* rate.c — see rate.h. */
#include "rate.h"

int64_t rate_when(const struct rate *r, int64_t at)
{
    return rate_on(r) && r->next_ns > at ? r->next_ns : at;
}

void rate_take(struct rate *r, int64_t t, size_t bytes)
{
    if (!rate_on(r))
        return;
    double gap = 0;
    if (r->pps > 0)
        gap = 1e9 / r->pps;
    if (r->bps > 0 && (double)bytes * 8e9 / r->bps > gap)
        gap = (double)bytes * 8e9 / r->bps;
    /* a little late keeps its slot (the average holds); later starts again from t */
    int64_t base = r->next_ns && t - r->next_ns <= RATE_SLACK_NS ? r->next_ns : t;
    if (base < r->next_ns)
        base = r->next_ns;
    r->next_ns = base + (int64_t)gap;
}
