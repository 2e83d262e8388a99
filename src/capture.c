/* capture.c — one way in for every capture format.
 *
 * libtrace 3.0.22 on Debian 12 reads classic pcap (plain and compressed) through
 * `pcapfile:` but not pcapng, while `pcap:` reads pcapng but not compressed files, and
 * neither knows Linux SLL2; its libwandio has no zstd. So: a source layer decompresses
 * (libwandio for gzip/bzip2/xz, libzstd for zstd), libpcap parses pcap and pcapng from
 * that stream (fopencookie), libtrace reads ERF (zstd-compressed ERF is first
 * decompressed into an unlinked temporary file, as libtrace only opens paths). */
#define _GNU_SOURCE
#include "capture.h"

#include <errno.h>
#include <fcntl.h>
#include <libtrace.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <wandio.h>
#include <zstd.h>

#include "cursor.h"

#define HEAD 16

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
    /* ERF */
    libtrace_t *trace;
    libtrace_packet_t *packet;
    int spool_fd;
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

/* ERF has no magic number: accept a first record header that is plausible. */
static bool looks_like_erf(const uint8_t *h, size_t n)
{
    struct cursor c = cursor_make(h, n);
    cursor_skip(&c, 8); /* timestamp */
    uint8_t type = cursor_u8(&c) & 0x7f;
    cursor_skip(&c, 1);
    uint16_t rlen = cursor_be16(&c);
    cursor_skip(&c, 2);
    uint16_t wlen = cursor_be16(&c);
    return cursor_ok(&c) && type >= 1 && type <= 27 && rlen >= 16 && wlen > 0;
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

/* libtrace opens ERF by path; a zstd-compressed one is spooled to an unlinked file first */
static int open_erf(struct capture *c, const char *path, char *err, size_t errlen)
{
    char uri[4096];
    snprintf(uri, sizeof uri, "erf:%s", path);
    if (c->zstd) {
        const char *dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
        c->spool_fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
        if (c->spool_fd < 0) {
            snprintf(err, errlen, "%s: cannot make a temporary file in %s: %s", path, dir, strerror(errno));
            return -1;
        }
        static uint8_t buf[1 << 16];
        ssize_t n;
        while ((n = source_read(c, buf, sizeof buf)) > 0)
            if (write(c->spool_fd, buf, (size_t)n) != n) {
                snprintf(err, errlen, "%s: cannot write a temporary file: %s", path, strerror(errno));
                return -1;
            }
        snprintf(uri, sizeof uri, "erf:/proc/self/fd/%d", c->spool_fd);
    }
    c->trace = trace_create(uri);
    if (trace_is_err(c->trace) || trace_start(c->trace) < 0) {
        libtrace_err_t e = trace_get_err(c->trace);
        snprintf(err, errlen, "%s: not a readable ERF capture: %s", path, e.problem);
        return -1;
    }
    c->packet = trace_create_packet();
    return c->packet ? 0 : -1;
}

struct capture *capture_open(const char *path, char *err, size_t errlen)
{
    struct capture *c = calloc(1, sizeof *c);
    if (!c) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    c->spool_fd = -1;
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
    } else if (looks_like_erf(c->head, c->head_len)) {
        snprintf(c->format, sizeof c->format, "erf");
        rc = open_erf(c, path, err, errlen);
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

static int next_erf(struct capture *c, struct capture_packet *out)
{
    for (;;) {
        int rc = trace_read_packet(c->trace, c->packet);
        if (rc == 0)
            return 0;
        if (rc < 0) {
            libtrace_err_t e = trace_get_err(c->trace);
            snprintf(c->error, sizeof c->error, "%s", e.problem);
            return -1;
        }
        libtrace_linktype_t link;
        uint32_t remaining = 0;
        void *l2 = trace_get_layer2(c->packet, &link, &remaining);
        if (!l2)
            continue; /* a non-data record */
        uint64_t erf_ts = trace_get_erf_timestamp(c->packet);
        out->ts_ns = (int64_t)(erf_ts >> 32) * 1000000000 + (int64_t)(((erf_ts & 0xffffffffu) * 1000000000) >> 32);
        out->data = l2;
        out->caplen = remaining;
        out->wirelen = trace_get_wire_length(c->packet);
        out->dlt = link == TRACE_TYPE_ETH ? DLT_EN10MB : link == TRACE_TYPE_NONE ? DLT_RAW
                 : link == TRACE_TYPE_LINUX_SLL ? DLT_LINUX_SLL : -1;
        out->hdr.ts.tv_sec = (time_t)(out->ts_ns / 1000000000);
        out->hdr.ts.tv_usec = (suseconds_t)(out->ts_ns % 1000000000 / 1000);
        out->hdr.caplen = (bpf_u_int32)out->caplen;
        out->hdr.len = (bpf_u_int32)out->wirelen;
        return 1;
    }
}

int capture_next(struct capture *c, struct capture_packet *out)
{
    return c->pcap ? next_pcap(c, out) : next_erf(c, out);
}

const char *capture_error(const struct capture *c) { return c->error; }
const char *capture_format(const struct capture *c) { return c->format; }

double capture_progress(const struct capture *c)
{
    if (c->compressed || !c->pcap || c->file_size <= 0)
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
    if (c->packet)
        trace_destroy_packet(c->packet);
    if (c->trace)
        trace_destroy(c->trace);
    if (c->io)
        wandio_destroy(c->io);
    if (c->file)
        fclose(c->file);
    ZSTD_freeDStream(c->zstd);
    free(c->zin_buf);
    free(c->file_buf);
    free(c->stream_buf);
    if (c->spool_fd >= 0)
        close(c->spool_fd);
    free(c);
}
