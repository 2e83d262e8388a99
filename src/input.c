/* input.c — see input.h. */
#define _GNU_SOURCE
#include "input.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <wandio.h>
#include <zlib.h>
#include <zstd.h>

struct input {
    char error[256];
    bool compressed;
    /* the decompressed byte source: the file itself, zstd over it, or wandio (bzip2, xz,
     * lzo, lz4); gzip through zlib over the file */
    io_t *io;
    FILE *file;
    char *file_buf; /* stdio buffer: glibc sizes its own by st_blksize (4 KB) */
    ZSTD_DStream *zstd;
    ZSTD_inBuffer zin;
    uint8_t *zin_buf;
    bool zstd_eof;
    z_stream *gz;
    uint8_t *gz_buf;
    bool gz_eof, gz_end; /* input ended; the last member ended cleanly */
    uint8_t head[INPUT_HEAD]; /* the first bytes, read to sniff the format, served again */
    size_t head_len, head_pos;
    bool head_error; /* the head ended in a read error: what it holds is served, then the error */
};

static ssize_t zstd_read(struct input *c, uint8_t *buf, size_t size)
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

#define GZ_IN (256u << 10)

/* gzip, member after member (concatenated .gz files are one stream); what was inflated
 * before a truncation or a corrupt byte is returned first, the error on the next call */
static ssize_t gz_read(struct input *c, uint8_t *buf, size_t size)
{
    z_stream *z = c->gz;
    z->next_out = buf;
    z->avail_out = (uInt)(size > (1u << 30) ? 1u << 30 : size);
    while (z->avail_out) {
        if (z->avail_in == 0 && !c->gz_eof) {
            size_t n = fread(c->gz_buf, 1, GZ_IN, c->file);
            if (n == 0)
                c->gz_eof = true;
            z->next_in = c->gz_buf;
            z->avail_in = (uInt)n;
        }
        if (z->avail_in == 0 && c->gz_eof) {
            if (!c->gz_end && !c->error[0])
                snprintf(c->error, sizeof c->error, "the compressed data ends early (a truncated file?)");
            break;
        }
        int rc = inflate(z, Z_NO_FLUSH);
        if (rc == Z_STREAM_END) {
            c->gz_end = true;
            if (z->avail_in || !c->gz_eof)
                inflateReset(z); /* another member may follow */
            continue;
        }
        if (rc == Z_OK || rc == Z_BUF_ERROR) {
            if (rc == Z_OK)
                c->gz_end = false; /* a member is under way */
            continue;
        }
        snprintf(c->error, sizeof c->error, "gzip: %s", z->msg ? z->msg : "corrupt data");
        break;
    }
    size_t got = size - z->avail_out;
    if (got)
        return (ssize_t)got;
    return c->error[0] ? -1 : 0;
}

static ssize_t input_read_raw(struct input *c, void *buf, size_t size)
{
    ssize_t n;
    if (c->zstd)
        n = zstd_read(c, buf, size);
    else if (c->gz)
        n = gz_read(c, buf, size);
    else if (c->io) {
        n = (ssize_t)wandio_read(c->io, buf, (off_t)size);
        if (n < 0 && !c->error[0])
            snprintf(c->error, sizeof c->error, "the compressed data ends early or is corrupt (a truncated file?)");
    }
    else /* a plain file: straight into the caller's buffer */
        while ((n = read(fileno(c->file), buf, size)) < 0 && errno == EINTR)
            ;
    return n < 0 ? -1 : n;
}

/* Compressed by something libwandio decompresses? (zstd is handled apart) */
static bool wandio_compressed(const uint8_t *m, size_t n)
{
    static const struct { uint8_t len, magic[6]; } known[] = {
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
ssize_t input_read(struct input *c, void *buf, size_t size)
{
    if (c->head_pos < c->head_len) {
        size_t n = c->head_len - c->head_pos < size ? c->head_len - c->head_pos : size;
        memcpy(buf, c->head + c->head_pos, n);
        c->head_pos += n;
        return (ssize_t)n;
    }
    if (c->head_error)
        return -1;
    return input_read_raw(c, buf, size);
}


static int input_start(struct input *c, const char *path, char *err, size_t errlen)
{
    uint8_t raw[6] = { 0 };
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    ssize_t peeked = pread(fileno(f), raw, sizeof raw, 0);
    size_t got = peeked > 0 ? (size_t)peeked : 0;
    if (got >= 4 && raw[0] == 0x28 && raw[1] == 0xb5 && raw[2] == 0x2f && raw[3] == 0xfd) {
        c->file = f;
        c->file_buf = malloc(256 * 1024);
        if (c->file_buf) /* glibc's own would be 4 KB */
            setvbuf(f, c->file_buf, _IOFBF, 256 * 1024);
        c->zstd = ZSTD_createDStream();
        c->zin_buf = malloc(ZSTD_DStreamInSize());
        if (!c->zstd || !c->zin_buf) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        ZSTD_initDStream(c->zstd);
        c->compressed = true;
    } else if (got >= 2 && raw[0] == 0x1f && raw[1] == 0x8b) {
        c->file = f;
        c->gz = calloc(1, sizeof *c->gz);
        c->gz_buf = malloc(GZ_IN);
        if (!c->gz || !c->gz_buf || inflateInit2(c->gz, 15 + 32) != Z_OK) { /* +32: gzip header */
            free(c->gz);
            c->gz = NULL;
            snprintf(err, errlen, "out of memory");
            return -1;
        }
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
        /* not compressed: read(), no reader thread, no stdio copy */
        c->file = f;
    }
    /* read the head to sniff the format; input_read() serves it again */
    while (c->head_len < INPUT_HEAD) {
        ssize_t n = input_read_raw(c, c->head + c->head_len, INPUT_HEAD - c->head_len);
        if (n < 0 && c->head_len > 0) {
            /* a small truncated file: its packets are replayed, then the error is said, as
             * for a large one */
            c->head_error = true;
            break;
        }
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


struct input *input_open(const char *path, char *err, size_t errlen)
{
    struct input *c = calloc(1, sizeof *c);
    if (!c) {
        snprintf(err, errlen, "%s: out of memory", path);
        return NULL;
    }
    if (input_start(c, path, err, errlen) < 0) {
        input_close(c);
        return NULL;
    }
    return c;
}

const uint8_t *input_head(const struct input *c, size_t *len)
{
    *len = c->head_len;
    return c->head;
}

bool input_compressed(const struct input *c) { return c->compressed; }
const char *input_error(const struct input *c) { return c->error[0] ? c->error : "read error"; }

void input_close(struct input *c)
{
    if (!c)
        return;
    if (c->io)
        wandio_destroy(c->io);
    if (c->file)
        fclose(c->file);
    ZSTD_freeDStream(c->zstd);
    free(c->zin_buf);
    if (c->gz)
        inflateEnd(c->gz);
    free(c->gz);
    free(c->gz_buf);
    free(c->file_buf);
    free(c);
}
