/* rate: packets spaced by the tighter of the packet and bit caps; a packet a little late
 * keeps the average, a long stall gives no burst; no cap, no delay. */
#include "testutil.h"

#include "rate.h"

static void test_packets_and_bits(void **state)
{
    struct rate r = { .pps = 1000 }; /* 1 ms apart */
    int64_t t = 5000000000LL;
    for (int i = 0; i < 10; i++) {
        int64_t at = rate_when(&r, t); /* everything due at once: spaced out */
        assert_int_equal(at, t + i * 1000000LL);
        rate_take(&r, at, 100);
    }
    struct rate b = { .bps = 8e6 }; /* 1 MB/s: 1000 bytes take 1 ms */
    assert_int_equal(rate_when(&b, t), t);
    rate_take(&b, t, 1000);
    assert_int_equal(rate_when(&b, t), t + 1000000);
    rate_take(&b, t + 1000000, 500);
    assert_int_equal(rate_when(&b, t), t + 1500000);
    struct rate both = { .pps = 100000, .bps = 8e6 }; /* the bit cap is tighter for 1000 bytes */
    rate_take(&both, t, 1000);
    assert_int_equal(rate_when(&both, t), t + 1000000);
}

static void test_late_and_stalled(void **state)
{
    struct rate r = { .pps = 1000 };
    int64_t t = 1000000000LL;
    rate_take(&r, t, 1);
    rate_take(&r, t + 1000000 + 300000, 1); /* 0.3 ms late: the slot is kept */
    assert_int_equal(rate_when(&r, 0), t + 2000000);
    rate_take(&r, t + 50000000, 1); /* a stall of 48 ms: no burst to make up for it */
    assert_int_equal(rate_when(&r, 0), t + 51000000);
    struct rate none = { 0 };
    assert_int_equal(rate_when(&none, 42), 42);
    rate_take(&none, 42, 1000);
    assert_int_equal(rate_when(&none, 42), 42);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_packets_and_bits),
        cmocka_unit_test(test_late_and_stalled),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
