/* flow events files: a valid file read into flows sorted by start, and each kind of bad line
 * refused with file:line and what is wrong. */
#include "testutil.h"

#include <math.h>

#include "flow/events.h"
#include "flow/flowconfig.h"
#include "flow/synthetic.h"

static const char *good =
    "# a comment\n"
    "CONN,7,10.0.0.1,40000,->,10.0.0.2,80,1.5\n"
    "CONN,3,2001:db8::1,40001,->,2001:db8::2,443,0.25\n"
    "EVENT,7,0,10.0.0.1,SEND,100,0,1.5\n"
    "EVENT,3,0,2001:db8::1,SEND,10,0,0.25\n"
    "EVENT,7,1,10.0.0.2,WAIT,100,0.1,1.6\n"
    "EVENT,7,2,10.0.0.2,SEND,2000,0,1.6\r\n"
    "EVENT,7,3,10.0.0.1,WAIT,2000,0.2,1.8\n"
    "EVENT,3,1,2001:db8::2,WAIT,10,0,0.3\n"
    "EVENT,7,4,10.0.0.1,CLOSE,0,0,1.9\n"
    "EVENT,7,5,10.0.0.2,CLOSE,0,0,1.9\n";

static void test_good(void **state)
{
    struct flow_set s;
    char err[256];
    assert_int_equal(flow_events_parse("f.csv", good, strlen(good), &s, err, sizeof err), 0);
    assert_int_equal(s.n, 2);
    assert_int_equal(s.flows[0].fid, 3); /* sorted by start */
    assert_int_equal(s.flows[1].fid, 7);
    const struct flow_spec *f = &s.flows[1];
    assert_int_equal(f->side[0].n, 3);
    assert_int_equal(f->side[1].n, 3);
    assert_int_equal(f->side[1].ev[1].type, FLOW_SEND);
    assert_int_equal(f->side[1].ev[1].bytes, 2000);
    assert_true(f->side[0].ev[1].stime > 1.79 && f->side[0].ev[1].stime < 1.81);
    assert_int_equal(f->side[1].port, 80);
    assert_int_equal(s.events, 8);
    assert_int_equal(s.send_bytes, 2110);
    flow_set_free(&s);
}

/* a file of comments only holds no flow (and sorts nothing: qsort is never given a NULL array) */
static void test_no_flows(void **state)
{
    struct flow_set s;
    char err[256];
    const char *text = "# flow-extract: no TCP conversation in the capture\n\n";
    assert_int_equal(flow_events_parse("f.csv", text, strlen(text), &s, err, sizeof err), 0);
    assert_int_equal(s.n, 0);
    assert_int_equal(s.events, 0);
    flow_set_free(&s);
}

static void bad(const char *text, const char *want)
{
    struct flow_set s;
    char err[256] = "";
    assert_int_equal(flow_events_parse("f.csv", text, strlen(text), &s, err, sizeof err), -1);
    if (!strstr(err, want))
        fail_msg("error \"%s\" does not say \"%s\"", err, want);
}

static void test_bad_lines(void **state)
{
    bad("CONN,1,10.0.0.1,1,->,10.0.0.2\n", "f.csv:1: expected 8 comma-separated fields");
    bad("CONN,1,10.0.0.1,1,->,10.0.0.2,2,0,extra\n", "f.csv:1: expected 8");
    bad("HELLO,1,2,3,4,5,6,7\n", "f.csv:1: a line starts with CONN or EVENT");
    bad("CONN,x,10.0.0.1,1,->,10.0.0.2,2,0\n", "CONN fid: expected a whole number");
    bad("CONN,1,10.0.0.1,70000,->,10.0.0.2,2,0\n", "CONN source port: expected a whole number 0..65535");
    bad("CONN,1,10.0.0.1,1,<-,10.0.0.2,2,0\n", "the fifth field must be \"->\"");
    bad("CONN,1,10.0.0.999,1,->,10.0.0.2,2,0\n", "\"10.0.0.999\" is not an IPv4 or IPv6 address");
    bad("CONN,1,10.0.0.1,1,->,2001:db8::2,2,0\n", "not of one address family");
    bad("CONN,1,10.0.0.1,1,->,10.0.0.2,2,-1\n", "CONN stime: expected a number >= 0");
    bad("CONN,1,10.0.0.1,1,->,10.0.0.2,2,0\nCONN,1,10.0.0.1,1,->,10.0.0.2,2,0\n", "f.csv:2: CONN: flow 1 is defined twice");
    bad("EVENT,1,0,10.0.0.1,SEND,1,0,0\n", "f.csv:1: EVENT: flow 1 has no CONN line before it");
    bad("CONN,1,10.0.0.1,1,->,10.0.0.2,2,0\nEVENT,1,0,10.0.0.3,SEND,1,0,0\n", "f.csv:2: EVENT: 10.0.0.3 is neither end");
    bad("CONN,1,10.0.0.1,1,->,10.0.0.2,2,0\nEVENT,1,0,10.0.0.1,PUSH,1,0,0\n", "SEND, WAIT, CLOSE or BULK, not \"PUSH\"");
    bad("CONN,1,10.0.0.1,1,->,10.0.0.2,2,0\nEVENT,1,0,10.0.0.1,CLOSE,0,0,0\nEVENT,1,1,10.0.0.1,SEND,1,0,0\n",
        "f.csv:3: EVENT: 10.0.0.1 of flow 1 after its CLOSE");
    bad("CONN,1,10.0.0.1,1,->,10.0.0.2,2,0\nEVENT,1,0,10.0.0.1,SEND,10,0,0\nEVENT,1,1,10.0.0.2,WAIT,9,0,0\n",
        "f.csv:1: flow 1: 10.0.0.1 SENDs 10 bytes but 10.0.0.2 WAITs for 9");
    static const char nul[] = "CONN,1,10.0.0.1,1,->,10.0.0.2,2,0\n\0\n";
    struct flow_set s;
    char err[256];
    assert_int_equal(flow_events_parse("f.csv", nul, sizeof nul - 1, &s, err, sizeof err), -1);
    assert_non_null(strstr(err, "f.csv:2: a NUL byte"));
}

/* made-up flows: distributions parsed or refused; the same seed, the same flows; arrivals at
 * the rate; each flow balanced, with its rounds; client addresses counted up */
static void test_synthetic(void **state)
{
    struct flow_dist d;
    char err[256];
    assert_int_equal(flow_dist_parse("250", &d, err, sizeof err), 0);
    assert_int_equal(d.n, 1);
    assert_int_equal(d.p[0].kind, 'f');
    assert_int_equal(flow_dist_parse("uniform:10:20", &d, err, sizeof err), 0);
    assert_int_equal(flow_dist_parse("exp:3.5", &d, err, sizeof err), 0);
    assert_int_equal(flow_dist_parse("uniform:20:10", &d, err, sizeof err), -1);
    assert_int_equal(flow_dist_parse("exp:0", &d, err, sizeof err), -1);
    assert_int_equal(flow_dist_parse("-4", &d, err, sizeof err), -1);
    assert_int_equal(flow_dist_parse("lots", &d, err, sizeof err), -1);
    assert_non_null(strstr(err, "uniform:A:B"));
    assert_int_equal(flow_dist_parse("normal:200:20", &d, err, sizeof err), 0);
    assert_int_equal(flow_dist_parse("lognormal:-3.9:1", &d, err, sizeof err), 0);
    assert_true(d.p[0].kind == 'l' && d.p[0].a == -3.9 && d.p[0].b == 1);
    assert_int_equal(flow_dist_parse("normal:200", &d, err, sizeof err), -1);
    assert_int_equal(flow_dist_parse("normal:200:-1", &d, err, sizeof err), -1);
    assert_int_equal(flow_dist_parse("lognormal:900:1", &d, err, sizeof err), -1); /* e^900: no */
    assert_int_equal(flow_dist_parse("exp:3:4", &d, err, sizeof err), -1);
    /* mixtures: weights normalised; every part weighted; at most FLOW_DIST_PARTS */
    assert_int_equal(flow_dist_parse("3*normal:200:20+1*exp:900", &d, err, sizeof err), 0);
    assert_int_equal(d.n, 2);
    assert_true(d.p[0].w == 0.75 && d.p[1].w == 0.25 && d.p[1].kind == 'e');
    assert_int_equal(flow_dist_parse("normal:200:20+exp:900", &d, err, sizeof err), -1);
    assert_int_equal(flow_dist_parse("0.5*normal:200:20+exp:900", &d, err, sizeof err), -1);
    assert_int_equal(flow_dist_parse("0*normal:200:20+1*exp:900", &d, err, sizeof err), -1);
    assert_int_equal(flow_dist_parse("1*1+1*2+1*3+1*4+1*5+1*6", &d, err, sizeof err), -1);
    assert_int_equal(flow_dist_parse("1*1+", &d, err, sizeof err), 0); /* an empty part is no part */
    assert_int_equal(d.n, 1);
    /* drawn: a mixture's parts in their weights, each with its parameters; never below 0 */
    assert_int_equal(flow_dist_parse("0.3*normal:200:20+0.7*lognormal:8:0.5", &d, err, sizeof err), 0);
    uint64_t st = 5;
    size_t low = 0, n = 20000;
    double sum_low = 0, logs = 0, logs2 = 0;
    for (size_t i = 0; i < n; i++) {
        double v = flow_dist_draw(&d, &st);
        assert_true(v >= 0);
        if (v < 500) {
            low++, sum_low += v;
        } else {
            logs += log(v), logs2 += log(v) * log(v);
        }
    }
    size_t high = n - low;
    assert_true(fabs((double)low / (double)n - 0.3) < 0.015);
    assert_true(fabs(sum_low / (double)low - 200) < 2);
    double mu = logs / (double)high, sd = sqrt(logs2 / (double)high - mu * mu);
    assert_true(fabs(mu - 8) < 0.03 && fabs(sd - 0.5) < 0.03);
    assert_int_equal(flow_dist_parse("normal:1:10", &d, err, sizeof err), 0);
    for (size_t i = 0; i < 1000; i++)
        assert_true(flow_dist_draw(&d, &st) >= 0);

    struct flow_synthetic_options o = { .flows = 300, .rate = 100, .clients = 3, .port = 8080, .seed = 42 };
    flow_dist_parse("uniform:1:4", &o.rounds, err, sizeof err);
    flow_dist_parse("exp:500", &o.request, err, sizeof err);
    flow_dist_parse("uniform:100:9000", &o.response, err, sizeof err);
    flow_dist_parse("0.01", &o.think, err, sizeof err);
    addr_parse("10.0.0.254", &o.client);
    addr_parse("10.0.1.1", &o.server);
    struct flow_set a, b;
    assert_int_equal(flow_synthetic(&o, &a, err, sizeof err), 0);
    assert_int_equal(flow_synthetic(&o, &b, err, sizeof err), 0);
    assert_int_equal(a.n, 300);
    assert_int_equal(a.send_bytes, b.send_bytes);
    assert_true(a.flows[299].stime > 2.98 && a.flows[299].stime < 3.0);
    char ip[ADDR_STRLEN];
    assert_string_equal(addr_format(&a.flows[2].side[0].ip, ip), "10.0.1.0"); /* 254 + 2, carried */
    size_t rounds[5] = { 0 };
    for (size_t i = 0; i < a.n; i++) {
        const struct flow_spec *f = &a.flows[i];
        assert_int_equal(f->side[0].send_bytes, f->side[1].wait_bytes);
        assert_int_equal(f->side[1].send_bytes, f->side[0].wait_bytes);
        assert_int_equal(f->side[0].ev[f->side[0].n - 1].type, FLOW_CLOSE);
        size_t sends = 0;
        for (size_t k = 0; k < f->side[1].n; k++)
            sends += f->side[1].ev[k].type == FLOW_SEND;
        assert_true(sends >= 1 && sends <= 4);
        rounds[sends]++;
    }
    assert_true(rounds[1] > 0 && rounds[4] > 0); /* the distribution is used */
    /* arrivals drawn from their own distribution instead of the rate */
    struct flow_synthetic_options lo = o;
    lo.rate = 0;
    flow_dist_parse("lognormal:-4.6:0.8", &lo.arrival, err, sizeof err);
    struct flow_set l;
    assert_int_equal(flow_synthetic(&lo, &l, err, sizeof err), 0);
    double lsum = 0;
    for (size_t i = 1; i < l.n; i++)
        lsum += log(l.flows[i].stime - l.flows[i - 1].stime);
    assert_true(fabs(lsum / (double)(l.n - 1) + 4.6) < 0.15);
    flow_set_free(&l);
    /* written as an events file, it reads back as the same flows */
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_int_equal(flow_events_write(f, &a), 0);
    fclose(f);
    /* a flow whose ends share an address cannot be written: its events would not read back */
    struct flow_synthetic_options same = o;
    same.clients = 8;
    addr_parse("10.0.1.0", &same.client); /* the second client is the server, 10.0.1.1 */
    struct flow_set s2;
    assert_int_equal(flow_synthetic(&same, &s2, err, sizeof err), 0);
    assert_int_equal(flow_events_writable(&s2, err, sizeof err), -1);
    assert_non_null(strstr(err, "flow 1: client and server are both 10.0.1.1"));
    char *t2 = NULL;
    size_t l2 = 0;
    FILE *f2 = open_memstream(&t2, &l2);
    assert_int_equal(flow_events_write(f2, &s2), -1);
    fclose(f2);
    assert_int_equal(l2, 0);
    free(t2);
    flow_set_free(&s2);
    assert_int_equal(flow_events_writable(&a, err, sizeof err), 0);
    struct flow_set back;
    assert_int_equal(flow_events_parse("written", text, len, &back, err, sizeof err), 0);
    assert_int_equal(back.n, a.n);
    assert_int_equal(back.events, a.events);
    assert_int_equal(back.send_bytes, a.send_bytes);
    for (size_t i = 0; i < a.n; i++)
        for (int s = 0; s < 2; s++) {
            assert_int_equal(back.flows[i].side[s].n, a.flows[i].side[s].n);
            assert_int_equal(back.flows[i].side[s].send_bytes, a.flows[i].side[s].send_bytes);
            for (size_t k = 0; k < a.flows[i].side[s].n; k++)
                assert_true(fabs(back.flows[i].side[s].ev[k].stime - a.flows[i].side[s].ev[k].stime) < 2e-6);
        }
    flow_set_free(&back);
    free(text);
    flow_set_free(&b);
    o.seed = 43;
    assert_int_equal(flow_synthetic(&o, &b, err, sizeof err), 0);
    assert_int_not_equal(a.send_bytes, b.send_bytes);
    flow_set_free(&a);
    flow_set_free(&b);
    o.rate = 0;
    assert_int_equal(flow_synthetic(&o, &a, err, sizeof err), -1);
}

/* flow-replay's YAML config: every key read; errors with file:line:col */
static void test_config(void **state)
{
    static const char *yaml =
        "role: server\ntime_scale: 0.5\nasap: true\nclient_netns: a\nserver_netns: b\nstall_timeout: 5\n"
        "timeout: 60\ntcpinfo_interval: 0.25\nresults: r.jsonl\nsummary: s.json\n"
        "map: [{from: 10.0.0.1, to: 127.0.0.1}, {from: '2001:db8::1', to: '::1'}]\n"
        "port_map: [{from: 80, to: 8080}]\n"
        "socket: {congestion: cubic, nodelay: true, sndbuf: 65536, rcvbuf: 131072, ecn: on}\n"
        "flows:\n  - match: {server_port: 443, client: 10.0.0.9}\n    congestion: bbr\n    nodelay: false\n"
        "  - match: {fid: 7}\n    rcvbuf: 4096\n"
        "synthetic: {flows: 50, rate: 10, poisson: true, rounds: 'uniform:1:3', request: 'exp:200', response: 3000,"
        " think: 0.1, client: 10.1.0.1, clients: 4, server: 10.2.0.1, port: 9000, seed: 11}\n";
    struct flow_config c;
    char err[256];
    flow_config_defaults(&c);
    if (flow_config_parse("f.yml", yaml, strlen(yaml), &c, err, sizeof err) < 0)
        fail_msg("%s", err);
    assert_int_equal(c.o.role, FLOW_ROLE_SERVER);
    assert_true(c.o.asap);
    assert_true(c.o.time_scale == 0.5 && c.o.stall_timeout == 5 && c.o.timeout == 60);
    assert_string_equal(c.o.client_netns, "a");
    assert_string_equal(c.results, "r.jsonl");
    assert_int_equal(c.o.n_map, 2);
    assert_int_equal(c.o.map[1].to.family, AF_INET6);
    assert_int_equal(c.o.n_port_map, 1);
    assert_int_equal(c.o.port_map[0].to, 8080);
    assert_string_equal(c.o.sock.congestion, "cubic");
    assert_int_equal(c.o.sock.nodelay, 1);
    assert_int_equal(c.o.sock.rcvbuf, 131072);
    assert_int_equal(c.o.ecn, 1);
    assert_int_equal(c.o.n_rules, 2);
    assert_int_equal(c.o.rules[0].server_port, 443);
    assert_true(c.o.rules[0].has_client && !c.o.rules[0].has_fid);
    assert_int_equal(c.o.rules[0].opts.nodelay, 0);
    assert_string_equal(c.o.rules[0].opts.congestion, "bbr");
    assert_true(c.o.rules[1].has_fid && c.o.rules[1].fid == 7 && c.o.rules[1].server_port == -1);
    assert_true(c.synthetic && c.syn.poisson && c.syn.flows == 50 && c.syn.clients == 4 && c.syn.port == 9000);
    assert_int_equal(c.syn.rounds.p[0].kind, 'u');
    flow_config_free(&c);

    static const struct { const char *yaml, *want; } bad[] = {
        { "role: maybe\n", "f.yml:1:7: role: expected both, client or server" },
        { "map: [{from: 10.0.0.1}]\n", "map: each entry needs from and to" },
        { "map: [{from: 10.0.0.1, to: '::1'}]\n", "one address family" },
        { "port_map: [{from: 0, to: 1}]\n", "expected an integer from 1 to 65535" },
        { "flows: [{match: {port: 1}}]\n", "match: the keys are fid, client, server and server_port" },
        { "synthetic: {rounds: 'lots'}\n", "expected a number >= 0, uniform:A:B" },
        { "stall_timeout: 0\n", "stall_timeout must be > 0" },
        { "socket: [1]\n", "socket: expected a mapping" },
        { "a: [\n", "not valid YAML" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        flow_config_defaults(&c);
        err[0] = 0;
        assert_int_equal(flow_config_parse("f.yml", bad[i].yaml, strlen(bad[i].yaml), &c, err, sizeof err), -1);
        if (!strstr(err, bad[i].want))
            fail_msg("\"%s\": error \"%s\" does not say \"%s\"", bad[i].yaml, err, bad[i].want);
        flow_config_free(&c);
    }
}

/* --bulk: each flow a BULK of the sender(s) then both CLOSE; it round-trips an events file */
static void test_synthetic_bulk(void **state)
{
    char err[256];
    struct flow_synthetic_options o = { .flows = 2, .rate = 10, .port = 8080, .bulk = 2.5, .bulk_dir = 2 };
    addr_parse("10.0.0.1", &o.client);
    addr_parse("10.0.1.1", &o.server);
    struct flow_set a, back;
    assert_int_equal(flow_synthetic(&o, &a, err, sizeof err), 0);
    for (int s = 0; s < 2; s++) {
        const struct flow_side *sd = &a.flows[1].side[s];
        assert_int_equal(sd->n, 2);
        assert_int_equal(sd->ev[0].type, FLOW_BULK);
        assert_int_equal(sd->ev[0].bytes, 2500000); /* microseconds */
        assert_int_equal(sd->ev[1].type, FLOW_CLOSE);
        assert_true(fabs(sd->ev[1].stime - (0.1 + 2.5)) < 1e-9);
    }
    assert_int_equal(a.send_bytes, 0);
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_int_equal(flow_events_write(f, &a), 0);
    fclose(f);
    assert_non_null(strstr(text, ",BULK,2500000,"));
    assert_int_equal(flow_events_parse("bulk", text, len, &back, err, sizeof err), 0);
    assert_int_equal(back.flows[0].side[1].ev[0].type, FLOW_BULK);
    assert_int_equal(back.flows[0].side[1].ev[0].bytes, 2500000);
    free(text);
    flow_set_free(&a);
    flow_set_free(&back);
    o.bulk_dir = 1; /* down: only the server sends */
    assert_int_equal(flow_synthetic(&o, &a, err, sizeof err), 0);
    assert_int_equal(a.flows[0].side[0].ev[0].type, FLOW_CLOSE);
    assert_int_equal(a.flows[0].side[1].ev[0].type, FLOW_BULK);
    flow_set_free(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good),
        cmocka_unit_test(test_no_flows),
        cmocka_unit_test(test_bad_lines),
        cmocka_unit_test(test_synthetic),
        cmocka_unit_test(test_synthetic_bulk),
        cmocka_unit_test(test_config),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
