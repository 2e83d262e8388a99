/* write-loop — the ceiling telrep's TCP replay is measured against: the TCP payloads of a
 * capture (one clean, in-order conversation, as gen-pcap writes it), joined in memory first,
 * written to one connection with plain blocking write()s of up to 64 KiB, as fast as the
 * receiver reads; REPEAT times over (as telrep's repeat). Prints {"bytes":N,"seconds":S,"mb_per_s":R}.
 * usage: write-loop CAPTURE DST_IP PORT [REPEAT] */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "dgrams.h"

int main(int argc, char **argv)
{
    if (argc != 4 && argc != 5) {
        fprintf(stderr, "usage: write-loop CAPTURE DST_IP PORT [REPEAT]\n");
        return 2;
    }
    struct dgram *seg;
    size_t n = payloads_load(argv[1], 6, &seg), total = 0;
    for (size_t i = 0; i < n; i++)
        total += seg[i].len;
    uint8_t *buf = malloc(total ? total : 1);
    for (size_t i = 0, at = 0; i < n; i++) {
        memcpy(buf + at, seg[i].data, seg[i].len);
        at += seg[i].len;
    }
    dgrams_free(seg, n);

    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[3])) };
    inet_pton(AF_INET, argv[2], &sa.sin_addr);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        perror("write-loop: connect");
        return 1;
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int repeat = argc == 5 ? atoi(argv[4]) : 1;
    for (int r = 0; r < repeat; r++)
        for (size_t at = 0; at < total;) {
            size_t chunk = total - at < 65536 ? total - at : 65536;
            ssize_t w = write(fd, buf + at, chunk);
            if (w <= 0) {
                perror("write-loop: write");
                return 1;
            }
            at += (size_t)w;
        }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    close(fd);
    double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    total *= (size_t)(repeat > 0 ? repeat : 0);
    printf("{\"bytes\":%zu,\"seconds\":%.6f,\"mb_per_s\":%.1f}\n", total, s, (double)total / s / 1e6);
    free(buf);
    return 0;
}
