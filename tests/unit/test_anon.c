/* test_anon — Crypto-PAn against its published vectors, the prefix-preserving property, prefixes,
 * kept ranges, the AS permutation and key files. */
#define _GNU_SOURCE /* memmem */
#include "testutil.h"

#include <arpa/inet.h>

#include "anon.h"
#include "buf.h"
#include "proto/proto.h"

/* the key and trace of the Crypto-PAn reference distribution (sample_trace_raw.dat and
 * sample_trace_sanitized.dat) */
static const uint8_t reference_key[ANON_KEY_LEN] = { 21, 34, 23, 141, 51, 164, 207, 128, 19, 10, 91, 22, 73, 144, 125, 16,
                                                     216, 152, 143, 131, 121, 121, 101, 39, 98, 87, 76, 45, 42, 132, 34, 2 };
static const char *const v4_vectors[][2] = {
    { "128.11.68.132", "135.242.180.132" }, { "129.118.74.4", "134.136.186.123" },
    { "130.132.252.244", "133.68.164.234" }, { "141.223.7.43", "141.167.8.160" },
    { "141.233.145.108", "141.129.237.235" }, { "152.163.225.39", "151.140.114.167" },
    { "156.29.3.236", "147.225.12.42" },     { "165.247.96.84", "162.9.99.234" },
    { "166.107.77.190", "160.132.178.185" }, { "192.102.249.13", "252.138.62.131" },
    { "192.215.32.125", "252.43.47.189" },   { "192.233.80.103", "252.25.108.8" },
    { "192.41.57.43", "252.222.221.184" },   { "193.150.244.223", "253.169.52.216" },
    { "195.205.63.100", "255.186.223.5" },   { "202.49.198.20", "245.206.7.234" },
    { "24.0.250.221", "100.15.198.226" },    { "4.3.88.225", "124.60.155.63" },
    { "64.14.118.196", "0.255.183.58" },     { "10.185.25.118", "117.161.29.118" },
};
/* IPv6 by the same construction over 128 bits, as other implementations extend it
 * (Yawning Angel's Go cryptopan) */
static const char *const v6_vectors[][2] = {
    { "::1", "78ff:f001:9fc0:20df:8380:b1f1:704:ed" },
    { "::ffff", "78ff:f001:9fc0:20df:8380:b1f1:704:f838" },
    { "2001:db8::1", "4401:2bc:603f:d91d:27f:ff8e:e6f1:dc1e" },
    { "2001:db8::2", "4401:2bc:603f:d91d:27f:ff8e:e6f1:dc1c" },
};

static void check_vector(struct anon *a, const char *in, const char *want)
{
    struct addr x, y, w;
    assert_int_equal(addr_parse(in, &x), 0);
    assert_int_equal(addr_parse(want, &w), 0);
    anon_addr(a, &x, &y);
    char got[ADDR_STRLEN];
    if (!addr_equal(&y, &w))
        fail_msg("%s -> %s, want %s", in, addr_format(&y, got), want);
}

static void test_reference_vectors(void **state)
{
    char err[200];
    struct anon *a = anon_new(reference_key, err, sizeof err);
    assert_non_null(a);
    for (size_t i = 0; i < sizeof v4_vectors / sizeof *v4_vectors; i++)
        check_vector(a, v4_vectors[i][0], v4_vectors[i][1]);
    for (size_t i = 0; i < sizeof v6_vectors / sizeof *v6_vectors; i++)
        check_vector(a, v6_vectors[i][0], v6_vectors[i][1]);
    /* again, from the cache */
    check_vector(a, v4_vectors[0][0], v4_vectors[0][1]);
    anon_free(a);
}

static unsigned common_bits(const uint8_t *x, const uint8_t *y, size_t len)
{
    unsigned n = 0;
    for (size_t i = 0; i < len; i++) {
        uint8_t d = x[i] ^ y[i];
        if (!d) {
            n += 8;
            continue;
        }
        while (!(d & 0x80)) {
            n++;
            d <<= 1;
        }
        break;
    }
    return n;
}

/* every pair keeps its common prefix length; the mapping is one-to-one on the sample */
static void test_prefix_preserving(void **state)
{
    uint8_t key[ANON_KEY_LEN];
    for (int i = 0; i < ANON_KEY_LEN; i++)
        key[i] = (uint8_t)(i * 37 + 11);
    char err[200];
    struct anon *a = anon_new(key, err, sizeof err);
    assert_non_null(a);
    uint64_t s = 88172645463325252ull;
    for (size_t len = 4; len <= 16; len += 12) {
        enum { N = 200 };
        uint8_t in[N][16], out[N][16];
        for (int i = 0; i < N; i++) {
            for (size_t b = 0; b < len; b++) {
                s ^= s << 13, s ^= s >> 7, s ^= s << 17;
                in[i][b] = (uint8_t)s;
            }
            if (i % 4 == 1) /* near neighbours too: a long common prefix */
                memcpy(in[i], in[i - 1], len - 1);
            memcpy(out[i], in[i], len);
            anon_bytes(a, out[i], len);
        }
        for (int i = 0; i < N; i++)
            for (int j = i + 1; j < N; j++) {
                unsigned before = common_bits(in[i], in[j], len), after = common_bits(out[i], out[j], len);
                if (before != after)
                    fail_msg("pair %d,%d: common prefix %u bits became %u", i, j, before, after);
            }
    }
    anon_free(a);
}

/* the same key, the same mapping; another key, another one */
static void test_keyed(void **state)
{
    uint8_t k1[ANON_KEY_LEN] = { 1 }, k2[ANON_KEY_LEN] = { 2 };
    char err[200];
    struct anon *a = anon_new(k1, err, sizeof err), *b = anon_new(k1, err, sizeof err), *c = anon_new(k2, err, sizeof err);
    uint8_t x[4] = { 198, 51, 100, 7 }, y[4], z[4];
    memcpy(y, x, 4);
    memcpy(z, x, 4);
    anon_bytes(a, x, 4);
    anon_bytes(b, y, 4);
    anon_bytes(c, z, 4);
    assert_memory_equal(x, y, 4);
    assert_memory_not_equal(x, z, 4);
    anon_free(a);
    anon_free(b);
    anon_free(c);
}

/* a prefix maps to the leading bits of its addresses' images; kept ranges and 0.0.0.0 stay */
static void test_prefix_and_keep(void **state)
{
    char err[200];
    struct anon *a = anon_new(reference_key, err, sizeof err);
    uint8_t p[4] = { 128, 11, 0, 0 };                 /* 128.11.0.0/16 */
    anon_prefix(a, p, 16, 4);
    assert_int_equal(p[0], 135);                       /* 128.11.68.132 -> 135.242.180.132 */
    assert_int_equal(p[1], 242);
    assert_int_equal(p[2], 0);
    uint8_t q[3] = { 141, 223, 7 };                    /* 141.223.7.0/20: bits past 20 are not its */
    anon_prefix(a, q, 20, 4);
    assert_int_equal(q[0], 141);
    assert_int_equal(q[1], 167);                       /* 141.223.7.43 -> 141.167.8.160 */
    assert_int_equal(q[2] & 0x0f, 0);
    assert_int_equal(q[2] & 0xf0, 8 & 0xf0);
    struct addr doc;
    assert_int_equal(addr_parse("192.0.2.0/24", &doc), 0);
    assert_int_equal(anon_keep(a, &doc), 0);
    uint8_t d[4] = { 192, 0, 2, 9 }, zero[4] = { 0 }, z[4] = { 0 };
    anon_bytes(a, d, 4);
    anon_bytes(a, z, 4);
    assert_int_equal(d[3], 9);
    assert_int_equal(d[0], 192);
    assert_memory_equal(z, zero, 4);
    anon_free(a);
}

/* ASes: public 2-byte ones among themselves, public 4-byte ones among themselves, one-to-one;
 * private, documentation, reserved ones and AS_TRANS stay */
static void test_as(void **state)
{
    char err[200];
    struct anon *a = anon_new(reference_key, err, sizeof err);
    static uint8_t seen[65536 / 8];
    memset(seen, 0, sizeof seen);
    unsigned moved = 0;
    for (uint32_t as = 1; as <= 64495; as++) {
        if (as == 23456)
            continue;
        uint32_t m = anon_as(a, as);
        assert_true(m >= 1 && m <= 64495 && m != 23456);
        assert_false(seen[m / 8] & (1u << (m % 8)));
        seen[m / 8] |= (uint8_t)(1u << (m % 8));
        moved += m != as;
    }
    assert_true(moved > 60000);
    for (uint32_t as = 65552; as < 65552 + 5000; as++) {
        uint32_t m = anon_as(a, as);
        assert_true(m >= 65552 && m <= 4199999999u);
        assert_int_equal(anon_as(a, as), m);
    }
    const uint32_t stay[] = { 0, 23456, 64496, 64511, 64512, 65534, 65535, 65536, 65551, 4200000000u, 4294967295u };
    for (size_t i = 0; i < sizeof stay / sizeof *stay; i++)
        assert_int_equal(anon_as(a, stay[i]), stay[i]);
    anon_free(a);
}

static void test_key_files(void **state)
{
    char *dir = tu_tmpdir(), path[256], err[300];
    uint8_t key[ANON_KEY_LEN];
    snprintf(path, sizeof path, "%s/raw.key", dir);
    tu_write(path, reference_key, sizeof reference_key);
    assert_int_equal(anon_key_load(path, key, err, sizeof err), 0);
    assert_memory_equal(key, reference_key, ANON_KEY_LEN);
    snprintf(path, sizeof path, "%s/hex.key", dir);
    const char *hex = "1522178d 33a4cf80 130a5b16 49907d10\nd8988f83 79796527 62574c2d 2a842202\n";
    tu_write(path, hex, strlen(hex));
    memset(key, 0, sizeof key);
    assert_int_equal(anon_key_load(path, key, err, sizeof err), 0);
    assert_memory_equal(key, reference_key, ANON_KEY_LEN);
    snprintf(path, sizeof path, "%s/short.key", dir);
    tu_write(path, "abcd", 4);
    assert_int_equal(anon_key_load(path, key, err, sizeof err), -1);
    assert_non_null(strstr(err, "64 hex digits"));
    snprintf(path, sizeof path, "%s/missing.key", dir);
    assert_int_equal(anon_key_load(path, key, err, sizeof err), -1);
    assert_non_null(strstr(err, "/dev/urandom"));
    tu_rmdir(dir);
}

static void attr(struct buf *b, uint8_t flags, uint8_t type, const struct buf *v)
{
    buf_put_u8(b, flags);
    buf_put_u8(b, type);
    buf_put_u8(b, (uint8_t)v->len);
    buf_put(b, v->p, v->len);
}

static bool contains(const struct buf *b, const void *needle, size_t n)
{
    return memmem(b->p, b->len, needle, n) != NULL;
}

/* An UPDATE with every field that names the network: none of the originals is left, each is
 * what anon_bytes / anon_prefix / anon_as give, the length is the same; an OPEN likewise; a
 * VPN MP_REACH_NLRI is unmappable; a cut message malformed. */
static void test_bgp_update(void **state)
{
    char err[200];
    struct anon *a = anon_new(reference_key, err, sizeof err), *ref = anon_new(reference_key, err, sizeof err);
    struct buf m = { 0 }, attrs = { 0 }, v = { 0 };
    const uint8_t nh[4] = { 128, 11, 68, 132 }, agg[4] = { 141, 223, 7, 43 }, orig_id[4] = { 130, 132, 252, 244 },
                  v6nh[16] = { 0x20, 0x01, 0x0d, 0xb9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x55 };
    size_t at = bgp_begin(&m, BGP_UPDATE);
    buf_put_u16(&m, 3); buf_put_u8(&m, 16); buf_put_u8(&m, 166); buf_put_u8(&m, 107);     /* withdrawn 166.107/16 */
    v.len = 0; buf_put_u8(&v, 0); attr(&attrs, BGP_ATTR_FLAG_TRANSITIVE, BGP_ATTR_ORIGIN, &v);
    v.len = 0; buf_put_u8(&v, BGP_AS_SEQUENCE); buf_put_u8(&v, 2); buf_put_u32(&v, 3356); buf_put_u32(&v, 396982);
    attr(&attrs, BGP_ATTR_FLAG_TRANSITIVE, BGP_ATTR_AS_PATH, &v);
    v.len = 0; buf_put(&v, nh, 4); attr(&attrs, BGP_ATTR_FLAG_TRANSITIVE, BGP_ATTR_NEXT_HOP, &v);
    v.len = 0; buf_put_u32(&v, 2914); buf_put(&v, agg, 4);
    attr(&attrs, BGP_ATTR_FLAG_OPTIONAL | BGP_ATTR_FLAG_TRANSITIVE, BGP_ATTR_AGGREGATOR, &v);
    v.len = 0; buf_put_u16(&v, 3356); buf_put_u16(&v, 70); buf_put_u32(&v, 0xffffff01u);   /* 3356:70, NO_EXPORT */
    attr(&attrs, BGP_ATTR_FLAG_OPTIONAL | BGP_ATTR_FLAG_TRANSITIVE, BGP_ATTR_COMMUNITIES, &v);
    v.len = 0; buf_put(&v, orig_id, 4); attr(&attrs, BGP_ATTR_FLAG_OPTIONAL, BGP_ATTR_ORIGINATOR_ID, &v);
    v.len = 0; buf_put_u16(&v, 2); buf_put_u8(&v, 1); buf_put_u8(&v, 16); buf_put(&v, v6nh, 16); buf_put_u8(&v, 0);
    buf_put_u8(&v, 32); buf_put_u32(&v, 0x20010db9u);                                    /* 2001:db9::/32 */
    attr(&attrs, BGP_ATTR_FLAG_OPTIONAL, BGP_ATTR_MP_REACH, &v);
    buf_put_u16(&m, (uint16_t)attrs.len);
    buf_put(&m, attrs.p, attrs.len);
    buf_put_u8(&m, 24); buf_put_u8(&m, 192); buf_put_u8(&m, 102); buf_put_u8(&m, 249);    /* 192.102.249/24 */
    bgp_end(&m, at);
    size_t len = m.len;
    struct bgp_anon_counts n = { 0 };
    assert_int_equal(bgp_anonymise(a, m.p, m.len, true, false, &n), ANON_OK);
    assert_int_equal(m.len, len);
    assert_int_equal(n.prefixes, 3);
    assert_int_equal(n.addresses, 4);
    assert_int_equal(n.ases, 5); /* two in the path, the aggregator's, two communities' */
    assert_false(contains(&m, nh, 4));
    assert_false(contains(&m, agg, 4));
    assert_false(contains(&m, orig_id, 4));
    assert_false(contains(&m, v6nh, 16));
    uint8_t want[16];
    memcpy(want, nh, 4);
    anon_bytes(ref, want, 4);
    assert_true(contains(&m, want, 4));
    uint8_t as[4] = { 0, 0, 0x0c, 0x1c }; /* 3356 */
    assert_false(contains(&m, as, 4));
    uint32_t mapped = anon_as(ref, 3356);
    uint8_t mas[4] = { (uint8_t)(mapped >> 24), (uint8_t)(mapped >> 16), (uint8_t)(mapped >> 8), (uint8_t)mapped };
    assert_true(contains(&m, mas, 4));
    assert_true(contains(&m, (uint8_t[]){ 0xff, 0xff, 0xff, 0x01 }, 4)); /* NO_EXPORT stays */
    uint8_t p24[3] = { 192, 102, 249 };
    anon_prefix(ref, p24, 24, 4);
    assert_memory_equal(m.p + m.len - 3, p24, 3);                    /* 252.138.62/24 */
    assert_int_equal(m.p[m.len - 3], 252);

    /* a VPNv4 MP_REACH_NLRI: the next hop after its RD, the label kept, the RD's AS and the prefix mapped */
    struct buf u = { 0 };
    at = bgp_begin(&u, BGP_UPDATE);
    buf_put_u16(&u, 0);
    v.len = 0; buf_put_u16(&v, 1); buf_put_u8(&v, 128); buf_put_u8(&v, 12); buf_put_zero(&v, 8); buf_put(&v, nh, 4);
    buf_put_u8(&v, 0);
    buf_put_u8(&v, 24 + 64 + 24);                                      /* label, RD 0:3356:100, 192.102.249/24 */
    buf_put_u8(&v, 0x00); buf_put_u8(&v, 0x3e); buf_put_u8(&v, 0x81); /* label 1000, bottom of stack */
    buf_put_u16(&v, 0); buf_put_u16(&v, 3356); buf_put_u32(&v, 100);
    buf_put_u8(&v, 192); buf_put_u8(&v, 102); buf_put_u8(&v, 249);
    attrs.len = 0;
    attr(&attrs, BGP_ATTR_FLAG_OPTIONAL, BGP_ATTR_MP_REACH, &v);
    buf_put_u16(&u, (uint16_t)attrs.len);
    buf_put(&u, attrs.p, attrs.len);
    bgp_end(&u, at);
    assert_int_equal(bgp_anonymise(a, u.p, u.len, true, false, &n), ANON_OK);
    assert_false(contains(&u, nh, 4));
    assert_true(contains(&u, want, 4));                               /* the next hop's image */
    assert_int_equal(u.p[u.len - 3], 252);                            /* 252.138.62/24 */
    assert_int_equal(u.p[u.len - 12], 0x81);                          /* the label as it was */
    assert_int_equal(u.p[u.len - 9] << 8 | u.p[u.len - 8], anon_as(ref, 3356) & 0xffff);
    assert_int_equal(u.p[u.len - 4], 100);                            /* the RD's number as it was */
    /* flowspec (SAFI 133): unmappable */
    u.len = 0;
    at = bgp_begin(&u, BGP_UPDATE);
    buf_put_u16(&u, 0);
    v.len = 0; buf_put_u16(&v, 1); buf_put_u8(&v, 133); buf_put_u8(&v, 0); buf_put_u8(&v, 0);
    attrs.len = 0;
    attr(&attrs, BGP_ATTR_FLAG_OPTIONAL, BGP_ATTR_MP_REACH, &v);
    buf_put_u16(&u, (uint16_t)attrs.len);
    buf_put(&u, attrs.p, attrs.len);
    bgp_end(&u, at);
    assert_int_equal(bgp_anonymise(a, u.p, u.len, true, false, &n), ANON_UNMAPPABLE);
    /* cut short: malformed */
    assert_int_equal(bgp_anonymise(a, m.p, m.len - 1, true, false, &n), ANON_MALFORMED);

    /* an OPEN: My AS, the BGP identifier and the 4-octet AS capability */
    struct buf o = { 0 };
    struct bgp_open_spec spec = { .asn = 396982, .bgp_id = 0x800b4484u /* 128.11.68.132 */, .hold_time = 90,
                                  .four_byte_as = true };
    bgp_put_open(&o, &spec);
    assert_int_equal(bgp_anonymise(a, o.p, o.len, true, false, &n), ANON_OK);
    struct bgp_open got;
    assert_int_equal(bgp_parse_open(o.p, o.len, &got), 0);
    assert_int_equal(got.asn, anon_as(ref, 396982));
    assert_int_equal(got.my_as, BGP_AS_TRANS);
    assert_int_equal(got.bgp_id, 0x87f2b484u); /* 135.242.180.132 */
    buf_free(&m); buf_free(&attrs); buf_free(&v); buf_free(&u); buf_free(&o);
    anon_free(a);
    anon_free(ref);
}

/* names: same length and shape, letters and digits replaced, the same name the same way */
static void test_names(void **state)
{
    char err[200];
    struct anon *a = anon_new(reference_key, err, sizeof err);
    char x[] = "rtr01.ams.example.net", y[] = "rtr01.ams.example.net", z[] = "rtr02.ams.example.net";
    anon_name(a, (uint8_t *)x, strlen(x));
    anon_name(a, (uint8_t *)y, strlen(y));
    anon_name(a, (uint8_t *)z, strlen(z));
    assert_string_equal(x, y);
    assert_string_not_equal(x, z);
    assert_int_equal(strlen(x), 21);
    assert_true(x[5] == '.' && x[9] == '.' && x[17] == '.');
    assert_null(strstr(x, "ams"));
    assert_null(strstr(x, "example"));
    anon_free(a);
}

/* BMP: INIT's names, a PEER_UP whose OPENs negotiate ADD-PATH (so the Route Monitoring after it
 * is read with path identifiers), the per-peer header's address, AS and BGP ID */
static void test_bmp(void **state)
{
    char err[200];
    struct anon *a = anon_new(reference_key, err, sizeof err), *ref = anon_new(reference_key, err, sizeof err);
    struct bmp_anon *s = bmp_anon_new(a);
    struct bgp_anon_counts n = { 0 };
    struct buf m = { 0 };
    size_t at = bmp_begin(&m, BMP_INIT);
    bmp_put_info(&m, BMP_INFO_SYS_NAME, "rtr01.ams.example.net");
    bmp_end(&m, at);
    assert_int_equal(bmp_anonymise(s, m.p, m.len, &n), ANON_OK);
    assert_null(memmem(m.p, m.len, "example", 7));
    struct addr peer;
    addr_parse("128.11.68.132", &peer);
    struct bmp_peer_header h = { .type = BMP_PEER_GLOBAL, .addr = peer, .as = 3356, .bgp_id = 0x81764a04u /* 129.118.74.4 */ };
    struct bgp_open_spec o = { .asn = 3356, .bgp_id = 0x81764a04u, .hold_time = 90, .four_byte_as = true, .addpath = true,
                               .n_families = 1, .afi = { 1 }, .safi = { 1 } };
    m.len = 0;
    at = bmp_begin(&m, BMP_PEER_UP);
    bmp_put_peer_header(&m, &h);
    buf_put_zero(&m, 12);
    buf_put_u32(&m, 0x8284fcf4u); /* local 130.132.252.244 */
    buf_put_u16(&m, 179);
    buf_put_u16(&m, 40000);
    bgp_put_open(&m, &o);
    bgp_put_open(&m, &o);
    bmp_end(&m, at);
    assert_int_equal(bmp_anonymise(s, m.p, m.len, &n), ANON_OK);
    assert_int_equal(m.p[6 + 22], 135);       /* the peer, 135.242.180.132 */
    assert_int_equal(m.p[6 + 25], 132);
    assert_int_equal(m.p[6 + 30], 134);       /* its BGP ID, 134.136.186.123 */
    assert_int_equal(m.p[6 + 42 + 12], 133);  /* the local address, 133.68.164.234 */
    uint32_t as = anon_as(ref, 3356);
    assert_int_equal((uint32_t)m.p[6 + 26] << 24 | (uint32_t)m.p[6 + 27] << 16 | (uint32_t)m.p[6 + 28] << 8 | m.p[6 + 29],
                     as);
    /* a Route Monitoring UPDATE of that peer with a path identifier before its prefix */
    m.len = 0;
    at = bmp_begin(&m, BMP_ROUTE_MONITORING);
    bmp_put_peer_header(&m, &h);
    size_t u = bgp_begin(&m, BGP_UPDATE);
    buf_put_u16(&m, 0);
    buf_put_u16(&m, 0);
    buf_put_u32(&m, 7);                       /* path identifier */
    buf_put_u8(&m, 24); buf_put_u8(&m, 192); buf_put_u8(&m, 102); buf_put_u8(&m, 249);
    bgp_end(&m, u);
    bmp_end(&m, at);
    assert_int_equal(bmp_anonymise(s, m.p, m.len, &n), ANON_OK);
    assert_int_equal(m.p[m.len - 4], 24);
    assert_int_equal(m.p[m.len - 3], 252);    /* 192.102.249/24 -> 252.138.62/24 */
    assert_int_equal(m.p[m.len - 2], 138);
    assert_int_equal(m.p[m.len - 5], 7);      /* the path identifier as it was */
    /* a PEER_UP whose sent OPEN claims more bytes than the message holds: malformed, and read
     * no further than the message (fuzz_anon found the read past it) */
    struct buf up = { 0 };
    at = bmp_begin(&up, BMP_PEER_UP);
    bmp_put_peer_header(&up, &h);
    buf_put_zero(&up, 20);
    size_t open_at = up.len;
    bgp_put_open(&up, &o);
    up.p[open_at + 16] = 0x0f;                /* 3840 bytes */
    up.len = open_at + 24;                    /* and the message ends within its fixed part */
    bmp_end(&up, at);
    uint8_t *exact = malloc(up.len);          /* no slack after it for a read to land in */
    memcpy(exact, up.p, up.len);
    assert_int_equal(bmp_anonymise(s, exact, up.len, &n), ANON_MALFORMED);
    free(exact);
    buf_free(&up);
    /* cut: malformed; an unknown type: unmappable */
    assert_int_equal(bmp_anonymise(s, m.p, m.len - 1, &n), ANON_MALFORMED);
    m.p[5] = 42;
    assert_int_equal(bmp_anonymise(s, m.p, m.len, &n), ANON_UNMAPPABLE);
    buf_free(&m);
    bmp_anon_free(s);
    anon_free(a);
    anon_free(ref);
}

/* IPFIX: a template, then data: sourceIPv4Address and bgpSourceAsNumber mapped, the packet
 * count kept; data of a template not seen is unmappable. v5: its fixed places. */
static void test_netflow(void **state)
{
    char err[200];
    struct anon *a = anon_new(reference_key, err, sizeof err), *ref = anon_new(reference_key, err, sizeof err);
    struct netflow_anon *s = netflow_anon_new(a);
    struct bgp_anon_counts n = { 0 };
    struct buf m = { 0 };
    buf_put_u16(&m, 10); buf_put_u16(&m, 0); buf_put_u32(&m, 1672534805); buf_put_u32(&m, 1); buf_put_u32(&m, 7);
    buf_put_u16(&m, 2); buf_put_u16(&m, 4 + 4 + 12);                  /* template set: 256 = [8/4, 16/4, 2/4] */
    buf_put_u16(&m, 256); buf_put_u16(&m, 3);
    buf_put_u16(&m, 8); buf_put_u16(&m, 4); buf_put_u16(&m, 16); buf_put_u16(&m, 4); buf_put_u16(&m, 2); buf_put_u16(&m, 4);
    buf_put_u16(&m, 256); buf_put_u16(&m, 4 + 12);                    /* one record */
    buf_put_u32(&m, 0x800b4484u); buf_put_u32(&m, 3356); buf_put_u32(&m, 77);
    buf_put_u16_at(&m, 2, (uint16_t)m.len);
    assert_int_equal(netflow_anonymise(s, m.p, m.len, &n), ANON_OK);
    size_t rec = m.len - 12;
    assert_int_equal(m.p[rec], 135);                                   /* 135.242.180.132 */
    assert_int_equal(m.p[rec + 3], 132);
    uint32_t as = anon_as(ref, 3356);
    assert_int_equal((uint32_t)m.p[rec + 4] << 24 | (uint32_t)m.p[rec + 5] << 16 | (uint32_t)m.p[rec + 6] << 8 | m.p[rec + 7], as);
    assert_int_equal(m.p[rec + 11], 77);                               /* packetDeltaCount kept */
    /* a data set of template 300, never seen */
    m.p[m.len - 12 - 4] = 0x01, m.p[m.len - 12 - 3] = 0x2c;
    assert_int_equal(netflow_anonymise(s, m.p, m.len, &n), ANON_UNMAPPABLE);
    /* v5: one record */
    struct buf v = { 0 };
    buf_put_u16(&v, 5); buf_put_u16(&v, 1); buf_put_zero(&v, 20);
    buf_put_u32(&v, 0x800b4484u); buf_put_u32(&v, 0x8284fcf4u); buf_put_u32(&v, 0); buf_put_zero(&v, 28);
    buf_put_u16(&v, 3356); buf_put_u16(&v, 64512); buf_put_zero(&v, 4);
    assert_int_equal(v.len, 24 + 48);
    assert_int_equal(netflow_anonymise(s, v.p, v.len, &n), ANON_OK);
    assert_int_equal(v.p[24], 135);
    assert_int_equal(v.p[28], 133);                                    /* 133.68.164.234 */
    assert_int_equal(v.p[32] | v.p[33] | v.p[34] | v.p[35], 0);        /* no next hop: 0.0.0.0 stays */
    assert_int_equal(v.p[24 + 40] << 8 | v.p[24 + 41], anon_as(ref, 3356));
    assert_int_equal(v.p[24 + 42] << 8 | v.p[24 + 43], 64512);         /* private */
    assert_int_equal(netflow_anonymise(s, v.p, v.len - 1, &n), ANON_MALFORMED);
    buf_free(&m);
    buf_free(&v);
    netflow_anon_free(s);
    anon_free(a);
    anon_free(ref);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reference_vectors),
        cmocka_unit_test(test_prefix_preserving),
        cmocka_unit_test(test_keyed),
        cmocka_unit_test(test_prefix_and_keep),
        cmocka_unit_test(test_as),
        cmocka_unit_test(test_key_files),
        cmocka_unit_test(test_bgp_update),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_bmp),
        cmocka_unit_test(test_netflow),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
