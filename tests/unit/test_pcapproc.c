/* pcap-proc: template gating by set, OPEN/INIT gating, re-segmentation boundaries, time
 * rebasing, the written config and summary, the frame writer's checksums. */
#include "testutil.h"

#include <jansson.h>

#include "capture.h"
#include "config.h"
#include "decode.h"
#include "log.h"
#include "pcapproc/pcapproc.h"
#include "pcapproc/pktwrite.h"

#define SEC 1000000000LL

/* ---- NetFlow: data sets without their template ---- */

static void ipfix_header(struct tu_buf *b, uint32_t seq)
{
    tu_u16(b, 10); tu_u16(b, 0); tu_u32(b, 1672534805); tu_u32(b, seq); tu_u32(b, 7);
}

static void template_set(struct tu_buf *b, uint16_t set_id, uint16_t id)
{
    size_t at = b->n;
    tu_u16(b, set_id); tu_u16(b, 0);
    tu_u16(b, id); tu_u16(b, 2);
    tu_u16(b, 8); tu_u16(b, 4);  /* sourceIPv4Address */
    tu_u16(b, 2); tu_u16(b, 4);  /* packetDeltaCount: 8-byte records */
    tu_set16(b, at + 2, (uint16_t)(b->n - at));
}

static void data_set(struct tu_buf *b, uint16_t id, unsigned records)
{
    tu_u16(b, id); tu_u16(b, (uint16_t)(4 + 8 * records));
    for (unsigned i = 0; i < 8 * records; i++)
        tu_u8(b, (uint8_t)i);
}

static void test_netflow_gating_by_set(void **state)
{
    struct netflow_digest *g = netflow_digest_new();
    /* data for 300 (never defined), the template 256, data for 256: only 300's set goes */
    struct tu_buf b = { .n = 0 };
    ipfix_header(&b, 0);
    data_set(&b, 300, 2);
    template_set(&b, 2, 256);
    data_set(&b, 256, 3);
    tu_set16(&b, 2, (uint16_t)b.n);
    size_t len = b.n;
    assert_true(netflow_digest_message(g, b.b, &len));
    assert_int_equal(len, b.n - (4 + 16));
    struct netflow_header h;
    assert_int_equal(netflow_parse(b.b, len, &h), 0);
    assert_int_equal(h.length, len);
    assert_int_equal(h.templates, 1);
    assert_int_equal(h.data_sets, 1);
    assert_int_equal(h.sets, 2);

    /* a message of only unknown data: dropped whole */
    struct tu_buf u = { .n = 0 };
    ipfix_header(&u, 3);
    data_set(&u, 301, 1);
    tu_set16(&u, 2, (uint16_t)u.n);
    len = u.n;
    assert_false(netflow_digest_message(g, u.b, &len));

    /* the template known now: the same message is kept unchanged; the sequence continues
     * (3 records before) so no gap */
    struct tu_buf k = { .n = 0 };
    ipfix_header(&k, 3);
    data_set(&k, 256, 1);
    tu_set16(&k, 2, (uint16_t)k.n);
    len = k.n;
    uint8_t copy[64];
    memcpy(copy, k.b, k.n);
    assert_true(netflow_digest_message(g, k.b, &len));
    assert_int_equal(len, k.n);
    assert_memory_equal(copy, k.b, k.n);

    json_t *j = netflow_digest_json(g);
    json_t *d = json_array_get(json_object_get(j, "domains"), 0);
    assert_int_equal(json_integer_value(json_object_get(j, "messages")), 3);
    assert_int_equal(json_integer_value(json_object_get(j, "dropped")), 1);
    json_t *before = json_object_get(d, "data_sets_before_template");
    assert_int_equal(json_integer_value(json_object_get(before, "sets")), 2);
    assert_int_equal(json_array_size(json_object_get(before, "template_ids")), 2);
    json_t *t = json_array_get(json_object_get(d, "templates"), 0);
    assert_int_equal(json_integer_value(json_object_get(t, "id")), 256);
    assert_int_equal(json_integer_value(json_object_get(t, "data_records")), 4);
    assert_int_equal(json_integer_value(json_object_get(t, "record_length")), 8);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(d, "sequence"), "gaps")), 0);
    json_decref(j);
    netflow_digest_free(g);
}

static void test_netflow_v9_count_and_sampling(void **state)
{
    struct netflow_digest *g = netflow_digest_new();
    struct tu_buf b = { .n = 0 };
    tu_u16(&b, 9); tu_u16(&b, 0); tu_u32(&b, 1000); tu_u32(&b, 1672534805); tu_u32(&b, 41); tu_u32(&b, 9);
    template_set(&b, 0, 260);
    data_set(&b, 999, 4);         /* unknown: 4 records leave the count */
    data_set(&b, 260, 2);
    size_t at = b.n;              /* a v9 options template: scope system, samplingInterval */
    tu_u16(&b, 1); tu_u16(&b, 0);
    tu_u16(&b, 261); tu_u16(&b, 4); tu_u16(&b, 4);
    tu_u16(&b, 1); tu_u16(&b, 4);
    tu_u16(&b, 34); tu_u16(&b, 4);
    tu_u16(&b, 0);                /* padding */
    tu_set16(&b, at + 2, (uint16_t)(b.n - at));
    tu_set16(&b, 2, 8);           /* as sent: 1 + 4 + 2 + 1 */
    size_t len = b.n;
    assert_true(netflow_digest_message(g, b.b, &len));
    assert_int_equal(len, b.n - (4 + 32));
    assert_int_equal(b.b[2] << 8 | b.b[3], 4); /* template, 2 records, options template */
    json_t *j = netflow_digest_json(g);
    json_t *ts = json_object_get(json_array_get(json_object_get(j, "domains"), 0), "templates");
    json_t *opt = json_array_get(ts, 1);
    assert_string_equal(json_string_value(json_object_get(opt, "kind")), "options_template");
    assert_int_equal(json_integer_value(json_object_get(opt, "scope_count")), 1);
    assert_string_equal(json_string_value(json_array_get(json_object_get(opt, "sampling"), 0)), "samplingInterval");
    json_decref(j);
    netflow_digest_free(g);
}

/* ---- the frame writer ---- */

static void test_pktwrite_checksums(void **state)
{
    struct pktwrite w;
    char err[128];
    assert_int_equal(pktwrite_open(&w, NULL, err, sizeof err), 0);
    uint8_t payload[37];
    for (size_t i = 0; i < sizeof payload; i++)
        payload[i] = (uint8_t)(i * 7);
    for (int v6 = 0; v6 < 2; v6++)
        for (int tcp = 0; tcp < 2; tcp++) {
            struct pktwrite_flow fl = { .sport = 4000, .dport = 179, .tcp = tcp, .seq = 1, .ack = 1 };
            assert_int_equal(addr_parse(v6 ? "2001:db8::1" : "192.0.2.1", &fl.src), 0);
            assert_int_equal(addr_parse(v6 ? "2001:db8::2" : "192.0.2.2", &fl.dst), 0);
            assert_int_equal(pktwrite_packet(&w, &fl, 0, payload, sizeof payload), 0);
            if (tcp)
                assert_int_equal(fl.seq, 1 + sizeof payload);
            struct decoded d;
            size_t ip = v6 ? 40 : 20, l4 = (tcp ? 20 : 8) + sizeof payload;
            assert_int_equal(decode_frame(DLT_EN10MB, w.frame, 14 + ip + l4, &d), DECODE_OK);
            assert_int_equal(d.payload_len, sizeof payload);
            assert_memory_equal(d.payload, payload, sizeof payload);
            if (!v6) /* a header with its checksum sums to zero */
                assert_int_equal(pktwrite_checksum(w.frame + 14, 20, 0), 0);
            uint32_t pseudo = 0;
            const uint8_t *a = w.frame + 14 + (v6 ? 8 : 12);
            for (size_t i = 0; i < (v6 ? 32u : 8u); i += 2)
                pseudo += (uint32_t)(a[i] << 8 | a[i + 1]);
            pseudo += (tcp ? 6u : 17u) + (uint32_t)l4;
            assert_int_equal(pktwrite_checksum(w.frame + 14 + ip, l4, pseudo), 0);
        }
    assert_int_equal(pktwrite_close(&w), 0);
}

/* ---- the engine, on a capture written here ---- */

struct input {
    struct pktwrite w;
    int64_t t;
};

static void input_open(struct input *in, const char *path)
{
    char err[128];
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(pktwrite_open(&in->w, f, err, sizeof err), 0);
    in->t = 1700000000 * SEC;
}

static void input_send(struct input *in, struct pktwrite_flow *fl, const void *p, size_t len)
{
    in->t += SEC / 100;
    assert_int_equal(pktwrite_packet(&in->w, fl, in->t, p, len), 0);
}

static size_t bgp_msg(uint8_t *out, uint8_t type, size_t len)
{
    memset(out, 0xff, 16);
    out[16] = (uint8_t)(len >> 8);
    out[17] = (uint8_t)len;
    out[18] = type;
    memset(out + 19, 0, len - 19);
    if (type == 1) { /* version 4, AS 65001, hold 90, id 10.0.0.1, no parameters */
        uint8_t open[10] = { 4, 0xfd, 0xe9, 0, 90, 10, 0, 0, 1, 0 };
        memcpy(out + 19, open, sizeof open);
    }
    return len;
}

static size_t bmp_msg(uint8_t *out, uint8_t type, size_t len)
{
    memset(out, 0, len);
    out[0] = 3;
    out[1] = (uint8_t)(len >> 24); out[2] = (uint8_t)(len >> 16); out[3] = (uint8_t)(len >> 8); out[4] = (uint8_t)len;
    out[5] = type;
    if (type != 4 && len >= 48) { /* per-peer header: global peer 192.0.2.9, AS 65009 */
        out[6 + 2 + 8 + 12] = 192; out[6 + 2 + 8 + 13] = 0; out[6 + 2 + 8 + 14] = 2; out[6 + 2 + 8 + 15] = 9;
        out[6 + 2 + 8 + 16 + 2] = 0xfd; out[6 + 2 + 8 + 16 + 3] = 0xf1;
        if (type == 2)
            out[48] = 3; /* remote notification */
    }
    return len;
}

struct packet_seen { int64_t ts; size_t payload; uint16_t dport; uint8_t first_type; };

static size_t read_output(const char *path, struct packet_seen *out, size_t max)
{
    char err[256];
    struct capture *c = capture_open(path, err, sizeof err);
    assert_non_null(c);
    struct capture_packet p;
    size_t n = 0;
    while (capture_next(c, &p) == 1) {
        struct decoded d;
        assert_int_equal(decode_frame(p.dlt, p.data, p.caplen, &d), DECODE_OK);
        assert_true(n < max);
        out[n].ts = p.ts_ns;
        out[n].payload = d.payload_len;
        out[n].dport = d.dport;
        out[n].first_type = d.payload_len > 18 ? (d.dport == 179 ? d.payload[18] : d.payload[5]) : 0;
        n++;
    }
    capture_close(c);
    return n;
}

static json_t *run(const char *dir, const char *yaml, int expect_status)
{
    char err[512], path[600];
    struct config *c = config_parse("t.yml", yaml, strlen(yaml), false, err, sizeof err);
    if (!c)
        fail_msg("%s", err);
    struct pcapproc_options o = { .output_folder = dir };
    assert_int_equal(pcapproc_run(c, &o, NULL, 0), expect_status);
    config_free(c);
    snprintf(path, sizeof path, "%s/traffic-info.json", dir);
    json_error_t je;
    json_t *j = json_load_file(path, 0, &je);
    assert_non_null(j);
    return j;
}

static void test_sessions_resegmented_and_retimed(void **state)
{
    char *dir = tu_tmpdir(), in_path[256], out_dir[256], yaml[2048], out_pcap[300];
    snprintf(in_path, sizeof in_path, "%s/in.pcap", dir);
    snprintf(out_dir, sizeof out_dir, "%s/out", dir);
    struct input in;
    input_open(&in, in_path);
    struct pktwrite_flow bgp = { .sport = 40000, .dport = 179, .tcp = true, .seq = 1000, .ack = 1 };
    struct pktwrite_flow bmp = { .sport = 40001, .dport = 1790, .tcp = true, .seq = 5, .ack = 1 };
    struct pktwrite_flow ipfix = { .sport = 40002, .dport = 4739 };
    addr_parse("192.0.2.1", &bgp.src); addr_parse("192.0.2.100", &bgp.dst);
    addr_parse("2001:db8::7", &bmp.src); addr_parse("2001:db8::100", &bmp.dst);
    addr_parse("192.0.2.3", &ipfix.src); addr_parse("192.0.2.100", &ipfix.dst);
    uint8_t m[4096];
    size_t n;
    /* BGP: a KEEPALIVE before the OPEN (skipped), the OPEN, then 5 UPDATEs of 40 bytes in one
     * segment and one of 150 */
    n = bgp_msg(m, 4, 19); input_send(&in, &bgp, m, n);
    n = bgp_msg(m, 1, 29); input_send(&in, &bgp, m, n);
    n = 0;
    for (int i = 0; i < 5; i++)
        n += bgp_msg(m + n, 2, 40);
    input_send(&in, &bgp, m, n);
    n = bgp_msg(m, 2, 150); input_send(&in, &bgp, m, n);
    /* BMP: a route monitoring before INIT (skipped), INIT, PEER_UP, 3 RMs, PEER_DOWN */
    n = bmp_msg(m, 0, 60); input_send(&in, &bmp, m, n);
    n = bmp_msg(m, 4, 20); input_send(&in, &bmp, m, n);
    n = bmp_msg(m, 3, 60); input_send(&in, &bmp, m, n);
    n = 0;
    for (int i = 0; i < 3; i++)
        n += bmp_msg(m + n, 0, 60);
    input_send(&in, &bmp, m, n);
    n = bmp_msg(m, 2, 49); input_send(&in, &bmp, m, n);
    /* IPFIX: data before its template (dropped), template + data */
    struct tu_buf b = { .n = 0 };
    ipfix_header(&b, 0); data_set(&b, 256, 1); tu_set16(&b, 2, (uint16_t)b.n);
    input_send(&in, &ipfix, b.b, b.n);
    b.n = 0;
    ipfix_header(&b, 0); template_set(&b, 2, 256); data_set(&b, 256, 1); tu_set16(&b, 2, (uint16_t)b.n);
    input_send(&in, &ipfix, b.b, b.n);
    assert_int_equal(pktwrite_close(&in.w), 0);

    snprintf(yaml, sizeof yaml,
             "pcap: %s\n"
             "pcap_processing: {initial_delay: 5, inter_packet_delay: 0.5, inter_protocol_delay: 10,"
             " desired_tcp_payload_size: 100}\n"
             "network:\n  map:\n    - {src_ip: 192.0.2.1, repro_ip: 127.0.0.11}\n"
             "bgp: {select: {tcp: {dport: [179]}}, collector: [{ip: 127.0.0.1, port: 1179}, {ip: 127.0.0.2, port: 1180}]}\n"
             "bmp: {select: {tcp: {dport: [1790]}}}\n"
             "ipfix: {}\n", in_path);
    json_t *j = run(out_dir, yaml, 0);
    snprintf(out_pcap, sizeof out_pcap, "%s/traffic.pcap", out_dir);
    struct packet_seen s[64];
    size_t k = read_output(out_pcap, s, 64);
    /* BGP: OPEN alone (then 1 s), 2 UPDATEs (80 <= 100), 2, 1, the 150 alone */
    int64_t t0 = (PCAPPROC_EPOCH + 5) * SEC;
    assert_int_equal(s[0].ts, t0);
    assert_int_equal(s[0].first_type, 1);
    assert_int_equal(s[0].payload, 29);
    assert_int_equal(s[1].ts, t0 + SEC);
    assert_int_equal(s[1].payload, 80);
    assert_int_equal(s[2].ts, t0 + SEC + SEC / 2);
    assert_int_equal(s[2].payload, 80);
    assert_int_equal(s[3].payload, 40);
    assert_int_equal(s[4].payload, 150);
    /* BMP after inter_protocol_delay: INIT+PEER_UP (80), RM (60), RM (60), RM (60): 60+49 > 100 */
    assert_int_equal(s[5].ts, s[4].ts + 10 * SEC);
    assert_int_equal(s[5].dport, 1790);
    assert_int_equal(s[5].first_type, 4);
    assert_int_equal(s[5].payload, 80);
    assert_int_equal(s[6].payload, 60);
    assert_int_equal(s[8].payload, 60);
    assert_int_equal(s[9].payload, 49);
    assert_int_equal(s[9].first_type, 2);
    /* IPFIX: only the message with the template */
    assert_int_equal(k, 11);
    assert_int_equal(s[10].dport, 4739);
    assert_int_equal(s[10].ts, s[9].ts + 10 * SEC);

    json_t *routers = json_object_get(j, "routers");
    json_t *bs = json_array_get(json_object_get(json_object_get(json_object_get(routers, "192.0.2.1"), "bgp"),
                                                "sessions"), 0);
    assert_int_equal(json_integer_value(json_object_get(bs, "before_session_start")), 1);
    assert_int_equal(json_integer_value(json_object_get(bs, "messages_written")), 7);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(bs, "open"), "as")), 65001);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(bs, "messages"), "keepalive")), 1);
    json_t *ms = json_array_get(json_object_get(json_object_get(json_object_get(routers, "2001:db8::7"), "bmp"),
                                                "sessions"), 0);
    assert_int_equal(json_integer_value(json_object_get(ms, "before_session_start")), 1);
    json_t *peer = json_array_get(json_object_get(ms, "peers"), 0);
    assert_string_equal(json_string_value(json_object_get(peer, "address")), "192.0.2.9");
    assert_int_equal(json_integer_value(json_object_get(peer, "as")), 65009);
    assert_int_equal(json_integer_value(json_object_get(peer, "route_monitoring")), 4);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(peer, "down_reasons"),
                                                        "remote_notification")), 1);
    json_t *nf = json_object_get(json_object_get(routers, "192.0.2.3"), "ipfix");
    assert_int_equal(json_integer_value(json_object_get(nf, "written")), 1);
    json_t *out_bgp = json_object_get(json_object_get(json_object_get(j, "output"), "protocols"), "bgp");
    assert_int_equal(json_integer_value(json_object_get(out_bgp, "packets")), 5);
    json_decref(j);

    /* the written config: every router, the mapped one with its repro_ip, the others with
     * the placeholder telrep refuses by name */
    char yml[300], err[512];
    snprintf(yml, sizeof yml, "%s/traffic-reproducer.yml", out_dir);
    FILE *f = fopen(yml, "r");
    assert_non_null(f);
    static char text[8192];
    size_t tl = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[tl] = 0;
    assert_non_null(strstr(text, "repro_ip: 127.0.0.11"));
    assert_non_null(strstr(text, "src_ip: 2001:db8::7"));
    assert_non_null(strstr(text, "src_ip: 192.0.2.3"));
    assert_null(config_parse(yml, text, tl, true, err, sizeof err));
    assert_non_null(strstr(err, "placeholder"));
    for (char *p; (p = strstr(text, CONFIG_REPRO_PLACEHOLDER));) {
        memcpy(p, "127.0.0.99       ", strlen(CONFIG_REPRO_PLACEHOLDER));
    }
    struct config *c = config_parse(yml, text, tl, true, err, sizeof err);
    if (!c)
        fail_msg("%s", err);
    assert_int_equal(c->n_map, 3);
    assert_int_equal(c->n_protos, 3);
    assert_int_equal(c->protos[0].collectors[0].port, 1179);
    assert_int_equal(c->protos[0].n_collectors, 2); /* the input's fan-out kept */
    assert_int_equal(c->protos[0].collectors[1].port, 1180);
    assert_int_equal(c->protos[1].collectors[0].port, 1790); /* the captured destination */
    config_free(c);
    tu_rmdir(dir);
}

/* a config that selects nothing: valid, empty outputs and a status of 0 */
static void test_selects_nothing(void **state)
{
    char *dir = tu_tmpdir(), in_path[256], out_dir[256], yaml[1024], out_pcap[300];
    snprintf(in_path, sizeof in_path, "%s/in.pcap", dir);
    snprintf(out_dir, sizeof out_dir, "%s/out", dir);
    struct input in;
    input_open(&in, in_path);
    struct pktwrite_flow fl = { .sport = 1, .dport = 2 };
    addr_parse("192.0.2.1", &fl.src); addr_parse("192.0.2.2", &fl.dst);
    input_send(&in, &fl, "x", 1);
    assert_int_equal(pktwrite_close(&in.w), 0);
    snprintf(yaml, sizeof yaml, "pcap: %s\nipfix: {select: {udp: {dport: [9]}}}\n", in_path);
    log_set_level(LOG_ERROR);
    json_t *j = run(out_dir, yaml, 0);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "packets"), "unselected")), 1);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "output"), "packets")), 0);
    json_decref(j);
    snprintf(out_pcap, sizeof out_pcap, "%s/traffic.pcap", out_dir);
    struct packet_seen s[1];
    assert_int_equal(read_output(out_pcap, s, 1), 0);
    /* the input is never overwritten */
    snprintf(yaml, sizeof yaml, "pcap: %s/traffic.pcap\nipfix: {}\n", out_dir);
    struct config *c = config_parse("t.yml", yaml, strlen(yaml), false, in_path, sizeof in_path);
    struct pcapproc_options o = { .output_folder = out_dir };
    assert_int_equal(pcapproc_run(c, &o, NULL, 0), 2);
    config_free(c);
    tu_rmdir(dir);
}

/* many routers: the router table grows while every session is still open */
static void test_many_routers(void **state)
{
    char *dir = tu_tmpdir(), in_path[256], out_dir[256], yaml[1024];
    snprintf(in_path, sizeof in_path, "%s/in.pcap", dir);
    snprintf(out_dir, sizeof out_dir, "%s/out", dir);
    struct input in;
    input_open(&in, in_path);
    enum { ROUTERS = 100 };
    struct pktwrite_flow fl[ROUTERS];
    uint8_t m[64];
    for (int round = 0; round < 2; round++)
        for (int i = 0; i < ROUTERS; i++) {
            if (!round) {
                fl[i] = (struct pktwrite_flow){ .sport = 1000, .dport = 1790, .tcp = true, .seq = 7, .ack = 1 };
                char a[32];
                snprintf(a, sizeof a, "10.9.%d.%d", i / 200, i % 200 + 1);
                addr_parse(a, &fl[i].src);
                addr_parse("192.0.2.100", &fl[i].dst);
            }
            size_t n = bmp_msg(m, round ? 0 : 4, round ? 60 : 20);
            input_send(&in, &fl[i], m, n);
        }
    assert_int_equal(pktwrite_close(&in.w), 0);
    snprintf(yaml, sizeof yaml, "pcap: %s\nbmp: {select: {tcp: {dport: [1790]}}}\n", in_path);
    json_t *j = run(out_dir, yaml, 0);
    json_t *routers = json_object_get(j, "routers");
    assert_int_equal(json_object_size(routers), ROUTERS);
    json_t *last = json_object_get(routers, "10.9.0.100");
    json_t *sess = json_array_get(json_object_get(json_object_get(last, "bmp"), "sessions"), 0);
    assert_int_equal(json_integer_value(json_object_get(sess, "messages_written")), 2);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "output"), "packets")), ROUTERS);
    json_decref(j);
    tu_rmdir(dir);
}

/* bmp_h.type and ipfix_h.version keep only the listed message types / versions */
static void test_header_selectors(void **state)
{
    char *dir = tu_tmpdir(), in_path[256], out_dir[256], yaml[1024], out_pcap[300];
    snprintf(in_path, sizeof in_path, "%s/in.pcap", dir);
    snprintf(out_dir, sizeof out_dir, "%s/out", dir);
    struct input in;
    input_open(&in, in_path);
    struct pktwrite_flow bmp = { .sport = 1000, .dport = 1790, .tcp = true, .seq = 1, .ack = 1 };
    struct pktwrite_flow nf = { .sport = 1001, .dport = 2055 };
    addr_parse("192.0.2.1", &bmp.src); addr_parse("192.0.2.100", &bmp.dst);
    addr_parse("192.0.2.2", &nf.src); addr_parse("192.0.2.100", &nf.dst);
    uint8_t m[64];
    static const uint8_t types[] = { 4, 3, 0, 1, 0, 2 }; /* INIT, PEER_UP, RM, STATS, RM, PEER_DOWN */
    for (size_t i = 0; i < sizeof types; i++)
        input_send(&in, &bmp, m, bmp_msg(m, types[i], 60));
    struct tu_buf b = { .n = 0 };
    ipfix_header(&b, 0); template_set(&b, 2, 256); tu_set16(&b, 2, (uint16_t)b.n);
    input_send(&in, &nf, b.b, b.n);
    uint8_t v5[24 + 48] = { 0, 5, 0, 1 };
    input_send(&in, &nf, v5, sizeof v5);
    assert_int_equal(pktwrite_close(&in.w), 0);
    snprintf(yaml, sizeof yaml,
             "pcap: %s\npcap_processing: {desired_tcp_payload_size: 1}\n"
             "bmp: {select: {tcp: {dport: [1790]}, bmp_h: {type: [4, 0]}}}\n"
             "ipfix: {select: {ipfix_h: {version: [5]}}}\n", in_path);
    json_t *j = run(out_dir, yaml, 0);
    snprintf(out_pcap, sizeof out_pcap, "%s/traffic.pcap", out_dir);
    struct packet_seen s[16];
    size_t k = read_output(out_pcap, s, 16);
    assert_int_equal(k, 4); /* INIT, RM, RM; the v5 message */
    assert_int_equal(s[0].first_type, 4);
    assert_int_equal(s[1].first_type, 0);
    assert_int_equal(s[2].first_type, 0);
    assert_int_equal(s[3].dport, 2055);
    assert_int_equal(s[3].payload, sizeof v5);
    json_t *sess = json_array_get(json_object_get(json_object_get(json_object_get(json_object_get(j, "routers"),
                                  "192.0.2.1"), "bmp"), "sessions"), 0);
    assert_int_equal(json_integer_value(json_object_get(sess, "filtered_by_type")), 3);
    json_t *ipfix = json_object_get(json_object_get(json_object_get(j, "routers"), "192.0.2.2"), "ipfix");
    assert_int_equal(json_integer_value(json_object_get(ipfix, "filtered_by_version")), 1);
    json_decref(j);
    tu_rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_netflow_gating_by_set),
        cmocka_unit_test(test_netflow_v9_count_and_sampling),
        cmocka_unit_test(test_pktwrite_checksums),
        cmocka_unit_test(test_sessions_resegmented_and_retimed),
        cmocka_unit_test(test_selects_nothing),
        cmocka_unit_test(test_many_routers),
        cmocka_unit_test(test_header_selectors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
