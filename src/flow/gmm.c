/* gmm.c — EM for one-dimensional Gaussian mixtures, BIC for their size (gmm.h). */
#include "flow/gmm.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "flow/values.h"

int gmm_fit_k(const double *x, size_t n, unsigned k, struct gmm *out)
{
    if (!n || k < 1 || k > GMM_MAX)
        return -1;
    double *sorted = malloc(n * sizeof *sorted), *resp = malloc(n * k * sizeof *resp);
    if (!sorted || !resp) {
        free(sorted);
        free(resp);
        return -1;
    }
    memcpy(sorted, x, n * sizeof *sorted);
    qsort(sorted, n, sizeof *sorted, values_cmp);
    /* values closer than GMM_SAME of their size are one value (arithmetic leaves such noise) */
    double spread = sorted[n - 1] - sorted[0], size = fmax(fabs(sorted[0]), fabs(sorted[n - 1]));
    double floor_sigma = fmax(fmax(GMM_SIGMA_FLOOR * spread, GMM_SAME * size), 1e-12);
    if (spread <= GMM_SAME * size)
        floor_sigma = fmax(GMM_SIGMA_FLOOR * size, 1e-9);
    struct gmm g = { .k = k, .n = n };
    /* start: k equal slices of the sorted data, each its mean and spread */
    for (unsigned c = 0; c < k; c++) {
        size_t lo = n * c / k, hi = n * (c + 1) / k;
        if (hi <= lo)
            hi = lo + 1 <= n ? lo + 1 : n, lo = hi - 1;
        double s = 0, ss = 0;
        for (size_t i = lo; i < hi; i++)
            s += sorted[i];
        double m = s / (double)(hi - lo);
        for (size_t i = lo; i < hi; i++)
            ss += (sorted[i] - m) * (sorted[i] - m);
        g.mu[c] = m;
        g.sigma[c] = fmax(sqrt(ss / (double)(hi - lo)), floor_sigma);
        g.w[c] = 1.0 / k;
    }
    double prev = -DBL_MAX;
    for (g.iterations = 0; g.iterations < GMM_MAX_ITER; g.iterations++) {
        /* E: each point's responsibilities, through log-sum-exp */
        double ll = 0, base[GMM_MAX], inv[GMM_MAX];
        for (unsigned c = 0; c < k; c++) { /* what does not depend on the point, once */
            base[c] = log(g.w[c]) - log(g.sigma[c]) - 0.5 * log(2 * M_PI);
            inv[c] = 1 / g.sigma[c];
        }
        for (size_t i = 0; i < n; i++) {
            double lp[GMM_MAX], top = -DBL_MAX;
            for (unsigned c = 0; c < k; c++) {
                double z = (x[i] - g.mu[c]) * inv[c];
                lp[c] = base[c] - 0.5 * z * z;
                top = fmax(top, lp[c]);
            }
            double sum = 0;
            for (unsigned c = 0; c < k; c++)
                sum += exp(lp[c] - top);
            double lse = top + log(sum);
            ll += lse;
            for (unsigned c = 0; c < k; c++)
                resp[i * k + c] = exp(lp[c] - lse);
        }
        g.loglik = ll;
        if (ll - prev <= 1e-7 * fabs(ll) + 1e-12)
            break;
        prev = ll;
        /* M: weights, means, spreads (floored); a component that lost every point keeps its place */
        for (unsigned c = 0; c < k; c++) {
            double r = 0, s = 0;
            for (size_t i = 0; i < n; i++) {
                r += resp[i * k + c];
                s += resp[i * k + c] * x[i];
            }
            if (r < 1e-12) {
                g.w[c] = 1e-12;
                continue;
            }
            double m = s / r, ss = 0;
            for (size_t i = 0; i < n; i++)
                ss += resp[i * k + c] * (x[i] - m) * (x[i] - m);
            g.w[c] = r / (double)n;
            g.mu[c] = m;
            g.sigma[c] = fmax(sqrt(ss / r), floor_sigma);
        }
    }
    g.bic = -2 * g.loglik + (3.0 * k - 1) * log((double)n);
    /* components in order of their means: the same mixture reads the same way */
    for (unsigned a = 0; a < k; a++)
        for (unsigned b = a + 1; b < k; b++)
            if (g.mu[b] < g.mu[a]) {
                double t;
                t = g.mu[a], g.mu[a] = g.mu[b], g.mu[b] = t;
                t = g.sigma[a], g.sigma[a] = g.sigma[b], g.sigma[b] = t;
                t = g.w[a], g.w[a] = g.w[b], g.w[b] = t;
            }
    free(sorted);
    free(resp);
    *out = g;
    return 0;
}

int gmm_fit(const double *x, size_t n, unsigned kmax, struct gmm *out)
{
    if (!n || kmax < 1)
        return -1;
    if (kmax > GMM_MAX)
        kmax = GMM_MAX;
    double *sorted = malloc(n * sizeof *sorted); /* no more components than distinct values */
    if (!sorted)
        return -1;
    memcpy(sorted, x, n * sizeof *sorted);
    qsort(sorted, n, sizeof *sorted, values_cmp);
    size_t distinct = 1;
    double size = fmax(fabs(sorted[0]), fabs(sorted[n - 1]));
    for (size_t i = 1; i < n && distinct <= kmax; i++)
        distinct += sorted[i] - sorted[i - 1] > GMM_SAME * size;
    free(sorted);
    if (kmax > distinct)
        kmax = (unsigned)distinct;
    struct gmm best, g;
    if (gmm_fit_k(x, n, 1, &best) < 0)
        return -1;
    /* more components while they pay for themselves: two sizes in a row without a better BIC end it */
    for (unsigned k = 2, worse = 0; k <= kmax && worse < 2; k++) {
        if (gmm_fit_k(x, n, k, &g) == 0 && g.bic < best.bic) {
            best = g;
            worse = 0;
        } else {
            worse++;
        }
    }
    *out = best;
    return 0;
}

bool gmm_spans_decades(const double *x, size_t n)
{
    if (!n)
        return false;
    double lo = x[0], hi = x[0];
    for (size_t i = 1; i < n; i++)
        lo = fmin(lo, x[i]), hi = fmax(hi, x[i]);
    return lo > 0 && hi / lo >= GMM_LOG_SPAN;
}

int gmm_fit_auto(const double *x, size_t n, unsigned kmax, struct gmm *out)
{
    if (!n)
        return -1;
    if (!gmm_spans_decades(x, n))
        return gmm_fit(x, n, kmax, out);
    double *l = malloc(n * sizeof *l);
    if (!l)
        return -1;
    for (size_t i = 0; i < n; i++)
        l[i] = log(x[i]);
    int rc = gmm_fit(l, n, kmax, out);
    free(l);
    if (rc == 0)
        out->log_scale = true;
    return rc;
}

double gmm_uniform(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return ((double)(*s >> 11) + 0.5) / 9007199254740992.0;
}

double gmm_sample(const struct gmm *g, uint64_t *state)
{
    double u = gmm_uniform(state), acc = 0;
    unsigned c = 0;
    for (; c + 1 < g->k; c++) {
        acc += g->w[c];
        if (u < acc)
            break;
    }
    /* Box-Muller */
    double z = sqrt(-2 * log(gmm_uniform(state))) * cos(2 * M_PI * gmm_uniform(state));
    double v = g->mu[c] + g->sigma[c] * z;
    return g->log_scale ? exp(v) : v;
}

double gmm_mean(const struct gmm *g)
{
    double m = 0;
    for (unsigned c = 0; c < g->k; c++)
        m += g->w[c] * (g->log_scale ? exp(g->mu[c] + g->sigma[c] * g->sigma[c] / 2) : g->mu[c]);
    return m;
}

double gmm_pdf(const struct gmm *g, double y)
{
    double p = 0;
    for (unsigned c = 0; c < g->k; c++) {
        double z = (y - g->mu[c]) / g->sigma[c];
        p += g->w[c] * exp(-z * z / 2) / (g->sigma[c] * sqrt(2 * M_PI));
    }
    return p;
}

double gmm_cdf(const struct gmm *g, double x)
{
    if (g->log_scale) {
        if (x <= 0)
            return 0;
        x = log(x);
    }
    double p = 0;
    for (unsigned c = 0; c < g->k; c++)
        p += g->w[c] * 0.5 * erfc(-(x - g->mu[c]) / (g->sigma[c] * M_SQRT2));
    return p;
}
