/* values.c — see values.h. */
#include "flow/values.h"

#include <math.h>
#include <stdlib.h>

int values_push(struct values *x, double v)
{
    if (x->n == x->cap) {
        size_t n = x->cap ? 2 * x->cap : 64;
        double *p = realloc(x->v, n * sizeof *p);
        if (!p)
            return -1;
        x->v = p;
        x->cap = n;
    }
    x->v[x->n++] = v;
    return 0;
}

int values_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

void values_sort(struct values *x)
{
    if (x->n > 1)
        qsort(x->v, x->n, sizeof *x->v, values_cmp);
}

double values_mean(const struct values *x)
{
    double s = 0;
    for (size_t i = 0; i < x->n; i++)
        s += x->v[i];
    return x->n ? s / (double)x->n : 0;
}

double values_quantile(const double *sorted, size_t n, double p)
{
    if (!n)
        return 0;
    double r = ceil(p * (double)n);
    size_t i = r >= 1 ? (size_t)r - 1 : 0;
    return sorted[i < n ? i : n - 1];
}

void values_free(struct values *x)
{
    free(x->v);
    *x = (struct values){ 0 };
}
