/* udp_send.c — the replay's datagrams on their way out: each router's sockets (bound to its
 * repro_ip, one per captured source port with source_port: keep), sendmmsg batches at
 * time_factor 0, single sends at their deadline, and what a collector's refusal (ICMP port
 * unreachable, seen on a later send) moves from sent to refused. engine.h declares them.
 *
 * A protocol with several collectors (fan-out) sends each datagram to every one of them in
 * the same sendmmsg call, in collector order, from one unconnected socket; a refusal then
 * names its collector (sock_udp_refusals), so that only that collector's share counts it. */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "engine.h"
#include "events.h"
#include "log.h"
#include "sock.h"
#include "udp_rewrite.h"

/* ---- sending ---- */

/* The socket router r sends proto from: bound to its repro_ip and the configured source
 * port, or with source_port: keep one per captured source port. -1 when it cannot be
 * opened (said once; its datagrams count as send errors). */
static bool fanned(const struct engine *e, int proto) { return e->n_collectors[proto] > 1; }

int udp_send_socket(struct engine *e, struct router *r, int proto, uint16_t sport)
{
    int f = r->repro.family == AF_INET6;
    /* fan-out: not connected (NULL), each datagram names its collector */
    const struct sockaddr_storage *to = fanned(e, proto) ? NULL : COLLECTOR_ADDR(e, proto, 0, f);
    socklen_t to_len = e->collectors[proto][0].len[f];
    char err[256], a[ADDR_STRLEN];
    if (e->source_port[proto] < 0 && sport) {
        for (size_t k = 0; k < r->n_ports; k++)
            if (r->ports[k].proto == proto && r->ports[k].port == sport)
                return r->ports[k].fd;
        if (r->n_ports < ROUTER_PORTS_MAX) {
            struct router_port *np = realloc(r->ports, (r->n_ports + 1) * sizeof *np);
            if (np) {
                r->ports = np;
                int fd = sock_open_udp(&r->repro, sport, to, to_len, &e->sock_opts, err, sizeof err);
                r->ports[r->n_ports++] = (struct router_port){ proto, sport, fd };
                if (fd < 0)
                    log_error("router %s: %s: %s; its %s packets from port %u are counted as send errors",
                              addr_format(&r->src, a), proto_names[proto], err, proto_names[proto], sport);
                return fd;
            }
        } else if (!r->ports_full) {
            r->ports_full = true;
            log_warn("router %s: over %d captured source ports: the others are sent from a port the kernel picks",
                     addr_format(&r->src, a), ROUTER_PORTS_MAX);
        }
    }
    if (r->fd[proto] >= 0 || r->open_failed[proto])
        return r->fd[proto];
    uint16_t port = e->source_port[proto] > 0 ? (uint16_t)e->source_port[proto] : 0;
    r->fd[proto] = sock_open_udp(&r->repro, port, to, to_len, &e->sock_opts, err, sizeof err);
    if (r->fd[proto] < 0) {
        r->open_failed[proto] = true;
        log_error("router %s: %s: %s; its %s packets are counted as send errors", addr_format(&r->src, a),
                  proto_names[proto], err, proto_names[proto]);
    }
    return r->fd[proto];
}

/* the collector k of proto a datagram went to: its msg_name (NULL: the only one) */
static unsigned collector_of(const struct engine *e, int proto, const void *name)
{
    if (!name)
        return 0;
    return (unsigned)(((const char *)name - (const char *)e->collectors[proto]) / sizeof *e->collectors[proto]);
}

/* A refusal of a datagram to collector k, counted as sent (the ICMP error comes back on a
 * later send): it moves from sent to refused, with the size of the last datagram sent (with
 * several collectors, which quote only its first bytes, the mean of that collector's). */
static void udp_send_refused(struct engine *e, struct router *r, int proto, unsigned k)
{
    char a[ADDR_STRLEN], b[80];
    struct proto_stats *ps = &r->stats[proto];
    udp_rewrite_refused(r, proto); /* back, it needs the templates again */
    uint64_t len = ps->last_len, nth = ps->refused + 1;
    if (r->to[proto]) {
        struct collector_stats *cs = &r->to[proto][k];
        len = cs->packets ? cs->bytes / cs->packets : 0;
        nth = ++cs->refused;
        if (cs->packets) {
            cs->packets--;
            cs->bytes -= len;
        }
    }
    ps->refused++;
    e->stats.refused++;
    if (ps->packets) {
        ps->packets--;
        ps->bytes -= len <= ps->bytes ? len : ps->bytes;
        e->stats.sent--;
    }
    if (nth == 1) {
        sock_format(COLLECTOR_ADDR(e, proto, k, r->repro.family == AF_INET6), b, sizeof b);
        log_warn("router %s: %s collector %s refused (not listening?); replay goes on, refusals are counted",
                 addr_format(&r->src, a), proto_names[proto], b);
        char rep[ADDR_STRLEN];
        if (events_on())
            events_emit("collector_refused", json_pack("{s:s,s:s,s:s,s:s}", "router", a, "repro_ip",
                                                       addr_format(&r->repro, rep), "protocol", proto_names[proto],
                                                       "collector", b));
    }
}

struct refusal_ctx { struct engine *e; struct router *r; int proto; };

static void on_refusal(void *ctx, const struct sockaddr_storage *to, int err)
{
    struct refusal_ctx *c = ctx;
    struct engine *e = c->e;
    int f = c->r->repro.family == AF_INET6;
    for (unsigned k = 0; k < e->n_collectors[c->proto]; k++) {
        const struct sockaddr_storage *a = COLLECTOR_ADDR(e, c->proto, k, f);
        if (e->collectors[c->proto][k].len[f] && !memcmp(a, to, e->collectors[c->proto][k].len[f])) {
            if (err == ECONNREFUSED)
                udp_send_refused(e, c->r, c->proto, k);
            else
                udp_send_failure(e, c->r, c->proto, err);
            return;
        }
    }
}

/* fan-out: the refusals an unconnected socket holds, each to its collector */
static void udp_send_read_refusals(struct engine *e, struct router *r, int proto, int fd)
{
    struct refusal_ctx c = { e, r, proto };
    sock_udp_refusals(fd, on_refusal, &c);
}

void udp_send_failure(struct engine *e, struct router *r, int proto, int err)
{
    char a[ADDR_STRLEN];
    struct proto_stats *ps = &r->stats[proto];
    if (err == ECONNREFUSED) {
        udp_send_refused(e, r, proto, 0);
    } else {
        ps->send_errors++;
        e->stats.send_errors++;
        if (ps->send_errors == 1)
            log_warn("router %s: %s send failed: %s", addr_format(&r->src, a), proto_names[proto], strerror(err));
    }
}

void udp_send_count(struct engine *e, struct router *r, int proto, unsigned k, size_t len)
{
    r->stats[proto].packets++;
    r->stats[proto].bytes += len;
    r->stats[proto].last_len = len;
    if (r->to[proto]) {
        r->to[proto][k].packets++;
        r->to[proto][k].bytes += len;
    }
    e->stats.sent++;
}

static void udp_send_errors(struct engine *e, struct router *r, int proto, const struct mmsghdr *msgs, unsigned n)
{
    r->stats[proto].send_errors += n;
    e->stats.send_errors += n;
    if (r->to[proto])
        for (unsigned j = 0; j < n; j++)
            r->to[proto][collector_of(e, proto, msgs[j].msg_hdr.msg_name)].send_errors++;
}

/* Send msgs[0..n) on fd. A refusal of an earlier datagram fails a later send, which is then
 * not sent: that datagram is retried once (with several collectors, after the error queue
 * said which collector refused). */
static void udp_send_many(struct engine *e, struct router *r, int proto, uint16_t sport, struct mmsghdr *msgs, unsigned n)
{
    int fd = udp_send_socket(e, r, proto, sport);
    unsigned i = 0;
    bool retried = false;
    while (i < n) {
        if (fd < 0) { /* the socket could not be opened, which was said: counted, not said again */
            udp_send_errors(e, r, proto, msgs + i, n - i);
            break;
        }
        int k = sendmmsg(fd, msgs + i, n - i, 0);
        if (k > 0) {
            for (int j = 0; j < k; j++)
                udp_send_count(e, r, proto, collector_of(e, proto, msgs[i + j].msg_hdr.msg_name), msgs[i + j].msg_len);
            i += (unsigned)k;
            retried = false;
            continue;
        }
        if (errno == EINTR)
            continue;
        int err = errno;
        if (err == ECONNREFUSED && !retried) {
            if (fanned(e, proto))
                udp_send_read_refusals(e, r, proto, fd);
            else
                udp_send_failure(e, r, proto, err);
            retried = true;
            continue;
        }
        if (err != ECONNREFUSED)
            udp_send_failure(e, r, proto, err);
        i++;
        retried = false;
    }
}

/* msgs[*n] for the datagram iov, one per collector (fan-out) or one to the connected socket;
 * sent when msgs is full */
static void udp_send_push(struct engine *e, struct router *r, int proto, uint16_t sport, struct mmsghdr *msgs,
                          struct iovec *iov, unsigned *n)
{
    int f = r->repro.family == AF_INET6;
    size_t fan = fanned(e, proto) ? e->n_collectors[proto] : 1;
    for (size_t k = 0; k < fan; k++) {
        if (*n == BATCH_MAX) {
            udp_send_many(e, r, proto, sport, msgs, *n);
            *n = 0;
        }
        msgs[*n] = (struct mmsghdr){ .msg_hdr = { .msg_iov = iov, .msg_iovlen = 1 } };
        if (fan > 1) {
            msgs[*n].msg_hdr.msg_name = COLLECTOR_ADDR(e, proto, k, f);
            msgs[*n].msg_hdr.msg_namelen = e->collectors[proto][k].len[f];
        }
        (*n)++;
    }
}

void udp_send_one(struct engine *e, struct router *r, int proto, uint16_t sport, const uint8_t *data, size_t len)
{
    struct iovec iov = { .iov_base = (void *)data, .iov_len = len };
    struct mmsghdr m[COLLECTORS_MAX];
    unsigned n = 0;
    udp_send_push(e, r, proto, sport, m, &iov, &n);
    udp_send_many(e, r, proto, sport, m, n);
}

static bool same_socket(const struct pending *a, const struct pending *b)
{
    return a->router == b->router && a->proto == b->proto && a->sport == b->sport;
}

/* Batches go out per socket, in capture order within each socket. The datagrams of one
 * socket are chained in one pass (a table of the groups' last datagrams): thousands of
 * routers (clones) put a batch's datagrams on as many sockets. */
void udp_send_flush(struct engine *e)
{
    enum { SLOTS = 2 * BATCH_MAX, NONE = 0xffff };
    _Static_assert(BATCH_MAX < NONE, "a batch index fits the chain");
    struct mmsghdr msgs[BATCH_MAX];
    struct iovec iov[BATCH_MAX];
    uint16_t next[BATCH_MAX], tail[SLOTS];
    bool head[BATCH_MAX];
    memset(tail, 0xff, sizeof tail);
    for (size_t i = 0; i < e->n_batch; i++) {
        const struct pending *p = &e->batch[i];
        uintptr_t key = (uintptr_t)p->router ^ ((uintptr_t)p->proto << 20) ^ ((uintptr_t)p->sport << 4);
        size_t s = (size_t)(key * 0x9e3779b97f4a7c15ull >> 40) % SLOTS;
        while (tail[s] != NONE && !same_socket(&e->batch[tail[s]], p))
            s = (s + 1) % SLOTS;
        next[i] = NONE;
        head[i] = tail[s] == NONE;
        if (!head[i])
            next[tail[s]] = (uint16_t)i;
        tail[s] = (uint16_t)i;
    }
    for (size_t i = 0; i < e->n_batch; i++) {
        if (!head[i])
            continue;
        const struct pending *first = &e->batch[i];
        unsigned n = 0;
        for (size_t j = i; j != NONE; j = next[j]) {
            const struct pending *p = &e->batch[j];
            iov[j] = (struct iovec){ .iov_base = e->batch_bytes + p->offset, .iov_len = p->len };
            udp_send_push(e, first->router, first->proto, first->sport, msgs, &iov[j], &n);
        }
        udp_send_many(e, first->router, first->proto, first->sport, msgs, n);
    }
    e->n_batch = 0;
    e->batch_used = 0;
}

/* Returns the batch's copy of the datagram (rewritten in place when asked). */
uint8_t *udp_send_add(struct engine *e, struct router *r, int proto, uint16_t sport, const uint8_t *data,
                          size_t len)
{
    if (e->n_batch == BATCH_MAX || e->batch_used + len > BATCH_BYTES)
        udp_send_flush(e);
    memcpy(e->batch_bytes + e->batch_used, data, len);
    e->batch[e->n_batch++] =
        (struct pending){ .router = r, .proto = proto, .sport = sport, .offset = e->batch_used, .len = len };
    e->batch_used += len;
    return e->batch_bytes + e->batch_used - len;
}

/* ---- the end ---- */

static void udp_send_late_refusal(struct engine *e, struct router *r, int proto, int fd)
{
    if (fd >= 0 && fanned(e, proto)) {
        udp_send_read_refusals(e, r, proto, fd);
        return;
    }
    int err = 0;
    socklen_t l = sizeof err;
    if (fd >= 0 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &l) == 0 && err)
        udp_send_failure(e, r, proto, err);
}

/* A refusal of the last datagrams comes back after the last send: wait a moment and
 * collect what each UDP socket holds (a connected socket holds one error however many were
 * refused; an unconnected one, each refusal). */
void udp_send_late_refusals(struct engine *e)
{
    bool any = false;
    for (size_t i = 0; i < e->routers.n && !any; i++) {
        any = e->routers.routers[i].n_ports > 0;
        for (int p = 0; p < PROTO_COUNT && !any; p++)
            any = e->routers.routers[i].fd[p] >= 0;
    }
    if (!any)
        return;
    loop_run(e->loop, schedule_now_monotonic() + NS_PER_SEC / 20);
    for (size_t i = 0; i < e->routers.n; i++) {
        struct router *r = &e->routers.routers[i];
        for (int p = 0; p < PROTO_COUNT; p++)
            udp_send_late_refusal(e, r, p, r->fd[p]);
        for (size_t k = 0; k < r->n_ports; k++)
            udp_send_late_refusal(e, r, r->ports[k].proto, r->ports[k].fd);
    }
}

