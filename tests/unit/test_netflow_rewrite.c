/* netflow_rewrite: continuous sequence numbers as each version counts them (v5 flows, v9
 * packets, IPFIX data records with options data records), per domain and across passes;
 * export time now in each header; absolute record times moved by the same offset through
 * the templates (seconds, milliseconds, NTP micro/nanoseconds; variable-length fields before
 * them; an enterprise's element of the same number left alone); keep leaves the bytes. */
#include "testutil.h"

#include "proto/proto.h"

#define NOW_S 1800000000u
static const int64_t NOW_NS = (int64_t)NOW_S * 1000000000 + 123456789;

static uint32_t rd32(const uint8_t *p) { return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }
static uint64_t rd64(const uint8_t *p) { return (uint64_t)rd32(p) << 32 | rd32(p + 4); }

static const struct rewrite_config SEQ = { .sequence_continuous = true };
static const struct rewrite_config NOW = { .export_time_now = true };
static const struct rewrite_config BOTH = { .export_time_now = true, .sequence_continuous = true };
static const struct rewrite_config KEEP = { 0 };
static const struct rewrite_config BOTH_PRIME = { .export_time_now = true, .sequence_continuous = true,
                                                  .templates_prime = true };

/* rewrites a copy of b with w and cfg; the copy */
static uint8_t *rw(struct netflow_rewriter *w, const struct rewrite_config *cfg, const struct tu_buf *b)
{
    static uint8_t out[2048];
    memcpy(out, b->b, b->n);
    assert_int_equal(netflow_rewrite(w, cfg, out, b->n, NOW_NS), 0);
    return out;
}

static void v5(struct tu_buf *b, uint16_t count, uint32_t seq, uint8_t engine)
{
    b->n = 0;
    tu_u16(b, 5); tu_u16(b, count); tu_u32(b, 1000); tu_u32(b, 1672534805); tu_u32(b, 7); tu_u32(b, seq);
    tu_u8(b, 0); tu_u8(b, engine); tu_u16(b, 0);
    for (int i = 0; i < 48 * count; i++)
        tu_u8(b, 0);
}

static void test_v5(void **state)
{
    struct netflow_rewriter *w = netflow_rewriter_new();
    struct tu_buf a, b;
    v5(&a, 3, 100, 1);
    v5(&b, 2, 500, 2); /* another engine: its own numbers */
    for (unsigned pass = 0; pass < 3; pass++) { /* the capture looped */
        assert_int_equal(rd32(rw(w, &SEQ, &a) + 16), 100 + pass * 3);
        assert_int_equal(rd32(rw(w, &SEQ, &b) + 16), 500 + pass * 2);
    }
    uint8_t *m = rw(w, &NOW, &a);
    assert_int_equal(rd32(m + 8), NOW_S);
    assert_int_equal(rd32(m + 12), 123456789);
    assert_int_equal(rd32(m + 4), 1000); /* sysUptime: the records' times stay relative to it */
    assert_memory_equal(rw(w, &KEEP, &a), a.b, a.n);
    netflow_rewriter_free(w);
}

static void v9(struct tu_buf *b, uint32_t seq, uint32_t source_id)
{
    b->n = 0;
    tu_u16(b, 9); tu_u16(b, 1); tu_u32(b, 1000); tu_u32(b, 1672534805); tu_u32(b, seq); tu_u32(b, source_id);
    size_t at = b->n; /* template 300: flowEndSeconds (151), 4 bytes */
    tu_u16(b, 0); tu_u16(b, 0);
    tu_u16(b, 300); tu_u16(b, 1); tu_u16(b, 151); tu_u16(b, 4);
    tu_set16(b, at + 2, (uint16_t)(b->n - at));
    tu_u16(b, 300); tu_u16(b, 8); tu_u32(b, 1672534800); /* 5 s before its export */
}

static void test_v9(void **state)
{
    struct netflow_rewriter *w = netflow_rewriter_new();
    struct tu_buf a, b;
    v9(&a, 40, 1);
    v9(&b, 9, 2);
    for (unsigned pass = 0; pass < 3; pass++) {
        assert_int_equal(rd32(rw(w, &SEQ, &a) + 12), 40 + pass); /* v9 counts packets */
        assert_int_equal(rd32(rw(w, &SEQ, &b) + 12), 9 + pass);
    }
    uint8_t *m = rw(w, &NOW, &a);
    assert_int_equal(rd32(m + 8), NOW_S);
    assert_int_equal(rd32(m + 36), NOW_S - 5); /* flowEndSeconds kept its distance */
    netflow_rewriter_free(w);
}

/* IPFIX: template 256 = octetDeltaCount (1, 8), flowStartMilliseconds (152, 8),
 * flowEndSeconds (151, 4), observationTimeMicroseconds (324, 8), an enterprise's element 151
 * (4); options template 257 = scope observationDomainId (149, 4), systemInitTimeMilliseconds
 * (160, 8). Data: two flow records and one options record. */
#define EXPORT 1672534805u
static void ipfix(struct tu_buf *b, uint32_t seq, bool with_templates)
{
    b->n = 0;
    tu_u16(b, 10); tu_u16(b, 0); tu_u32(b, EXPORT); tu_u32(b, seq); tu_u32(b, 4242);
    if (with_templates) {
        size_t at = b->n;
        tu_u16(b, 2); tu_u16(b, 0);
        tu_u16(b, 256); tu_u16(b, 5);
        tu_u16(b, 1); tu_u16(b, 8);
        tu_u16(b, 152); tu_u16(b, 8);
        tu_u16(b, 151); tu_u16(b, 4);
        tu_u16(b, 324); tu_u16(b, 8);
        tu_u16(b, 0x8000 | 151); tu_u16(b, 4); tu_u32(b, 6876);
        tu_set16(b, at + 2, (uint16_t)(b->n - at));
        at = b->n;
        tu_u16(b, 3); tu_u16(b, 0);
        tu_u16(b, 257); tu_u16(b, 2); tu_u16(b, 1);
        tu_u16(b, 149); tu_u16(b, 4);
        tu_u16(b, 160); tu_u16(b, 8);
        tu_set16(b, at + 2, (uint16_t)(b->n - at));
    }
    size_t at = b->n;
    tu_u16(b, 256); tu_u16(b, 0);
    uint64_t start_ms = (uint64_t)(EXPORT - 60) * 1000 + 250; /* a minute before export */
    for (int r = 0; r < 2; r++) {
        tu_u32(b, 0); tu_u32(b, 1000);                                /* octets */
        tu_u32(b, (uint32_t)(start_ms >> 32)); tu_u32(b, (uint32_t)start_ms);
        tu_u32(b, EXPORT - 1);                                        /* end, seconds */
        tu_u32(b, EXPORT - 30 + 2208988800u); tu_u32(b, 0x80000000u); /* observed, NTP, .5 s */
        tu_u32(b, 777);                                               /* the enterprise's */
    }
    tu_set16(b, at + 2, (uint16_t)(b->n - at));
    at = b->n;
    tu_u16(b, 257); tu_u16(b, 0);
    tu_u32(b, 4242);
    uint64_t init_ms = (uint64_t)(EXPORT - 3600) * 1000;
    tu_u32(b, (uint32_t)(init_ms >> 32)); tu_u32(b, (uint32_t)init_ms);
    tu_set16(b, at + 2, (uint16_t)(b->n - at));
    tu_set16(b, 2, (uint16_t)b->n);
}

static void test_ipfix(void **state)
{
    struct netflow_rewriter *w = netflow_rewriter_new();
    struct tu_buf b;
    ipfix(&b, 1000, true);
    for (unsigned pass = 0; pass < 3; pass++) /* 2 flow records + 1 options record a message */
        assert_int_equal(rd32(rw(w, &SEQ, &b) + 8), 1000 + pass * 3);
    uint8_t *m = rw(w, &BOTH, &b);
    assert_int_equal(rd32(m + 8), 1009);
    assert_int_equal(rd32(m + 4), NOW_S);
    int64_t off = (int64_t)NOW_S - EXPORT;
    size_t rec = b.n - (4 + 4 + 8) - 2 * 32; /* the first flow record: before them the options set */
    for (int r = 0; r < 2; r++, rec += 32) {
        assert_int_equal(rd64(m + rec), 1000);
        assert_int_equal(rd64(m + rec + 8), ((uint64_t)(EXPORT - 60) * 1000 + 250) + (uint64_t)off * 1000);
        assert_int_equal(rd32(m + rec + 16), NOW_S - 1);
        assert_int_equal(rd32(m + rec + 20), NOW_S - 30 + 2208988800u);
        assert_int_equal(rd32(m + rec + 24), 0x80000000u); /* the fraction as it was */
        assert_int_equal(rd32(m + rec + 28), 777);         /* not an IANA time: not moved */
    }
    assert_int_equal(rd64(m + b.n - 8), (uint64_t)(NOW_S - 3600) * 1000); /* systemInitTimeMilliseconds */
    assert_memory_equal(rw(w, &KEEP, &b), b.b, b.n);
    netflow_rewriter_free(w);
}

/* Hostile times (a millisecond field past 2^63, seconds at 2^32 - 1) move by the offset as
 * the field's own unsigned arithmetic does: they wrap, never overflow */
static void test_ipfix_times_wrap(void **state)
{
    struct netflow_rewriter *w = netflow_rewriter_new();
    struct tu_buf b;
    ipfix(&b, 1000, true);
    size_t rec = b.n - (4 + 4 + 8) - 2 * 32;
    for (int i = 0; i < 8; i++)
        b.b[rec + 8 + i] = i ? 0xff : 0x7f; /* flowStartMilliseconds 2^63 - 1 */
    for (int i = 0; i < 4; i++)
        b.b[rec + 16 + i] = 0xff; /* flowEndSeconds 2^32 - 1 */
    uint8_t *m = rw(w, &BOTH, &b);
    uint64_t off = (uint64_t)((int64_t)NOW_S - EXPORT);
    assert_true(rd64(m + rec + 8) == 0x7fffffffffffffffull + off * 1000);
    assert_int_equal(rd32(m + rec + 16), (uint32_t)(0xffffffffu + (uint32_t)off));
    netflow_rewriter_free(w);
}

/* A capture that starts after its templates: those data sets are neither counted nor moved;
 * once the template is seen, they are. */
static void test_ipfix_before_template(void **state)
{
    struct netflow_rewriter *w = netflow_rewriter_new();
    struct tu_buf data, full;
    ipfix(&data, 50, false);
    ipfix(&full, 53, true);
    uint8_t *m = rw(w, &BOTH, &data);
    assert_int_equal(rd32(m + 8), 50);
    assert_memory_equal(m + 16, data.b + 16, data.n - 16); /* records untouched */
    assert_int_equal(rd32(rw(w, &SEQ, &full) + 8), 50);   /* nothing counted before */
    assert_int_equal(rd32(rw(w, &SEQ, &data) + 8), 53);
    netflow_rewriter_free(w);
}

/* A variable-length field before a time: the time is found after it. */
static void test_ipfix_variable_length(void **state)
{
    struct netflow_rewriter *w = netflow_rewriter_new();
    struct tu_buf b = { .n = 0 };
    tu_u16(&b, 10); tu_u16(&b, 0); tu_u32(&b, EXPORT); tu_u32(&b, 1); tu_u32(&b, 1);
    size_t at = b.n;
    tu_u16(&b, 2); tu_u16(&b, 0);
    tu_u16(&b, 300); tu_u16(&b, 2);
    tu_u16(&b, 82); tu_u16(&b, 65535); /* interfaceName, variable */
    tu_u16(&b, 151); tu_u16(&b, 4);
    tu_set16(&b, at + 2, (uint16_t)(b.n - at));
    at = b.n;
    tu_u16(&b, 300); tu_u16(&b, 0);
    tu_u8(&b, 3); tu_bytes(&b, "et0", 3); tu_u32(&b, EXPORT - 2);
    tu_u8(&b, 5); tu_bytes(&b, "ge0/1", 5); tu_u32(&b, EXPORT - 4);
    tu_set16(&b, at + 2, (uint16_t)(b.n - at));
    tu_set16(&b, 2, (uint16_t)b.n);
    uint8_t *m = rw(w, &BOTH, &b);
    assert_int_equal(rd32(m + at + 4 + 4), NOW_S - 2);
    assert_int_equal(rd32(m + at + 4 + 8 + 6), NOW_S - 4);
    assert_memory_equal(m + at + 4 + 1, "et0", 3);
    uint8_t *again = rw(w, &SEQ, &b);
    assert_int_equal(rd32(again + 8), 3); /* two records counted */
    netflow_rewriter_free(w);
}

/* What cannot be read is not rewritten, and nothing is read past the end. */
static void test_malformed(void **state)
{
    struct netflow_rewriter *w = netflow_rewriter_new();
    struct tu_buf b;
    ipfix(&b, 1, true);
    uint8_t m[2048];
    for (size_t len = 0; len < b.n; len++) {
        memcpy(m, b.b, len);
        int rc = netflow_rewrite(w, &BOTH, m, len, NOW_NS);
        assert_true(rc == -1 || rc == 0);
    }
    memcpy(m, b.b, b.n);
    m[1] = 7; /* no such version */
    assert_int_equal(netflow_rewrite(w, &BOTH, m, b.n, NOW_NS), -1);
    netflow_rewriter_free(w);
}

/* templates: prime. The cache learned from the capture list; before the first data message
 * of a domain in a play, a message with its templates (options templates too) that a
 * collector decodes the data with; once per play, again after a restart or template_resend;
 * split over messages when they do not fit in one. */
static const struct rewrite_config PRIME = { .templates_prime = true };

static void test_prime_ipfix(void **state)
{
    struct netflow_rewriter *w = netflow_rewriter_new();
    struct tu_buf full, data;
    ipfix(&full, 1000, true);
    ipfix(&data, 1003, false);
    uint8_t out[1400];
    assert_int_equal(netflow_prime(w, &PRIME, data.b, data.n, out, sizeof out, NOW_NS), 0); /* nothing known */
    netflow_rewriter_learn(w, full.b, full.n);
    size_t n = netflow_prime(w, &PRIME, data.b, data.n, out, sizeof out, NOW_NS);
    assert_true(n > 16);
    struct netflow_header h;
    assert_int_equal(netflow_parse(out, n, &h), 0);
    assert_int_equal(h.version, 10);
    assert_int_equal(h.templates, 1);
    assert_int_equal(h.option_templates, 1);
    assert_int_equal(h.data_sets, 0);
    assert_int_equal(h.domain, 4242);
    assert_int_equal(h.sequence, 1003); /* templates are not data records */
    assert_int_equal(h.export_time, EXPORT);
    /* the same bytes as the capture's own template sets */
    assert_memory_equal(out + 16, full.b + 16, n - 16);
    assert_int_equal(netflow_prime(w, &PRIME, data.b, data.n, out, sizeof out, NOW_NS), 0); /* all out */
    assert_int_equal(netflow_prime(w, &PRIME, data.b, data.n, out, sizeof out, NOW_NS), 0); /* primed */
    /* a collector that has only the primed message decodes the data: its records count */
    struct netflow_rewriter *fresh = netflow_rewriter_new();
    netflow_rewriter_learn(fresh, out, n);
    rw(fresh, &SEQ, &data);
    assert_int_equal(rd32(rw(fresh, &SEQ, &data) + 8), 1003 + 3); /* 3 records counted */
    netflow_rewriter_free(fresh);
    /* a new play primes again; so does template_resend once due */
    netflow_rewriter_restart(w);
    assert_true(netflow_prime(w, &PRIME, data.b, data.n, out, sizeof out, NOW_NS) > 0);
    assert_int_equal(netflow_prime(w, &PRIME, data.b, data.n, out, sizeof out, NOW_NS), 0);
    struct rewrite_config resend = { .templates_prime = true, .template_resend_ns = 30000000000LL };
    assert_int_equal(netflow_prime(w, &resend, data.b, data.n, out, sizeof out, NOW_NS + 29000000000LL), 0);
    assert_true(netflow_prime(w, &resend, data.b, data.n, out, sizeof out, NOW_NS + 31000000000LL) > 0);
    /* or every N messages of the domain, as routers' template refresh rates */
    assert_int_equal(netflow_prime(w, &resend, data.b, data.n, out, sizeof out, NOW_NS + 31000000000LL), 0);
    struct rewrite_config every3 = { .templates_prime = true, .template_resend_packets = 3 };
    for (int i = 0; i < 2; i++)
        assert_int_equal(netflow_prime(w, &every3, data.b, data.n, out, sizeof out, NOW_NS), 0);
    assert_true(netflow_prime(w, &every3, data.b, data.n, out, sizeof out, NOW_NS) > 0); /* the third since */
    assert_int_equal(netflow_prime(w, &every3, data.b, data.n, out, sizeof out, NOW_NS), 0);
    /* export time now: the primed message says it too */
    netflow_rewriter_restart(w);
    struct rewrite_config now = { .templates_prime = true, .export_time_now = true };
    n = netflow_prime(w, &now, data.b, data.n, out, sizeof out, NOW_NS);
    assert_int_equal(rd32(out + 4), NOW_S);
    /* a message without data, and v5, are not primed */
    netflow_rewriter_restart(w);
    struct tu_buf v;
    v5(&v, 1, 1, 1);
    assert_int_equal(netflow_prime(w, &PRIME, v.b, v.n, out, sizeof out, NOW_NS), 0);
    netflow_rewriter_free(w);
}

static void test_prime_split_and_v9(void **state)
{
    struct netflow_rewriter *w = netflow_rewriter_new();
    struct tu_buf full, data;
    ipfix(&full, 1, true);
    ipfix(&data, 4, false);
    netflow_rewriter_learn(w, full.b, full.n);
    uint8_t out[64]; /* one template a message */
    unsigned messages = 0, templates = 0;
    size_t n;
    while ((n = netflow_prime(w, &PRIME, data.b, data.n, out, sizeof out, NOW_NS)) > 0) {
        struct netflow_header h;
        assert_int_equal(netflow_parse(out, n, &h), 0);
        templates += h.templates + h.option_templates;
        assert_true(++messages < 10);
    }
    assert_int_equal(messages, 2);
    assert_int_equal(templates, 2);
    netflow_rewriter_free(w);

    /* v9: the flowsets padded to 4 bytes; with continuous numbers the primed message takes
     * one of its own */
    w = netflow_rewriter_new();
    struct tu_buf a;
    v9(&a, 40, 1);
    netflow_rewriter_learn(w, a.b, a.n);
    uint8_t big[1400];
    n = netflow_prime(w, &BOTH_PRIME, a.b, a.n, big, sizeof big, NOW_NS);
    struct netflow_header h;
    assert_int_equal(netflow_parse(big, n, &h), 0);
    assert_int_equal(h.version, 9);
    assert_int_equal(h.count, 1);
    assert_int_equal(h.sequence, 40);
    assert_int_equal(n % 4, 0);
    assert_int_equal(netflow_prime(w, &BOTH_PRIME, a.b, a.n, big, sizeof big, NOW_NS), 0);
    assert_int_equal(rd32(rw(w, &BOTH_PRIME, &a) + 12), 41);
    netflow_rewriter_free(w);
}

/* Issue 14 item 2: clone k of an exporter (clones.domain) sends its messages with domain +
 * k: IPFIX observation domain, v9 source id, v5 engine type and id; the rest untouched. */
static void test_clone_domain(void **state)
{
    struct tu_buf b;
    uint8_t m[2048];
    ipfix(&b, 7, true);
    memcpy(m, b.b, b.n);
    assert_int_equal(netflow_clone_identity(m, b.n, b.n, 5, CLONE_DOMAIN), b.n);
    assert_int_equal(rd32(m + 12), 4242 + 5);
    assert_memory_equal(m, b.b, 12);
    assert_memory_equal(m + 16, b.b + 16, b.n - 16);
    v9(&b, 7, 0x100);
    memcpy(m, b.b, b.n);
    netflow_clone_identity(m, b.n, b.n, 3, CLONE_DOMAIN);
    assert_int_equal(rd32(m + 16), 0x103);
    v5(&b, 1, 7, 0xff); /* engine id 255 + 2: the carry goes into the engine type */
    memcpy(m, b.b, b.n);
    netflow_clone_identity(m, b.n, b.n, 2, CLONE_DOMAIN);
    assert_int_equal(m[20], 1);
    assert_int_equal(m[21], 1);
    /* not asked, or not a message: as it was */
    memcpy(m, b.b, b.n);
    netflow_clone_identity(m, b.n, b.n, 2, CLONE_SYSNAME);
    assert_memory_equal(m, b.b, b.n);
    assert_int_equal(netflow_clone_identity(m, 10, 10, 2, CLONE_DOMAIN), 10);
    assert_memory_equal(m, b.b, 10);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_v5),
        cmocka_unit_test(test_clone_domain),
        cmocka_unit_test(test_v9),
        cmocka_unit_test(test_ipfix),
        cmocka_unit_test(test_ipfix_times_wrap),
        cmocka_unit_test(test_ipfix_before_template),
        cmocka_unit_test(test_ipfix_variable_length),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_prime_ipfix),
        cmocka_unit_test(test_prime_split_and_v9),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
