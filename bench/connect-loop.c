/* connect-loop — the peer flow-replay's flow rate is measured against: N sequential TCP flows
 * on loopback in one process, each connect, accept, a 100-byte request, a 100-byte response,
 * close (the client first, as flow-replay's flows do); TCP_NODELAY, no bind before connect (the
 * kernel's fastest way to a source port); prints {"flows", "seconds", "flows_per_second"}.
 * usage: connect-loop SERVER_IP PORT N */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int exchange(int from, int to, char *buf)
{
    if (write(from, buf, 100) != 100)
        return -1;
    for (int got = 0; got < 100;) {
        ssize_t r = read(to, buf, 100 - (size_t)got);
        if (r <= 0)
            return -1;
        got += (int)r;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: connect-loop SERVER_IP PORT N\n");
        return 2;
    }
    struct sockaddr_in srv = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[2])) };
    inet_pton(AF_INET, argv[1], &srv.sin_addr);
    long n = atol(argv[3]);
    int one = 1, l = socket(AF_INET, SOCK_STREAM, 0);
    setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(l, (struct sockaddr *)&srv, sizeof srv) < 0 || listen(l, 4096) < 0) {
        perror("listen");
        return 1;
    }
    char buf[100] = { 0 };
    double t0 = now();
    for (long i = 0; i < n; i++) {
        int c = socket(AF_INET, SOCK_STREAM, 0);
        setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if (connect(c, (struct sockaddr *)&srv, sizeof srv) < 0) {
            perror("connect");
            return 1;
        }
        int s = accept(l, NULL, NULL);
        if (s >= 0)
            setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if (s < 0 || exchange(c, s, buf) < 0 || exchange(s, c, buf) < 0) {
            perror("exchange");
            return 1;
        }
        close(c);
        close(s);
    }
    double secs = now() - t0;
    printf("{\"flows\": %ld, \"seconds\": %.6f, \"flows_per_second\": %.1f}\n", n, secs, (double)n / secs);
    close(l);
    return 0;
}
