/* dgrams.h — the UDP datagrams (or TCP segment payloads) of a capture, in memory, for the
 * bench tools. */
#ifndef TELREP_BENCH_DGRAMS_H
#define TELREP_BENCH_DGRAMS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture.h"
#include "decode.h"

struct dgram {
    uint8_t *data;
    size_t len;
    int64_t ts;
};

/* Every payload of the capture's IP protocol ip_proto (17 UDP, 6 TCP: non-empty segments, in
 * capture order); exits on an unreadable capture. */
static inline size_t payloads_load(const char *path, int ip_proto, struct dgram **out)
{
    char err[256];
    struct capture *c = capture_open(path, err, sizeof err);
    if (!c) {
        fprintf(stderr, "%s\n", err);
        exit(1);
    }
    size_t n = 0, cap = 0;
    struct dgram *v = NULL;
    struct capture_packet p;
    while (capture_next(c, &p) == 1) {
        struct decoded d;
        if (decode_frame(p.dlt, p.data, p.caplen, &d) != DECODE_OK || d.ip_proto != ip_proto || (ip_proto == 6 && !d.payload_len))
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 4096;
            v = realloc(v, cap * sizeof *v);
        }
        v[n].data = malloc(d.payload_len ? d.payload_len : 1);
        memcpy(v[n].data, d.payload, d.payload_len);
        v[n].len = d.payload_len;
        v[n].ts = p.ts_ns;
        n++;
    }
    capture_close(c);
    *out = v;
    return n;
}

static inline size_t dgrams_load(const char *path, struct dgram **out) { return payloads_load(path, 17, out); }

static inline void dgrams_free(struct dgram *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i].data);
    free(v);
}

#endif
