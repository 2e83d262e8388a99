/* shard: the partition of routers over processes (stable: pinned values), the shard from the
 * environment, and --start-at's times. */
#include "testutil.h"

#include <stdlib.h>

#include "shard.h"

static void test_parse(void **state)
{
    struct shard s;
    char err[256];
    assert_int_equal(shard_parse("2/4", &s, err, sizeof err), 0);
    assert_int_equal(s.index, 2);
    assert_int_equal(s.count, 4);
    unsetenv("JOB_COMPLETION_INDEX");
    unsetenv("TELREP_SHARD");
    assert_int_equal(shard_parse("4", &s, err, sizeof err), -1);
    assert_non_null(strstr(err, "JOB_COMPLETION_INDEX"));
    setenv("TELREP_SHARD", "1", 1);
    assert_int_equal(shard_parse("4", &s, err, sizeof err), 0);
    assert_int_equal(s.index, 1);
    setenv("JOB_COMPLETION_INDEX", "3", 1); /* the scheduler's first */
    assert_int_equal(shard_parse("4", &s, err, sizeof err), 0);
    assert_int_equal(s.index, 3);
    setenv("JOB_COMPLETION_INDEX", "4", 1);
    assert_int_equal(shard_parse("4", &s, err, sizeof err), -1);
    assert_non_null(strstr(err, "JOB_COMPLETION_INDEX: shard \"4\" is not a number from 0 to 3"));
    unsetenv("JOB_COMPLETION_INDEX");
    unsetenv("TELREP_SHARD");
    const char *bad[] = { "4/4", "0/0", "x", "1/", "/4", "-1/4", "1/4x", "" };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        if (shard_parse(bad[i], &s, err, sizeof err) == 0)
            fail_msg("--shard %s accepted", bad[i]);
}

/* The hash is part of the interface: shards of different hosts and versions must agree
 * (the values are FNV-1a of shard.h's key, computed apart with Python). */
static void test_stable_partition(void **state)
{
    struct addr a;
    assert_int_equal(addr_parse("192.0.2.1", &a), 0);
    assert_int_equal(shard_hash(&a, 0), 0xfb67edbeu);
    assert_int_equal(shard_hash(&a, 7), 0xfe67f277u);
    assert_int_equal(addr_parse("2001:db8::1", &a), 0);
    assert_int_equal(shard_hash(&a, 0), 0x174d36b0u);
    /* 10,000 clones over 4 shards: every router in exactly one, about a quarter each */
    unsigned n[4] = { 0 };
    assert_int_equal(addr_parse("10.0.0.1", &a), 0);
    for (unsigned k = 0; k < 10000; k++) {
        unsigned mine = 0;
        for (unsigned i = 0; i < 4; i++) {
            struct shard s = { i, 4 };
            if (shard_mine(&s, &a, k)) {
                mine++;
                n[i]++;
            }
        }
        assert_int_equal(mine, 1);
    }
    for (unsigned i = 0; i < 4; i++)
        assert_true(n[i] > 2250 && n[i] < 2750);
    struct shard none = { 0, 0 };
    assert_true(shard_mine(&none, &a, 3));
}

static void test_start_at(void **state)
{
    int64_t ns;
    char err[256];
    assert_int_equal(shard_parse_time("2026-12-02T16:30:00Z", &ns, err, sizeof err), 0);
    assert_true(ns == 1796229000LL * 1000000000);
    assert_int_equal(shard_parse_time("2026-12-02T17:30:00.25+01:00", &ns, err, sizeof err), 0);
    assert_true(ns == 1796229000LL * 1000000000 + 250000000);
    assert_int_equal(shard_parse_time("2026-12-02 16:00:00-00:30", &ns, err, sizeof err), 0);
    assert_true(ns == 1796229000LL * 1000000000);
    assert_int_equal(shard_parse_time("1796229000.5", &ns, err, sizeof err), 0);
    assert_true(llabs(ns - (1796229000LL * 1000000000 + 500000000)) < 1000);
    const char *bad[] = { "2026-12-02T16:30:00", "2026-12-02", "tomorrow", "16:30", "2026-13-02T16:30:00Z", "-5",
                          "2026-12-02T16:30:00Zx" };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        if (shard_parse_time(bad[i], &ns, err, sizeof err) == 0)
            fail_msg("--start-at %s accepted", bad[i]);
    assert_non_null(strstr(err, "RFC 3339"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_stable_partition),
        cmocka_unit_test(test_start_at),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
