/* capture.c — one way in for every capture format.
 *
 * libtrace 3.0.22 on Debian 12 reads classic pcap (plain and compressed) through
 * `pcapfile:` but not pcapng, while `pcap:` reads pcapng but not compressed files, and
 * neither knows Linux SLL2. So: libwandio decompresses, libpcap parses pcap and pcapng
 * from that stream (fopencookie), libtrace reads ERF. */
#define _GNU_SOURCE
#include "capture.h"

#include <errno.h>
#include <libtrace.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <wandio.h>

#include "cursor.h"

struct capture {
    char format[32];
    char error[PCAP_ERRBUF_SIZE + 128];
    bool compressed;
    off_t file_size, bytes_read;
    /* pcap / pcapng */
    io_t *io;
    FILE *stream;
    pcap_t *pcap;
    /* ERF */
    libtrace_t *trace;
    libtrace_packet_t *packet;
};

/* libpcap reads the decompressed stream through stdio; counting what it took gives progress */
static ssize_t wandio_cookie_read(void *cookie, char *buf, size_t size)
{
    struct capture *c = cookie;
    off_t n = wandio_read(c->io, buf, (off_t)size);
    if (n > 0)
        c->bytes_read += n;
    return n < 0 ? -1 : (ssize_t)n;
}

static int wandio_cookie_close(void *cookie)
{
    struct capture *c = cookie;
    wandio_destroy(c->io);
    c->io = NULL;
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
    cookie_io_functions_t fns = { .read = wandio_cookie_read, .close = wandio_cookie_close };
    c->stream = fopencookie(c, "r", fns);
    if (!c->stream) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    char perr[PCAP_ERRBUF_SIZE] = "";
    c->pcap = pcap_fopen_offline_with_tstamp_precision(c->stream, PCAP_TSTAMP_PRECISION_NANO, perr);
    if (!c->pcap) {
        snprintf(err, errlen, "%s: not a readable capture: %s", path, perr);
        return -1;
    }
    c->stream = NULL; /* pcap_close() closes it */
    return 0;
}

static int open_erf(struct capture *c, const char *path, char *err, size_t errlen)
{
    char uri[4096];
    snprintf(uri, sizeof uri, "erf:%s", path);
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
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "%s: %s", path, errno ? strerror(errno) : "not a regular file");
        free(c);
        return NULL;
    }
    c->file_size = st.st_size;
    c->io = wandio_create(path);
    if (!c->io) {
        snprintf(err, errlen, "%s: cannot open", path);
        free(c);
        return NULL;
    }
    /* wandio decompresses transparently: compare what it yields with the raw file */
    uint8_t head[16], raw[4] = { 0 };
    off_t n = wandio_peek(c->io, head, sizeof head);
    FILE *plain = fopen(path, "rb");
    if (plain) {
        c->compressed = fread(raw, 1, 4, plain) == 4 && n >= 4 && memcmp(raw, head, 4) != 0;
        fclose(plain);
    }
    int rc;
    uint32_t magic = n >= 4 ? (uint32_t)head[0] << 24 | head[1] << 16 | head[2] << 8 | head[3] : 0;
    if (n <= 0) {
        snprintf(err, errlen, "%s: empty file: not a capture", path);
        rc = -1;
    } else if (magic == 0xa1b2c3d4 || magic == 0xd4c3b2a1 || magic == 0xa1b23c4d || magic == 0x4d3cb2a1) {
        snprintf(c->format, sizeof c->format, "pcap");
        rc = open_pcap(c, path, err, errlen);
    } else if (magic == 0x0a0d0d0a) {
        snprintf(c->format, sizeof c->format, "pcapng");
        rc = open_pcap(c, path, err, errlen);
    } else if (looks_like_erf(head, (size_t)n)) {
        snprintf(c->format, sizeof c->format, "erf");
        wandio_destroy(c->io); /* libtrace opens the file itself */
        c->io = NULL;
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
    if (c->io)
        wandio_destroy(c->io);
    if (c->packet)
        trace_destroy_packet(c->packet);
    if (c->trace)
        trace_destroy(c->trace);
    free(c);
}
