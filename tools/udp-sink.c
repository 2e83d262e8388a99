/* udp-sink — counts UDP datagrams with recvmmsg; for tests and benchmarks.
 * udp-sink ADDR PORT [--idle SECS] [--expect N] [--timeout SECS] [--ready FILE]
 * Exits after --expect datagrams, or after --idle SECS without any (default 2) once one
 * has arrived, or after --timeout SECS in all (default 600), or on SIGTERM/SIGINT; prints
 * {"datagrams":N,"bytes":B,"seconds":S,"per_source":{"ADDR":N},"per_port":{"ADDR:PORT":N}}. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <jansson.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH 64
#define SOURCES 256

static volatile int stop;
static void on_signal(int s) { (void)s; stop = 1; }

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: udp-sink ADDR PORT [--idle SECS] [--expect N] [--timeout SECS] [--ready FILE]\n");
        return 2;
    }
    double idle = 2, timeout = 600;
    unsigned long long expect = 0;
    const char *ready = NULL;
    for (int i = 3; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--idle")) idle = atof(argv[i + 1]);
        else if (!strcmp(argv[i], "--expect")) expect = strtoull(argv[i + 1], NULL, 10);
        else if (!strcmp(argv[i], "--ready")) ready = argv[i + 1];
        else if (!strcmp(argv[i], "--timeout")) timeout = atof(argv[i + 1]);
    }
    struct sockaddr_storage ss = { 0 };
    socklen_t len;
    int family = strchr(argv[1], ':') ? AF_INET6 : AF_INET;
    if (family == AF_INET) {
        struct sockaddr_in *in = (struct sockaddr_in *)&ss;
        in->sin_family = AF_INET;
        in->sin_port = htons((uint16_t)atoi(argv[2]));
        inet_pton(AF_INET, argv[1], &in->sin_addr);
        len = sizeof *in;
    } else {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((uint16_t)atoi(argv[2]));
        inet_pton(AF_INET6, argv[1], &in6->sin6_addr);
        len = sizeof *in6;
    }
    int fd = socket(family, SOCK_DGRAM, 0);
    int big = 64 << 20;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof big);
    if (bind(fd, (struct sockaddr *)&ss, len) < 0) {
        perror("udp-sink: bind");
        return 1;
    }
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    if (ready) {
        FILE *f = fopen(ready, "w");
        if (f)
            fclose(f);
    }
    static char bufs[BATCH][65536];
    struct iovec iov[BATCH];
    struct mmsghdr msgs[BATCH];
    struct sockaddr_storage from[BATCH];
    struct { struct sockaddr_storage a; unsigned long long n; } src[SOURCES];
    int nsrc = 0;
    unsigned long long n = 0, bytes = 0;
    double first = 0, last = 0, started = now();
    while (!stop && (!expect || n < expect) && now() - started < timeout) {
        struct pollfd p = { .fd = fd, .events = POLLIN };
        int r = poll(&p, 1, 100);
        if (r == 0 && n > 0 && now() - last > idle)
            break;
        if (r <= 0)
            continue;
        for (int i = 0; i < BATCH; i++) {
            iov[i] = (struct iovec){ bufs[i], sizeof bufs[i] };
            msgs[i] = (struct mmsghdr){ .msg_hdr = { .msg_name = &from[i], .msg_namelen = sizeof from[i],
                                                     .msg_iov = &iov[i], .msg_iovlen = 1 } };
        }
        int k = recvmmsg(fd, msgs, BATCH, MSG_DONTWAIT, NULL);
        if (k <= 0)
            continue;
        last = now();
        if (n == 0)
            first = last;
        for (int i = 0; i < k; i++) {
            n++;
            bytes += msgs[i].msg_len;
            int j;
            for (j = 0; j < nsrc; j++)
                if (!memcmp(&src[j].a, &from[i], msgs[i].msg_hdr.msg_namelen))
                    break;
            if (j == nsrc && nsrc < SOURCES) {
                memset(&src[nsrc].a, 0, sizeof src[nsrc].a);
                memcpy(&src[nsrc].a, &from[i], msgs[i].msg_hdr.msg_namelen);
                src[nsrc++].n = 0;
            }
            if (j < SOURCES)
                src[j].n++;
        }
    }
    json_t *per_source = json_object(), *per_port = json_object();
    for (int j = 0; j < nsrc; j++) {
        char a[INET6_ADDRSTRLEN], ap[INET6_ADDRSTRLEN + 16];
        unsigned port;
        if (src[j].a.ss_family == AF_INET) {
            inet_ntop(AF_INET, &((struct sockaddr_in *)&src[j].a)->sin_addr, a, sizeof a);
            port = ntohs(((struct sockaddr_in *)&src[j].a)->sin_port);
        } else {
            inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&src[j].a)->sin6_addr, a, sizeof a);
            port = ntohs(((struct sockaddr_in6 *)&src[j].a)->sin6_port);
        }
        json_t *had = json_object_get(per_source, a); /* one address, several ports: added up */
        json_object_set_new(per_source, a, json_integer((json_int_t)src[j].n + (had ? json_integer_value(had) : 0)));
        snprintf(ap, sizeof ap, "%s:%u", a, port);
        json_object_set_new(per_port, ap, json_integer((json_int_t)src[j].n));
    }
    json_t *out = json_pack("{s:I,s:I,s:f,s:o,s:o}", "datagrams", (json_int_t)n, "bytes", (json_int_t)bytes,
                            "seconds", last - first, "per_source", per_source, "per_port", per_port);
    char *text = json_dumps(out, JSON_PRESERVE_ORDER);
    puts(text ? text : "{}");
    free(text);
    json_decref(out);
    fflush(stdout); /* out before a sanitizer's exit could lose it */
    return 0;
}
