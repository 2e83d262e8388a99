/* timing — timing fidelity of a replay (TESTING.md): pairs each UDP datagram of the
 * original capture with the first datagram of identical payload in the capture of the
 * replay, then over consecutive pairs reports the gap error
 * |(r_i - r_{i-1}) - tf * (t_i - t_{i-1})| and the schedule offset
 * (r_i - r_0) - tf * (t_i - t_0), in microseconds, as JSON.
 * usage: timing ORIGINAL REPLAYED TIME_FACTOR */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dgrams.h"

struct stamp {
    uint64_t hash;
    int64_t ts;
};

static uint64_t fnv(const uint8_t *p, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 1099511628211ull;
    return h ^ n;
}

/* payload hash and capture time of every datagram */
static size_t load(const char *path, struct stamp **out)
{
    struct dgram *dg;
    size_t n = dgrams_load(path, &dg);
    struct stamp *v = malloc((n ? n : 1) * sizeof *v);
    for (size_t i = 0; i < n; i++)
        v[i] = (struct stamp){ fnv(dg[i].data, dg[i].len), dg[i].ts };
    dgrams_free(dg, n);
    *out = v;
    return n;
}

static int cmp_hash(const void *a, const void *b)
{
    const struct stamp *x = a, *y = b;
    if (x->hash != y->hash)
        return x->hash < y->hash ? -1 : 1;
    return x->ts < y->ts ? -1 : x->ts > y->ts;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void stats(const char *name, double *v, size_t n, int last)
{
    if (n == 0) {
        printf("\"%s\": null%s", name, last ? "" : ", ");
        return;
    }
    double sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += v[i];
    qsort(v, n, sizeof *v, cmp_double);
    printf("\"%s\": {\"mean\": %.2f, \"p50\": %.2f, \"p99\": %.2f, \"max\": %.2f}%s", name, sum / (double)n,
           v[n / 2], v[(size_t)((double)(n - 1) * 0.99)], v[n - 1], last ? "" : ", ");
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: timing ORIGINAL REPLAYED TIME_FACTOR\n");
        return 2;
    }
    double tf = atof(argv[3]);
    struct stamp *orig, *rep;
    size_t no = load(argv[1], &orig), nr = load(argv[2], &rep);
    qsort(rep, nr, sizeof *rep, cmp_hash);
    /* r[i]: arrival of original i, -1 unmatched; a replayed datagram is used once */
    int64_t *r = malloc((no ? no : 1) * sizeof *r);
    char *used = calloc(nr ? nr : 1, 1);
    size_t matched = 0;
    for (size_t i = 0; i < no; i++) {
        r[i] = -1;
        size_t lo = 0, hi = nr;
        while (lo < hi) {
            size_t mid = (lo + hi) / 2;
            if (rep[mid].hash < orig[i].hash) lo = mid + 1;
            else hi = mid;
        }
        for (; lo < nr && rep[lo].hash == orig[i].hash; lo++)
            if (!used[lo]) {
                used[lo] = 1;
                r[i] = rep[lo].ts;
                matched++;
                break;
            }
    }
    double *gap = malloc((no ? no : 1) * sizeof *gap), *off = malloc((no ? no : 1) * sizeof *off);
    size_t ng = 0, nofs = 0, first = 0;
    while (first < no && r[first] < 0)
        first++;
    double off_sum = 0;
    for (size_t i = first, prev = first; i < no; i++) {
        if (r[i] < 0)
            continue;
        double o = ((double)(r[i] - r[first]) - tf * (double)(orig[i].ts - orig[first].ts)) / 1e3;
        off[nofs++] = o;
        off_sum += o;
        if (i != first) {
            double g = ((double)(r[i] - r[prev]) - tf * (double)(orig[i].ts - orig[prev].ts)) / 1e3;
            gap[ng++] = g < 0 ? -g : g;
        }
        prev = i;
    }
    printf("{\"original\": %zu, \"matched\": %zu, ", no, matched);
    stats("gap_error_us", gap, ng, 0);
    double mean_off = nofs ? off_sum / (double)nofs : 0;
    for (size_t i = 0; i < nofs; i++)
        off[i] = off[i] < 0 ? -off[i] : off[i];
    printf("\"offset_mean_us\": %.2f, ", mean_off);
    stats("offset_abs_us", off, nofs, 1);
    printf("}\n");
    free(orig); free(rep); free(r); free(used); free(gap); free(off);
    return 0;
}
