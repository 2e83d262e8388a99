/* schedule: time_factor arithmetic, minute sync, backwards capture time, precise sleep. */
#include "testutil.h"

#include <stdlib.h>

#include "schedule.h"

#define MS 1000000LL

static void test_time_factor(void **state)
{
    struct schedule s;
    schedule_init(&s, 2.0);
    schedule_start(&s, 1000 * MS, 50 * NS_PER_SEC);
    assert_int_equal(schedule_deadline(&s, 50 * NS_PER_SEC), 1000 * MS);
    assert_int_equal(schedule_deadline(&s, 50 * NS_PER_SEC + 10 * MS), 1020 * MS);
    assert_int_equal(schedule_deadline(&s, 51 * NS_PER_SEC), 3000 * MS);

    schedule_init(&s, 0.01);
    schedule_start(&s, 0, 0);
    assert_int_equal(schedule_deadline(&s, 100 * NS_PER_SEC), NS_PER_SEC);

    schedule_init(&s, 0); /* as fast as possible: every deadline is now */
    schedule_start(&s, 7, 0);
    assert_int_equal(schedule_deadline(&s, 100 * NS_PER_SEC), 7);
}

static void test_backwards_is_a_zero_gap(void **state)
{
    struct schedule s;
    schedule_init(&s, 1.0);
    schedule_start(&s, 0, 100 * NS_PER_SEC);
    assert_int_equal(schedule_deadline(&s, 101 * NS_PER_SEC), NS_PER_SEC);
    /* two captures concatenated: time jumps 60 s back; the packet goes right away */
    assert_int_equal(schedule_deadline(&s, 41 * NS_PER_SEC), NS_PER_SEC);
    /* and the gaps after it are kept */
    assert_int_equal(schedule_deadline(&s, 41 * NS_PER_SEC + 500 * MS), 1500 * MS);
    assert_int_equal(s.backward_steps, 1);
    assert_int_equal(s.backward_ns_total, 60 * NS_PER_SEC);
}

static void test_minute_sync(void **state)
{
    /* first packet at second 5.25 of its minute */
    int64_t first = 1672534805LL * NS_PER_SEC + 250 * MS;
    int64_t now = 1700000000LL * NS_PER_SEC; /* second 20 of a minute */
    int64_t at = schedule_minute_sync(now, first);
    assert_int_equal(at % (60 * NS_PER_SEC), 5 * NS_PER_SEC + 250 * MS);
    assert_true(at >= now && at - now < 60 * NS_PER_SEC);
    assert_int_equal(at - now, 45 * NS_PER_SEC + 250 * MS);
    /* already at the right instant: no wait */
    assert_int_equal(schedule_minute_sync(at, first), at);
    /* just past it: wait almost a minute */
    assert_int_equal(schedule_minute_sync(at + 1, first), at + 60 * NS_PER_SEC);
}

/* a realtime instant on the monotonic clock: now is now, and 5 s later is 5 s later, within
 * the readings' own spread (microseconds), whatever the clocks' offset */
static void test_monotonic_at(void **state)
{
    int64_t r = schedule_now_realtime(), m = schedule_now_monotonic();
    int64_t at = schedule_monotonic_at(r);
    assert_true(at <= m + 1000 && at > m - 1000000); /* r was read before m */
    int64_t later = schedule_monotonic_at(r + 5000000000LL);
    assert_true(llabs(later - at - 5000000000LL) < 100000);
    assert_true(llabs(schedule_monotonic_at(r) - at) < 100000); /* the offset, not a reading, is what it finds */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_time_factor),
        cmocka_unit_test(test_backwards_is_a_zero_gap),
        cmocka_unit_test(test_minute_sync),
        cmocka_unit_test(test_monotonic_at),
    };
    return cmocka_run_group_tests_name("schedule", tests, NULL, NULL);
}
