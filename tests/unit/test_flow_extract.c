/* flow-extract: each rule of docs/flow-extract.1 on small conversations built here —
 * lockstep request/response, concurrent sending, retransmission, reordering, a hole, a flow
 * without its SYN, RST close, the quiet gap, idle timeout and a reused 5-tuple. */
#include "testutil.h"

#include "flow/extract.h"
#include "pcapproc/pktwrite.h"

#define MS 1000000LL
#define C 0 /* the client (initiator) */
#define S 1 /* the server */

struct conv {
    struct flow_extract *x;
    struct pktwrite w;
    struct pktwrite_flow dir[2];
    int64_t t;
    char *csv;
    size_t csv_len;
    FILE *out, *meta;
    char *meta_text;
    size_t meta_len;
};

static void conv_open_family(struct conv *v, const struct flow_extract_options *o, uint16_t cport, bool v6);

static void conv_open(struct conv *v, const struct flow_extract_options *o, uint16_t cport)
{
    conv_open_family(v, o, cport, false);
}

static void conv_open_family(struct conv *v, const struct flow_extract_options *o, uint16_t cport, bool v6)
{
    memset(v, 0, sizeof *v);
    char err[64];
    assert_int_equal(pktwrite_open(&v->w, NULL, err, sizeof err), 0);
    v->out = open_memstream(&v->csv, &v->csv_len);
    v->meta = open_memstream(&v->meta_text, &v->meta_len);
    struct flow_extract_options def = { 0 };
    v->x = flow_extract_new(o ? o : &def, v->out, v->meta);
    v->dir[C] = (struct pktwrite_flow){ .sport = cport, .dport = 80, .tcp = true, .seq = 1000 };
    v->dir[S] = (struct pktwrite_flow){ .sport = 80, .dport = cport, .tcp = true, .seq = 5000 };
    addr_parse(v6 ? "2001:db8::1" : "192.0.2.1", &v->dir[C].src);
    addr_parse(v6 ? "2001:db8::2" : "192.0.2.2", &v->dir[C].dst);
    v->dir[S].src = v->dir[C].dst; v->dir[S].dst = v->dir[C].src;
    v->t = 1700000000LL * 1000000000LL;
}

/* one segment from side i at +dt ms: flags (0 = PSH|ACK), len bytes; its ACK acknowledges
 * `acked` bytes of the other side (-1: everything it sent so far) */
static void seg(struct conv *v, int i, int64_t dt_ms, uint8_t flags, size_t len, long acked)
{
    static uint8_t payload[4096];
    struct pktwrite_flow *f = &v->dir[i], *p = &v->dir[1 - i];
    uint32_t p_isn = i == C ? 5000 + 1 : 1000 + 1;
    f->ack = acked < 0 ? p->seq : p_isn + (uint32_t)acked;
    f->flags = flags;
    v->t += dt_ms * MS;
    assert_int_equal(pktwrite_packet(&v->w, f, v->t, payload, len), 0);
    size_t ip = f->src.family == AF_INET6 ? 40 : 20;
    flow_extract_packet(v->x, DLT_EN10MB, v->w.frame, 14 + ip + 20 + len, v->t);
}

static void handshake(struct conv *v)
{
    seg(v, C, 0, 0x02, 0, 0);      /* SYN */
    v->dir[S].seq = 5000;
    seg(v, S, 1, 0x12, 0, 0);      /* SYN-ACK */
    seg(v, C, 1, 0x10, 0, 0);      /* ACK */
}

static void finish(struct conv *v, struct flow_extract_stats *st)
{
    flow_extract_finish(v->x, st);
    flow_extract_free(v->x);
    fclose(v->out);
    fclose(v->meta);
}

static void conv_free(struct conv *v)
{
    free(v->csv);
    free(v->meta_text);
}

/* the events of the file as "C SEND 100" lines, CONN lines left out */
static void events(const struct conv *v, char *out, size_t len)
{
    out[0] = 0;
    char *copy = strndup(v->csv, v->csv_len), *save = NULL;
    for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char ip[64], type[16];
        unsigned long long fid, eid, bytes;
        if (sscanf(line, "EVENT,%llu,%llu,%63[^,],%15[^,],%llu", &fid, &eid, ip, type, &bytes) != 5)
            continue;
        size_t n = strlen(out);
        bool client = !strcmp(ip, "192.0.2.1") || !strcmp(ip, "2001:db8::1");
        snprintf(out + n, len - n, "%s%s %s %llu", n ? " | " : "", client ? "C" : "S",
                 type, bytes);
    }
    free(copy);
}

static void test_lockstep(void **state)
{
    struct conv v;
    conv_open(&v, NULL, 40000);
    handshake(&v);
    seg(&v, C, 1, 0, 100, -1);
    seg(&v, S, 5, 0, 200, -1);
    seg(&v, C, 5, 0, 50, -1);
    seg(&v, S, 5, 0, 20, -1);
    seg(&v, C, 1, 0x11, 0, -1);    /* FIN */
    seg(&v, S, 1, 0x11, 0, -1);
    struct flow_extract_stats st;
    finish(&v, &st);
    char ev[1024];
    events(&v, ev, sizeof ev);
    assert_string_equal(ev, "C SEND 100 | S WAIT 100 | S SEND 200 | C WAIT 200 | C SEND 50 | S WAIT 50 | "
                            "S SEND 20 | C WAIT 20 | C CLOSE 0 | S CLOSE 0");
    assert_non_null(strstr(v.csv, "CONN,0,192.0.2.1,40000,->,192.0.2.2,80,0.000000\n"));
    assert_int_equal(st.flows, 1);
    assert_int_equal(st.unbalanced, 0);
    assert_non_null(strstr(v.meta_text, "\"close\":\"fin\""));
    assert_non_null(strstr(v.meta_text, "\"handshake_rtt_ms\":1"));
    conv_free(&v);
}

/* both send at once: no WAIT before a SEND whose ACK shows nothing received; each side
 * waits for the rest at the close; SENDs of one side = WAITs of the other */
static void test_concurrent(void **state)
{
    struct conv v;
    conv_open(&v, NULL, 40001);
    handshake(&v);
    seg(&v, C, 1, 0, 1000, 0);
    seg(&v, S, 1, 0, 500, 0);
    seg(&v, C, 1, 0, 1000, 0);
    seg(&v, S, 1, 0, 500, 1000);   /* it saw the first 1000 */
    seg(&v, C, 1, 0x14, 0, -1);    /* RST */
    struct flow_extract_stats st;
    finish(&v, &st);
    char ev[1024];
    events(&v, ev, sizeof ev);
    assert_string_equal(ev, "C SEND 1000 | S SEND 500 | C SEND 1000 | S WAIT 1000 | S SEND 500 | C WAIT 1000 | "
                            "S WAIT 1000 | C CLOSE 0 | S CLOSE 0");
    assert_int_equal(st.unbalanced, 0);
    assert_non_null(strstr(v.meta_text, "\"close\":\"rst\""));
    conv_free(&v);
}

/* a retransmission counts once; a late segment that fills a hole is reordering, not loss;
 * a hole never filled is sent (the peer waits for it) and reported missing */
static void test_retransmission_reordering_hole(void **state)
{
    struct conv v;
    conv_open(&v, NULL, 40002);
    handshake(&v);
    uint32_t at = v.dir[C].seq;
    seg(&v, C, 1, 0, 100, -1);
    v.dir[C].seq = at;
    seg(&v, C, 1, 0, 100, -1);     /* retransmitted */
    v.dir[C].seq = at + 200;
    seg(&v, C, 1, 0, 100, -1);     /* 100..200 skipped */
    v.dir[C].seq = at + 100;
    seg(&v, C, 1, 0, 100, -1);     /* ... arrives late */
    v.dir[C].seq = at + 400;
    seg(&v, C, 1, 0, 100, -1);     /* 300..400 never arrives */
    seg(&v, S, 1, 0, 10, -1);
    struct flow_extract_stats st;
    finish(&v, &st);
    char ev[1024];
    events(&v, ev, sizeof ev);
    assert_string_equal(ev, "C SEND 500 | S WAIT 500 | S SEND 10 | C WAIT 10 | C CLOSE 0 | S CLOSE 0");
    assert_non_null(strstr(v.meta_text, "\"retransmitted_bytes\":{\"initiator\":100,"));
    assert_non_null(strstr(v.meta_text, "\"reordered_bytes\":{\"initiator\":100,"));
    assert_non_null(strstr(v.meta_text, "\"missing_bytes\":{\"initiator\":100,"));
    assert_int_equal(st.retransmitted_bytes, 100);
    assert_int_equal(st.missing_bytes, 100);
    conv_free(&v);
}

/* no SYN: the side with the higher port initiates, whoever is seen first */
static void test_without_syn(void **state)
{
    struct conv v;
    conv_open(&v, NULL, 50000);
    seg(&v, S, 0, 0, 30, 0);
    seg(&v, C, 1, 0, 40, -1);
    struct flow_extract_stats st;
    finish(&v, &st);
    assert_non_null(strstr(v.csv, "CONN,0,192.0.2.1,50000,->,192.0.2.2,80,"));
    char ev[1024];
    events(&v, ev, sizeof ev);
    assert_string_equal(ev, "S SEND 30 | C WAIT 30 | C SEND 40 | S WAIT 40 | C CLOSE 0 | S CLOSE 0");
    assert_int_equal(st.flows_without_syn, 1);
    assert_non_null(strstr(v.meta_text, "\"close\":\"capture_end\""));
    conv_free(&v);
}

/* no SYN, and the first segment seen is not the first byte: a FIN at the end, or a later
 * segment, then earlier ones. Sequence numbers unwrap to the nearest value, so the earlier
 * bytes extend the stream backwards (a SEND of the bytes the capture carried, not ~2^32). */
static void test_without_syn_backwards(void **state)
{
    struct conv v;
    conv_open(&v, NULL, 50001);
    uint32_t at = v.dir[C].seq;
    v.dir[C].seq = at + 300;
    seg(&v, C, 0, 0x11, 0, 0);     /* the FIN first */
    v.dir[C].seq = at;
    seg(&v, C, 1, 0, 100, 0);      /* then the data, in order */
    seg(&v, C, 1, 0, 100, 0);
    seg(&v, C, 1, 0, 100, 0);
    v.dir[S].seq = 7000;
    seg(&v, S, 1, 0, 40, 300);     /* a later segment of the other side ... */
    v.dir[S].seq = 6960;
    seg(&v, S, 1, 0, 40, 300);     /* ... then the one before it */
    struct flow_extract_stats st;
    finish(&v, &st);
    char ev[1024];
    events(&v, ev, sizeof ev);
    assert_string_equal(ev, "C SEND 300 | S WAIT 300 | S SEND 80 | C WAIT 80 | C CLOSE 0 | S CLOSE 0");
    assert_int_equal(st.send_bytes, 380);
    assert_int_equal(st.unbalanced, 0);
    assert_int_equal(st.missing_bytes, 0);
    conv_free(&v);
}

/* a segment 1 GiB or more away from its stream (garbage, or another connection) is not part of
 * it: counted, never a SEND */
static void test_out_of_window(void **state)
{
    struct conv v;
    conv_open(&v, NULL, 50002);
    handshake(&v);
    seg(&v, C, 1, 0, 100, -1);
    uint32_t at = v.dir[C].seq;
    v.dir[C].seq = at + 0x60000000u;
    seg(&v, C, 1, 0, 100, -1);
    v.dir[C].seq = at - 0x60000000u;
    seg(&v, C, 1, 0, 100, -1);
    struct flow_extract_stats st;
    finish(&v, &st);
    char ev[1024];
    events(&v, ev, sizeof ev);
    assert_string_equal(ev, "C SEND 100 | S WAIT 100 | C CLOSE 0 | S CLOSE 0");
    assert_int_equal(st.out_of_window_segments, 2);
    conv_free(&v);
}

/* payload_only: a flow that carried nothing either way leaves no event and no details */
static void test_payload_only(void **state)
{
    struct conv v;
    struct flow_extract_options o = { .payload_only = true };
    conv_open(&v, &o, 50003);
    handshake(&v);
    seg(&v, C, 1, 0x11, 0, -1);    /* FIN: an empty flow */
    seg(&v, S, 1, 0x11, 0, -1);
    v.dir[C].sport = 50004;
    v.dir[S].dport = 50004;
    handshake(&v);
    seg(&v, C, 1, 0, 10, -1);
    struct flow_extract_stats st;
    finish(&v, &st);
    char ev[1024];
    events(&v, ev, sizeof ev);
    assert_string_equal(ev, "C SEND 10 | S WAIT 10 | C CLOSE 0 | S CLOSE 0");
    assert_null(strstr(v.csv, ",50003,"));
    assert_non_null(strstr(v.csv, ",50004,"));
    assert_null(strstr(v.meta_text, "\"port\":50003"));
    assert_int_equal(st.flows_without_payload, 1);
    conv_free(&v);
}

/* a silence longer than the quiet gap ends a SEND; a flow idle past the timeout ends, and
 * the same addresses and ports with a new SYN are a new flow */
static void test_gap_idle_reuse(void **state)
{
    struct conv v;
    struct flow_extract_options o = { .quiet_gap = 0.2, .idle_timeout = 10 };
    conv_open(&v, &o, 40003);
    handshake(&v);
    seg(&v, C, 1, 0, 10, -1);
    seg(&v, C, 100, 0, 10, -1);    /* within the gap: the same SEND */
    seg(&v, C, 300, 0, 10, -1);    /* after it: a new one */
    seg(&v, C, 20000, 0, 10, -1);  /* 20 s later: the flow had ended; a new one without SYN */
    v.dir[C].seq = 9000;           /* and a new connection on the same 5-tuple */
    seg(&v, C, 1, 0x02, 0, 0);
    struct flow_extract_stats st;
    finish(&v, &st);
    char ev[2048];
    events(&v, ev, sizeof ev);
    assert_string_equal(ev, "C SEND 20 | C SEND 10 | S WAIT 30 | C CLOSE 0 | S CLOSE 0 | "
                            "C SEND 10 | S WAIT 10 | C CLOSE 0 | S CLOSE 0 | C CLOSE 0 | S CLOSE 0");
    assert_int_equal(st.flows, 3);
    assert_non_null(strstr(v.meta_text, "\"close\":\"idle_timeout\""));
    assert_non_null(strstr(v.meta_text, "\"close\":\"reused\""));
    conv_free(&v);
}

/* IPv6, and a header-only capture: the payload's length on the wire counts */
static void test_ipv6_headers_only(void **state)
{
    struct conv v;
    conv_open_family(&v, NULL, 40010, true);
    handshake(&v);
    static uint8_t payload[1400];
    struct pktwrite_flow *f = &v.dir[C];
    f->ack = 5001;
    f->flags = 0;
    v.t += 1000000;
    assert_int_equal(pktwrite_packet(&v.w, f, v.t, payload, sizeof payload), 0);
    flow_extract_packet(v.x, DLT_EN10MB, v.w.frame, 14 + 40 + 20 + 10, v.t); /* cut after 10 payload bytes */
    seg(&v, S, 1, 0, 300, -1);
    struct flow_extract_stats st;
    finish(&v, &st);
    assert_non_null(strstr(v.csv, "CONN,0,2001:db8::1,40010,->,2001:db8::2,80,"));
    char ev[512];
    events(&v, ev, sizeof ev);
    assert_string_equal(ev, "C SEND 1400 | S WAIT 1400 | S SEND 300 | C WAIT 300 | C CLOSE 0 | S CLOSE 0");
    conv_free(&v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lockstep),
        cmocka_unit_test(test_concurrent),
        cmocka_unit_test(test_retransmission_reordering_hole),
        cmocka_unit_test(test_without_syn),
        cmocka_unit_test(test_without_syn_backwards),
        cmocka_unit_test(test_out_of_window),
        cmocka_unit_test(test_payload_only),
        cmocka_unit_test(test_gap_idle_reuse),
        cmocka_unit_test(test_ipv6_headers_only),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
