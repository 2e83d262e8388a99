/* capture.c — one way in for every capture format.
 *
 * A source layer decompresses (libwandio for gzip/bzip2/xz/lzo/lz4, libzstd for zstd: the
 * libwandio in Debian 12 has none). libpcap parses pcap and pcapng from that stream
 * (fopencookie). ERF is read here, from the same stream, with bounds-checked reads: its
 * records are a 16-byte header and a body, and libtrace 3.0.22 (used before) aborted on
 * a record shorter than its type's header (an assertion, found by fuzz_capture). */
#define _GNU_SOURCE
#include "capture.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <wandio.h>
#include <zstd.h>

#include "cursor.h"

/* sniffed bytes: enough to walk a few ERF records, which have no magic number */
#define HEAD 65536

struct capture {
    char format[32];
    char error[PCAP_ERRBUF_SIZE + 128];
    bool compressed;
    off_t file_size, bytes_read;
    /* the decompressed byte source: the file itself, zstd over it, or wandio (gzip,
     * bzip2, xz, lzo, lz4) */
    io_t *io;
    FILE *file;
    char *file_buf, *stream_buf; /* stdio buffers: glibc sizes its own by st_blksize (4 KB) */
    ZSTD_DStream *zstd;
    ZSTD_inBuffer zin;
    uint8_t *zin_buf;
    bool zstd_eof;
    uint8_t head[HEAD]; /* the first bytes, read to sniff the format, served again */
    size_t head_len, head_pos;
    /* pcap / pcapng */
    FILE *stream;
    pcap_t *pcap;
    /* ERF: the current record's body */
    bool erf;
    uint8_t *record;
    uint64_t records;
};

static ssize_t zstd_read(struct capture *c, uint8_t *buf, size_t size)
{
    ZSTD_outBuffer out = { buf, size, 0 };
    while (out.pos == 0) {
        if (c->zin.pos == c->zin.size) {
            if (c->zstd_eof)
                return 0;
            size_t n = fread(c->zin_buf, 1, ZSTD_DStreamInSize(), c->file);
            if (n == 0) {
                c->zstd_eof = true;
                return ferror(c->file) ? -1 : 0;
            }
            c->zin = (ZSTD_inBuffer){ c->zin_buf, n, 0 };
        }
        size_t rc = ZSTD_decompressStream(c->zstd, &out, &c->zin);
        if (ZSTD_isError(rc)) {
            snprintf(c->error, sizeof c->error, "zstd: %s", ZSTD_getErrorName(rc));
            return -1;
        }
    }
    return (ssize_t)out.pos;
}

static ssize_t source_read_raw(struct capture *c, void *buf, size_t size)
{
    ssize_t n;
    if (c->zstd)
        n = zstd_read(c, buf, size);
    else if (c->io)
        n = (ssize_t)wandio_read(c->io, buf, (off_t)size);
    else {
        n = (ssize_t)fread(buf, 1, size, c->file);
        if (n == 0 && ferror(c->file))
            n = -1;
    }
    return n < 0 ? -1 : n;
}

/* Compressed by something libwandio decompresses? (zstd is handled apart) */
static bool wandio_compressed(const uint8_t *m, size_t n)
{
    static const struct { uint8_t len, magic[6]; } known[] = {
        { 2, { 0x1f, 0x8b } },                         /* gzip */
        { 3, { 'B', 'Z', 'h' } },                      /* bzip2 */
        { 6, { 0xfd, '7', 'z', 'X', 'Z', 0x00 } },     /* xz */
        { 4, { 0x89, 'L', 'Z', 'O' } },                /* lzo */
        { 4, { 0x04, 0x22, 0x4d, 0x18 } },             /* lz4 */
    };
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (n >= known[i].len && memcmp(m, known[i].magic, known[i].len) == 0)
            return true;
    return false;
}

/* Decompressed bytes: first the sniffed head again, then the rest. */
static ssize_t source_read(struct capture *c, void *buf, size_t size)
{
    if (c->head_pos < c->head_len) {
        size_t n = c->head_len - c->head_pos < size ? c->head_len - c->head_pos : size;
        memcpy(buf, c->head + c->head_pos, n);
        c->head_pos += n;
        return (ssize_t)n;
    }
    return source_read_raw(c, buf, size);
}

/* libpcap reads the decompressed stream through stdio; counting what it took gives progress */
static ssize_t cookie_read(void *cookie, char *buf, size_t size)
{
    struct capture *c = cookie;
    ssize_t n = source_read(c, buf, size);
    if (n > 0)
        c->bytes_read += n;
    return n;
}

static int source_open(struct capture *c, const char *path, char *err, size_t errlen)
{
    uint8_t raw[6] = { 0 };
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    c->file_buf = malloc(256 * 1024);
    if (c->file_buf) /* before any read, or it does not apply */
        setvbuf(f, c->file_buf, _IOFBF, 256 * 1024);
    size_t got = fread(raw, 1, sizeof raw, f);
    rewind(f);
    if (got >= 4 && raw[0] == 0x28 && raw[1] == 0xb5 && raw[2] == 0x2f && raw[3] == 0xfd) {
        c->file = f;
        c->zstd = ZSTD_createDStream();
        c->zin_buf = malloc(ZSTD_DStreamInSize());
        if (!c->zstd || !c->zin_buf) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        ZSTD_initDStream(c->zstd);
        c->compressed = true;
    } else if (wandio_compressed(raw, got)) {
        fclose(f);
        /* libwandio's reader thread reads ahead into 50 one-megabyte buffers by default:
         * 50 MB of RSS. Four keep decompression running beside the replay at a few MB.
         * A user's own LIBTRACEIO setting wins. */
        setenv("LIBTRACEIO", "buffers=4", 0);
        c->io = wandio_create(path);
        if (!c->io) {
            snprintf(err, errlen, "%s: cannot open", path);
            return -1;
        }
        c->compressed = true;
    } else {
        /* not compressed: read directly, no reader thread, no copies */
        c->file = f;
    }
    /* read the head to sniff the format; source_read() serves it again */
    while (c->head_len < HEAD) {
        ssize_t n = source_read_raw(c, c->head + c->head_len, HEAD - c->head_len);
        if (n < 0) {
            snprintf(err, errlen, "%s: cannot decompress: %s", path, c->error[0] ? c->error : "read error");
            return -1;
        }
        if (n == 0)
            break;
        c->head_len += (size_t)n;
    }
    return 0;
}

/* ERF has no magic number: the records in the head must chain. Each header needs a
 * known type, a record length of at least the header, a wire length (but for meta and
 * pad records) and a time not an hour before the first record's. A whole file in the
 * head must end on a record boundary, or after at least two whole records (a truncated
 * capture, reported as such when read). Random bytes pass this once in hundreds. */
static bool looks_like_erf(const uint8_t *h, size_t n, bool whole_file)
{
    struct cursor c = cursor_make(h, n);
    unsigned whole = 0;
    uint32_t first_sec = 0;
    while (cursor_remaining(&c) >= 16) {
        size_t start = n - cursor_remaining(&c);
        cursor_skip(&c, 4); /* fraction of a second, little-endian */
        uint32_t sec = cursor_le32(&c);
        uint8_t type = cursor_u8(&c) & 0x7f;
        cursor_skip(&c, 1); /* flags */
        uint16_t rlen = cursor_be16(&c);
        cursor_skip(&c, 2); /* loss counter or colour */
        uint16_t wlen = cursor_be16(&c);
        bool meta = type == 27 || type == 48;
        if (!((type >= 1 && type <= 27) || type == 48) || rlen < 16 || (wlen == 0 && !meta))
            return false;
        if (whole == 0)
            first_sec = sec;
        else if ((int64_t)sec < (int64_t)first_sec - 3600)
            return false;
        if (start + rlen > n) /* ends beyond the head */
            return !whole_file || whole >= 2;
        whole++;
        cursor_skip(&c, rlen - 16u);
    }
    return whole > 0 && (cursor_remaining(&c) == 0 || !whole_file || whole >= 2);
}

static int open_pcap(struct capture *c, const char *path, char *err, size_t errlen)
{
    cookie_io_functions_t fns = { .read = cookie_read };
    c->stream = fopencookie(c, "r", fns);
    if (!c->stream) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    c->stream_buf = malloc(64 * 1024);
    if (c->stream_buf)
        setvbuf(c->stream, c->stream_buf, _IOFBF, 64 * 1024);
    char perr[PCAP_ERRBUF_SIZE] = "";
    c->pcap = pcap_fopen_offline_with_tstamp_precision(c->stream, PCAP_TSTAMP_PRECISION_NANO, perr);
    if (!c->pcap) {
        snprintf(err, errlen, "%s: not a readable capture: %s", path, perr);
        return -1;
    }
    c->stream = NULL; /* pcap_close() closes it */
    return 0;
}

static int open_erf(struct capture *c)
{
    c->erf = true;
    c->record = malloc(UINT16_MAX);
    return c->record ? 0 : -1;
}

struct capture *capture_open(const char *path, char *err, size_t errlen)
{
    struct capture *c = calloc(1, sizeof *c);
    if (!c) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "%s: %s", path, errno ? strerror(errno) : "not a regular file");
        free(c);
        return NULL;
    }
    c->file_size = st.st_size;
    int rc = source_open(c, path, err, errlen);
    const uint8_t *h = c->head;
    uint32_t magic = c->head_len >= 4 ? (uint32_t)h[0] << 24 | h[1] << 16 | h[2] << 8 | h[3] : 0;
    if (rc < 0) {
        /* said by source_open() */
    } else if (c->head_len == 0) {
        snprintf(err, errlen, "%s: empty file: not a capture", path);
        rc = -1;
    } else if (magic == 0xa1b2c3d4 || magic == 0xd4c3b2a1 || magic == 0xa1b23c4d || magic == 0x4d3cb2a1) {
        snprintf(c->format, sizeof c->format, "pcap");
        rc = open_pcap(c, path, err, errlen);
    } else if (magic == 0x0a0d0d0a) {
        snprintf(c->format, sizeof c->format, "pcapng");
        rc = open_pcap(c, path, err, errlen);
    } else if (looks_like_erf(c->head, c->head_len, c->head_len < HEAD)) {
        snprintf(c->format, sizeof c->format, "erf");
        rc = open_erf(c);
    } else {
        snprintf(err, errlen, "%s: not a capture: unknown format (expected pcap, pcapng or ERF, "
                 "optionally gzip/bzip2/xz/zstd-compressed)", path);
        rc = -1;
    }
    if (rc < 0) {
        capture_close(c);
        return NULL;
    }
    if (c->compressed)
        strncat(c->format, " (compressed)", sizeof c->format - strlen(c->format) - 1);
    return c;
}

static int next_pcap(struct capture *c, struct capture_packet *out)
{
    struct pcap_pkthdr *h;
    const u_char *data;
    int rc = pcap_next_ex(c->pcap, &h, &data);
    if (rc == PCAP_ERROR_BREAK)
        return 0;
    if (rc != 1) {
        snprintf(c->error, sizeof c->error, "%s", pcap_geterr(c->pcap));
        return -1;
    }
    out->hdr = *h;
    out->data = data;
    out->caplen = h->caplen;
    out->wirelen = h->len;
    out->dlt = pcap_datalink(c->pcap);
    /* opened with nanosecond precision: tv_usec holds nanoseconds */
    out->ts_ns = (int64_t)h->ts.tv_sec * 1000000000 + h->ts.tv_usec;
    return 1;
}

/* Reads exactly n bytes unless the stream ends; returns how many it got, or -1. */
static ssize_t read_full(struct capture *c, uint8_t *buf, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = source_read(c, buf + got, n - got);
        if (r < 0)
            return -1;
        if (r == 0)
            break;
        got += (size_t)r;
    }
    c->bytes_read += (off_t)got;
    return (ssize_t)got;
}

static int erf_error(struct capture *c, const char *what)
{
    char why[200]; /* what may be c->error itself (a decompression error) */
    snprintf(why, sizeof why, "%.199s", what);
    snprintf(c->error, sizeof c->error, "ERF record %llu: %s", (unsigned long long)c->records, why);
    return -1;
}

/* ERF record types (Endace ERF types reference) */
enum { ERF_ETH = 2, ERF_COLOR_ETH = 11, ERF_DSM_COLOR_ETH = 16, ERF_COLOR_HASH_ETH = 20,
       ERF_IPV4 = 22, ERF_IPV6 = 23, ERF_META = 27, ERF_PAD = 48 };

static int next_erf(struct capture *c, struct capture_packet *out)
{
    for (;;) {
        uint8_t h[16];
        ssize_t got = read_full(c, h, sizeof h);
        if (got == 0)
            return 0;
        c->records++;
        if (got < 0)
            return erf_error(c, c->error[0] ? c->error : "read error");
        if (got < (ssize_t)sizeof h)
            return erf_error(c, "truncated in its header");
        struct cursor hc = cursor_make(h, sizeof h);
        uint64_t frac = cursor_le32(&hc), sec = cursor_le32(&hc);
        uint8_t type = cursor_u8(&hc);
        cursor_skip(&hc, 1); /* flags */
        uint16_t rlen = cursor_be16(&hc);
        cursor_skip(&hc, 2); /* loss counter or colour */
        uint16_t wlen = cursor_be16(&hc);
        if (rlen < sizeof h)
            return erf_error(c, "record length shorter than the header");
        size_t body = rlen - sizeof h;
        got = read_full(c, c->record, body);
        if (got != (ssize_t)body)
            return erf_error(c, got < 0 ? "read error" : "truncated");
        struct cursor b = cursor_make(c->record, body);
        if (type & 0x80) { /* extension headers, 8 bytes each, the top bit says another follows */
            uint8_t more;
            do {
                more = cursor_u8(&b) & 0x80;
                cursor_skip(&b, 7);
            } while (more && cursor_ok(&b));
        }
        type &= 0x7f;
        if (type == ERF_META || type == ERF_PAD)
            continue;
        if (type == ERF_ETH || type == ERF_COLOR_ETH || type == ERF_DSM_COLOR_ETH || type == ERF_COLOR_HASH_ETH) {
            cursor_skip(&b, 2); /* offset and padding before the frame */
            out->dlt = DLT_EN10MB;
        } else {
            out->dlt = type == ERF_IPV4 || type == ERF_IPV6 ? DLT_RAW : -1;
        }
        if (!cursor_ok(&b))
            return erf_error(c, "shorter than its type's header");
        out->caplen = cursor_remaining(&b);
        if (out->caplen > wlen) /* records may be padded past the wire length */
            out->caplen = wlen;
        out->data = cursor_take(&b, 0);
        out->wirelen = wlen;
        out->ts_ns = (int64_t)sec * 1000000000 + (int64_t)((frac * 1000000000) >> 32);
        out->hdr.ts.tv_sec = (time_t)sec;
        out->hdr.ts.tv_usec = (suseconds_t)(out->ts_ns % 1000000000 / 1000);
        out->hdr.caplen = (bpf_u_int32)out->caplen;
        out->hdr.len = (bpf_u_int32)out->wirelen;
        return 1;
    }
}

int capture_next(struct capture *c, struct capture_packet *out)
{
    return c->erf ? next_erf(c, out) : next_pcap(c, out);
}

const char *capture_error(const struct capture *c) { return c->error; }
const char *capture_format(const struct capture *c) { return c->format; }

double capture_progress(const struct capture *c)
{
    if (c->compressed || c->file_size <= 0)
        return -1;
    double f = (double)c->bytes_read / (double)c->file_size;
    return f > 1 ? 1 : f;
}

void capture_close(struct capture *c)
{
    if (!c)
        return;
    if (c->pcap)
        pcap_close(c->pcap);
    if (c->stream)
        fclose(c->stream);
    if (c->io)
        wandio_destroy(c->io);
    if (c->file)
        fclose(c->file);
    ZSTD_freeDStream(c->zstd);
    free(c->zin_buf);
    free(c->file_buf);
    free(c->stream_buf);
    free(c->record);
    free(c);
}
