/* sendmmsg-loop — the ceiling telrep is measured against: the UDP payloads of a capture,
 * loaded into memory first, sent from one connected socket with sendmmsg in batches of 64,
 * as fast as possible. Prints {"sent":N,"seconds":S,"pps":R}.
 * usage: sendmmsg-loop CAPTURE DST_IP PORT */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "capture.h"
#include "decode.h"

#define BATCH 64

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: sendmmsg-loop CAPTURE DST_IP PORT\n");
        return 2;
    }
    char err[256];
    struct capture *c = capture_open(argv[1], err, sizeof err);
    if (!c) {
        fprintf(stderr, "sendmmsg-loop: %s\n", err);
        return 1;
    }
    size_t n = 0, cap = 0, bytes = 0;
    struct iovec *iov = NULL;
    struct capture_packet p;
    while (capture_next(c, &p) == 1) {
        struct decoded d;
        if (decode_frame(p.dlt, p.data, p.caplen, &d) != DECODE_OK || d.ip_proto != 17)
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 1024;
            iov = realloc(iov, cap * sizeof *iov);
        }
        iov[n].iov_base = malloc(d.payload_len ? d.payload_len : 1);
        memcpy(iov[n].iov_base, d.payload, d.payload_len);
        iov[n].iov_len = d.payload_len;
        bytes += d.payload_len;
        n++;
    }
    capture_close(c);

    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[3])) };
    inet_pton(AF_INET, argv[2], &sa.sin_addr);
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        perror("sendmmsg-loop: socket");
        return 1;
    }
    struct mmsghdr m[BATCH];
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    size_t sent = 0;
    while (sent < n) {
        unsigned k = n - sent < BATCH ? (unsigned)(n - sent) : BATCH;
        memset(m, 0, sizeof m);
        for (unsigned i = 0; i < k; i++) {
            m[i].msg_hdr.msg_iov = &iov[sent + i];
            m[i].msg_hdr.msg_iovlen = 1;
        }
        int r = sendmmsg(fd, m, k, 0);
        if (r <= 0) {
            sent++; /* ECONNREFUSED from an earlier datagram: skip, as telrep counts it */
            continue;
        }
        sent += (size_t)r;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf("{\"sent\": %zu, \"bytes\": %zu, \"seconds\": %.6f, \"pps\": %.0f}\n", n, bytes, s, (double)n / s);
    for (size_t i = 0; i < n; i++)
        free(iov[i].iov_base);
    free(iov);
    return 0;
}
