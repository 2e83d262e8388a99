/* udp_rewrite: the replay's side of the rewrites. The prepass over the capture list, with
 * udp_rewrite_learn_packet as its use, teaches each exporter (each clone too, none of another
 * shard) its templates; an exporter's first data is preceded by them once per play, and
 * again after its collector refused. */
#include "testutil.h"

#include <pcap/pcap.h>

#include "config.h"
#include "router.h"
#include "prepass.h"
#include "udp_rewrite.h"

/* an IPFIX message: a template set (id 256: octetDeltaCount, 8 bytes) when asked, then one data record */
static size_t ipfix(uint8_t *out, bool with_template)
{
    struct tu_buf b = { .n = 0 };
    tu_u16(&b, 10); tu_u16(&b, 0); tu_u32(&b, 1672534805); tu_u32(&b, 7); tu_u32(&b, 1);
    if (with_template) {
        tu_u16(&b, 2); tu_u16(&b, 12);
        tu_u16(&b, 256); tu_u16(&b, 1);
        tu_u16(&b, 1); tu_u16(&b, 8);
    }
    tu_u16(&b, 256); tu_u16(&b, 12);
    tu_u32(&b, 0); tu_u32(&b, 1500);
    tu_set16(&b, 2, (uint16_t)b.n);
    memcpy(out, b.b, b.n);
    return b.n;
}

/* a raw IPv4/UDP frame from 10.0.0.1 to 192.0.2.1:4739 */
static void put_frame(pcap_dumper_t *d, const uint8_t *payload, size_t len, int seq)
{
    struct tu_buf f = { .n = 0 };
    tu_u8(&f, 0x45); tu_u8(&f, 0); tu_u16(&f, (uint16_t)(28 + len));
    tu_u16(&f, 0); tu_u16(&f, 0); tu_u8(&f, 64); tu_u8(&f, 17); tu_u16(&f, 0);
    tu_u8(&f, 10); tu_u8(&f, 0); tu_u8(&f, 0); tu_u8(&f, 1);
    tu_u8(&f, 192); tu_u8(&f, 0); tu_u8(&f, 2); tu_u8(&f, 1);
    tu_u16(&f, 40000); tu_u16(&f, 4739); tu_u16(&f, (uint16_t)(8 + len)); tu_u16(&f, 0);
    tu_bytes(&f, payload, len);
    struct pcap_pkthdr h = { .ts = { 1672534805 + seq, 0 }, .caplen = (bpf_u_int32)f.n, .len = (bpf_u_int32)f.n };
    pcap_dump((u_char *)d, &h, f.b);
}

static void test_learn_prime_restart(void **state)
{
    char *dir = tu_tmpdir(), path[300], yml[1024], err[512];
    snprintf(path, sizeof path, "%s/t.pcap", dir);
    pcap_t *dead = pcap_open_dead(DLT_RAW, 65535);
    pcap_dumper_t *d = pcap_dump_open(dead, path);
    assert_non_null(d);
    uint8_t full[256], data[256];
    size_t fl = ipfix(full, true), dl = ipfix(data, false);
    put_frame(d, full, fl, 0);
    put_frame(d, data, dl, 1);
    pcap_dump_close(d);
    pcap_close(dead);
    snprintf(yml, sizeof yml, "pcap: %s\nnetwork:\n  map:\n    - {src_ip: 10.0.0.1, repro_ip: 127.0.1.1, clones: 3}\n"
             "ipfix:\n  collector: {ip: 127.0.0.1}\n  templates: prime\n", path);
    struct config *c = config_parse("t.yml", yml, strlen(yml), true, err, sizeof err);
    if (!c)
        fail_msg("%s", err);
    const struct proto_config *pc = &c->protos[0];
    struct router_table t;
    assert_int_equal(router_table_init(&t, c), 0);
    t.routers[2].elsewhere = true; /* another shard's clone learns nothing */
    assert_true(udp_rewrite_learns(c));
    long taught = 0;
    struct prepass_use learn = { udp_rewrite_learn_packet, &taught };
    assert_int_equal(prepass(c, &t, &learn, 1), 0);
    assert_int_equal(taught, 2 * 2); /* 2 messages x 2 clones of this shard */
    assert_null(t.routers[2].rewriter[PROTO_IPFIX]);
    uint8_t out[1400];
    for (int k = 0; k < 2; k++) { /* each clone: its templates before its first data, once */
        struct router *r = &t.routers[k];
        size_t n = udp_rewrite_prime(r, pc, data, dl, out, sizeof out);
        assert_true(n > 16);
        assert_int_equal(out[16 + 1], 2); /* a template set */
        assert_int_equal(udp_rewrite_prime(r, pc, data, dl, out, sizeof out), 0);
    }
    udp_rewrite_refused(&t.routers[0], PROTO_IPFIX); /* back from refusing: needs them again */
    assert_true(udp_rewrite_prime(&t.routers[0], pc, data, dl, out, sizeof out) > 0);
    assert_int_equal(udp_rewrite_prime(&t.routers[1], pc, data, dl, out, sizeof out), 0);
    udp_rewrite_restart(&t); /* a new play: every exporter again */
    assert_true(udp_rewrite_prime(&t.routers[1], pc, data, dl, out, sizeof out) > 0);
    /* the message itself: rewritten and counted (templates: prime alone keeps its bytes) */
    memcpy(out, data, dl);
    udp_rewrite_message(&t.routers[1], pc, out, dl);
    assert_int_equal(t.routers[1].stats[PROTO_IPFIX].rewritten, 1);
    assert_memory_equal(out, data, dl);
    router_table_free(&t);
    config_free(c);
    tu_rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_learn_prime_restart),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
