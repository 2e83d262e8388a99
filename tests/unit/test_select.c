/* select: address and prefix lists, tcp/udp port lists, transport, BPF, first match wins. */
#include "testutil.h"

#include <netinet/in.h>
#include <pcap/pcap.h>

#include "config.h"
#include "log.h"
#include "select.h"

static struct decoded packet(const char *src, const char *dst, uint8_t proto, uint16_t sport, uint16_t dport)
{
    struct decoded d = { .ip_proto = proto, .sport = sport, .dport = dport };
    assert_int_equal(addr_parse(src, &d.src), 0);
    assert_int_equal(addr_parse(dst, &d.dst), 0);
    return d;
}

static struct config *parse(const char *yaml)
{
    char err[1024];
    struct config *c = config_parse("t.yml", yaml, strlen(yaml), false, err, sizeof err);
    if (!c)
        fail_msg("%s", err);
    return c;
}

static void test_selectors(void **state)
{
    struct config *c = parse("pcap: a\n"
                             "ipfix:\n  select:\n    ip: {src: [10.0.0.0/8, 2001:db8::1]}\n    udp: {dport: [9991, 2055]}\n"
                             "bmp:\n  select:\n    tcp: {dport: 1790}\n"
                             "udp_generic:\n  select:\n    udp: {sport: [53]}\n    ip: {dst: 192.0.2.1}\n"
                             "tcp_generic: {}\n");
    struct selector *ipfix = &c->protos[0].select, *bmp = &c->protos[1].select, *gen = &c->protos[2].select,
                    *any = &c->protos[3].select;
    struct decoded d = packet("10.1.2.3", "192.0.2.9", IPPROTO_UDP, 5000, 9991);
    assert_true(selector_matches(ipfix, &d, DLT_RAW, NULL, NULL));
    d.dport = 4739;
    assert_false(selector_matches(ipfix, &d, DLT_RAW, NULL, NULL));
    d = packet("11.0.0.1", "192.0.2.9", IPPROTO_UDP, 5000, 9991);
    assert_false(selector_matches(ipfix, &d, DLT_RAW, NULL, NULL));
    d = packet("2001:db8::1", "2001:db8::9", IPPROTO_UDP, 5000, 2055);
    assert_true(selector_matches(ipfix, &d, DLT_RAW, NULL, NULL));
    d = packet("2001:db8::2", "2001:db8::9", IPPROTO_UDP, 5000, 2055);
    assert_false(selector_matches(ipfix, &d, DLT_RAW, NULL, NULL));
    /* udp: given means the packet must be UDP */
    d = packet("10.1.2.3", "192.0.2.9", IPPROTO_TCP, 5000, 9991);
    assert_false(selector_matches(ipfix, &d, DLT_RAW, NULL, NULL));

    d = packet("192.0.2.55", "192.0.2.9", IPPROTO_TCP, 40000, 1790);
    assert_true(selector_matches(bmp, &d, DLT_RAW, NULL, NULL));
    d.sport = 1790, d.dport = 40000; /* the collector's direction */
    assert_false(selector_matches(bmp, &d, DLT_RAW, NULL, NULL));

    d = packet("1.1.1.1", "192.0.2.1", IPPROTO_UDP, 53, 1000);
    assert_true(selector_matches(gen, &d, DLT_RAW, NULL, NULL));
    d = packet("1.1.1.1", "192.0.2.2", IPPROTO_UDP, 53, 1000);
    assert_false(selector_matches(gen, &d, DLT_RAW, NULL, NULL));

    assert_false(any->present);
    assert_true(selector_matches(any, &d, DLT_RAW, NULL, NULL));
    config_free(c);
}

static void test_bpf(void **state)
{
    struct config *c = parse("pcap: a\nudp_generic:\n  select:\n    bpf: \"udp dst port 9999\"\n");
    struct selector *s = &c->protos[0].select;
    /* a raw IPv4/UDP frame */
    uint8_t frame[28] = { 0x45, 0, 0, 28, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
                          0x9c, 0x40, 0x27, 0x0f, 0, 8, 0, 0 };
    struct pcap_pkthdr h = { .caplen = sizeof frame, .len = sizeof frame };
    struct decoded d = packet("10.0.0.1", "10.0.0.2", IPPROTO_UDP, 40000, 9999);
    assert_true(selector_matches(s, &d, DLT_RAW, &h, frame));
    frame[23] = 0x10; /* dport 10000 */
    assert_false(selector_matches(s, &d, DLT_RAW, &h, frame));
    /* a second link type compiles its own program */
    uint8_t eth[42] = { [12] = 0x08, [13] = 0x00 };
    memcpy(eth + 14, frame, sizeof frame);
    eth[14 + 23] = 0x0f;
    struct pcap_pkthdr he = { .caplen = sizeof eth, .len = sizeof eth };
    assert_true(selector_matches(s, &d, DLT_EN10MB, &he, eth));
    assert_int_equal(s->n_compiled, 2);
    char err[256];
    assert_int_equal(selector_check_bpf("tcp port", err, sizeof err), -1);
    assert_true(strlen(err) > 0);
    config_free(c);
}

int main(void)
{
    log_set_level(LOG_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_selectors),
        cmocka_unit_test(test_bpf),
    };
    return cmocka_run_group_tests_name("select", tests, NULL, NULL);
}
