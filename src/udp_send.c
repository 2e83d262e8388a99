/* udp_send.c — the replay's datagrams on their way out: each router's sockets (bound to its
 * repro_ip, one per captured source port with source_port: keep), sendmmsg batches at
 * time_factor 0, single sends at their deadline, and what a collector's refusal (ICMP port
 * unreachable, seen on a later send) moves from sent to refused. engine.h declares them. */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "engine.h"
#include "log.h"
#include "sock.h"
#include "udp_rewrite.h"

/* ---- sending ---- */

/* The socket router r sends proto from: bound to its repro_ip and the configured source
 * port, or with source_port: keep one per captured source port. -1 when it cannot be
 * opened (said once; its datagrams count as send errors). */
int udp_send_socket(struct engine *e, struct router *r, int proto, uint16_t sport)
{
    struct collector *col = &e->collectors[proto];
    int f = r->repro.family == AF_INET6;
    char err[256], a[ADDR_STRLEN];
    if (e->source_port[proto] < 0 && sport) {
        for (size_t k = 0; k < r->n_ports; k++)
            if (r->ports[k].proto == proto && r->ports[k].port == sport)
                return r->ports[k].fd;
        if (r->n_ports < ROUTER_PORTS_MAX) {
            struct router_port *np = realloc(r->ports, (r->n_ports + 1) * sizeof *np);
            if (np) {
                r->ports = np;
                int fd = sock_open_udp(&r->repro, sport, &col->addr[f], col->len[f], &e->sock_opts, err, sizeof err);
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
    r->fd[proto] = sock_open_udp(&r->repro, port, &col->addr[f], col->len[f], &e->sock_opts, err, sizeof err);
    if (r->fd[proto] < 0) {
        r->open_failed[proto] = true;
        log_error("router %s: %s: %s; its %s packets are counted as send errors", addr_format(&r->src, a),
                  proto_names[proto], err, proto_names[proto]);
    }
    return r->fd[proto];
}

void udp_send_failure(struct engine *e, struct router *r, int proto, int err)
{
    char a[ADDR_STRLEN], b[80];
    struct proto_stats *ps = &r->stats[proto];
    if (err == ECONNREFUSED) {
        udp_rewrite_refused(r, proto); /* back, it needs the templates again */
        /* the refusal is about a datagram already counted as sent (the ICMP error comes
         * back on the next send): it moves from sent to refused, taken as the last one */
        ps->refused++;
        e->stats.refused++;
        if (ps->packets) {
            ps->packets--;
            ps->bytes -= ps->last_len <= ps->bytes ? ps->last_len : ps->bytes;
            e->stats.sent--;
        }
        if (ps->refused == 1)
            log_warn("router %s: %s collector %s refused (not listening?); replay goes on, refusals are "
                     "counted", addr_format(&r->src, a), proto_names[proto],
                     sock_format(&e->collectors[proto].addr[r->repro.family == AF_INET6], b, sizeof b));
    } else {
        ps->send_errors++;
        e->stats.send_errors++;
        if (ps->send_errors == 1)
            log_warn("router %s: %s send failed: %s", addr_format(&r->src, a), proto_names[proto], strerror(err));
    }
}

void udp_send_count(struct engine *e, struct router *r, int proto, size_t len)
{
    r->stats[proto].packets++;
    r->stats[proto].bytes += len;
    r->stats[proto].last_len = len;
    e->stats.sent++;
}

/* Send msgs[0..n) on fd. A connected UDP socket reports an ICMP port unreachable of an
 * earlier datagram on a later send, which is then not sent: that datagram is retried once. */
static void udp_send_many(struct engine *e, struct router *r, int proto, uint16_t sport, struct mmsghdr *msgs, unsigned n)
{
    int fd = udp_send_socket(e, r, proto, sport);
    unsigned i = 0;
    bool retried = false;
    while (i < n) {
        if (fd < 0) { /* the socket could not be opened, which was said: counted, not said again */
            r->stats[proto].send_errors += n - i;
            e->stats.send_errors += n - i;
            break;
        }
        int k = sendmmsg(fd, msgs + i, n - i, 0);
        if (k > 0) {
            for (int j = 0; j < k; j++)
                udp_send_count(e, r, proto, msgs[i + j].msg_len);
            i += (unsigned)k;
            retried = false;
            continue;
        }
        if (errno == EINTR)
            continue;
        int err = errno;
        if (err == ECONNREFUSED && !retried) {
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

void udp_send_one(struct engine *e, struct router *r, int proto, uint16_t sport, const uint8_t *data, size_t len)
{
    struct iovec iov = { .iov_base = (void *)data, .iov_len = len };
    struct mmsghdr m = { .msg_hdr = { .msg_iov = &iov, .msg_iovlen = 1 } };
    udp_send_many(e, r, proto, sport, &m, 1);
}

/* Batches go out per socket, in capture order within each socket. */
void udp_send_flush(struct engine *e)
{
    struct mmsghdr msgs[BATCH_MAX];
    struct iovec iov[BATCH_MAX];
    bool done[BATCH_MAX] = { false };
    for (size_t i = 0; i < e->n_batch; i++) {
        if (done[i])
            continue;
        struct pending *first = &e->batch[i];
        unsigned n = 0;
        for (size_t j = i; j < e->n_batch; j++) {
            struct pending *p = &e->batch[j];
            if (done[j] || p->router != first->router || p->proto != first->proto || p->sport != first->sport)
                continue;
            iov[n] = (struct iovec){ .iov_base = e->batch_bytes + p->offset, .iov_len = p->len };
            msgs[n] = (struct mmsghdr){ .msg_hdr = { .msg_iov = &iov[n], .msg_iovlen = 1 } };
            n++;
            done[j] = true;
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
    int err = 0;
    socklen_t l = sizeof err;
    if (fd >= 0 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &l) == 0 && err)
        udp_send_failure(e, r, proto, err);
}

/* A refusal of the last datagrams comes back after the last send: wait a moment and
 * collect what each UDP socket holds (one error per socket however many were refused). */
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

