/* capture: classic pcap (µs and ns), ERF sniffing, empty, garbage and truncated files,
 * captures kept in memory between plays, and router lookup. */
#include "testutil.h"

#include <fcntl.h>
#include <pcap/pcap.h>
#include <sys/stat.h>
#include <unistd.h>

#include "capture.h"
#include "source.h"
#include "router.h"

static void write_pcap(const char *path, int precision, int packets)
{
    pcap_t *dead = pcap_open_dead_with_tstamp_precision(DLT_EN10MB, 65535, precision);
    pcap_dumper_t *d = pcap_dump_open(dead, path);
    assert_non_null(d);
    uint8_t frame[60] = { 0 };
    for (int i = 0; i < packets; i++) {
        struct pcap_pkthdr h = { .caplen = sizeof frame, .len = sizeof frame };
        h.ts.tv_sec = 1672534805 + i;
        h.ts.tv_usec = precision == PCAP_TSTAMP_PRECISION_NANO ? 123456789 : 123456;
        frame[0] = (uint8_t)i;
        pcap_dump((u_char *)d, &h, frame);
    }
    pcap_dump_close(d);
    pcap_close(dead);
}

static void test_classic_pcap(void **state)
{
    char *dir = tu_tmpdir(), path[512], err[512];
    static const int precisions[] = { PCAP_TSTAMP_PRECISION_MICRO, PCAP_TSTAMP_PRECISION_NANO };
    for (int p = 0; p < 2; p++) {
        snprintf(path, sizeof path, "%s/a.pcap", dir);
        write_pcap(path, precisions[p], 3);
        struct capture *c = capture_open(path, err, sizeof err);
        if (!c)
            fail_msg("%s", err);
        assert_string_equal(capture_format(c), "pcap");
        struct capture_packet pkt;
        for (int i = 0; i < 3; i++) {
            /* progress follows the packets handed out, not the file's read-ahead */
            double f = capture_progress(c);
            assert_true(f >= i / 3.0 - 0.15 && f <= i / 3.0 + 0.15);
            assert_int_equal(capture_next(c, &pkt), 1);
            assert_int_equal(pkt.dlt, DLT_EN10MB);
            assert_int_equal(pkt.caplen, 60);
            assert_int_equal(pkt.data[0], i);
            int64_t frac = p ? 123456789 : 123456000;
            assert_int_equal(pkt.ts_ns, (1672534805LL + i) * 1000000000 + frac);
        }
        assert_int_equal(capture_next(c, &pkt), 0);
        assert_true(capture_progress(c) > 0.99);
        capture_close(c);
    }
    tu_rmdir(dir);
}

/* packets, and the first byte of each summed */
static int play(const char *path, int stop_after, int *sum)
{
    char err[512];
    struct capture *c = capture_open(path, err, sizeof err);
    if (!c)
        fail_msg("%s", err);
    struct capture_packet pkt;
    int n = 0, rc;
    *sum = 0;
    while ((stop_after < 0 || n < stop_after) && (rc = capture_next(c, &pkt)) == 1) {
        *sum += pkt.data[0];
        n++;
    }
    if (stop_after < 0) /* read to the end, from the file or from memory */
        assert_true(capture_progress(c) > 0.99);
    capture_close(c);
    return n;
}

static void test_kept_between_plays(void **state)
{
    char *dir = tu_tmpdir(), path[512];
    snprintf(path, sizeof path, "%s/k.pcap", dir);
    write_pcap(path, PCAP_TSTAMP_PRECISION_MICRO, 2000); /* beyond the 64 KB sniffed first */
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    int sum;
    /* not asked: nothing kept */
    assert_int_equal(play(path, -1, &sum), 2000);
    assert_int_equal(capture_kept_bytes(), 0);
    capture_keep(1 << 20);
    /* a play stopped before the file was read whole is not kept */
    assert_int_equal(play(path, 10, &sum), 10);
    assert_int_equal(capture_kept_bytes(), 0);
    /* played to the end: kept; the next play gives the same packets from memory */
    int want = 0;
    for (int i = 0; i < 2000; i++)
        want += i & 0xff;
    assert_int_equal(play(path, -1, &sum), 2000);
    assert_int_equal(sum, want);
    assert_int_equal(capture_kept_bytes(), (size_t)st.st_size);
    assert_int_equal(play(path, -1, &sum), 2000);
    assert_int_equal(sum, want);
    assert_int_equal(capture_kept_bytes(), (size_t)st.st_size);
    /* the file changed: read again (the stale copy goes), and kept anew */
    write_pcap(path, PCAP_TSTAMP_PRECISION_MICRO, 50);
    struct timespec later[2] = { { .tv_nsec = UTIME_OMIT }, { st.st_mtim.tv_sec + 10, 0 } };
    assert_int_equal(utimensat(AT_FDCWD, path, later, 0), 0);
    assert_int_equal(play(path, -1, &sum), 50);
    assert_int_equal(sum, 49 * 50 / 2);
    assert_int_equal(play(path, -1, &sum), 50);
    assert_true(capture_kept_bytes() > 0 && capture_kept_bytes() < (size_t)st.st_size);
    /* over the limit: read as usual, not kept */
    capture_keep(0);
    capture_keep(100);
    assert_int_equal(play(path, -1, &sum), 50);
    assert_int_equal(capture_kept_bytes(), 0);
    /* truncated in a packet: the same error on every play, from the file and from memory */
    capture_keep(1 << 20);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(truncate(path, st.st_size - 7), 0);
    for (int round = 0; round < 2; round++) {
        char err[512];
        struct capture *c = capture_open(path, err, sizeof err);
        assert_non_null(c);
        struct capture_packet pkt;
        int n = 0, rc;
        while ((rc = capture_next(c, &pkt)) == 1)
            n++;
        assert_int_equal(rc, -1);
        assert_int_equal(n, 49);
        assert_non_null(strstr(capture_error(c), "truncated"));
        capture_close(c);
        assert_int_equal(capture_kept_bytes(), (size_t)st.st_size - 7);
    }
    capture_keep(0);
    assert_int_equal(capture_kept_bytes(), 0);
    tu_rmdir(dir);
}

static void test_bad_files(void **state)
{
    char *dir = tu_tmpdir(), path[512], err[512];
    snprintf(path, sizeof path, "%s/empty.pcap", dir);
    tu_write(path, "", 0);
    assert_null(capture_open(path, err, sizeof err));
    assert_non_null(strstr(err, "empty file"));

    snprintf(path, sizeof path, "%s/garbage.pcap", dir);
    const char garbage[] = "this is not a capture at all, just some text\n";
    tu_write(path, garbage, sizeof garbage);
    assert_null(capture_open(path, err, sizeof err));
    assert_non_null(strstr(err, "not a capture: unknown format"));

    snprintf(path, sizeof path, "%s/short.pcap", dir); /* magic, then nothing */
    tu_write(path, "\xd4\xc3\xb2\xa1\x02\x00", 6);
    assert_null(capture_open(path, err, sizeof err));
    assert_non_null(strstr(err, "not a readable capture"));

    assert_null(capture_open(dir, err, sizeof err)); /* a directory */
    assert_null(capture_open("/nonexistent.pcap", err, sizeof err));

    /* truncated in the middle of the last packet: the others are read, then an error */
    snprintf(path, sizeof path, "%s/trunc.pcap", dir);
    write_pcap(path, PCAP_TSTAMP_PRECISION_MICRO, 3);
    assert_int_equal(truncate(path, 24 + 2 * (16 + 60) + 16 + 30), 0);
    struct capture *c = capture_open(path, err, sizeof err);
    assert_non_null(c);
    struct capture_packet pkt;
    assert_int_equal(capture_next(c, &pkt), 1);
    assert_int_equal(capture_next(c, &pkt), 1);
    assert_int_equal(capture_next(c, &pkt), -1);
    assert_non_null(strstr(capture_error(c), "truncated"));
    capture_close(c);

    /* a small .gz cut short (the whole file inside the sniffed head): it opens, its packets
     * are read, then the error, as for a large one (it was refused at the open) */
    snprintf(path, sizeof path, "%s/small.pcap", dir);
    write_pcap(path, PCAP_TSTAMP_PRECISION_MICRO, 40);
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "gzip -f %s && truncate -s -20 %s.gz", path, path);
    assert_int_equal(system(cmd), 0);
    strcat(path, ".gz");
    c = capture_open(path, err, sizeof err);
    if (!c)
        fail_msg("%s", err);
    int rc, n = 0;
    while ((rc = capture_next(c, &pkt)) == 1)
        n++;
    assert_int_equal(rc, -1);
    assert_true(n > 0 && n < 40);
    assert_non_null(strstr(capture_error(c), "the compressed data ends early"));
    capture_close(c);
    tu_rmdir(dir);
}

/* a pcapng packet (big-endian section, nanosecond interface) at ns nanoseconds since 1970 */
static void pcapng_packet(struct tu_buf *b, uint64_t ns)
{
    tu_u32(b, 6); tu_u32(b, 92); tu_u32(b, 0);
    tu_u32(b, (uint32_t)(ns >> 32)); tu_u32(b, (uint32_t)ns);
    tu_u32(b, 60); tu_u32(b, 60);
    for (int i = 0; i < 60; i++)
        tu_u8(b, 0);
    tu_u32(b, 92);
}

/* a timestamp telrep's nanoseconds cannot hold (after 2262; pcapng's 64 bits of nanoseconds
 * reach 2554): an error naming the packet, not an overflow; the packet before is read */
static void test_timestamp_out_of_range(void **state)
{
    char *dir = tu_tmpdir(), path[512], err[512];
    struct tu_buf b = { .n = 0 };
    tu_u32(&b, 0x0a0d0d0a); tu_u32(&b, 28); tu_u32(&b, 0x1a2b3c4d); tu_u16(&b, 1); tu_u16(&b, 0);
    tu_u32(&b, 0xffffffff); tu_u32(&b, 0xffffffff); tu_u32(&b, 28);
    tu_u32(&b, 1); tu_u32(&b, 32); tu_u16(&b, 1); tu_u16(&b, 0); tu_u32(&b, 65535);
    tu_u16(&b, 9); tu_u16(&b, 1); tu_u8(&b, 9); tu_u8(&b, 0); tu_u16(&b, 0); /* if_tsresol: ns */
    tu_u32(&b, 0); tu_u32(&b, 32);
    pcapng_packet(&b, 1672534805ull * 1000000000ull);
    pcapng_packet(&b, 0x9b36098b2e809200ull); /* 11,184,137,218 s: the year 2324 */
    snprintf(path, sizeof path, "%s/far.pcapng", dir);
    tu_write(path, b.b, b.n);
    struct capture *c = capture_open(path, err, sizeof err);
    if (!c)
        fail_msg("%s", err);
    struct capture_packet pkt;
    assert_int_equal(capture_next(c, &pkt), 1);
    assert_true(pkt.ts_ns == 1672534805ll * 1000000000ll);
    assert_int_equal(capture_next(c, &pkt), -1);
    if (!strstr(capture_error(c), "packet 2: its time"))
        fail_msg("error \"%s\"", capture_error(c));
    capture_close(c);
    tu_rmdir(dir);
}

/* ERF records: Ethernet type, 2 bytes of padding, a 60-byte frame */
static size_t erf_records(uint8_t *buf, int records)
{
    size_t n = 0;
    for (int i = 0; i < records; i++) {
        uint8_t *r = buf + n;
        memset(r, 0, 78);
        uint32_t sec = 1672534805u + (uint32_t)i;
        for (int k = 0; k < 4; k++)
            r[4 + k] = (uint8_t)(sec >> (8 * k));
        r[8] = 2;
        r[11] = 78;
        r[15] = 60;
        r[18] = (uint8_t)i;
        n += 78;
    }
    return n;
}

static void test_erf_sniffing(void **state)
{
    char *dir = tu_tmpdir(), path[512], err[512];
    uint8_t buf[8192];
    struct capture_packet pkt;
    snprintf(path, sizeof path, "%s/a.erf", dir);

    tu_write(path, buf, erf_records(buf, 3));
    struct capture *c = capture_open(path, err, sizeof err);
    if (!c)
        fail_msg("%s", err);
    assert_string_equal(capture_format(c), "erf");
    for (int i = 0; i < 3; i++) {
        assert_int_equal(capture_next(c, &pkt), 1);
        assert_int_equal(pkt.data[0], i);
        assert_int_equal(pkt.ts_ns, (1672534805LL + i) * 1000000000);
    }
    assert_int_equal(capture_next(c, &pkt), 0);
    capture_close(c);

    /* cut in the third record: an ERF capture, truncated */
    tu_write(path, buf, erf_records(buf, 3) - 30);
    c = capture_open(path, err, sizeof err);
    if (!c)
        fail_msg("%s", err);
    assert_int_equal(capture_next(c, &pkt), 1);
    assert_int_equal(capture_next(c, &pkt), 1);
    assert_int_equal(capture_next(c, &pkt), -1);
    capture_close(c);

    /* an Ethernet record without room for its 2 bytes of padding (libtrace asserted on
     * this), after a good one padded past its wire length: the frame is cut to wlen */
    erf_records(buf, 2);
    buf[15] = 50; /* first record: wire length 50 of the 60 bytes recorded */
    buf[78 + 11] = 16; /* second record: the header alone */
    tu_write(path, buf, 78 + 16);
    c = capture_open(path, err, sizeof err);
    if (!c)
        fail_msg("%s", err);
    assert_int_equal(capture_next(c, &pkt), 1);
    assert_int_equal(pkt.caplen, 50);
    assert_int_equal(pkt.wirelen, 50);
    assert_int_equal(capture_next(c, &pkt), -1);
    assert_string_equal(capture_error(c), "ERF record 2: shorter than its type's header");
    capture_close(c);

    /* cut in the first record: nothing says it is ERF */
    tu_write(path, buf, erf_records(buf, 1) - 30);
    assert_null(capture_open(path, err, sizeof err));
    assert_non_null(strstr(err, "not a capture"));

    /* random bytes are never taken for ERF (one time in five passed a one-header check) */
    uint32_t x = 2463534242u;
    for (int file = 0; file < 1000; file++) {
        for (size_t i = 0; i < 5000; i++) {
            x ^= x << 13, x ^= x >> 17, x ^= x << 5;
            buf[i] = (uint8_t)x;
        }
        buf[0] = 0; /* no compression or pcap magic by chance */
        tu_write(path, buf, 5000);
        c = capture_open(path, err, sizeof err);
        if (c)
            fail_msg("random file %d opened as %s", file, capture_format(c));
        assert_non_null(strstr(err, "not a capture"));
    }
    tu_rmdir(dir);
}

static void test_router_lookup(void **state)
{
    struct config c = { 0 };
    struct map_entry map[300];
    memset(map, 0, sizeof map);
    for (int i = 0; i < 300; i++) {
        char s[64];
        snprintf(s, sizeof s, i % 2 ? "2001:db8::%x" : "10.0.%d.%d", i % 2 ? i : i / 256, i % 256);
        assert_int_equal(addr_parse(s, &map[i].src), 0);
        assert_int_equal(addr_parse("127.0.0.1", &map[i].repro), 0);
    }
    c.map = map;
    c.n_map = 300;
    struct router_table t;
    assert_int_equal(router_table_init(&t, &c), 0);
    for (int i = 0; i < 300; i++) {
        struct router *r = router_lookup(&t, &map[i].src);
        assert_non_null(r);
        assert_true(addr_equal(&r->src, &map[i].src));
        assert_int_equal(r->fd[0], -1);
    }
    struct addr other;
    addr_parse("10.9.9.9", &other);
    assert_null(router_lookup(&t, &other));
    router_table_free(&t);

    /* issue 14 item 2: an entry with clones is that many routers, next to each other, from
     * consecutive addresses; the lookup finds clone 0; clone k >= 1 opens BGP with its own
     * address as identifier, or with the entry's + k */
    map[1].clones = 3;
    assert_int_equal(addr_parse("192.0.2.254", &map[1].repro), 0);
    map[2].clones = 2;
    map[2].bgp_id = 0x0a000001;
    c.clones.bgp_id = true;
    assert_int_equal(router_table_init(&t, &c), 0);
    assert_int_equal(t.n, 303);
    struct router *r = router_lookup(&t, &map[1].src);
    assert_int_equal(r->clone, 0);
    assert_int_equal(r->n_clones, 3);
    char b[ADDR_STRLEN];
    assert_string_equal(addr_format(&r[2].repro, b), "192.0.3.0"); /* 192.0.2.254 + 2: the carry */
    assert_true(addr_equal(&r[1].src, &map[1].src));
    assert_int_equal(r[2].clone, 2);
    assert_int_equal(r[0].bgp_id, 0); /* clone 0 is the captured router */
    assert_int_equal(r[1].bgp_id, 0xc00002ff);
    r = router_lookup(&t, &map[2].src);
    assert_int_equal(r[0].bgp_id, 0x0a000001);
    assert_int_equal(r[1].bgp_id, 0x0a000002);
    assert_ptr_equal(router_lookup(&t, &map[3].src), r + 2);
    router_table_free(&t);
}

/* the replay reads through the source seam: a path is a capture file, frame for frame */
static void test_source_seam(void **state)
{
    char *dir = tu_tmpdir(), path[512], err[512];
    snprintf(path, sizeof path, "%s/s.pcap", dir);
    write_pcap(path, PCAP_TSTAMP_PRECISION_MICRO, 4);
    struct source *s = source_open(path, NULL, err, sizeof err);
    if (!s)
        fail_msg("%s", err);
    assert_string_equal(s->ops->name, "capture");
    assert_string_equal(source_format(s), "pcap");
    struct capture_packet pkt;
    for (int i = 0; i < 4; i++) {
        assert_int_equal(source_next(s, &pkt), 1);
        assert_int_equal(pkt.data[0], i);
    }
    assert_int_equal(source_next(s, &pkt), 0);
    assert_true(source_progress(s) > 0.99);
    source_close(s);
    snprintf(path, sizeof path, "%s/absent.pcap", dir);
    assert_null(source_open(path, NULL, err, sizeof err));
    assert_non_null(strstr(err, "absent.pcap"));
    tu_rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_source_seam),
        cmocka_unit_test(test_classic_pcap),
        cmocka_unit_test(test_bad_files),
        cmocka_unit_test(test_timestamp_out_of_range),
        cmocka_unit_test(test_kept_between_plays),
        cmocka_unit_test(test_erf_sniffing),
        cmocka_unit_test(test_router_lookup),
    };
    return cmocka_run_group_tests_name("capture", tests, NULL, NULL);
}
