/* netflow: v5, v9 and IPFIX headers, sets, templates, option templates, malformed input. */
#include "testutil.h"

#include "proto/netflow_int.h"
#include "proto/proto.h"

static void ipfix_header(struct tu_buf *b)
{
    tu_u16(b, 10); tu_u16(b, 0); tu_u32(b, 1672534805); tu_u32(b, 77); tu_u32(b, 4242);
}

static void ipfix_template(struct tu_buf *b, bool enterprise)
{
    size_t at = b->n;
    tu_u16(b, 2); tu_u16(b, 0);
    tu_u16(b, 256); tu_u16(b, 2);
    tu_u16(b, 8); tu_u16(b, 4);
    if (enterprise) { tu_u16(b, 0x8000 | 100); tu_u16(b, 4); tu_u32(b, 6876); }
    else { tu_u16(b, 12); tu_u16(b, 4); }
    tu_set16(b, at + 2, (uint16_t)(b->n - at));
}

static void ipfix_options_template(struct tu_buf *b)
{
    size_t at = b->n;
    tu_u16(b, 3); tu_u16(b, 0);
    tu_u16(b, 257); tu_u16(b, 2); tu_u16(b, 1);
    tu_u16(b, 149); tu_u16(b, 4); /* scope: observationDomainId */
    tu_u16(b, 305); tu_u16(b, 2); /* samplingPacketInterval */
    tu_set16(b, at + 2, (uint16_t)(b->n - at));
}

static void data_set(struct tu_buf *b, uint16_t id, unsigned bytes)
{
    tu_u16(b, id); tu_u16(b, (uint16_t)(4 + bytes));
    for (unsigned i = 0; i < bytes; i++)
        tu_u8(b, (uint8_t)i);
}

static void test_ipfix(void **state)
{
    struct tu_buf b = { .n = 0 };
    ipfix_header(&b);
    ipfix_template(&b, true);
    ipfix_options_template(&b);
    data_set(&b, 256, 16);
    tu_set16(&b, 2, (uint16_t)b.n);
    struct netflow_header h;
    assert_int_equal(netflow_parse(b.b, b.n, &h), 0);
    assert_int_equal(h.version, 10);
    assert_int_equal(h.length, b.n);
    assert_int_equal(h.export_time, 1672534805);
    assert_int_equal(h.sequence, 77);
    assert_int_equal(h.domain, 4242);
    assert_int_equal(h.sets, 3);
    assert_int_equal(h.templates, 1);
    assert_int_equal(h.option_templates, 1);
    assert_int_equal(h.data_sets, 1);

    /* the plugin view */
    struct msg_info info;
    assert_int_equal(proto_netflow.inspect(b.b, b.n, &info), 0);
    assert_int_equal(info.kind, 10);
    assert_string_equal(proto_netflow.kind_name(10), "ipfix");

    /* every truncation is refused, none read past the end */
    for (size_t n = 0; n < b.n; n++) {
        uint8_t *copy = malloc(n ? n : 1);
        memcpy(copy, b.b, n);
        assert_int_equal(netflow_parse(copy, n, &h), -1);
        free(copy);
    }
    /* a datagram longer than the message (trailing bytes) is fine for the header length */
    tu_u8(&b, 0);
    assert_int_equal(netflow_parse(b.b, b.n, &h), 0);
}

static void test_ipfix_malformed(void **state)
{
    struct netflow_header h;
    struct tu_buf b = { .n = 0 };
    ipfix_header(&b);
    data_set(&b, 256, 4);
    tu_set16(&b, 2, 15); /* length below the header */
    assert_int_equal(netflow_parse(b.b, b.n, &h), -1);
    tu_set16(&b, 2, (uint16_t)b.n);
    tu_set16(&b, 18, 2); /* set length < 4 */
    assert_int_equal(netflow_parse(b.b, b.n, &h), -1);
    tu_set16(&b, 18, 100); /* set past the message */
    assert_int_equal(netflow_parse(b.b, b.n, &h), -1);
    tu_set16(&b, 18, 8);
    tu_set16(&b, 16, 7); /* reserved set id */
    assert_int_equal(netflow_parse(b.b, b.n, &h), -1);

    b.n = 0; /* template id below 256 */
    ipfix_header(&b);
    ipfix_template(&b, false);
    tu_set16(&b, 20, 255);
    tu_set16(&b, 2, (uint16_t)b.n);
    assert_int_equal(netflow_parse(b.b, b.n, &h), -1);

    b.n = 0; /* options template whose scope count exceeds the field count */
    ipfix_header(&b);
    ipfix_options_template(&b);
    tu_set16(&b, 24, 3);
    tu_set16(&b, 2, (uint16_t)b.n);
    assert_int_equal(netflow_parse(b.b, b.n, &h), -1);

    b.n = 0; /* a template claiming more fields than its set holds */
    ipfix_header(&b);
    ipfix_template(&b, false);
    tu_set16(&b, 2, (uint16_t)b.n);
    assert_int_equal(netflow_parse(b.b, b.n, &h), 0);
    tu_set16(&b, 22, 3); /* 2 fields present, 3 claimed */
    assert_int_equal(netflow_parse(b.b, b.n, &h), -1);
    tu_set16(&b, 22, 65535);
    assert_int_equal(netflow_parse(b.b, b.n, &h), -1);

    uint8_t v7[24] = { 0, 7 };
    assert_int_equal(netflow_parse(v7, sizeof v7, &h), -1);
    struct msg_info info;
    assert_int_equal(proto_netflow.inspect(v7, sizeof v7, &info), -1);
    assert_int_equal(info.kind, -1);
}

static void test_v9(void **state)
{
    struct tu_buf b = { .n = 0 };
    tu_u16(&b, 9); tu_u16(&b, 3); tu_u32(&b, 1000); tu_u32(&b, 1672534805); tu_u32(&b, 12); tu_u32(&b, 313);
    size_t at = b.n; /* template flowset */
    tu_u16(&b, 0); tu_u16(&b, 0);
    tu_u16(&b, 313); tu_u16(&b, 1); tu_u16(&b, 8); tu_u16(&b, 4);
    tu_set16(&b, at + 2, (uint16_t)(b.n - at));
    at = b.n; /* options template flowset: scope and option lengths in bytes */
    tu_u16(&b, 1); tu_u16(&b, 0);
    tu_u16(&b, 314); tu_u16(&b, 4); tu_u16(&b, 4);
    tu_u16(&b, 1); tu_u16(&b, 4); tu_u16(&b, 34); tu_u16(&b, 4);
    tu_u16(&b, 0); /* padding */
    tu_set16(&b, at + 2, (uint16_t)(b.n - at));
    data_set(&b, 313, 8);
    tu_u16(&b, 0); /* trailing padding is allowed in v9 */
    struct netflow_header h;
    assert_int_equal(netflow_parse(b.b, b.n, &h), 0);
    assert_int_equal(h.version, 9);
    assert_int_equal(h.count, 3);
    assert_int_equal(h.sequence, 12);
    assert_int_equal(h.domain, 313);
    assert_int_equal(h.templates, 1);
    assert_int_equal(h.option_templates, 1);
    assert_int_equal(h.data_sets, 1);
    /* scope length not a multiple of 4 */
    tu_set16(&b, 38, 3);
    assert_int_equal(netflow_parse(b.b, b.n, &h), -1);
}

static void test_v5(void **state)
{
    struct tu_buf b = { .n = 0 };
    tu_u16(&b, 5); tu_u16(&b, 2); tu_u32(&b, 1000); tu_u32(&b, 1672534805); tu_u32(&b, 0); tu_u32(&b, 99);
    tu_u8(&b, 1); tu_u8(&b, 2); tu_u16(&b, 0);
    for (int i = 0; i < 96; i++)
        tu_u8(&b, 0);
    struct netflow_header h;
    assert_int_equal(netflow_parse(b.b, b.n, &h), 0);
    assert_int_equal(h.count, 2);
    assert_int_equal(h.sequence, 99);
    assert_int_equal(h.length, 24 + 96);
    struct msg_info info;
    assert_int_equal(proto_netflow.inspect(b.b, b.n, &info), 0);
    assert_int_equal(info.records, 2);
    assert_string_equal(proto_netflow.kind_name(5), "netflow_v5");
    assert_int_equal(netflow_parse(b.b, b.n - 1, &h), -1); /* a record cut short */
    tu_set16(&b, 2, 31);                                    /* more than 30 records */
    assert_int_equal(netflow_parse(b.b, b.n, &h), -1);
    tu_set16(&b, 2, 0);
    assert_int_equal(netflow_parse(b.b, b.n, &h), -1);
}

/* a template withdrawn twice (no field specifiers either time: nothing to compare, and the
 * cache holds no bytes of it) is a refresh; defined again, it has its fields back */
static void test_cache_withdrawn_twice(void **state)
{
    struct nf_cache c = { 0 };
    struct nf_domain *d = nf_cache_domain(&c, 10, 1);
    assert_non_null(d);
    const uint8_t specs[] = { 0, 8, 0, 4, 0, 12, 0, 4 };
    struct nf_template *t = nf_cache_learn(&c, d, 256, false, 2, 0, specs, sizeof specs);
    assert_non_null(t);
    assert_false(t->withdrawn);
    t = nf_cache_learn(&c, d, 256, false, 0, 0, specs + sizeof specs, 0);
    assert_non_null(t);
    assert_true(t->withdrawn);
    assert_int_equal(t->redefined, 1);
    t = nf_cache_learn(&c, d, 256, false, 0, 0, specs + sizeof specs, 0);
    assert_non_null(t);
    assert_true(t->withdrawn);
    assert_int_equal(t->redefined, 1); /* a refresh of the withdrawal */
    t = nf_cache_learn(&c, d, 256, false, 2, 0, specs, sizeof specs);
    assert_false(t->withdrawn);
    assert_int_equal(t->specs_len, sizeof specs);
    assert_int_equal(c.spec_bytes, sizeof specs);
    nf_cache_free(&c);
}

static void test_registry(void **state)
{
    assert_ptr_equal(proto_by_name("ipfix"), &proto_netflow);
    assert_ptr_equal(proto_by_name("udp_generic"), &proto_udp_generic);
    assert_ptr_equal(proto_by_id(PROTO_BMP), &proto_bmp);
    assert_null(proto_by_name("sflow"));
    assert_null(proto_by_id(PROTO_COUNT));
    struct msg_info info;
    assert_int_equal(proto_udp_generic.inspect((const uint8_t *)"x", 1, &info), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ipfix),
        cmocka_unit_test(test_ipfix_malformed),
        cmocka_unit_test(test_v9),
        cmocka_unit_test(test_v5),
        cmocka_unit_test(test_cache_withdrawn_twice),
        cmocka_unit_test(test_registry),
    };
    return cmocka_run_group_tests_name("netflow", tests, NULL, NULL);
}
