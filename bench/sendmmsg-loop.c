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

#include "dgrams.h"

#define BATCH 64

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: sendmmsg-loop CAPTURE DST_IP PORT\n");
        return 2;
    }
    struct dgram *dg;
    size_t n = dgrams_load(argv[1], &dg), bytes = 0;
    struct iovec *iov = calloc(n ? n : 1, sizeof *iov);
    for (size_t i = 0; i < n; i++) {
        iov[i] = (struct iovec){ .iov_base = dg[i].data, .iov_len = dg[i].len };
        bytes += dg[i].len;
    }

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
    dgrams_free(dg, n);
    free(iov);
    return 0;
}
