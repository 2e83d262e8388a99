/* stats: what the end-of-run summary says about skipped packets (the ports of unselected
 * packets, the unmapped sources), bounded however many there are; the mean lag. */
#include "testutil.h"

#include "stats.h"

static void test_unselected_ports(void **state)
{
    static struct stats s;
    memset(&s, 0, sizeof s);
    char buf[512];
    assert_string_equal(stats_unselected_text(&s, buf, sizeof buf), "");
    for (int i = 0; i < 3; i++)
        stats_note_unselected(&s, 17, 9991);
    stats_note_unselected(&s, 6, 179);
    assert_int_equal(s.unselected, 4);
    assert_string_equal(stats_unselected_text(&s, buf, sizeof buf),
                        "UDP port 9991 (3 packets), TCP port 179 (1 packets)");
    /* past the kept ports the rest is counted as other, never more memory */
    for (int p = 0; p < 20; p++)
        stats_note_unselected(&s, 17, (uint16_t)(1000 + p));
    assert_int_equal(s.n_unselected_ports, STATS_PORTS_KEPT);
    assert_int_equal(s.unselected_other_ports, 20 - (STATS_PORTS_KEPT - 2));
    assert_non_null(strstr(stats_unselected_text(&s, buf, sizeof buf), ", other ports (14 packets)"));
    /* a short buffer is cut, not overrun */
    char tiny[16];
    stats_unselected_text(&s, tiny, sizeof tiny);
    assert_int_equal(strlen(tiny), sizeof tiny - 1);
}

static void test_unmapped_sources(void **state)
{
    static struct stats s;
    memset(&s, 0, sizeof s);
    char buf[512];
    for (int i = 1; i <= 7; i++) {
        struct addr a;
        char text[32];
        snprintf(text, sizeof text, "192.0.2.%d", i);
        assert_int_equal(addr_parse(text, &a), 0);
        for (int k = 0; k < i; k++)
            stats_note_unmapped(&s, &a);
    }
    assert_int_equal(s.unmapped, 28);
    const char *t = stats_unmapped_text(&s, buf, sizeof buf);
    assert_non_null(strstr(t, "192.0.2.1 (1 packets), 192.0.2.2 (2 packets)"));
    assert_non_null(strstr(t, " and 2 more"));
    assert_null(strstr(t, "192.0.2.6"));
}

static void test_lag_mean(void **state)
{
    static struct stats s;
    memset(&s, 0, sizeof s);
    assert_true(stats_lag_mean_us(&s) == 0.0);
    stats_note_lag(&s, 1000);
    stats_note_lag(&s, 3000);
    stats_note_lag(&s, 2000000); /* the last is not the mean */
    assert_true(stats_lag_mean_us(&s) > 667.9 && stats_lag_mean_us(&s) < 668.1);
    assert_int_equal(s.late_1ms, 1);
}

/* the quantiles come from a histogram: within 12.5% of the true value, never above the max */
static void test_lag_quantiles(void **state)
{
    static struct stats s;
    memset(&s, 0, sizeof s);
    assert_true(stats_lag_quantile_us(&s, 0.99) == 0.0);
    for (int i = 1; i <= 1000; i++) /* 1 .. 1000 us */
        stats_note_lag(&s, (int64_t)i * 1000);
    double p50 = stats_lag_quantile_us(&s, 0.5), p99 = stats_lag_quantile_us(&s, 0.99);
    assert_true(p50 >= 500 && p50 <= 500 * 1.125);
    assert_true(p99 >= 990 && p99 <= 1000);
    stats_note_lag(&s, 5000000000LL); /* one of 1001 at 5 s moves p99 little, the max a lot */
    assert_true(stats_lag_quantile_us(&s, 0.99) <= 1000 * 1.125);
    assert_true(stats_lag_quantile_us(&s, 1.0) == 5000000.0);
    stats_note_lag(&s, -20); /* a sample ahead of schedule counts as 0 */
    assert_true(stats_lag_quantile_us(&s, 0.0001) == 0.0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unselected_ports),
        cmocka_unit_test(test_unmapped_sources),
        cmocka_unit_test(test_lag_mean),
        cmocka_unit_test(test_lag_quantiles),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
