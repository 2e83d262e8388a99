/* session_peer.c — the socket's events: what the collector says (the BGP peer: its OPEN,
 * KEEPALIVE and NOTIFICATION read and named, raised as events), the outcome of a connection
 * attempt, and the closing handshake (the rest of a half-written message, the goodbye, FIN,
 * the collector's FIN). */
#define _GNU_SOURCE
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "session_int.h"

/* ---- what the collector says ---- */

void peer_message(struct session *x, const uint8_t *m, size_t len)
{
    char text[160];
    x->peer_messages++;
    if (x->pc->id != PROTO_BGP)
        return;
    switch (m[BGP_TYPE_OFFSET]) {
    case BGP_OPEN:
        if (bgp_parse_open(m, len, &x->peer_open) < 0) {
            session_fsm(x, EV_PEER_DOWN, "the collector's OPEN is malformed");
            return;
        }
        x->have_peer_open = true;
        x->hold_time = x->our_hold_time < x->peer_open.hold_time ? x->our_hold_time : x->peer_open.hold_time;
        char id[ADDR_STRLEN];
        session_log(x, LOG_INFO, "collector OPEN: AS %u, hold time %u (negotiated %u), BGP ID %s, %u capabilities", x->peer_open.asn, x->peer_open.hold_time, x->hold_time,
                 addr_format_ipv4(x->peer_open.bgp_id, id), x->peer_open.n_caps);
        session_emit(x, "collector_open", events_on() ? json_pack("{s:I,s:i,s:s}", "as", (json_int_t)x->peer_open.asn,
                                                                     "hold_time", x->peer_open.hold_time, "bgp_id", id)
                                                           : NULL);
        session_fsm(x, EV_PEER_OPEN, NULL);
        break;
    case BGP_KEEPALIVE:
    case BGP_UPDATE:
        session_fsm(x, EV_PEER_CONFIRM, NULL);
        break;
    case BGP_NOTIFICATION: {
        uint8_t code = 0, sub = 0;
        bgp_parse_notification(m, len, &code, &sub);
        x->notifications_received++;
        char why[200];
        snprintf(why, sizeof why, "the collector sent a NOTIFICATION: %s", bgp_notification_name(code, sub, text, sizeof text));
        session_emit(x, "notification", events_on() ? json_pack("{s:i,s:i,s:s}", "code", code, "subcode", sub, "name",
                                                                 text) : NULL);
        if (code == BGP_ERR_OPEN) /* a configuration mismatch: trying again cannot help */
            x->no_reconnect = true;
        session_fsm(x, EV_PEER_DOWN, why);
        return;
    }
    default:
        break; /* ROUTE-REFRESH: counted */
    }
}

void session_read(struct session *x)
{
    if (!x->c.rbuf && !(x->c.rbuf = malloc(READ_MAX)))
        return;
    for (;;) {
        ssize_t r = x->all->ops->read(x->c.fd, x->c.rbuf + x->c.rlen, READ_MAX - x->c.rlen);
        if (r == 0) {
            session_fsm(x, EV_PEER_DOWN, "the collector closed the connection");
            return;
        }
        if (r < 0) {
            session_socket_failed(x, "read");
            return;
        }
        /* BMP collectors send nothing that matters, nor does the old session while the
         * next waits for its end (restarting) */
        if (x->pc->id != PROTO_BGP || x->state == S_RESTARTING) {
            x->c.rlen = 0;
            continue;
        }
        x->c.rlen += (size_t)r;
        size_t off = 0;
        while (off < x->c.rlen) {
            ssize_t l = proto_bgp.frame_ext(x->c.rbuf + off, x->c.rlen - off);
            if (l < 0) {
                session_fsm(x, EV_PEER_DOWN, "the collector sent bytes that are not BGP");
                return;
            }
            if (l == 0)
                break;
            peer_message(x, x->c.rbuf + off, (size_t)l);
            if (x->c.fd < 0)
                return;
            off += (size_t)l;
        }
        memmove(x->c.rbuf, x->c.rbuf + off, x->c.rlen - off);
        x->c.rlen -= off;
    }
}

void closing_done(struct session *x)
{
    session_close_socket(x);
    if (x->all->closing && --x->all->closing == 0)
        loop_break(x->all->loop);
}

/* sessions_close_all: the FIN is out, the collector's is awaited */
static void closing_read(struct session *x)
{
    char b[4096];
    ssize_t r;
    while ((r = x->all->ops->read(x->c.fd, b, sizeof b)) > 0)
        ; /* what the collector still says does not matter */
    if (r == 0 || (errno != EAGAIN && errno != EINTR))
        session_fsm(x, EV_CLOSED, NULL);
}

/* The socket's readiness, as events: the connection attempt's outcome, what the collector
 * says, room to write. */
void session_event(struct session *x, uint32_t events)
{
    if (x->state == S_CLOSING) {
        if (events & EPOLLOUT)
            session_write(x); /* the rest of a half-written message, the goodbye, FIN */
        if (x->c.fd >= 0 && (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)))
            closing_read(x);
        return;
    }
    if (x->state == S_CONNECTING) {
        if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
            return;
        int err = x->all->ops->error(x->c.fd);
        if (err) {
            char why[160];
            x->connect_failures++;
            if (err == ECONNREFUSED) { /* attempts, not messages: counted apart */
                session_emit(x, "collector_refused", NULL);
                x->connect_refused++;
                x->router->stats[x->pc->id].connect_refused++;
                x->all->env.stats->connect_refused++;
            }
            snprintf(why, sizeof why, "cannot connect: %s", strerror(err));
            if (x->connect_failures == 1)
                session_log(x, LOG_DEBUG, "%s", why);
            session_fsm(x, EV_CONNECT_FAILED, why);
            return;
        }
        session_fsm(x, EV_CONNECTED, NULL);
        if (x->c.fd < 0)
            return;
    }
    if (events & (EPOLLIN | EPOLLRDHUP)) {
        session_read(x);
        if (x->c.fd < 0)
            return;
    }
    if (events & EPOLLOUT)
        session_write(x);
}
