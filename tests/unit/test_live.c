/* live: the live URI test, the filter check, the config's live: section and its errors, and
 * the source's own errors. Capturing needs an interface and privileges: tests/e2e/test_live.sh. */
#include "testconfig.h"

#include <unistd.h>

#include "config.h"
#include "source.h"
#include "source/live.h"

#define MAP "network:\n  map:\n    - {src_ip: 10.0.0.1, repro_ip: 127.0.0.1}\n"
#define IPFIX "ipfix:\n  collector: {ip: 127.0.0.1, port: 9991}\n"

static void test_spec(void **state)
{
    assert_true(live_spec("int:eth0"));
    assert_true(live_spec("ring:eth0"));
    assert_true(live_spec("pcapint:veth1"));
    assert_false(live_spec("int:"));           /* no device */
    assert_false(live_spec("eth0"));
    assert_false(live_spec("mrt:rib.bz2"));
    assert_false(live_spec("erf:capture.erf")); /* files are never libtrace's here */
    assert_false(live_spec("capture.pcap"));
}

static void test_filter(void **state)
{
    assert_int_equal(live_check_filter("udp port 2055 or tcp port 179", err, sizeof err), 0);
    assert_int_equal(live_check_filter("udp prot 2055", err, sizeof err), -1);
    assert_non_null(strstr(err, "udp prot 2055"));
}

static void test_config_short_and_long(void **state)
{
    struct config *c = parse("live: eth0\n" MAP IPFIX);
    assert_non_null(c);
    assert_int_equal(c->n_pcaps, 1);
    assert_string_equal(c->pcaps[0], "int:eth0"); /* a bare device: int: */
    assert_ptr_equal(c->sources.live, &c->live);
    assert_true(c->no_sync);                      /* frames go as they arrive */
    assert_true(c->live.max_delay == LIVE_MAX_DELAY_DEFAULT);
    config_free(c);
    c = parse("live: {interface: ring:vb0, filter: \"udp port 2055\", snaplen: 9000, promisc: true, max_delay: 0.25, "
              "keep_raw: raw.pcap}\n" MAP IPFIX);
    assert_non_null(c);
    assert_string_equal(c->pcaps[0], "ring:vb0");
    assert_string_equal(c->live.filter, "udp port 2055");
    assert_int_equal(c->live.snaplen, 9000);
    assert_true(c->live.promisc);
    assert_true(c->live.max_delay == 0.25);
    assert_string_equal(c->live.keep_raw, "raw.pcap");
    config_free(c);
    c = parse("pcap: pcapint:eth1\n" MAP IPFIX); /* a live URI in pcap: takes the defaults */
    assert_non_null(c);
    assert_ptr_equal(c->sources.live, &c->live);
    assert_true(c->live.max_delay == LIVE_MAX_DELAY_DEFAULT);
    config_free(c);
}

static void test_config_errors(void **state)
{
    expect_error("live: {filter: \"udp\"}\n" MAP IPFIX, "name the interface");
    expect_error("live: {interface: eth0, filter: \"udp prot 1\"}\n" MAP IPFIX, "t.yml:1:");
    expect_error("live: {interface: eth0, filter: \"udp prot 1\"}\n" MAP IPFIX, "live.filter");
    expect_error("live: file:x.pcap\n" MAP IPFIX, "int:, ring: or pcapint:");
    expect_error("live: eth0\npcap: a.pcap\n" MAP IPFIX, "live: and pcap: together");
    expect_error("pcap: [int:eth0, a.pcap]\n" MAP IPFIX, "only source");
    expect_error("live: eth0\nloop: {count: 2}\n" MAP IPFIX, "do not apply to a live interface");
    expect_error("live: {interface: eth0, max_delay: 0}\n" MAP IPFIX, "max_delay");
    expect_error("live: {interface: eth0, snaplen: 10}\n" MAP IPFIX, "snaplen");
}

/* Opening fails with a message that says what to do (no such device; or, without
 * CAP_NET_RAW, how to get it). */
static void test_open_errors(void **state)
{
    struct live_options lo = { .filter = NULL };
    struct source_options so = { .live = &lo };
    struct source *s = source_open("int:telrep-nosuch9", &so, err, sizeof err);
    assert_null(s);
    assert_non_null(strstr(err, "int:telrep-nosuch9: cannot capture"));
    if (geteuid() == 0)
        assert_non_null(strstr(err, "ip link"));
    else
        assert_true(strstr(err, "CAP_NET_RAW") || strstr(err, "ip link"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spec),
        cmocka_unit_test(test_filter),
        cmocka_unit_test(test_config_short_and_long),
        cmocka_unit_test(test_config_errors),
        cmocka_unit_test(test_open_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
