/* replay.c — see replay.h. Each flow has two ends; an end runs its events in order: SEND
 * writes that many bytes as fast as its socket takes them, WAIT completes once the end has
 * received that many more bytes (cumulatively), CLOSE shuts its writing half down. An event
 * starts at its capture time x time_scale after the start of the run (with asap: at once),
 * never before the end's previous event is done. A flow is done when both ends ran their
 * events and read the other's close. */
#define _GNU_SOURCE
#include "flow/replay.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <linux/tcp.h> /* its tcp_info has the newer fields (delivery rate) */
#include <sched.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "hash.h"
#include "log.h"
#include "privs.h"
#include "schedule.h"
#include "loop.h"


#include "flow/replay_int.h"


/* What an end waits for: readable until EOF (epoll is level-triggered: a read EOF would
 * report forever), writable only while a SEND is blocked; nothing = off the loop. */
static void want(struct engine *e, struct end *x, bool out)
{
    uint32_t events = (x->eof || x->finished ? 0 : EPOLLIN | EPOLLRDHUP) | (out ? EPOLLOUT : 0);
    if (x->fd < 0 || x->io.events == events || (!events && !x->io.events))
        return;
    x->io.fd = x->fd;
    if (!events)
        loop_unwatch(e->loop, &x->io);
    else
        loop_watch(e->loop, &x->io, events);
}

/* ---- accepting: which flow is this connection? ---- */

static size_t key_slot(const struct engine *e, const struct addr *ip, uint16_t port)
{
    return hash_u32(addr_hash(ip), port) & (e->n_keys - 1);
}

static struct accept_key *key_find(struct engine *e, const struct addr *ip, uint16_t port, bool add)
{
    for (size_t at = key_slot(e, ip, port);; at = (at + 1) & (e->n_keys - 1)) {
        struct accept_key *k = &e->keys[at];
        if (!k->ip.family) {
            if (!add)
                return NULL;
            k->ip = *ip;
            k->port = port;
            return k;
        }
        if (k->port == port && addr_equal(&k->ip, ip))
            return k;
    }
}

/* The server end of f will be the connection from ip:port (appended: the earliest first). */
static void expect(struct engine *e, struct rflow *f, const struct addr *ip, uint16_t port)
{
    struct accept_key *k = key_find(e, ip, port, true);
    struct rflow **at = &k->first;
    while (*at)
        at = &(*at)->next_accept;
    f->next_accept = NULL;
    *at = f;
}

static struct rflow *expected(struct engine *e, const struct addr *ip, uint16_t port)
{
    struct accept_key *k = key_find(e, ip, port, false);
    if (!k || !k->first)
        return NULL;
    struct rflow *f = k->first;
    k->first = f->next_accept;
    return f;
}

/* ---- flows ---- */

static void close_end(struct engine *e, struct end *x)
{
    loop_timer_cancel(e->loop, &x->timer);
    if (x->fd >= 0) {
        loop_unwatch(e->loop, &x->io); /* no event of this pass reaches it any more */
        close(x->fd);
    }
    x->fd = x->io.fd = -1;
}

/* The flow's client connect is no longer under way: its slot in the window is free. A
 * handshake that completed is a sample of the path's delay. */
static void connected_or_gone(struct engine *e, struct rflow *f, bool connected)
{
    if (!f->connecting)
        return;
    f->connecting = false;
    e->connecting--;
    if (connected) {
        int64_t rtt = now_ns() - f->connect_at;
        if (rtt < e->min_rtt)
            e->min_rtt = rtt;
        e->connected_epoch++;
    }
    loop_post(e->loop, &e->starter);
}

/* Each CONNECT_EPOCH_NS: the window from the rate of the epoch and the shortest handshake of
 * the last one or two periods (replay_int.h says why). */
static void window_update(struct engine *e, int64_t now)
{
    if (now - e->epoch_at < CONNECT_EPOCH_NS)
        return;
    if (now - e->min_rtt_at >= CONNECT_MIN_RTT_NS) { /* the path may have changed: a new period */
        e->min_rtt_prev = e->min_rtt;
        e->min_rtt = INT64_MAX;
        e->min_rtt_at = now;
    }
    int64_t rtt = e->min_rtt < e->min_rtt_prev ? e->min_rtt : e->min_rtt_prev;
    if (e->connected_epoch && rtt != INT64_MAX) {
        double rate = (double)e->connected_epoch * 1e9 / (double)(now - e->epoch_at);
        double w = 2 * rate * (double)rtt / 1e9;
        e->window = w < CONNECT_WINDOW_MIN ? CONNECT_WINDOW_MIN : w > CONNECT_WINDOW_MAX ? CONNECT_WINDOW_MAX : (size_t)w;
        if (e->window > e->max_window)
            e->max_window = e->window;
    }
    e->connected_epoch = 0;
    e->epoch_at = now;
}

static bool runs_side(const struct engine *e, int side)
{
    return e->o->role == FLOW_ROLE_BOTH || (int)e->o->role == (side ? FLOW_ROLE_SERVER : FLOW_ROLE_CLIENT);
}

static void flow_finish(struct engine *e, struct rflow *f, enum flow_state st)
{
    if (f->state >= F_DONE)
        return;
    f->state = st;
    f->ended = now_ns();
    connected_or_gone(e, f, false);
    loop_post(e->loop, &e->starter); /* its descriptors are free: a flow held back may start */
    struct tcp_info info[2];
    const struct tcp_info *ti[2];
    for (int s = 1; s >= 0; s--) { /* the client's RTT when it is here, the retransmissions of both */
        ti[s] = read_tcp_info(f->e[s].fd, &info[s]) ? &info[s] : NULL;
        if (ti[s] && f->e[s].connected) {
            f->has_info = true;
            f->rtt_us = ti[s]->tcpi_rtt;
            f->retransmits += ti[s]->tcpi_total_retrans;
        }
    }
    if (e->o->results)
        write_result(e, f, ti);
    for (int s = 0; s < 2; s++)
        close_end(e, &f->e[s]);
    if (f->prev_active)
        f->prev_active->next_active = f->next_active;
    else if (e->active == f)
        e->active = f->next_active;
    if (f->next_active)
        f->next_active->prev_active = f->prev_active;
    e->active_n--;
    e->finished++;
    e->counts[st]++;
    if (e->finished == e->n) /* the last one: the run ends now, not at the loop's next wake */
        loop_break(e->loop);
}

static void maybe_done(struct engine *e, struct rflow *f)
{
    for (int s = 0; s < 2; s++)
        if (runs_side(e, s) && !f->e[s].finished)
            return;
    flow_finish(e, f, F_DONE);
}

static void progress(struct rflow *f) { f->last_progress = now_ns(); }

static void advance(struct engine *e, struct end *x);
static void end_io(void *obj, uint32_t events);
static void end_due(void *obj);
static void listener_io(void *obj, uint32_t events);

/* Read what there is; EOF and errors end or fail the flow. */
static void read_end(struct engine *e, struct end *x)
{
    for (;;) {
        ssize_t n = recv(x->fd, e->buf, IO_CHUNK, 0);
        if (n > 0) {
            x->received += (uint64_t)n;
            progress(x->f);
            continue;
        }
        if (n == 0) {
            x->eof = true;
            break;
        }
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN)
            flow_finish(e, x->f, errno == ECONNRESET ? F_RESET : F_FAILED);
        return;
    }
}

static void advance(struct engine *e, struct end *x)
{
    struct rflow *f = x->f;
    const struct flow_side *spec = &f->spec->side[x->side];
    while (f->state == F_RUNNING && x->connected && !x->finished) {
        if (x->next >= spec->n) { /* all done: the end closes (if its events did not) and reads to EOF */
            if (!x->shut) {
                shutdown(x->fd, SHUT_WR);
                x->shut = true;
            }
            if (!x->eof) {
                want(e, x, false);
                return;
            }
            x->finished = true;
            want(e, x, false);
            maybe_done(e, f);
            return;
        }
        const struct flow_event *ev = &spec->ev[x->next];
        if (!x->sending && !x->waiting) { /* the event starts: is it due? */
            int64_t due = e->o->asap ? 0 : e->t0 + (int64_t)(ev->stime * e->o->time_scale * 1e9);
            if (due > now_ns()) {
                loop_timer_set(e->loop, &x->timer, due);
                want(e, x, false);
                return;
            }
            if (ev->type == FLOW_SEND) {
                x->sending = true;
                x->to_send = ev->bytes;
            } else if (ev->type == FLOW_BULK) { /* as much as the connection takes, for a while */
                x->sending = true;
                x->to_send = UINT64_MAX;
                x->bulk_until = now_ns() + (int64_t)ev->bytes * 1000;
            } else if (ev->type == FLOW_WAIT) {
                x->waiting = true;
                x->wait_target += ev->bytes;
            } else {
                shutdown(x->fd, SHUT_WR);
                x->shut = true;
                x->next++;
                continue;
            }
        }
        if (x->sending) {
            while (x->to_send) {
                if (x->bulk_until && now_ns() >= x->bulk_until)
                    break;
                size_t n = x->to_send < IO_CHUNK ? (size_t)x->to_send : IO_CHUNK;
                ssize_t w = send(x->fd, e->buf, n, MSG_NOSIGNAL | MSG_DONTWAIT);
                if (w > 0) {
                    x->to_send -= (uint64_t)w;
                    x->sent += (uint64_t)w;
                    progress(f);
                    continue;
                }
                if (w < 0 && errno == EINTR)
                    continue;
                if (w < 0 && errno == EAGAIN) {
                    if (x->bulk_until) /* the BULK ends on time even while the socket is full */
                        loop_timer_set(e->loop, &x->timer, x->bulk_until);
                    want(e, x, true);
                    return;
                }
                flow_finish(e, f, errno == ECONNRESET || errno == EPIPE ? F_RESET : F_FAILED);
                return;
            }
            x->sending = false;
            x->bulk_until = 0;
            x->next++;
            continue;
        }
        /* waiting */
        if (x->received < x->wait_target) {
            if (x->eof) { /* the peer closed before sending what the flow says it would */
                flow_finish(e, f, F_RESET);
                return;
            }
            want(e, x, false);
            return;
        }
        x->waiting = false;
        x->next++;
    }
}

static void end_ready(struct engine *e, struct end *x)
{
    x->connected = true;
    flow_tune(x->fd, &x->f->opts); /* the listener's were the global ones: now the flow's */
    advance(e, x);
}

/* The flow's planned start: the client connects; the server end waits for its accept. */
static void flow_start(struct engine *e, struct rflow *f)
{
    if (f->state != F_PENDING) /* a server end can start it early: its client came first */
        return;
    f->state = F_RUNNING;
    f->started = f->last_progress = now_ns();
    f->next_active = e->active;
    f->prev_active = NULL;
    if (e->active)
        e->active->prev_active = f;
    e->active = f;
    if (++e->active_n > e->max_active)
        e->max_active = e->active_n;
    if (!runs_side(e, 0))
        return; /* server only: the client comes from elsewhere */
    struct end *c = &f->e[0];
    struct sockaddr_storage src, dst;
    socklen_t sl = addr_to_sockaddr(&f->ip[0], e->o->role == FLOW_ROLE_BOTH ? 0 : f->port[0], &src);
    socklen_t dl = addr_to_sockaddr(&f->ip[1], f->port[1], &dst);
    c->fd = flow_socket_in(e, e->netns_client, f->ip[0].family);
    int one = 1;
    /* no port of its own: the kernel picks one at connect, by the whole 4-tuple (IP_BIND_ADDRESS_NO_PORT),
     * instead of searching the bound ports at bind, which slows down as TIME_WAITs pile up */
    if (c->fd >= 0 && e->o->role == FLOW_ROLE_BOTH)
        setsockopt(c->fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
    if (c->fd < 0 || setsockopt(c->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
        bind(c->fd, (struct sockaddr *)&src, sl) < 0) {
        char a[ADDR_STRLEN];
        log_warn("flow %llu: cannot bind the client to %s: %s", (unsigned long long)f->spec->fid,
                 addr_format(&f->ip[0], a), strerror(errno));
        flow_finish(e, f, F_FAILED);
        return;
    }
    flow_tune(c->fd, &f->opts); /* before connect: the congestion control and buffers apply to the handshake */
    if (connect(c->fd, (struct sockaddr *)&dst, dl) < 0 && errno != EINPROGRESS) {
        flow_finish(e, f, errno == ECONNREFUSED ? F_REFUSED : F_FAILED);
        return;
    }
    f->connecting = true;
    f->connect_at = f->started;
    e->connecting++;
    if (runs_side(e, 1)) { /* both here: the server end is the connection from this port */
        struct sockaddr_storage me;
        socklen_t ml = sizeof me;
        getsockname(c->fd, (struct sockaddr *)&me, &ml);
        struct addr a;
        addr_from_sockaddr(&a, (struct sockaddr *)&me);
        expect(e, f, &a, ntohs(((struct sockaddr_in *)&me)->sin_port));
    }
    want(e, c, true); /* writable = connected (or failed) */
}

static void on_accept(struct engine *e, struct listener *l)
{
    for (;;) {
        struct sockaddr_storage peer;
        socklen_t pl = sizeof peer;
        int fd = accept4(l->fd, (struct sockaddr *)&peer, &pl, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            return;
        struct addr a;
        addr_from_sockaddr(&a, (struct sockaddr *)&peer);
        uint16_t port = ntohs(((struct sockaddr_in *)&peer)->sin_port);
        struct rflow *f = expected(e, &a, port);
        if (f && f->state == F_PENDING) /* its client is early (another clock): it starts now */
            flow_start(e, f);
        if (!f || f->state != F_RUNNING) {
            char s[ADDR_STRLEN];
            log_debug("a connection from %s port %u that no flow expects: closed", addr_format(&a, s), port);
            close(fd);
            continue;
        }
        struct end *x = &f->e[1];
        x->fd = fd;
        if (e->o->role == FLOW_ROLE_SERVER)
            f->started = now_ns();
        end_ready(e, x);
    }
}

static void on_end(struct engine *e, struct end *x, uint32_t ev)
{
    struct rflow *f = x->f;
    if (!x->connected) { /* the client's connect completed, or not */
        int err = 0;
        socklen_t el = sizeof err;
        getsockopt(x->fd, SOL_SOCKET, SO_ERROR, &err, &el);
        if (err) {
            flow_finish(e, f, err == ECONNREFUSED ? F_REFUSED : err == ETIMEDOUT ? F_TIMEOUT : F_FAILED);
            return;
        }
        if (!(ev & EPOLLOUT))
            return;
        x->connected = true;
        connected_or_gone(e, f, true);
        progress(f);
    }
    if (ev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
        read_end(e, x);
    if (f->state == F_RUNNING)
        advance(e, x);
}

/* ---- listeners ---- */

static int listeners_open(struct engine *e, char *err, size_t errlen)
{
    for (size_t i = 0; i < e->n; i++) {
        struct rflow *f = &e->flows[i];
        bool have = false;
        for (size_t k = 0; k < e->n_listeners && !have; k++)
            have = e->listeners[k]->port == f->port[1] && addr_equal(&e->listeners[k]->ip, &f->ip[1]);
        if (have)
            continue;
        struct listener **all = realloc(e->listeners, (e->n_listeners + 1) * sizeof *all);
        struct listener *l = malloc(sizeof *l);
        if (all)
            e->listeners = all;
        if (!all || !l) {
            free(l);
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        *l = (struct listener){ .eng = e, .ip = f->ip[1], .port = f->port[1] };
        struct sockaddr_storage ss;
        socklen_t sl = addr_to_sockaddr(&l->ip, l->port, &ss);
        int one = 1;
        l->fd = flow_socket_in(e, e->netns_server, l->ip.family);
        if (l->fd < 0 || setsockopt(l->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
            bind(l->fd, (struct sockaddr *)&ss, sl) < 0 || listen(l->fd, 4096) < 0) {
            char a[ADDR_STRLEN];
            snprintf(err, errlen, "cannot listen on %s port %u: %s%s", addr_format(&l->ip, a), l->port,
                     strerror(errno), errno == EADDRNOTAVAIL ? " (add the address, or map it with --map)" : "");
            if (l->fd >= 0)
                close(l->fd);
            free(l);
            return -1;
        }
        flow_tune(l->fd, &e->o->sock); /* accepted sockets inherit it */
        e->listeners[e->n_listeners++] = l;
        l->io = (struct loop_io){ .fd = l->fd, .fn = listener_io, .obj = l };
        loop_watch(e->loop, &l->io, EPOLLIN);
    }
    return 0;
}

/* ---- the loop ---- */

/* Why the next flow cannot start now (0: it can): the descriptor limit, or the connect window. */
static int held(const struct engine *e)
{
    if (e->active_n >= e->max_open)
        return HELD_DESCRIPTORS;
    if (e->connecting >= e->window && runs_side(e, 0))
        return HELD_CONNECTS;
    return 0;
}

/* The flows whose planned start has come, while they may (server only: a flow is running from
 * its planned start, waiting for its client). A flow held back starts late rather than fail:
 * its lateness says so, and the summary counts it by why. Also run as the engine's starter
 * (posted work) when a descriptor or a connect slot frees up. */
static void start_due(struct engine *e)
{
    int64_t now = now_ns();
    window_update(e, now);
    while (e->next_start < e->n) {
        struct rflow *f = &e->flows[e->next_start];
        if (f->planned > now) { /* the next one: its own timer */
            loop_timer_set(e->loop, &e->start_timer, f->planned);
            return;
        }
        int why = held(e);
        if (why) {
            if (!f->held)
                e->held[f->held = (uint8_t)why]++;
            return;
        }
        e->next_start++;
        flow_start(e, f);
    }
}

static void starter(void *obj) { start_due(obj); }

static void scan_stalled(struct engine *e, int64_t now)
{
    int64_t limit = (int64_t)(e->o->stall_timeout * 1e9);
    for (struct rflow *f = e->active, *n; f; f = n) {
        n = f->next_active;
        bool timed = loop_timer_armed(&f->e[0].timer) || loop_timer_armed(&f->e[1].timer); /* the clock: no stall */
        bool connected = f->e[0].connected || f->e[1].connected;
        if (!timed && now - f->last_progress > limit)
            flow_finish(e, f, connected ? F_STALLED : F_TIMEOUT); /* never connected: the peer is not there */
    }
}

int flow_replay_run(const struct flow_set *set, const struct flow_replay_options *o, json_t **summary, char *err,
                    size_t errlen)
{
    struct engine *e = calloc(1, sizeof *e);
    int status = 2;
    if (!e) {
        snprintf(err, errlen, "out of memory");
        return 2;
    }
    e->set = set;
    e->o = o;
    e->n = set->n;
    e->loop = loop_new();
    e->starter = (struct loop_work){ .fn = starter, .obj = e };
    e->start_timer = (struct loop_timer){ .fn = starter, .obj = e };
    e->window = e->max_window = CONNECT_WINDOW_MIN;
    e->min_rtt = e->min_rtt_prev = INT64_MAX;
    e->netns_self = e->netns_client = e->netns_server = -1;
    e->flows = calloc(e->n ? e->n : 1, sizeof *e->flows);
    e->buf = calloc(1, IO_CHUNK); /* what SEND writes: zeroes (and whatever was read since) */
    for (e->n_keys = 1024; e->n_keys < 2 * e->n; e->n_keys *= 2)
        ;
    e->keys = calloc(e->n_keys, sizeof *e->keys);
    if (!e->loop || !e->flows || !e->buf || !e->keys) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    if (o->client_netns || o->server_netns) {
        e->netns_self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
        if ((o->client_netns && (e->netns_client = flow_open_netns(o->client_netns, err, errlen)) < 0) ||
            (o->server_netns && (e->netns_server = flow_open_netns(o->server_netns, err, errlen)) < 0))
            goto out;
    }
    if (o->ecn >= 0) {
        if (e->netns_client < 0 && e->netns_server < 0) {
            snprintf(err, errlen, "--ecn sets net.ipv4.tcp_ecn in --client-netns / --server-netns; for this "
                                  "namespace set it yourself (sysctl net.ipv4.tcp_ecn=%d)", o->ecn);
            goto out;
        }
        for (int k = 0; k < 2; k++) {
            int ns = k ? e->netns_server : e->netns_client;
            if (ns >= 0 && flow_set_ecn(e, ns, o->ecn) < 0) {
                snprintf(err, errlen, "cannot set net.ipv4.tcp_ecn in %s: %s", k ? o->server_netns : o->client_netns,
                         strerror(errno));
                goto out;
            }
        }
    }
    for (size_t i = 0; i < e->n; i++) {
        struct rflow *f = &e->flows[i];
        f->spec = &set->flows[i];
        f->opts = flow_opts_of(o, f->spec);
        for (int s = 0; s < 2; s++) {
            f->ip[s] = flow_map_addr(o, &f->spec->side[s].ip);
            f->port[s] = flow_map_port(o, f->spec->side[s].port);
            f->e[s] = (struct end){ .eng = e, .f = f, .side = s, .fd = -1 };
            f->e[s].io = (struct loop_io){ .fd = -1, .fn = end_io, .obj = &f->e[s] };
            f->e[s].timer = (struct loop_timer){ .fn = end_due, .obj = &f->e[s] };
        }
    }
    if (o->role != FLOW_ROLE_CLIENT && listeners_open(e, err, errlen) < 0)
        goto out;
    if (o->role == FLOW_ROLE_SERVER) /* the clients keep their captured ports: that is how they are told apart */
        for (size_t i = 0; i < e->n; i++)
            expect(e, &e->flows[i], &e->flows[i].ip[0], e->flows[i].port[0]);
    if (o->drop_privileges) { /* the listeners are open: what the flows still need is kept */
        struct privs_needs needs = { .sys_admin = o->client_netns || o->server_netns };
        for (size_t i = 0; i < e->n && o->role != FLOW_ROLE_SERVER; i++)
            needs.net_bind_service |= e->flows[i].port[0] > 0 && e->flows[i].port[0] < 1024;
        if (privs_drop(o->user, &needs, err, errlen) < 0)
            goto out;
        for (size_t i = 0; i < 2; i++)
            if (privs_check_writable(o->write_at_end[i], "the output", err, errlen) < 0)
                goto out;
    }
    struct rlimit rl;
    size_t fds = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY ? (size_t)rl.rlim_cur : 1 << 20;
    e->max_open = fds > 64 + e->n_listeners ? (fds - 64 - e->n_listeners) / (o->role == FLOW_ROLE_BOTH ? 2 : 1) : 1;
    e->t0 = now_ns();
    e->t0_real = schedule_now_realtime();
    if (o->start_at_ns) { /* time 0 at that instant: the monotonic clock's equivalent of it */
        int64_t at = schedule_monotonic_at(o->start_at_ns), wait = at - now_ns();
        if (wait < 0) {
            snprintf(err, errlen, "--start-at is %.3f s in the past: give a time to come (every host must be started "
                     "before it)", (double)-wait / 1e9);
            goto out;
        }
        e->t0 = at;
        e->t0_real = o->start_at_ns;
        if (o->progress)
            fprintf(stderr, "flow-replay: waiting %.3f s for --start-at\n", (double)wait / 1e9);
    }
    for (size_t i = 0; i < e->n; i++)
        e->flows[i].planned = o->asap ? e->t0 : e->t0 + (int64_t)(set->flows[i].stime * o->time_scale * 1e9);
    e->next_sample = o->tcpinfo_interval > 0 ? e->t0 + (int64_t)(o->tcpinfo_interval * 1e9) : INT64_MAX;
    e->next_scan = e->t0 + NS / 10;
    e->epoch_at = e->min_rtt_at = e->t0;
    e->next_progress = e->t0 + 5 * NS;
    int64_t deadline = o->timeout > 0 ? e->t0 + (int64_t)(o->timeout * 1e9) : INT64_MAX;
    while (e->finished < e->n && !loop_stop) {
        int64_t now = now_ns();
        start_due(e);
        if (now >= e->next_sample) {
            sample(e);
            e->next_sample = now + (int64_t)(o->tcpinfo_interval * 1e9);
        }
        if (now >= e->next_scan) {
            scan_stalled(e, now);
            e->next_scan = now + NS / 10;
        }
        if (o->progress && now >= e->next_progress) {
            fprintf(stderr, "flow-replay: %.0fs: %zu of %zu flows ended, %zu open\n", (double)(now - e->t0) / 1e9,
                    e->finished, e->n, e->active_n);
            e->next_progress = now + 5 * NS;
        }
        if (now >= deadline)
            break;
        int64_t wake = e->next_scan; /* flow starts have their timer and the starter */
        if (e->next_sample < wake)
            wake = e->next_sample;
        if (wake > deadline)
            wake = deadline;
        loop_run(e->loop, wake); /* the sockets, and the ends whose next event comes due */
    }
    for (struct rflow *f = e->active; f; f = e->active)
        flow_finish(e, f, F_TIMEOUT);
    for (size_t i = e->next_start; i < e->n; i++)
        e->counts[F_TIMEOUT]++, e->finished++;
    if (summary)
        *summary = summary_json(e, now_ns());
    status = e->counts[F_DONE] == e->n ? 0 : 1;
out:
    for (size_t i = 0; i < e->n_listeners; i++) {
        close(e->listeners[i]->fd);
        free(e->listeners[i]);
    }
    for (size_t i = 0; e->flows && i < e->n; i++)
        for (int s = 0; s < 2; s++)
            if (e->flows[i].e[s].fd >= 0)
                close(e->flows[i].e[s].fd);
    loop_free(e->loop);
    if (e->netns_self >= 0)
        close(e->netns_self);
    if (e->netns_client >= 0)
        close(e->netns_client);
    if (e->netns_server >= 0)
        close(e->netns_server);
    free(e->listeners);
    free(e->keys);
    free(e->flows);
    free(e->buf);
    free(e);
    return status;
}

/* ---- the loop's handlers ---- */

static void end_io(void *obj, uint32_t events)
{
    struct end *x = obj;
    if (x->fd >= 0)
        on_end(x->eng, x, events);
}

static void end_due(void *obj)
{
    struct end *x = obj;
    advance(x->eng, x);
}

static void listener_io(void *obj, uint32_t events)
{
    struct listener *l = obj;
    on_accept(l->eng, l);
}
