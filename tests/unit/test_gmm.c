/* test_gmm — EM on known mixtures (parameters recovered, BIC picks the size), degenerate data
 * (one value, two values, heavy tails, none), the log scale, sampling, density and CDF. */
#include "testutil.h"

#include <math.h>

#include "flow/gmm.h"

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static double u01(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return ((double)(rng >> 11) + 0.5) / 9007199254740992.0;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double normal(double mu, double sigma)
{
    return mu + sigma * sqrt(-2 * log(u01())) * cos(2 * M_PI * u01());
}

/* 0.3 N(10, 1) + 0.7 N(50, 5): two components, each recovered */
static void test_two_components(void **state)
{
    enum { N = 2500 };
    static double x[N];
    for (size_t i = 0; i < N; i++)
        x[i] = u01() < 0.3 ? normal(10, 1) : normal(50, 5);
    struct gmm g;
    assert_int_equal(gmm_fit(x, N, 5, &g), 0);
    assert_int_equal(g.k, 2);
    assert_true(fabs(g.w[0] - 0.3) < 0.02 && fabs(g.w[1] - 0.7) < 0.02);
    assert_true(fabs(g.mu[0] - 10) < 0.1 && fabs(g.mu[1] - 50) < 0.3);
    assert_true(fabs(g.sigma[0] - 1) < 0.1 && fabs(g.sigma[1] - 5) < 0.3);
    assert_false(g.log_scale);
    /* the same data, the same mixture */
    struct gmm h;
    assert_int_equal(gmm_fit(x, N, 5, &h), 0);
    assert_memory_equal(&g, &h, sizeof g);
    /* one component is a worse fit by BIC */
    struct gmm one;
    assert_int_equal(gmm_fit_k(x, N, 1, &one), 0);
    assert_true(one.bic > g.bic);
}

static void test_one_component(void **state)
{
    enum { N = 2000 };
    static double x[N];
    for (size_t i = 0; i < N; i++)
        x[i] = normal(-3, 2);
    struct gmm g;
    assert_int_equal(gmm_fit(x, N, 5, &g), 0);
    assert_int_equal(g.k, 1);
    assert_true(fabs(g.mu[0] + 3) < 0.1 && fabs(g.sigma[0] - 2) < 0.1);
}

/* degenerate: every value the same; two values; no values */
static void test_degenerate(void **state)
{
    double same[100];
    for (int i = 0; i < 100; i++)
        same[i] = 1460;
    struct gmm g;
    assert_int_equal(gmm_fit(same, 100, 5, &g), 0);
    assert_int_equal(g.k, 1);
    assert_true(g.mu[0] == 1460);
    assert_true(g.sigma[0] > 0 && g.sigma[0] < 2);
    assert_true(isfinite(g.loglik) && isfinite(g.bic));
    double two[200];
    for (int i = 0; i < 200; i++)
        two[i] = i % 2 ? 100 : 1;
    assert_int_equal(gmm_fit(two, 200, 5, &g), 0);
    assert_int_equal(g.k, 2);
    assert_true(fabs(g.mu[0] - 1) < 1e-6 && fabs(g.mu[1] - 100) < 1e-6);
    assert_true(fabs(g.w[0] - 0.5) < 1e-6);
    assert_int_equal(gmm_fit(two, 0, 5, &g), -1);
    assert_int_equal(gmm_fit_k(two, 200, 0, &g), -1);
    assert_int_equal(gmm_fit_k(two, 200, 6, &g), -1);
    double noisy[300], t = 0; /* 0.02 summed and differenced: one value and its rounding */
    for (int i = 0; i < 300; i++) {
        double next = t + 0.02;
        noisy[i] = next - t;
        t = next;
    }
    assert_int_equal(gmm_fit(noisy, 300, 5, &g), 0);
    assert_int_equal(g.k, 1);
    assert_true(fabs(g.mu[0] - 0.02) < 1e-12);
    double one = 7;
    assert_int_equal(gmm_fit(&one, 1, 5, &g), 0);
    assert_int_equal(g.k, 1);
}

/* heavy tails over decades (lognormal sizes): fitted on the log scale, mean and samples right */
static void test_log_scale(void **state)
{
    enum { N = 2500 };
    static double x[N];
    double sum = 0;
    for (size_t i = 0; i < N; i++)
        sum += x[i] = exp(normal(7, 1.5));
    struct gmm g;
    assert_int_equal(gmm_fit_auto(x, N, 5, &g), 0);
    assert_true(g.log_scale);
    assert_int_equal(g.k, 1);
    assert_true(fabs(g.mu[0] - 7) < 0.05 && fabs(g.sigma[0] - 1.5) < 0.05);
    double mean = sum / N;
    assert_true(fabs(gmm_mean(&g) - mean) / mean < 0.1);
    uint64_t s = 1;
    double drawn = 0;
    for (size_t i = 0; i < N; i++) {
        double v = gmm_sample(&g, &s);
        assert_true(v > 0);
        drawn += v;
    }
    assert_true(fabs(drawn / N - mean) / mean < 0.1);
    /* data that does not span decades stays on its scale */
    double y[] = { 10, 11, 12, 13, 14, 15 };
    assert_int_equal(gmm_fit_auto(y, 6, 5, &g), 0);
    assert_false(g.log_scale);
}

/* a heavier tail than any lognormal (Pareto, alpha 1.2: no variance): a finite fit on the log
 * scale whose samples keep the data's median and upper quartile */
static void test_heavy_tail(void **state)
{
    enum { N = 4000 };
    static double x[N], y[N];
    for (size_t i = 0; i < N; i++)
        x[i] = 100 * pow(u01(), -1 / 1.2);
    struct gmm g;
    assert_int_equal(gmm_fit_auto(x, N, 5, &g), 0);
    assert_true(g.log_scale);
    assert_true(g.k >= 1 && g.k <= 5 && isfinite(g.bic));
    uint64_t s = 3;
    for (size_t i = 0; i < N; i++)
        y[i] = gmm_sample(&g, &s);
    qsort(x, N, sizeof *x, cmp);
    qsort(y, N, sizeof *y, cmp);
    assert_true(fabs(y[N / 2] / x[N / 2] - 1) < 0.1);
    assert_true(fabs(y[3 * N / 4] / x[3 * N / 4] - 1) < 0.15);
}

/* BIC picks the size: 1 for one normal, 3 for three well-apart ones, and never more
 * components than distinct values */
static void test_bic_choice(void **state)
{
    enum { N = 3000 };
    static double x[N];
    for (size_t i = 0; i < N; i++)
        x[i] = i % 3 == 0 ? normal(0, 1) : i % 3 == 1 ? normal(20, 1) : normal(40, 2);
    struct gmm g;
    assert_int_equal(gmm_fit(x, N, 5, &g), 0);
    assert_int_equal(g.k, 3);
    struct gmm k2, k3;
    assert_int_equal(gmm_fit_k(x, N, 2, &k2), 0);
    assert_int_equal(gmm_fit_k(x, N, 3, &k3), 0);
    assert_true(k2.bic > k3.bic);
    assert_true(fabs(g.bic - k3.bic) < 1e-9);
    double three[30];
    for (int i = 0; i < 30; i++)
        three[i] = i % 3;
    assert_int_equal(gmm_fit(three, 30, 5, &g), 0);
    assert_int_equal(g.k, 3);
}

/* the density integrates to 1 and the CDF is its integral, on both scales */
static void test_pdf_cdf(void **state)
{
    struct gmm g = { .k = 2, .w = { 0.25, 0.75 }, .mu = { 0, 10 }, .sigma = { 1, 2 } };
    double area = 0;
    for (double y = -10; y < 30; y += 0.01)
        area += gmm_pdf(&g, y) * 0.01;
    assert_true(fabs(area - 1) < 1e-3);
    assert_true(fabs(gmm_cdf(&g, 0) - (0.125 + 0.75 * 0.5 * erfc(10 / (2 * M_SQRT2)))) < 1e-12);
    assert_true(gmm_cdf(&g, -100) < 1e-12 && gmm_cdf(&g, 100) > 1 - 1e-12);
    g.log_scale = true; /* ln x ~ the same mixture */
    assert_true(gmm_cdf(&g, -1) == 0 && gmm_cdf(&g, 0) == 0);
    assert_true(fabs(gmm_cdf(&g, 1) - (0.125 + 0.75 * 0.5 * erfc(10 / (2 * M_SQRT2)))) < 1e-12);
    assert_false(gmm_spans_decades((double[]){ 1, 50 }, 2));
    assert_true(gmm_spans_decades((double[]){ 1, 100 }, 2));
    assert_false(gmm_spans_decades((double[]){ 0, 1000 }, 2));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_two_components),
        cmocka_unit_test(test_one_component),
        cmocka_unit_test(test_degenerate),
        cmocka_unit_test(test_log_scale),
        cmocka_unit_test(test_heavy_tail),
        cmocka_unit_test(test_bic_choice),
        cmocka_unit_test(test_pdf_cdf),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
