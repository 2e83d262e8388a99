/* tcp-sink — accepts TCP connections and counts what arrives; for tests and benchmarks.
 * tcp-sink ADDR PORT [--idle SECS] [--timeout SECS] [--ready FILE] [--stall-from IP]
 *          [--bmp] [--max-conn N]
 * Exits after --idle SECS without data once something arrived (default 2), after --timeout
 * SECS in all (default 600), or on SIGTERM/SIGINT. --stall-from IP never reads from that
 * source (a collector that stops reading); --pause SECS reads nothing for the first SECS
 * (a collector that is slow to start); --read-delay SECS sleeps after every read (a slow
 * collector that keeps reading); --rcvbuf BYTES sets a small receive buffer;
 * --bmp also counts whole BMP messages; --close closes every connection as soon as it is
 * accepted (a collector that accepts and closes at once); --no-accept listens with a
 * backlog of 0 and never accepts (once one connection waits in the queue, the SYNs of the
 * next are dropped: a collector that never answers).
 * Prints {"connections":N,"max_open":N (at once),"accept_seconds":S (first to last accept),
 * "bytes":B,"messages":M,"seconds":S (first to last byte),"per_source":{ip:bytes}}; with
 * --bmp also "terms" (TERM messages) and "cut_connections" (connections that ended inside a
 * message). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <jansson.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "loop.h"

#define MAX_SOURCES 4096

struct conn {
    struct conn *prev, *next; /* every open connection, to free them all at the end */
    int fd;
    struct loop_io io;        /* on the sink's event loop (src/loop.h, telrep's own) */
    int source;
    uint8_t head[6];   /* --bmp: the header of the message being read */
    size_t head_len;
    uint64_t left;     /* bytes of the current message still to come */
};

static struct conn *conns_head;

static struct conn *conn_new(int fd)
{
    struct conn *c = calloc(1, sizeof *c);
    if (!c) {
        close(fd);
        return NULL;
    }
    c->fd = fd;
    c->io.fd = -1;
    c->next = conns_head;
    if (conns_head)
        conns_head->prev = c;
    conns_head = c;
    return c;
}

static struct loop *sink_loop;

static void conn_free(struct conn *c)
{
    if (c->io.fd >= 0 && sink_loop)
        loop_unwatch(sink_loop, &c->io);
    if (c->prev)
        c->prev->next = c->next;
    else
        conns_head = c->next;
    if (c->next)
        c->next->prev = c->prev;
    close(c->fd);
    free(c);
}

static uint64_t terms; /* --bmp: TERM messages seen */
static volatile sig_atomic_t stop;
static void on_signal(int s) { (void)s; stop = 1; }

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char src_name[MAX_SOURCES][INET6_ADDRSTRLEN];
static uint64_t src_bytes[MAX_SOURCES];
static int n_src;

static int source_of(const struct sockaddr_storage *ss)
{
    char a[INET6_ADDRSTRLEN];
    if (ss->ss_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)ss)->sin_addr, a, sizeof a);
    else
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)ss)->sin6_addr, a, sizeof a);
    for (int i = 0; i < n_src; i++)
        if (!strcmp(src_name[i], a))
            return i;
    if (n_src == MAX_SOURCES)
        return MAX_SOURCES - 1;
    snprintf(src_name[n_src], sizeof src_name[n_src], "%s", a);
    return n_src++;
}

/* --bmp: count whole messages in what arrived */
static uint64_t count_bmp(struct conn *c, const uint8_t *p, size_t n)
{
    uint64_t messages = 0;
    while (n > 0) {
        if (c->left) {
            size_t take = n < c->left ? n : (size_t)c->left;
            c->left -= take;
            p += take;
            n -= take;
            if (!c->left)
                messages++;
            continue;
        }
        c->head[c->head_len++] = *p++;
        n--;
        if (c->head_len == 6) {
            uint32_t len = (uint32_t)c->head[1] << 24 | (uint32_t)c->head[2] << 16 | (uint32_t)c->head[3] << 8 | c->head[4];
            c->head_len = 0;
            terms += c->head[5] == 5;
            if (len <= 6)
                messages++;
            else
                c->left = len - 6;
        }
    }
    return messages;
}

/* what the sink saw, and its options the handlers need */
static struct {
    struct loop *l;
    int lfd;
    bool close_at_once, bmp;
    const char *stall;
    double read_delay;
    uint64_t bytes, messages, conns, open_now, open_max, cut;
    double first, last, first_accept, last_accept;
} S;

static void on_read(void *obj, uint32_t events)
{
    static uint8_t buf[1 << 16];
    struct conn *c = obj;
    ssize_t r;
    while ((r = read(c->fd, buf, sizeof buf)) > 0) {
        double t = now();
        if (!S.first)
            S.first = t;
        S.last = t;
        S.bytes += (uint64_t)r;
        src_bytes[c->source] += (uint64_t)r;
        if (S.bmp)
            S.messages += count_bmp(c, buf, (size_t)r);
        if (S.read_delay > 0) {
            usleep((useconds_t)(S.read_delay * 1e6));
            S.last = now();
        }
    }
    if (r == 0 || (r < 0 && errno != EAGAIN)) {
        S.cut += S.bmp && (c->left || c->head_len); /* the stream ended inside a message */
        S.open_now--;
        conn_free(c);
    }
}

static void on_accept(void *obj, uint32_t events)
{
    for (;;) {
        struct sockaddr_storage peer;
        socklen_t pl = sizeof peer;
        int fd = accept4(S.lfd, (struct sockaddr *)&peer, &pl, SOCK_NONBLOCK);
        if (fd < 0)
            break;
        S.conns++;
        S.last_accept = now();
        if (!S.first_accept)
            S.first_accept = S.last_accept;
        if (S.close_at_once) {
            close(fd);
            continue;
        }
        if (++S.open_now > S.open_max)
            S.open_max = S.open_now;
        struct conn *c = conn_new(fd);
        if (!c)
            continue;
        c->source = source_of(&peer);
        if (S.stall && !strcmp(src_name[c->source], S.stall))
            continue; /* never read: the sender's window fills */
        c->io = (struct loop_io){ .fd = fd, .fn = on_read, .obj = c };
        loop_watch(S.l, &c->io, EPOLLIN);
    }
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: tcp-sink ADDR PORT [--idle SECS] [--timeout SECS] [--ready FILE] [--stall-from IP] [--pause SECS] [--read-delay SECS] [--rcvbuf BYTES] [--bmp] [--close] [--no-accept]\n");
        return 2;
    }
    double idle = 2, timeout = 600, pause_for = 0, read_delay = 0;
    int rcvbuf = 0;
    const char *ready = NULL, *stall = NULL;
    bool bmp = false, close_at_once = false, no_accept = false;
    for (int i = 3; i < argc; i++) {
        if (!strcmp(argv[i], "--bmp")) { bmp = true; continue; }
        if (!strcmp(argv[i], "--close")) { close_at_once = true; continue; }
        if (!strcmp(argv[i], "--no-accept")) { no_accept = true; continue; }
        if (i + 1 >= argc) { fprintf(stderr, "tcp-sink: %s needs a value\n", argv[i]); return 2; }
        if (!strcmp(argv[i], "--idle")) idle = atof(argv[++i]);
        else if (!strcmp(argv[i], "--timeout")) timeout = atof(argv[++i]);
        else if (!strcmp(argv[i], "--ready")) ready = argv[++i];
        else if (!strcmp(argv[i], "--stall-from")) stall = argv[++i];
        else if (!strcmp(argv[i], "--pause")) pause_for = atof(argv[++i]);
        else if (!strcmp(argv[i], "--read-delay")) read_delay = atof(argv[++i]);
        else if (!strcmp(argv[i], "--rcvbuf")) rcvbuf = atoi(argv[++i]);
        else { fprintf(stderr, "tcp-sink: unknown option %s\n", argv[i]); return 2; }
    }
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) { rl.rlim_cur = rl.rlim_max; setrlimit(RLIMIT_NOFILE, &rl); }
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    struct sockaddr_storage ss = { 0 };
    socklen_t sl;
    if (strchr(argv[1], ':')) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
        a->sin6_family = AF_INET6;
        a->sin6_port = htons((uint16_t)atoi(argv[2]));
        inet_pton(AF_INET6, argv[1], &a->sin6_addr);
        sl = sizeof *a;
    } else {
        struct sockaddr_in *a = (struct sockaddr_in *)&ss;
        a->sin_family = AF_INET;
        a->sin_port = htons((uint16_t)atoi(argv[2]));
        inet_pton(AF_INET, argv[1], &a->sin_addr);
        sl = sizeof *a;
    }
    int lfd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK, 0), one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (rcvbuf) /* accepted connections inherit it: a small window, a sender that must queue */
        setsockopt(lfd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    if (lfd < 0 || bind(lfd, (struct sockaddr *)&ss, sl) < 0 || listen(lfd, no_accept ? 0 : 4096) < 0) {
        perror("tcp-sink");
        return 1;
    }
    struct loop *l = loop_new();
    if (!l) {
        perror("tcp-sink");
        return 1;
    }
    S.l = sink_loop = l;
    S.lfd = lfd;
    S.close_at_once = close_at_once;
    S.stall = stall;
    S.bmp = bmp;
    S.read_delay = read_delay;
    struct loop_io listener = { .fd = lfd, .fn = on_accept, .obj = NULL };
    if (!no_accept)
        loop_watch(l, &listener, EPOLLIN);
    if (ready) {
        FILE *f = fopen(ready, "w");
        if (f)
            fclose(f);
    }
    double started = now();
    while (!stop && now() - started < timeout && !(S.last > 0 && now() - S.last > idle)) {
        if (now() - started < pause_for) {
            usleep(10000);
            continue;
        }
        loop_run(l, loop_now() + 100 * 1000000LL);
    }
    for (struct conn *c = conns_head; c; c = c->next) /* still open: inside a message? */
        S.cut += bmp && (c->left || c->head_len);
    json_t *per_source = json_object();
    for (int i = 0; i < n_src; i++)
        json_object_set_new(per_source, src_name[i], json_integer((json_int_t)src_bytes[i]));
    json_t *out = json_pack("{s:I,s:I,s:f,s:I,s:I,s:f,s:o}", "connections", (json_int_t)S.conns, "max_open",
                            (json_int_t)S.open_max, "accept_seconds", S.last_accept - S.first_accept, "bytes",
                            (json_int_t)S.bytes, "messages", (json_int_t)S.messages, "seconds", S.last - S.first,
                            "per_source", per_source);
    if (bmp) {
        json_object_set_new(out, "terms", json_integer((json_int_t)terms));
        json_object_set_new(out, "cut_connections", json_integer((json_int_t)S.cut));
    }
    char *text = json_dumps(out, JSON_PRESERVE_ORDER);
    puts(text ? text : "{}");
    free(text);
    json_decref(out);
    /* the report is out before anything else can end the process (a sanitizer's exit at a
     * leak would lose it), and nothing is left to report as a leak */
    fflush(stdout);
    while (conns_head)
        conn_free(conns_head);
    loop_free(l);
    close(lfd);
    return 0;
}
