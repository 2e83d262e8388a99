/* decode: each link type, VLAN/QinQ/MPLS, IPv4 options, IPv6 extension headers,
 * fragments, truncated and malformed frames. */
#include "testutil.h"

#include <netinet/in.h>
#include <pcap/dlt.h>

#include "decode.h"

static const uint8_t SRC4[4] = { 192, 0, 2, 1 }, DST4[4] = { 198, 51, 100, 2 };
static const uint8_t SRC6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 }, DST6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 2 };
static const uint8_t PAYLOAD[5] = { 'h', 'e', 'l', 'l', 'o' };

static void ipv4_udp(struct tu_buf *b, unsigned options, uint16_t frag)
{
    size_t ip = b->n;
    tu_u8(b, (uint8_t)(0x40 | (5 + options)));
    tu_u8(b, 0);
    tu_u16(b, (uint16_t)(20 + options * 4 + 8 + sizeof PAYLOAD));
    tu_u16(b, 1);
    tu_u16(b, frag);
    tu_u8(b, 64);
    tu_u8(b, IPPROTO_UDP);
    tu_u16(b, 0);
    tu_bytes(b, SRC4, 4);
    tu_bytes(b, DST4, 4);
    for (unsigned i = 0; i < options; i++)
        tu_u32(b, 0x01010101); /* NOPs */
    (void)ip;
    tu_u16(b, 40000);
    tu_u16(b, 9991);
    tu_u16(b, 8 + sizeof PAYLOAD);
    tu_u16(b, 0);
    tu_bytes(b, PAYLOAD, sizeof PAYLOAD);
}

/* IPv6 with optional hop-by-hop and destination-options headers, then TCP */
static void ipv6_tcp(struct tu_buf *b, bool ext, bool fragment_header, uint16_t frag_off)
{
    size_t plen_at;
    tu_u32(b, 0x60000000);
    plen_at = b->n;
    tu_u16(b, 0);
    tu_u8(b, ext ? 0 : fragment_header ? 44 : IPPROTO_TCP);
    tu_u8(b, 64);
    tu_bytes(b, SRC6, 16);
    tu_bytes(b, DST6, 16);
    size_t start = b->n;
    if (ext) {
        tu_u8(b, 60); tu_u8(b, 0); tu_u32(b, 0); tu_u16(b, 0);                 /* hop-by-hop, 8 bytes */
        tu_u8(b, fragment_header ? 44 : IPPROTO_TCP); tu_u8(b, 1);            /* dest opts, 16 bytes */
        for (int i = 0; i < 14; i++) tu_u8(b, 0);
    }
    if (fragment_header) {
        tu_u8(b, IPPROTO_TCP); tu_u8(b, 0); tu_u16(b, frag_off); tu_u32(b, 7);
    }
    tu_u16(b, 179); tu_u16(b, 40001); tu_u32(b, 1000); tu_u32(b, 2000);
    tu_u8(b, 6 << 4); /* data offset 6: 4 bytes of options */
    tu_u8(b, 0x18); tu_u16(b, 65535); tu_u32(b, 0);
    tu_u32(b, 0x01010101);
    tu_bytes(b, PAYLOAD, sizeof PAYLOAD);
    tu_set16(b, plen_at, (uint16_t)(b->n - start));
}

static void eth(struct tu_buf *b, uint16_t type)
{
    for (int i = 0; i < 12; i++)
        tu_u8(b, (uint8_t)i);
    tu_u16(b, type);
}

static void assert_udp4(int dlt, struct tu_buf *b)
{
    struct decoded d;
    assert_int_equal(decode_frame(dlt, b->b, b->n, &d), DECODE_OK);
    assert_int_equal(d.src.family, AF_INET);
    assert_memory_equal(d.src.bytes, SRC4, 4);
    assert_memory_equal(d.dst.bytes, DST4, 4);
    assert_int_equal(d.ip_proto, IPPROTO_UDP);
    assert_int_equal(d.sport, 40000);
    assert_int_equal(d.dport, 9991);
    assert_int_equal(d.payload_len, sizeof PAYLOAD);
    assert_memory_equal(d.payload, PAYLOAD, sizeof PAYLOAD);
    /* every shorter capture of the same frame is reported, never read past */
    for (size_t n = 0; n < b->n; n++) {
        uint8_t *copy = malloc(n ? n : 1);
        memcpy(copy, b->b, n);
        assert_int_not_equal(decode_frame(dlt, copy, n, &d), DECODE_OK);
        free(copy);
    }
}

static void test_ethernet_vlan_qinq_mpls(void **state)
{
    struct tu_buf b = { .n = 0 };
    eth(&b, 0x0800);
    ipv4_udp(&b, 0, 0x4000);
    assert_udp4(DLT_EN10MB, &b);

    b.n = 0;
    eth(&b, 0x88a8);
    tu_u16(&b, 10); tu_u16(&b, 0x8100); tu_u16(&b, 20); tu_u16(&b, 0x0800);
    ipv4_udp(&b, 0, 0);
    assert_udp4(DLT_EN10MB, &b);

    b.n = 0;
    eth(&b, 0x8847);
    tu_u32(&b, 100u << 12 | 64);          /* label, not bottom */
    tu_u32(&b, 200u << 12 | 0x100 | 64);  /* bottom of stack */
    ipv4_udp(&b, 0, 0);
    assert_udp4(DLT_EN10MB, &b);
}

static void test_padding_is_not_payload(void **state)
{
    struct tu_buf b = { .n = 0 };
    eth(&b, 0x0800);
    ipv4_udp(&b, 0, 0);
    for (int i = 0; i < 10; i++)
        tu_u8(&b, 0xee); /* Ethernet trailer */
    struct decoded d;
    assert_int_equal(decode_frame(DLT_EN10MB, b.b, b.n, &d), DECODE_OK);
    assert_int_equal(d.payload_len, sizeof PAYLOAD);
}

static void test_sll_sll2_raw_null(void **state)
{
    struct tu_buf b = { .n = 0 };
    tu_u16(&b, 0); tu_u16(&b, 1); tu_u16(&b, 6); tu_u32(&b, 0); tu_u32(&b, 0); tu_u16(&b, 0x0800);
    ipv4_udp(&b, 0, 0);
    assert_udp4(DLT_LINUX_SLL, &b);

    b.n = 0;
    tu_u16(&b, 0x0800); tu_u16(&b, 0); tu_u32(&b, 3); tu_u16(&b, 1); tu_u8(&b, 0); tu_u8(&b, 6);
    tu_u32(&b, 0); tu_u32(&b, 0);
    ipv4_udp(&b, 0, 0);
    assert_udp4(DLT_LINUX_SLL2, &b);

    b.n = 0;
    ipv4_udp(&b, 0, 0);
    assert_udp4(DLT_RAW, &b);
    assert_udp4(DLT_IPV4, &b);

    b.n = 0;
    tu_u8(&b, 2); tu_u8(&b, 0); tu_u8(&b, 0); tu_u8(&b, 0); /* AF_INET, little-endian writer */
    ipv4_udp(&b, 0, 0);
    assert_udp4(DLT_NULL, &b);

    b.n = 0;
    tu_u32(&b, 2); /* big-endian writer */
    ipv4_udp(&b, 0, 0);
    assert_udp4(DLT_NULL, &b);
    assert_udp4(DLT_LOOP, &b);
}

static void test_ipv4_options(void **state)
{
    struct tu_buf b = { .n = 0 };
    ipv4_udp(&b, 3, 0);
    assert_udp4(DLT_RAW, &b);
}

static void test_ipv6_extension_headers(void **state)
{
    struct decoded d;
    struct tu_buf b = { .n = 0 };
    eth(&b, 0x86dd);
    ipv6_tcp(&b, true, false, 0);
    assert_int_equal(decode_frame(DLT_EN10MB, b.b, b.n, &d), DECODE_OK);
    assert_int_equal(d.src.family, AF_INET6);
    assert_memory_equal(d.src.bytes, SRC6, 16);
    assert_int_equal(d.ip_proto, IPPROTO_TCP);
    assert_int_equal(d.sport, 179);
    assert_int_equal(d.seq, 1000);
    assert_int_equal(d.ack, 2000);
    assert_int_equal(d.tcp_flags, 0x18);
    assert_int_equal(d.payload_len, sizeof PAYLOAD);
    assert_memory_equal(d.payload, PAYLOAD, sizeof PAYLOAD);
    for (size_t n = 0; n < b.n; n++)
        assert_int_not_equal(decode_frame(DLT_EN10MB, b.b, n, &d), DECODE_OK);

    b.n = 0; /* atomic fragment: whole */
    ipv6_tcp(&b, true, true, 0);
    assert_int_equal(decode_frame(DLT_IPV6, b.b, b.n, &d), DECODE_OK);
    b.n = 0; /* first fragment of several */
    ipv6_tcp(&b, false, true, 1);
    assert_int_equal(decode_frame(DLT_IPV6, b.b, b.n, &d), DECODE_FRAGMENT);
}

static void test_fragments_and_malformed(void **state)
{
    struct decoded d;
    struct tu_buf b = { .n = 0 };
    ipv4_udp(&b, 0, 0x2000); /* MF */
    assert_int_equal(decode_frame(DLT_RAW, b.b, b.n, &d), DECODE_FRAGMENT);
    b.n = 0;
    ipv4_udp(&b, 0, 0x0010); /* offset */
    assert_int_equal(decode_frame(DLT_RAW, b.b, b.n, &d), DECODE_FRAGMENT);

    b.n = 0;
    ipv4_udp(&b, 0, 0);
    b.b[0] = 0x44; /* IHL 4 < 5 */
    assert_int_equal(decode_frame(DLT_RAW, b.b, b.n, &d), DECODE_MALFORMED);
    b.b[0] = 0x45;
    tu_set16(&b, 24, 4); /* UDP length < 8 */
    assert_int_equal(decode_frame(DLT_RAW, b.b, b.n, &d), DECODE_MALFORMED);
    tu_set16(&b, 24, 200); /* UDP length past the IP packet */
    assert_int_equal(decode_frame(DLT_RAW, b.b, b.n, &d), DECODE_TRUNCATED);
    tu_set16(&b, 2, 2000); /* IP total length past the capture */
    assert_int_equal(decode_frame(DLT_RAW, b.b, b.n, &d), DECODE_TRUNCATED);

    b.n = 0;
    eth(&b, 0x0806); /* ARP */
    tu_u32(&b, 0);
    assert_int_equal(decode_frame(DLT_EN10MB, b.b, b.n, &d), DECODE_NOT_IP);
    b.n = 0;
    ipv4_udp(&b, 0, 0);
    b.b[9] = 1; /* ICMP */
    assert_int_equal(decode_frame(DLT_RAW, b.b, b.n, &d), DECODE_NOT_UDP_TCP);
    assert_int_equal(decode_frame(12345, b.b, b.n, &d), DECODE_UNKNOWN_LINK);
    assert_int_equal(decode_frame(DLT_EN10MB, NULL, 0, &d), DECODE_TRUNCATED);
    assert_string_equal(decode_result_name(DECODE_FRAGMENT), "IP fragment");
    assert_true(decode_link_supported(DLT_LINUX_SLL2));
    assert_false(decode_link_supported(DLT_IEEE802_11));

    /* an MPLS stack that never ends */
    b.n = 0;
    eth(&b, 0x8847);
    for (int i = 0; i < 20; i++)
        tu_u32(&b, 100u << 12);
    assert_int_equal(decode_frame(DLT_EN10MB, b.b, b.n, &d), DECODE_MALFORMED);
}

/* a header-only capture (snap length): decode_frame_headers gives the TCP segment with the
 * payload's length on the wire; decode_frame still calls it truncated; headers cut are not OK */
static void test_headers_only(void **state)
{
    struct tu_buf b = { .n = 0 };
    ipv6_tcp(&b, true, false, 0);
    size_t headers = b.n - sizeof PAYLOAD;
    struct decoded d;
    for (size_t cut = headers; cut < b.n; cut++) {
        assert_int_equal(decode_frame(DLT_RAW, b.b, cut, &d), DECODE_TRUNCATED);
        assert_int_equal(decode_frame_headers(DLT_RAW, b.b, cut, &d), DECODE_OK);
        assert_int_equal(d.payload_len, cut - headers);
        assert_int_equal(d.payload_wire_len, sizeof PAYLOAD);
        assert_int_equal(d.sport, 179);
    }
    for (size_t cut = 0; cut < headers; cut++)
        assert_int_not_equal(decode_frame_headers(DLT_RAW, b.b, cut, &d), DECODE_OK);
    assert_int_equal(decode_frame(DLT_RAW, b.b, b.n, &d), DECODE_OK);
    assert_int_equal(d.payload_wire_len, sizeof PAYLOAD);
    b.n = 0;
    ipv4_udp(&b, 0, 0); /* UDP has no use for a cut payload */
    assert_int_equal(decode_frame_headers(DLT_RAW, b.b, b.n - 1, &d), DECODE_TRUNCATED);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ethernet_vlan_qinq_mpls),
        cmocka_unit_test(test_padding_is_not_payload),
        cmocka_unit_test(test_sll_sll2_raw_null),
        cmocka_unit_test(test_ipv4_options),
        cmocka_unit_test(test_ipv6_extension_headers),
        cmocka_unit_test(test_fragments_and_malformed),
        cmocka_unit_test(test_headers_only),
    };
    return cmocka_run_group_tests_name("decode", tests, NULL, NULL);
}
