/* gmm.h — one-dimensional Gaussian mixtures fitted by EM, the number of components chosen by
 * BIC: the flow path's traffic models (sizes, gaps, think times, ... of captured flows) are
 * made of them.
 *
 * Rules:
 * - Deterministic: the same data give the same mixture (components start at the data's
 *   quantiles; nothing is drawn at random while fitting).
 * - Robust to degenerate data: one value, a few values, repeated values. A component's
 *   standard deviation never falls below GMM_SIGMA_FLOOR of the data's spread (or of its
 *   magnitude when there is no spread), so no component collapses onto a point and the
 *   likelihood stays finite; values within GMM_SAME of their size of each other (arithmetic's
 *   noise) count as one value. No data is an error.
 * - Data that spans decades (positive, max / min >= GMM_LOG_SPAN) is fitted on a log scale
 *   (gmm_fit_auto); the mixture says so (log_scale) and samples come back on the data's scale.
 * - BIC = -2 log L + (3k - 1) ln n; the smallest wins, ties to fewer components; sizes are
 *   tried upwards until two in a row do not lower it. */
#ifndef TELREP_FLOW_GMM_H
#define TELREP_FLOW_GMM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GMM_MAX 5
#define GMM_SIGMA_FLOOR 1e-3 /* of the data's spread */
#define GMM_SAME 1e-6        /* values closer than this fraction of their size are one value */
#define GMM_LOG_SPAN 100.0
#define GMM_MAX_ITER 300

struct gmm {
    unsigned k;
    double w[GMM_MAX], mu[GMM_MAX], sigma[GMM_MAX];
    double loglik, bic;
    size_t n;
    unsigned iterations;
    bool log_scale;           /* fitted on ln(x): mu and sigma are of ln(x) */
};

/* k components on x[0..n) as they are. 0, or -1 (no data, k out of 1..GMM_MAX, out of memory). */
int gmm_fit_k(const double *x, size_t n, unsigned k, struct gmm *out);
/* 1..kmax components, the one of lowest BIC. */
int gmm_fit(const double *x, size_t n, unsigned kmax, struct gmm *out);
/* gmm_fit on ln(x) when the data spans decades, else on x. */
int gmm_fit_auto(const double *x, size_t n, unsigned kmax, struct gmm *out);
/* Whether gmm_fit_auto fits these values on a log scale (positive, spanning GMM_LOG_SPAN). */
bool gmm_spans_decades(const double *x, size_t n);
/* A uniform value in (0, 1) from a xorshift state (never 0: its state must not be 0). */
double gmm_uniform(uint64_t *state);
/* The mixture's density at y on its fitting scale (y = ln x when log_scale), and the fraction
 * of it at or below x on the data's scale. */
double gmm_pdf(const struct gmm *g, double y);
double gmm_cdf(const struct gmm *g, double x);
/* One value drawn from the mixture (on the data's scale), with the caller's xorshift state. */
double gmm_sample(const struct gmm *g, uint64_t *state);
/* The mixture's mean on the data's scale. */
double gmm_mean(const struct gmm *g);

#endif
