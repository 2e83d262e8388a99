/* capture.c — one way in for every capture format.
 *
 * The bytes come decompressed from input.c. Classic pcap and ERF are read here, record by
 * record with bounds-checked reads from a buffer that input_read() fills (1 MB: it stays in
 * the CPU's cache while the replay parses it; mapping the file instead costs as much in
 * page tables, and a file truncated while mapped kills the reader with SIGBUS). libpcap
 * parses pcapng, from the same stream (fopencookie). libtrace 3.0.22, used for ERF before,
 * aborted on a record shorter than its type's header (an assertion, found by fuzz_capture);
 * libpcap's classic pcap reader copied every packet twice through stdio. */
#define _GNU_SOURCE
#include "capture.h"
#include "source.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cursor.h"
#include "input.h"

/* sniffed bytes: enough to walk a few ERF records, which have no magic number */
#define HEAD INPUT_HEAD

struct capture {
    char format[32];
    char error[PCAP_ERRBUF_SIZE + 128];
    bool compressed;
    off_t bytes_read; /* of the file (size: st.st_size) */
    struct input *in; /* the decompressed bytes */
    char *stream_buf; /* stdio buffer of the pcapng stream */
    /* pcap / pcapng */
    FILE *stream;
    pcap_t *pcap;
    /* classic pcap and ERF are read here, record by record, from a buffer */
    enum { READ_LIBPCAP, READ_PCAP, READ_ERF } reader;
    uint8_t *buf;
    size_t buf_len, buf_pos, buf_cap;
    bool whole;               /* buf holds (or is being filled with) the whole file */
    bool borrowed;            /* buf is a kept capture's (see capture_keep) */
    char *path;
    struct stat st;
    bool swapped, nano;       /* classic pcap: byte order, nanosecond timestamps */
    int linktype;
    uint64_t records;
};

#define READ_BUFFER (1u << 20)

/* Captures played more than once are kept in memory after their first play (capture_keep):
 * the plays after it read no file, and parse what is already in memory. One capture is
 * open at a time while they are kept (the replay plays them one after another). */
#define KEPT_MAX 16
static struct kept_capture {
    char *path;
    struct stat st;
    uint8_t *data;
} kept[KEPT_MAX];
static size_t n_kept, kept_bytes, keep_limit;

void capture_keep(size_t limit)
{
    keep_limit = limit;
    if (limit)
        return;
    for (size_t i = 0; i < n_kept; i++) {
        free(kept[i].path);
        free(kept[i].data);
    }
    n_kept = kept_bytes = 0;
}

size_t capture_kept_bytes(void) { return kept_bytes; }

static bool same_file(const struct stat *a, const struct stat *b)
{
    return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
           a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

/* the kept copy of this file, unless it changed since (then it is dropped) */
static struct kept_capture *find_kept(const struct capture *c)
{
    if (!c->path)
        return NULL;
    for (size_t i = 0; i < n_kept; i++)
        if (!strcmp(kept[i].path, c->path)) {
            if (same_file(&kept[i].st, &c->st))
                return &kept[i];
            kept_bytes -= (size_t)kept[i].st.st_size;
            free(kept[i].path);
            free(kept[i].data);
            kept[i] = kept[--n_kept];
            return NULL;
        }
    return NULL;
}

/* The next n bytes of the (decompressed) capture: 1 and *p, 0 at the end, -1 when the
 * capture ends within them or cannot be read. *p is valid until the next call. */
static int take(struct capture *c, size_t n, const uint8_t **p)
{
    if (c->buf_len - c->buf_pos < n) {
        if (c->whole) { /* the buffer is the file: nothing moves */
            if (n > c->buf_cap - c->buf_pos)
                return c->buf_pos == c->buf_cap ? 0 : -1;
        } else {
            memmove(c->buf, c->buf + c->buf_pos, c->buf_len - c->buf_pos);
            c->buf_len -= c->buf_pos;
            c->buf_pos = 0;
            if (n > c->buf_cap) {
                uint8_t *b = realloc(c->buf, n);
                if (!b)
                    return -1;
                c->buf = b;
                c->buf_cap = n;
            }
        }
        while (c->buf_len - c->buf_pos < n) {
            ssize_t r = input_read(c->in, c->buf + c->buf_len, c->buf_cap - c->buf_len);
            if (r < 0) {
                if (!c->error[0])
                    snprintf(c->error, sizeof c->error, "%s", input_error(c->in));
                return -1;
            }
            if (r == 0)
                return c->buf_len == c->buf_pos ? 0 : -1;
            c->buf_len += (size_t)r;
            if (!c->compressed)
                c->bytes_read += r;
        }
    }
    *p = c->buf + c->buf_pos;
    c->buf_pos += n;
    return 1;
}

/* libpcap reads the decompressed stream through stdio; counting what it took gives progress */
static ssize_t cookie_read(void *cookie, char *buf, size_t size)
{
    struct capture *c = cookie;
    ssize_t n = input_read(c->in, buf, size);
    if (n < 0 && !c->error[0])
        snprintf(c->error, sizeof c->error, "%s", input_error(c->in));
    if (n > 0)
        c->bytes_read += n;
    return n;
}

/* ERF record types (Endace ERF types reference) */
enum { ERF_ETH = 2, ERF_COLOR_ETH = 11, ERF_DSM_COLOR_ETH = 16, ERF_COLOR_HASH_ETH = 20,
       ERF_IPV4 = 22, ERF_IPV6 = 23, ERF_META = 27, ERF_PAD = 48 };

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
        bool meta = type == ERF_META || type == ERF_PAD;
        if (!((type >= 1 && type <= ERF_META) || type == ERF_PAD) || rlen < 16 || (wlen == 0 && !meta))
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

/* classic pcap and ERF: read here */
static int open_records(struct capture *c, const char *path, int reader, char *err, size_t errlen)
{
    c->reader = reader;
    struct kept_capture *k = c->compressed ? NULL : find_kept(c);
    size_t size = (size_t)c->st.st_size;
    if (k) { /* played before: the whole file is in memory */
        c->buf = k->data;
        c->buf_len = c->buf_cap = size;
        c->whole = c->borrowed = true;
    } else {
        /* to be kept for the next play: read whole, once */
        c->whole = !c->compressed && c->path && keep_limit && n_kept < KEPT_MAX && size > 0 &&
                   kept_bytes + size <= keep_limit;
        c->buf_cap = c->whole ? size : READ_BUFFER;
        if (!(c->buf = malloc(c->buf_cap))) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
    }
    if (reader == READ_ERF)
        return 0;
    /* the classic pcap file header */
    const uint8_t *h;
    if (take(c, 24, &h) != 1) {
        snprintf(err, errlen, "%s: not a readable capture: truncated pcap file header", path);
        return -1;
    }
    uint32_t magic = (uint32_t)h[0] << 24 | h[1] << 16 | h[2] << 8 | h[3];
    c->swapped = magic == 0xd4c3b2a1 || magic == 0x4d3cb2a1;
    c->nano = magic == 0xa1b23c4d || magic == 0x4d3cb2a1;
    struct cursor hc = cursor_make(h + 20, 4);
    uint32_t link = c->swapped ? cursor_le32(&hc) : cursor_be32(&hc);
    link &= 0x03ffffff; /* the upper bits say whether frames carry an FCS */
    c->linktype = link == 101 ? DLT_RAW : (int)link; /* LINKTYPE_RAW; the others are their DLT */
    return 0;
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
    c->st = st;
    c->path = strdup(path);
    c->in = input_open(path, err, errlen);
    size_t head_len = 0;
    const uint8_t *h = c->in ? input_head(c->in, &head_len) : NULL;
    uint32_t magic = head_len >= 4 ? (uint32_t)h[0] << 24 | h[1] << 16 | h[2] << 8 | h[3] : 0;
    int rc = 0;
    if (!c->in) {
        rc = -1; /* said by input_open() */
    } else if ((c->compressed = input_compressed(c->in)), head_len == 0) {
        snprintf(err, errlen, "%s: empty file: not a capture", path);
        rc = -1;
    } else if (magic == 0xa1b2c3d4 || magic == 0xd4c3b2a1 || magic == 0xa1b23c4d || magic == 0x4d3cb2a1) {
        snprintf(c->format, sizeof c->format, "pcap");
        rc = open_records(c, path, READ_PCAP, err, errlen);
    } else if (magic == 0x0a0d0d0a) {
        snprintf(c->format, sizeof c->format, "pcapng");
        rc = open_pcap(c, path, err, errlen);
    } else if (looks_like_erf(h, head_len, head_len < HEAD)) {
        snprintf(c->format, sizeof c->format, "erf");
        rc = open_records(c, path, READ_ERF, err, errlen);
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

/* "ERF record N: what" / "packet N: what"; what may be c->error itself (a decompression error) */
static int record_error(struct capture *c, const char *what)
{
    char why[200];
    snprintf(why, sizeof why, "%.199s", what);
    snprintf(c->error, sizeof c->error, "%s %llu: %s", c->reader == READ_ERF ? "ERF record" : "packet",
             (unsigned long long)c->records, why);
    return -1;
}

#define TS_SEC_MAX (INT64_MAX / 1000000000 - 1) /* seconds whose nanoseconds an int64_t holds */

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
    c->records++;
    /* pcapng's 64-bit times reach past 2262, where int64 nanoseconds end */
    if (h->ts.tv_sec < 0 || h->ts.tv_sec >= TS_SEC_MAX)
        return record_error(c, "its time is before 1970 or after 2262 (a corrupt timestamp?)");
    out->hdr = *h;
    out->data = data;
    out->caplen = h->caplen;
    out->wirelen = h->len;
    out->dlt = pcap_datalink(c->pcap);
    /* opened with nanosecond precision: tv_usec holds nanoseconds */
    out->ts_ns = (int64_t)h->ts.tv_sec * 1000000000 + h->ts.tv_usec;
    return 1;
}

/* the next record's header and body, or 0 at the end */
static int next_record(struct capture *c, size_t hlen, const uint8_t **h)
{
    int rc = take(c, hlen, h);
    if (rc == 0)
        return 0;
    c->records++;
    if (rc < 0)
        return record_error(c, c->error[0] ? c->error : "truncated in its header");
    return 1;
}

static int next_classic(struct capture *c, struct capture_packet *out)
{
    const uint8_t *h, *body;
    int rc = next_record(c, 16, &h);
    if (rc <= 0)
        return rc;
    struct cursor hc = cursor_make(h, 16);
    uint32_t f[4];
    for (int i = 0; i < 4; i++)
        f[i] = c->swapped ? cursor_le32(&hc) : cursor_be32(&hc);
    if (f[2] > 262144) /* libpcap's bound for any link type */
        return record_error(c, "captured length over 256 KB: not a packet (a corrupt capture)");
    if (take(c, f[2], &body) != 1)
        return record_error(c, c->error[0] ? c->error : "truncated: the capture ends within this packet");
    out->data = body;
    out->caplen = f[2];
    out->wirelen = f[3];
    out->dlt = c->linktype;
    out->ts_ns = (int64_t)f[0] * 1000000000 + (c->nano ? f[1] : (int64_t)f[1] * 1000);
    out->hdr.ts.tv_sec = (time_t)f[0];
    out->hdr.ts.tv_usec = (suseconds_t)(c->nano ? f[1] / 1000 : f[1]);
    out->hdr.caplen = f[2];
    out->hdr.len = f[3];
    return 1;
}

static int next_erf(struct capture *c, struct capture_packet *out)
{
    for (;;) {
        const uint8_t *h, *rec;
        int rc = next_record(c, 16, &h);
        if (rc <= 0)
            return rc;
        struct cursor hc = cursor_make(h, 16);
        uint64_t frac = cursor_le32(&hc), sec = cursor_le32(&hc);
        uint8_t type = cursor_u8(&hc);
        cursor_skip(&hc, 1); /* flags */
        uint16_t rlen = cursor_be16(&hc);
        cursor_skip(&hc, 2); /* loss counter or colour */
        uint16_t wlen = cursor_be16(&hc);
        if (rlen < 16)
            return record_error(c, "record length shorter than the header");
        if (take(c, rlen - 16u, &rec) != 1)
            return record_error(c, c->error[0] ? c->error : "truncated");
        struct cursor b = cursor_make(rec, rlen - 16u);
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
            return record_error(c, "shorter than its type's header");
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
    return c->reader == READ_ERF ? next_erf(c, out) : c->reader == READ_PCAP ? next_classic(c, out) : next_pcap(c, out);
}

const char *capture_error(const struct capture *c) { return c->error; }
const char *capture_format(const struct capture *c) { return c->format; }

double capture_progress(const struct capture *c)
{
    if (c->compressed || c->st.st_size <= 0)
        return -1;
    /* how far the packets handed out reach, not how far the file was read ahead: a kept or
     * whole capture is parsed from memory; a streamed one has buf_len - buf_pos bytes read
     * but not yet handed out */
    off_t at = c->borrowed || c->whole ? (off_t)c->buf_pos : c->bytes_read - (off_t)(c->buf_len - c->buf_pos);
    double f = (double)at / (double)c->st.st_size;
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
    input_close(c->in);
    free(c->stream_buf);
    if (c->whole && !c->borrowed && c->buf_len == c->buf_cap && n_kept < KEPT_MAX && c->path) {
        /* read whole, to the end: kept for the next play */
        kept[n_kept++] = (struct kept_capture){ .path = c->path, .st = c->st, .data = c->buf };
        kept_bytes += c->buf_len;
        c->path = NULL;
    } else if (!c->borrowed)
        free(c->buf);
    free(c->path);
    free(c);
}

/* ---- the capture file as a source (source.h) ---- */

static void *source_capture_open(const char *spec, const struct source_options *o, char *err, size_t errlen)
{
    (void)o;
    return capture_open(spec, err, errlen);
}
static int source_capture_next(void *c, struct capture_packet *out) { return capture_next(c, out); }
static const char *source_capture_format(const void *c) { return capture_format(c); }
static const char *source_capture_error(const void *c) { return capture_error(c); }
static double source_capture_progress(const void *c) { return capture_progress(c); }
static void source_capture_close(void *c) { capture_close(c); }

const struct source_ops source_capture = {
    .name = "capture",
    .claims = NULL, /* a path: the fallback */
    .open = source_capture_open,
    .next = source_capture_next,
    .format = source_capture_format,
    .error = source_capture_error,
    .progress = source_capture_progress,
    .close = source_capture_close,
};
