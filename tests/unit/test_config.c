/* config: every key, every error, repeat patterns. */
#include "testconfig.h"

#include <time.h>

#include "config.h"
#include "log.h"
#include "stats.h"

#define MINIMAL "pcap: a.pcap\nipfix:\n  collector: {ip: 127.0.0.1, port: 9991}\n"

static void test_every_key(void **state)
{
    const char *yaml =
        "pcap:\n  - a.pcap\n  - b.pcap.gz\n"
        "repeat:\n  count: [2, 1]\n  pattern: bulk\n"
        "time_factor: 0.01\nkeep_open: true\nno_sync: yes\nask_for_input: false\n"
        "optimize:\n  threading: false\n  preload: true\n  network:\n    so_sndbuf: 262144\n    so_rcvbuf: null\n"
        "network:\n  map:\n    - src_ip: 138.187.0.13\n      repro_ip: 192.168.100.1\n"
        "    - {src_ip: 2001:db8::1, repro_ip: 127.0.0.3}\n  interface: vrf-blue\n"
        "ipfix:\n  select:\n    ip: {src: [138.187.0.0/16], dst: 10.0.0.1}\n    udp:\n      dport: [9991, 4739]\n"
        "      sport: 40000\n    ipfix_h: {version: [9, 10]}\n    bpf: \"udp and not port 53\"\n"
        "  collector: {ip: localhost, port: 2100}\n"
        "bgp:\n  select: {tcp: {dport: [179]}, bgp_h: {type: [1, 2]}}\n  collector: {ip: \"::1\", port: 179}\n"
        "bmp:\n  select: {tcp: {sport: 1790}, bmp_h: {type: 4}}\n  collector: {ip: 127.0.0.1}\n"
        "udp_generic:\n  collector: {ip: 127.0.0.1, port: 10003}\n"
        "tcp_generic:\n  select: {tcp: {dport: 5000}}\n  collector: {ip: 127.0.0.1, port: 5000}\n"
        "pcap_processing:\n  initial_delay: 2\n  inter_packet_delay: 0.5\n  inter_protocol_delay: 3\n"
        "  desired_tcp_payload_size: 1000\n  output_folder: out\n  exit: false\n";
    struct config *c = parse(yaml);
    if (!c)
        fail_msg("%s", err);
    assert_int_equal(c->n_pcaps, 2);
    assert_string_equal(c->pcaps[1], "b.pcap.gz");
    assert_int_equal(c->repeat_counts[0], 2);
    assert_int_equal(c->repeat_counts[1], 1);
    assert_int_equal(c->repeat_pattern, REPEAT_BULK);
    assert_true(c->time_factor > 0.0099 && c->time_factor < 0.0101);
    assert_true(c->keep_open);
    assert_true(c->no_sync);
    assert_false(c->ask_for_input);
    assert_false(c->threading);
    assert_true(c->preload);
    assert_int_equal(c->so_sndbuf, 262144);
    assert_int_equal(c->so_rcvbuf, 0);
    assert_int_equal(c->n_map, 2);
    assert_int_equal(c->map[1].src.family, AF_INET6);
    assert_int_equal(c->map[1].repro.family, AF_INET);
    assert_int_equal(c->map[0].line, 19);
    assert_string_equal(c->interface, "vrf-blue");
    assert_int_equal(c->n_protos, 5);
    struct proto_config *ip = &c->protos[0];
    assert_int_equal(ip->id, PROTO_IPFIX);
    assert_true(ip->select.present);
    assert_int_equal(ip->select.ip_src.n, 1);
    assert_int_equal(ip->select.ip_src.v[0].prefix, 16);
    assert_int_equal(ip->select.ip_dst.n, 1);
    assert_true(ip->select.has_udp);
    assert_false(ip->select.has_tcp);
    assert_int_equal(ip->select.udp_dport.n, 2);
    assert_int_equal(ip->select.udp_dport.v[1], 4739);
    assert_int_equal(ip->select.udp_sport.v[0], 40000);
    assert_int_equal(ip->select.header_types.n, 2);
    assert_string_equal(ip->select.bpf, "udp and not port 53");
    assert_int_equal(ip->collectors[0].n_hosts, 1);
    assert_string_equal(ip->collectors[0].hosts[0], "localhost");
    assert_int_equal(ip->collectors[0].port, 2100);
    assert_int_equal(c->protos[1].id, PROTO_BGP);
    assert_int_equal(c->protos[1].select.header_types.v[1], 2);
    assert_int_equal(c->protos[2].id, PROTO_BMP);
    assert_int_equal(c->protos[2].collectors[0].port, 1790); /* default port */
    assert_false(c->protos[3].select.present);
    assert_int_equal(c->protos[4].id, PROTO_TCP_GENERIC);
    assert_true(c->pcap_processing.present);
    assert_int_equal(c->pcap_processing.desired_tcp_payload_size, 1000);
    assert_string_equal(c->pcap_processing.output_folder, "out");
    assert_false(c->pcap_processing.exit);
    assert_true(c->pcap_processing.inter_protocol_delay == 3);
    assert_null(c->pcap_processing.anonymise.key_file); /* off unless asked */
    config_free(c);
}

static void test_defaults(void **state)
{
    struct config *c = parse(MINIMAL);
    assert_non_null(c);
    assert_true(c->time_factor == 1);
    assert_false(c->keep_open);
    assert_false(c->no_sync);
    assert_int_equal(c->repeat_counts[0], 1);
    assert_int_equal(c->repeat_pattern, REPEAT_ROUND_ROBIN);
    assert_null(c->interface);
    assert_int_equal(c->pcap_processing.desired_tcp_payload_size, 1424);
    assert_true(c->pcap_processing.initial_delay == 5);
    assert_true(c->pcap_processing.exit);
    config_free(c);
}

/* the TCP session keys, per protocol section, with their defaults */
static void test_session_keys(void **state)
{
    struct config *c = parse("pcap: a.pcap\n"
                             "bgp:\n  collector: {ip: 127.0.0.1}\n  reconnect: false\n  drain_timeout: 2.5\n"
                             "  open_timeout: 4\n  my_as: 4200000001\n  bgp_id: 192.0.2.9\n  hold_time: 9\n"
                             "  send_term: true\n" /* bmp only: a warning, ignored */
                             "bmp:\n  collector: {ip: 127.0.0.1}\n  send_term: true\n  reconnect: true\n"
                             "tcp_generic:\n  collector: {ip: 127.0.0.1, port: 5000}\n  drain_timeout: 0\n"
                             "  my_as: 1\n"); /* bgp only: ignored */
    if (!c)
        fail_msg("%s", err);
    const struct session_config *bgp = &c->protos[0].session, *bmp = &c->protos[1].session,
                                *tcp = &c->protos[2].session;
    assert_int_equal(bgp->reconnect, 0);
    assert_true(bgp->drain_timeout == 2.5);
    assert_true(bgp->open_timeout == 4);
    assert_int_equal(bgp->my_as, 4200000001u);
    assert_int_equal(bgp->bgp_id, 0xc0000209u);
    assert_int_equal(bgp->hold_time, 9);
    assert_false(bgp->send_term);
    assert_true(bmp->send_term);
    assert_int_equal(bmp->reconnect, 1);
    assert_int_equal(c->protos[1].collectors[0].port, 1790);
    assert_true(tcp->drain_timeout == 0);
    assert_int_equal(tcp->my_as, 0);
    assert_int_equal(tcp->reconnect, -1); /* not set: on with keep_open */
    config_free(c);
    c = parse("pcap: a.pcap\nbgp: {collector: {ip: 127.0.0.1}}\n");
    assert_non_null(c);
    assert_int_equal(c->protos[0].collectors[0].port, 179);
    assert_true(c->protos[0].session.open_timeout == 10);
    assert_true(c->protos[0].session.drain_timeout == 30);
    assert_int_equal(c->protos[0].session.hold_time, -1);
    assert_int_equal(c->protos[0].session.my_as, 0);
    config_free(c);
    expect_error("pcap: a.pcap\nbgp: {hold_time: 2}\n", "bgp.hold_time: 0 or at least 3 seconds");
    expect_error("pcap: a.pcap\npcap_processing: {anonymise: {keep: [192.0.2.0/24]}}\n", "name the key (key_file");
    expect_error("pcap: a.pcap\npcap_processing: {anonymise: {key_file: k, unmappable: keep}}\n",
                 "drop (counted in the summary) or fail, not keep");
    expect_error("pcap: a.pcap\npcap_processing: {anonymise: {key_file: k, keep: [lab]}}\n",
                 "expected an address or a prefix");
    expect_error("pcap: a.pcap\nbgp: {hold_time: 70000}\n", "expected an integer from 0 to 65535");
    expect_error("pcap: a.pcap\nbgp: {bgp_id: \"2001:db8::1\"}\n", "a BGP identifier is an IPv4 address");
    expect_error("pcap: a.pcap\nbgp: {my_as: 0}\n", "expected an integer from 1 to 4294967295");
    expect_error("pcap: a.pcap\nbgp: {my_as: 4294967296}\n", "expected an integer from 1 to 4294967295");
    expect_error("pcap: a.pcap\nbmp: {drain_timeout: -1}\n", "expected a number >= 0");
    expect_error("pcap: a.pcap\nbmp: {reconnect: sometimes}\n", "expected true or false");
}

static void test_errors(void **state)
{
    expect_error("", "t.yml:1:1: the file is empty");
    expect_error("pcap: [a\n", "t.yml:2:1: not valid YAML");
    expect_error("- a\n- b\n", "t.yml:1:1: expected a mapping of settings");
    expect_error("ipfix: {collector: {ip: 127.0.0.1, port: 1}}\n", "no pcap: key");
    expect_error("pcap: a.pcap\n", "no protocol section");
    expect_error(MINIMAL "time_factor: fast\n", "t.yml:4:14: expected a number, found \"fast\"");
    expect_error(MINIMAL "time_factor: -1\n", "expected a number >= 0");
    expect_error(MINIMAL "keep_open: maybe\n", "t.yml:4:12: expected true or false");
    expect_error(MINIMAL "network:\n  map:\n    - src_ip: 1.2.3.999\n      repro_ip: 127.0.0.1\n",
                 "t.yml:6:15: network.map src_ip: \"1.2.3.999\" is not an IPv4 or IPv6 address");
    expect_error(MINIMAL "network:\n  map:\n    - src_ip: 1.2.3.4\n", "needs both src_ip and repro_ip");
    expect_error(MINIMAL "network:\n  map:\n    - {src_ip: 1.2.3.4, repro_ip: 127.0.0.1}\n"
                 "    - {src_ip: 1.2.3.4, repro_ip: 127.0.0.2}\n", "mapped twice (first on line 6)");
    expect_error(MINIMAL "network:\n  map: 1.2.3.4\n", "expected a list of {src_ip, repro_ip}");
    expect_error("pcap: [a.pcap, b.pcap]\nrepeat: {count: [1, 2, 3]}\n"
                 "ipfix: {collector: {ip: 127.0.0.1, port: 1}}\n",
                 "t.yml:2:17: repeat.count has 3 entries but pcap lists 2 captures");
    expect_error(MINIMAL "repeat: {pattern: random}\n", "expected round-robin or bulk");
    expect_error(MINIMAL "repeat: {count: [-1]}\n", "expected an integer from 0 to");
    expect_error("pcap: a.pcap\nipfix: {collector: {ip: 127.0.0.1, port: 70000}}\n",
                 "expected an integer from 1 to 65535, found \"70000\"");
    expect_error("pcap: a.pcap\nipfix: {select: {udp: {dport: [x]}}, collector: {ip: 127.0.0.1}}\n",
                 "expected an integer from 0 to 65535");
    expect_error("pcap: a.pcap\nipfix: {select: {ip: {src: [nothing]}}}\n", "is not an IPv4/IPv6 address or prefix");
    expect_error("pcap: a.pcap\nipfix: {select: {bpf: \"udp port\"}}\n", "select.bpf: \"udp port\" is not a valid filter");
    expect_error("pcap: a.pcap\nipfix: {}\nipfix: {}\n", "given twice");
    expect_error("pcap: a.pcap\nipfix:\n  select: [1]\n", "select: expected a mapping of keys, found a list");
    expect_error(MINIMAL "pcap_processing: {desired_tcp_payload_size: 0}\n", "expected an integer from 1 to 65535");
    expect_error("pcap: {a: 1}\nipfix: {}\n", "expected a value or a list of values, found a mapping");
}

static void test_missing_pcap_file(void **state)
{
    char *dir = tu_tmpdir(), path[512];
    snprintf(path, sizeof path, "%s/c.yml", dir);
    const char *yaml = "pcap: /nonexistent/x.pcap\nipfix: {collector: {ip: 127.0.0.1}}\n";
    tu_write(path, yaml, strlen(yaml));
    struct config *c = config_load(path, err, sizeof err);
    assert_null(c);
    assert_non_null(strstr(err, "pcap \"/nonexistent/x.pcap\" cannot be read: No such file or directory"));
    /* every capture of a list that cannot be read, each at its own line:col */
    const char *list = "pcap:\n  - /nonexistent/a.pcap\n  - /dev/null\n  - /nonexistent/b.pcap\n"
                       "ipfix: {collector: {ip: 127.0.0.1}}\n";
    tu_write(path, list, strlen(list));
    assert_null(config_load(path, err, sizeof err));
    assert_non_null(strstr(err, "c.yml:2:5: pcap \"/nonexistent/a.pcap\" cannot be read"));
    assert_non_null(strstr(err, "c.yml:4:5: pcap \"/nonexistent/b.pcap\" cannot be read"));
    assert_null(strstr(err, "/dev/null"));
    assert_null(config_load("/nonexistent/c.yml", err, sizeof err));
    assert_non_null(strstr(err, "cannot open config"));
    tu_rmdir(dir);
}

static void test_unknown_key_is_a_warning(void **state)
{
    /* a warning names the closest key; the config still loads */
    struct config *c = parse(MINIMAL "time_factr: 2\nnetwork:\n  interfce: x\n");
    assert_non_null(c);
    assert_true(c->time_factor == 1);
    config_free(c);
    assert_string_equal(config_closest("time_factr", (const char *[]){ "pcap", "time_factor", "keep_open" }, 3),
                        "time_factor");
    assert_string_equal(config_closest("colector", (const char *[]){ "select", "collector" }, 2), "collector");
    assert_null(config_closest("zzzzzzzz", (const char *[]){ "pcap", "repeat" }, 2));
    /* the abbreviation that starts the same way is closer: dst_port is dport, not sport */
    assert_string_equal(config_closest("dst_port", (const char *[]){ "sport", "dport" }, 2), "dport");
    assert_string_equal(config_closest("src_port", (const char *[]){ "sport", "dport" }, 2), "sport");
    assert_string_equal(config_closest("IPFIX", (const char *[]){ "pcap", "ipfix", "bgp" }, 3), "ipfix");
}

/* a key that differs from a known one only in case, '_' or '-' would silently change the run:
 * an error naming the key; --strict makes every unknown key one */
static void test_unknown_key_errors(void **state)
{
    expect_error(MINIMAL "time-factor: 0\n", "t.yml:4:1: unknown key \"time-factor\" in the top level: did you mean \"time_factor\"?");
    expect_error("pcap: a.pcap\nIPFIX:\n  collector: {ip: 127.0.0.1}\n", "t.yml:2:1: unknown key \"IPFIX\" in the top level: did you mean \"ipfix\"?");
    expect_error(MINIMAL "bgp:\n  collector: {ip: 127.0.0.1}\n  Open_Timeout: 3\n", "did you mean \"open_timeout\"?");
    /* strict */
    const char *y = MINIMAL "time_factr: 2\n";
    struct config *c = config_parse_flags("t.yml", y, strlen(y), false, CONFIG_STRICT, err, sizeof err);
    assert_null(c);
    assert_non_null(strstr(err, "t.yml:4:1: unknown key \"time_factr\" in the top level: did you mean \"time_factor\"? (--strict)"));
    y = MINIMAL "ipfix2: {}\n";
    assert_null(config_parse_flags("t.yml", y, strlen(y), false, CONFIG_STRICT, err, sizeof err));
    c = parse(y); /* not strict: a warning */
    assert_non_null(c);
    config_free(c);
}

/* Issue 14 item 1: collector may be a list of collectors (fan-out), each with its own
 * addresses and port (the protocol's default when none); the same one twice is a typo. */
static void test_collector_list(void **state)
{
    struct config *c = parse("pcap: a.pcap\nipfix:\n  collector:\n    - {ip: 127.0.0.1, port: 2100}\n"
                             "    - {ip: [127.0.0.2, \"::2\"], port: 2101}\n    - {ip: 127.0.0.3}\n"
                             "bmp:\n  collector: {ip: 127.0.0.1, port: 1790}\n");
    assert_non_null(c);
    assert_int_equal(c->protos[0].n_collectors, 3);
    assert_string_equal(c->protos[0].collectors[1].hosts[1], "::2");
    assert_int_equal(c->protos[0].collectors[1].port, 2101);
    assert_int_equal(c->protos[0].collectors[2].port, 4739); /* ipfix's default */
    assert_int_equal(c->protos[0].collectors[2].at.line, 6);
    assert_int_equal(c->protos[1].n_collectors, 1);
    char name[64];
    assert_string_equal(stats_collector_name(&c->protos[0].collectors[1], name, sizeof name), "127.0.0.2:2101");
    config_free(c);
    expect_error("pcap: a.pcap\nipfix:\n  collector:\n    - {ip: 127.0.0.1, port: 2100}\n"
                 "    - {ip: 127.0.0.1, port: 2100}\n", "t.yml:5:7: collector 127.0.0.1 port 2100 is listed twice");
    expect_error("pcap: a.pcap\nipfix:\n  collector: [127.0.0.1]\n", "t.yml:3:15: collector: expected a mapping");
}

/* Issue 14 item 2: a map entry's clones, network.clones (identity on by default, domain off),
 * and a range that would run past the last address. */
static void test_clones(void **state)
{
    struct config *c = parse("pcap: a.pcap\nnetwork:\n  map:\n"
                             "    - {src_ip: 10.0.0.1, repro_ip: 203.0.113.10, clones: 200}\n"
                             "    - {src_ip: 10.0.0.2, repro_ip: 203.0.114.1}\n"
                             "ipfix:\n  collector: {ip: 127.0.0.1}\n");
    assert_non_null(c);
    assert_int_equal(c->map[0].clones, 200);
    assert_int_equal(c->map[1].clones, 1);
    assert_int_equal(config_routers(c), 201);
    assert_true(c->clones.bgp_id);
    assert_true(c->clones.sysname);
    assert_false(c->clones.domain);
    assert_true(c->clones.stagger == 0);
    config_free(c);
    c = parse("pcap: a.pcap\nnetwork:\n  map: [{src_ip: 10.0.0.1, repro_ip: \"2001:db8::1\", clones: 3}]\n"
              "  clones: {stagger: 0.0005, bgp_id: false, sysname: false, domain: true}\n"
              "ipfix:\n  collector: {ip: \"::1\"}\n");
    assert_non_null(c);
    assert_true(c->clones.stagger == 0.0005);
    assert_false(c->clones.bgp_id);
    assert_false(c->clones.sysname);
    assert_true(c->clones.domain);
    config_free(c);
    expect_error("pcap: a.pcap\nnetwork:\n  map: [{src_ip: 10.0.0.1, repro_ip: 255.255.255.250, clones: 10}]\n",
                 "10 clones from repro_ip 255.255.255.250 would run past the last address");
    expect_error("pcap: a.pcap\nnetwork:\n  map: [{src_ip: 10.0.0.1, repro_ip: 10.0.0.2, clones: 0}]\n", "clones");
    struct addr a, b;
    char t[ADDR_STRLEN];
    assert_int_equal(addr_parse("2001:db8::ffff:ffff:ffff:ffff", &a), 0);
    assert_int_equal(addr_add(&a, 1, &b), 0);
    assert_string_equal(addr_format(&b, t), "2001:db8:0:1::");
}

/* collector addresses: a literal that looks like an address must be one; a list gives the
 * collector one address per family; source_port; a router's own BGP identifier */
static void test_collector_and_router_keys(void **state)
{
    expect_error("pcap: a.pcap\nipfix:\n  collector: {ip: 300.1.1.1, port: 9991}\n",
                 "t.yml:3:19: collector ip: \"300.1.1.1\" is not an IPv4 address");
    expect_error("pcap: a.pcap\nipfix:\n  collector: {ip: \"2001:db8::zz\"}\n", "is not an IPv6 address");
    struct config *c = parse("pcap: a.pcap\nnetwork:\n  map:\n    - {src_ip: 10.0.0.1, repro_ip: 127.0.0.1, bgp_id: 192.0.2.9}\n"
                             "    - {src_ip: 10.0.0.2, repro_ip: 127.0.0.2}\n"
                             "ipfix:\n  collector: {ip: [127.0.0.1, \"::1\", collector.example], port: 9991}\n"
                             "  source_port: keep\nudp_generic:\n  collector: {ip: 127.0.0.1}\n  source_port: 2055\n");
    assert_non_null(c);
    assert_int_equal(c->protos[0].collectors[0].n_hosts, 3);
    assert_string_equal(c->protos[0].collectors[0].hosts[1], "::1");
    assert_int_equal(c->protos[0].collectors[0].at.line, 7);
    assert_int_equal(c->protos[0].source_port, -1);
    assert_int_equal(c->protos[1].source_port, 2055);
    assert_false(c->protos[0].rewrite.export_time_now); /* the captured bytes by default */
    assert_false(c->protos[0].rewrite.sequence_continuous);
    assert_int_equal(c->map[0].bgp_id, 0xc0000209);
    assert_int_equal(c->map[1].bgp_id, 0);
    assert_int_equal(c->map[1].line, 5);
    assert_int_equal(c->map[1].col, 7);
    config_free(c);
    expect_error(MINIMAL "  source_port: 70000\n", "source_port: expected keep (the captured exporter's port) or a port");
    /* the rewrites (issue 13): ipfix only */
    c = parse(MINIMAL "  export_time: now\n  sequence: continuous\n  templates: prime\n  template_resend: 2.5\n");
    assert_non_null(c);
    assert_true(c->protos[0].rewrite.export_time_now);
    assert_true(c->protos[0].rewrite.sequence_continuous);
    assert_true(c->protos[0].rewrite.templates_prime);
    assert_int_equal(c->protos[0].rewrite.template_resend_ns, 2500000000LL);
    config_free(c);
    c = parse(MINIMAL "  templates: prime\n  template_resend: {seconds: 60, packets: 20}\n");
    assert_non_null(c);
    assert_int_equal(c->protos[0].rewrite.template_resend_ns, 60000000000LL);
    assert_int_equal(c->protos[0].rewrite.template_resend_packets, 20);
    config_free(c);
    expect_error(MINIMAL "  sequence: restart\n", "t.yml:4:13: sequence: expected keep (as captured) or continuous, found \"restart\"");
    expect_error(MINIMAL "  export_time: [now]\n", "export_time: expected keep (as captured) or now, found a list");
    c = parse(MINIMAL "rate: {pps: 1000, bps: 1e6, router_pps: 10, router_bps: 8000}\nduration: 600\n");
    assert_non_null(c);
    assert_true(c->rate.pps == 1000 && c->rate.bps == 1e6 && c->rate.router_pps == 10 && c->rate.router_bps == 8000);
    assert_true(c->duration == 600);
    config_free(c);
    expect_error(MINIMAL "rate: {pps: -5}\n", "t.yml:4:13");
    c = parse(MINIMAL "loop: {count: 3, gap: 1.5}\n");
    assert_non_null(c);
    assert_true(c->loop.on && c->loop.count == 3 && c->loop.gap == 1.5);
    config_free(c);
    expect_error(MINIMAL "loop: {count: 0}\n", "loop.count 0 loops until duration: set duration: (seconds) too");
    expect_error(MINIMAL "  templates: send\n", "templates: expected keep (as captured) or prime, found \"send\"");
    expect_error("pcap: a.pcap\nnetwork:\n  map:\n    - {src_ip: 10.0.0.1, repro_ip: 127.0.0.1, bgp_id: \"::1\"}\n" MINIMAL,
                 "a BGP identifier is an IPv4 address");
}

/* hostile configs: deep nesting is refused at its depth, at once (libyaml's time grows with
 * the square of it); a file over the size limit is refused before it is parsed */
static void test_hostile_yaml(void **state)
{
    size_t n = 200000;
    char *deep = malloc(n + 64);
    memcpy(deep, "pcap: ", 6);
    memset(deep + 6, '[', n);
    deep[6 + n] = 0;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    struct config *c = config_parse("t.yml", deep, strlen(deep), false, err, sizeof err);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    assert_null(c);
    if (!strstr(err, "t.yml:1:70: nested more than 64 levels deep"))
        fail_msg("%s", err);
    /* bounded work: the limit is met within the first levels, not after 200,000 (34 s before) */
    assert_true((t1.tv_sec - t0.tv_sec) * 1000000000L + (t1.tv_nsec - t0.tv_nsec) < 2000000000L);
    /* block nesting too */
    char *p = deep;
    p += sprintf(p, "pcap: a.pcap\nx:\n");
    for (int i = 1; i < 70; i++)
        p += sprintf(p, "%*sk:\n", i, "");
    assert_null(parse(deep));
    assert_non_null(strstr(err, "nested more than 64 levels deep"));
    free(deep);
    char *dir = tu_tmpdir(), path[512];
    snprintf(path, sizeof path, "%s/big.yml", dir);
    size_t big = (4u << 20) + 10;
    char *text = malloc(big);
    memset(text, '#', big);
    tu_write(path, text, big);
    free(text);
    assert_null(config_load(path, err, sizeof err));
    assert_non_null(strstr(err, "a config may have at most 4 MiB"));
    tu_rmdir(dir);
}

static void expect_order(const char *yaml, const size_t *want, size_t n)
{
    struct config *c = parse(yaml);
    if (!c)
        fail_msg("%s", err);
    assert_int_equal(config_plays(c), n);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(config_play_pcap(c, i), want[i]);
    config_free(c);
}

static void test_repeat_patterns(void **state)
{
    /* COMPAT.md: round-robin [2,1] = 1-2-1, bulk [2,1] = 1-1-2 */
    expect_order("pcap: [a, b]\nrepeat: {count: [2, 1], pattern: round-robin}\nipfix: {}\n",
                 (size_t[]){ 0, 1, 0 }, 3);
    expect_order("pcap: [a, b]\nrepeat: {count: [2, 1], pattern: bulk}\nipfix: {}\n", (size_t[]){ 0, 0, 1 }, 3);
    expect_order("pcap: [a, b, c]\nrepeat: {count: [1, 0, 3]}\nipfix: {}\n", (size_t[]){ 0, 2, 2, 2 }, 4);
    expect_order("pcap: a\nipfix: {}\n", (size_t[]){ 0 }, 1);
    expect_order("pcap: [a, b, c]\nrepeat: {count: [3, 1, 2]}\nipfix: {}\n", (size_t[]){ 0, 1, 2, 0, 2, 0 }, 6);
    /* the largest counts: the order is computed, never stored */
    struct config *c = parse("pcap: [a, b, c]\nrepeat: {count: [1000000, 1000000, 1], pattern: round-robin}\n"
                             "ipfix: {}\n");
    assert_non_null(c);
    assert_true(config_plays(c) == 2000001u);
    assert_int_equal(config_play_pcap(c, 2), 2);
    assert_int_equal(config_play_pcap(c, 2000000), 1);
    assert_int_equal(config_play_pcap(c, 1999999), 0);
    config_free(c);
}

static void test_anchor_configs(void **state)
{
    /* the Python tool's own configs load unchanged, when ../shared is present */
    const char *dir = getenv("TELREP_ANCHOR_CONFIGS");
    if (!dir || access(dir, R_OK) != 0)
        skip();
    const char *names[] = { "ipfix-traffic.yml", "nfv9-traffic.yml", "ipfix-multi-sources-repeat.yml",
                            "bmp-multi-sources-repeat.yml", "udp-notif.yml", "pcap-proc-bmp.yml",
                            "bgp-traffic.yml", "ipfix-vmware.yml", "tcp-json.yml" };
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        FILE *f = fopen(path, "rb");
        assert_non_null(f);
        static char text[65536];
        size_t n = fread(text, 1, sizeof text, f);
        fclose(f);
        struct config *c = config_parse(path, text, n, false, err, sizeof err);
        if (!c)
            fail_msg("%s", err);
        config_free(c);
    }
}

/* mrt: one dump (a file, files, a mapping), or a list of mappings: several BMP routers */
static void test_mrt_dumps(void **state)
{
    struct config *c = parse("mrt: rib.bz2\nbgp: {collector: {ip: 127.0.0.1, port: 179}}\n");
    assert_non_null(c);
    assert_int_equal(c->n_mrt, 1);
    assert_int_equal(c->mrt[0].as, MRT_AS_BGP);
    assert_int_equal(c->sources.n_mrt, 1);
    assert_string_equal(c->pcaps[0], "mrt:rib.bz2");
    assert_true(c->no_sync);
    config_free(c);

    c = parse("mrt:\n  - {files: [rrc00-rib.gz, rrc00-upd.gz], sysname: rrc00}\n"
              "  - {files: [rrc01-rib.gz], router: 192.0.2.2, loc_rib: true}\n"
              "bgp: {collector: {ip: 127.0.0.1, port: 179}}\n"
              "bmp: {select: {tcp: {dport: [11019]}}, collector: {ip: 127.0.0.1, port: 1790}}\n");
    assert_non_null(c);
    assert_int_equal(c->n_mrt, 2);
    assert_int_equal(c->sources.n_mrt, 2);
    assert_int_equal(c->n_pcaps, 1); /* one play: the dumps side by side */
    assert_int_equal(c->mrt[0].n_files, 2);
    assert_string_equal(c->mrt[0].sysname, "rrc00");
    for (int i = 0; i < 2; i++) { /* several dumps are BMP routers, even beside a bgp: section */
        assert_int_equal(c->mrt[i].as, MRT_AS_BMP);
        assert_int_equal(c->mrt[i].port, 11019);
    }
    assert_true(c->mrt[1].loc_rib);
    config_free(c);

    expect_error("mrt: [{files: [a.gz], as: bgp}, {files: [b.gz]}]\nbgp: {collector: {ip: 127.0.0.1, port: 179}}\n",
                 "several dumps are several BMP routers");
    expect_error("mrt: [{files: [a.gz], router: 192.0.2.1}, {files: [b.gz], router: 192.0.2.1}]\n"
                 "bmp: {collector: {ip: 127.0.0.1, port: 1790}}\n",
                 "dumps 1 and 2 are both router 192.0.2.1");
    expect_error("mrt: [{files: [a.gz]}, b.gz]\nbmp: {collector: {ip: 127.0.0.1, port: 1790}}\n",
                 "a list of dumps is a list of mappings");
    expect_error("mrt: [{router: 192.0.2.1}]\nbmp: {collector: {ip: 127.0.0.1, port: 1790}}\n",
                 "name the MRT files");
    expect_error("mrt: a.gz\nbgp: {collector: {ip: 127.0.0.1, port: 179}}\n"
                 "bmp: {collector: {ip: 127.0.0.1, port: 1790}}\n", "say which the dump is replayed as");
}

int main(void)
{
    log_set_level(LOG_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_key),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_session_keys),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_missing_pcap_file),
        cmocka_unit_test(test_unknown_key_is_a_warning),
        cmocka_unit_test(test_unknown_key_errors),
        cmocka_unit_test(test_collector_and_router_keys),
        cmocka_unit_test(test_collector_list),
        cmocka_unit_test(test_clones),
        cmocka_unit_test(test_hostile_yaml),
        cmocka_unit_test(test_repeat_patterns),
        cmocka_unit_test(test_anchor_configs),
        cmocka_unit_test(test_mrt_dumps),
    };
    return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
