/* capture.h — read any capture: classic pcap and pcapng (through libpcap) and ERF (read
 * by capture.c), each plain or compressed (.gz/.bz2/.xz through libwandio, .zst through
 * libzstd).
 * The format is sniffed from the (decompressed) magic number, never from the name. */
#ifndef TELREP_CAPTURE_H
#define TELREP_CAPTURE_H

#include <pcap/pcap.h>
#include <stddef.h>
#include <stdint.h>

struct capture;

struct capture_packet {
    int64_t ts_ns;          /* capture time, ns since the epoch */
    const uint8_t *data;    /* valid until the next capture_next() */
    size_t caplen, wirelen;
    int dlt;                /* libpcap DLT_* link type, -1 if unknown */
    struct pcap_pkthdr hdr; /* the same as a libpcap header, for BPF */
};

struct capture *capture_open(const char *path, char *err, size_t errlen);
/* 1 = a packet, 0 = end of capture, -1 = read error (capture_error() says what; the
 * packets before it were good). */
int capture_next(struct capture *c, struct capture_packet *out);
const char *capture_error(const struct capture *c);
/* "pcap", "pcapng", "erf", with " (compressed)" when it was */
const char *capture_format(const struct capture *c);
/* Fraction of the file read so far, or -1 when it cannot be known (compressed input). */
double capture_progress(const struct capture *c);
void capture_close(struct capture *c);
/* Captures (uncompressed classic pcap or ERF) opened from now on are kept in memory once
 * read to their end, up to `limit` bytes in all, and later opens of the same unchanged file
 * read them from there. 0: keep none from now on, and free those kept. */
void capture_keep(size_t limit);
/* bytes of captures kept in memory now */
size_t capture_kept_bytes(void);

#endif
