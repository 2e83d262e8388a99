/* session_peer.c — what the collector says: the BGP peer (its OPEN answered, its KEEPALIVE
 * establishing the session, its NOTIFICATION named), and the closing handshake (the rest of a
 * half-written message, the goodbye, FIN, the collector's FIN). */
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
            session_down(x, "the collector's OPEN is malformed");
            return;
        }
        x->have_peer_open = true;
        x->hold_time = x->our_hold_time < x->peer_open.hold_time ? x->our_hold_time : x->peer_open.hold_time;
        char id[ADDR_STRLEN];
        session_log(x, LOG_INFO, "collector OPEN: AS %u, hold time %u (negotiated %u), BGP ID %s, %u capabilities", x->peer_open.asn, x->peer_open.hold_time, x->hold_time,
                 addr_format_ipv4(x->peer_open.bgp_id, id), x->peer_open.n_caps);
        if (x->state == S_OPEN_SENT) {
            session_write(x); /* our OPEN first, if it is not out yet */
            session_send_keepalive(x); /* confirms theirs */
            session_set_state(x, S_OPEN_CONFIRM);
        }
        break;
    case BGP_KEEPALIVE:
    case BGP_UPDATE:
        if (x->state == S_OPEN_CONFIRM) {
            session_set_state(x, S_ESTABLISHED);
            session_write(x);
        }
        break;
    case BGP_NOTIFICATION: {
        uint8_t code = 0, sub = 0;
        bgp_parse_notification(m, len, &code, &sub);
        x->notifications_received++;
        char why[200];
        snprintf(why, sizeof why, "the collector sent a NOTIFICATION: %s", bgp_notification_name(code, sub, text, sizeof text));
        if (code == BGP_ERR_OPEN) /* a configuration mismatch: trying again cannot help */
            x->no_reconnect = true;
        session_down(x, why);
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
        ssize_t r = read(x->c.fd, x->c.rbuf + x->c.rlen, READ_MAX - x->c.rlen);
        if (x->state == S_RESTARTING && (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR))) {
            session_next(x); /* the old session is gone: the new one starts */
            return;
        }
        if (x->state == S_RESTARTING && r > 0) {
            x->c.rlen = 0; /* what the old session still says does not matter */
            continue;
        }
        if (r == 0) {
            session_down(x, "the collector closed the connection");
            return;
        }
        if (r < 0) {
            session_socket_failed(x, "read");
            return;
        }
        if (x->pc->id != PROTO_BGP) { /* BMP collectors send nothing that matters */
            x->c.rlen = 0;
            continue;
        }
        x->c.rlen += (size_t)r;
        size_t off = 0;
        while (off < x->c.rlen) {
            ssize_t l = proto_bgp.frame_ext(x->c.rbuf + off, x->c.rlen - off);
            if (l < 0) {
                session_down(x, "the collector sent bytes that are not BGP");
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

/* sessions_close_all: what a write left half-written is finished first (the collector never
 * sees a stream end inside a message), then the goodbye, then our FIN; a full socket only
 * means later (EPOLLOUT), never a dropped TERM. */
void session_closing_write(struct session *x)
{
    size_t len, written;
    while (msgq_head(&x->q, &len, &written) && written > 0) {
        struct iovec iov[8];
        int n = msgq_iov(&x->q, iov, 8, 1, NULL);
        ssize_t w = n > 0 ? writev(x->c.fd, iov, n) : -1;
        if (w <= 0)
            goto blocked;
        msgq_written(&x->q, (size_t)w, x->c.written, NULL, NULL);
        x->c.written += (uint64_t)w;
    }
    while (x->c.bye_off < x->c.bye_len) {
        ssize_t w = session_raw_write(x, x->c.bye + x->c.bye_off, x->c.bye_len - x->c.bye_off);
        if (w <= 0)
            goto blocked;
        x->c.bye_off += (size_t)w;
    }
    if (!x->c.fin_sent) {
        if (x->c.bye_len)
            session_log(x, LOG_INFO, "%s sent", x->pc->id == PROTO_BGP ? "Cease" : "TERM");
        shutdown(x->c.fd, SHUT_WR);
        x->c.fin_sent = true;
        session_watch(x, false);
    }
    return;
blocked:
    if (errno == EAGAIN || errno == EINTR)
        session_watch(x, true);
    else
        closing_done(x); /* the collector is gone: nothing more can reach it */
}

/* sessions_close_all: the FIN is out, the collector's is awaited */
void closing_event(struct session *x)
{
    char b[4096];
    ssize_t r;
    while ((r = read(x->c.fd, b, sizeof b)) > 0)
        ; /* what the collector still says does not matter */
    if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
        session_ack(x);
        closing_done(x);
    }
}

void session_event(struct session *x, uint32_t events)
{
    if (x->state == S_CLOSING) {
        if (events & EPOLLOUT)
            session_closing_write(x);
        if (x->c.fd >= 0 && (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)))
            closing_event(x);
        return;
    }
    if (x->state == S_CONNECTING) {
        if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
            return;
        int err = 0;
        socklen_t l = sizeof err;
        getsockopt(x->c.fd, SOL_SOCKET, SO_ERROR, &err, &l);
        if (err) {
            char why[160];
            x->connect_failures++;
            if (err == ECONNREFUSED) { /* attempts, not messages: counted apart */
                x->connect_refused++;
                x->router->stats[x->pc->id].connect_refused++;
                x->all->env.stats->connect_refused++;
            }
            snprintf(why, sizeof why, "cannot connect: %s", strerror(err));
            if (x->connect_failures == 1)
                session_log(x, LOG_DEBUG, "%s", why);
            session_down(x, why);
            return;
        }
        session_connected(x);
        session_write(x); /* BGP: our OPEN before anything we answer */
        if (x->c.fd < 0)
            return;
    }
    if (events & EPOLLIN || events & EPOLLRDHUP) {
        session_read(x);
        if (x->c.fd < 0)
            return;
    }
    if (events & EPOLLOUT)
        session_write(x);
}
