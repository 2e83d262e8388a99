/* values.h — a growable array of doubles, the one container of the flow path's statistics
 * (model fitting, the check mode, plots, summaries): values are pushed as flows are read,
 * then sorted for quantiles, CDFs and the KS statistic. */
#ifndef TELREP_FLOW_VALUES_H
#define TELREP_FLOW_VALUES_H

#include <stddef.h>

struct values {
    double *v;
    size_t n, cap;
};

/* 0, or -1 when memory runs out (the values so far are kept). */
int values_push(struct values *x, double v);
/* qsort's comparator for doubles, ascending. */
int values_cmp(const void *a, const void *b);
void values_sort(struct values *x);
/* 0 for none. */
double values_mean(const struct values *x);
/* The p quantile (0..1) of sorted values by the nearest-rank rule; 0 for none. */
double values_quantile(const double *sorted, size_t n, double p);
void values_free(struct values *x);

#endif
