/* session.c — a TCP session's connection: the table, connect / down / backoff / reconnect
 * with the preamble, the write path, the acknowledgements and the timers on the loop.
 * session.h states the behaviour; session_int.h lists the files. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <limits.h>
#include <linux/tcp.h> /* its tcp_info has tcpi_bytes_acked */
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "hash.h"
#include "session_int.h"

/* ---- table ---- */

size_t session_key_hash(const struct router *r, int proto)
{
    uintptr_t at = (uintptr_t)r;
    return hash_u32(hash_bytes(HASH_START, &at, sizeof at), (uint32_t)proto);
}


struct sessions *sessions_new(const struct session_env *env)
{
    struct sessions *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->env = *env;
    s->loop = env->loop;
    s->ops = env->ops ? env->ops : &session_sys_ops;
    s->loop_mode = env->loop_body;
    s->flush = (struct loop_work){ .fn = sessions_flush, .obj = s };
    s->table_size = 1024;
    s->table = calloc(s->table_size, sizeof *s->table);
    if (!s->table) {
        free(s);
        return NULL;
    }
    return s;
}

/* The send queue frames messages its stream already cut, so it takes the longest the
 * protocol may carry. */
ssize_t (*session_queue_frame(const struct proto *p))(const uint8_t *, size_t)
{
    return p->frame_ext ? p->frame_ext : p->frame;
}

const char *session_collector_name(const struct session *x, char *buf, size_t len)
{
    socklen_t sl;
    const struct sockaddr_storage *to =
        x->all->env.collector(x->all->env.ctx, x->pc->id, x->collector, x->router->repro.family, &sl);
    return to ? sock_format(to, buf, len) : "none";
}

static const char *session_name(const struct session *x, char *buf, size_t len)
{
    char a[ADDR_STRLEN], c[90] = "", t[80];
    if (x->pc->n_collectors > 1) /* fan-out: which collector's */
        snprintf(c, sizeof c, " to %s", session_collector_name(x, t, sizeof t));
    char clone[16 + ADDR_STRLEN] = "", b[ADDR_STRLEN];
    if (x->router->n_clones > 1) /* which of the captured router's clones */
        snprintf(clone, sizeof clone, " (as %s)", addr_format(&x->router->repro, b));
    snprintf(buf, len, "router %s%s %s session%s", addr_format(&x->router->src, a), clone, proto_names[x->pc->id], c);
    return buf;
}

void session_emit(const struct session *x, const char *name, json_t *fields)
{
    if (!events_on()) {
        json_decref(fields);
        return;
    }
    char a[ADDR_STRLEN], b[ADDR_STRLEN], c[80];
    json_t *o = json_pack("{s:s,s:s,s:s,s:s}", "router", addr_format(&x->router->src, a), "repro_ip",
                          addr_format(&x->router->repro, b), "protocol", proto_names[x->pc->id], "collector",
                          session_collector_name(x, c, sizeof c));
    if (o && fields)
        json_object_update(o, fields);
    json_decref(fields);
    events_emit(name, o);
}

void session_log(const struct session *x, enum log_level level, const char *fmt, ...)
{
    if (level > log_threshold)
        return;
    char msg[512], n[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    log_msg(level, "%s: %s", session_name(x, n, sizeof n), msg);
}


/* ---- socket ---- */

static int sys_connect(const struct addr *local, const struct sockaddr_storage *remote, socklen_t len,
                       const struct sock_options *o, char *err, size_t errlen)
{
    return sock_open_tcp(local, remote, len, o, err, errlen);
}
static ssize_t sys_writev(int fd, const struct iovec *iov, int n) { return writev(fd, iov, n); }
static ssize_t sys_read(int fd, void *buf, size_t len) { return read(fd, buf, len); }
static int sys_shutdown(int fd) { return shutdown(fd, SHUT_WR); }
static int sys_error(int fd)
{
    int err = 0;
    socklen_t l = sizeof err;
    return getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &l) < 0 ? errno : err;
}
static uint64_t sys_acked(int fd)
{
    struct tcp_info ti;
    socklen_t tl = sizeof ti;
    memset(&ti, 0, sizeof ti);
    return getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &tl) < 0 ? 0 : ti.tcpi_bytes_acked;
}

const struct session_ops session_sys_ops = { sys_connect, sys_writev, sys_read, sys_shutdown, close, sys_error,
                                             sys_acked };

void session_watch(struct session *x, bool out)
{
    if (loop_watch(x->all->loop, &x->c.io, EPOLLIN | EPOLLRDHUP | (out ? EPOLLOUT : 0)) == 0)
        x->c.want_out = out;
}

void session_close_socket(struct session *x)
{
    if (x->c.fd >= 0) {
        loop_unwatch(x->all->loop, &x->c.io);
        x->all->ops->close(x->c.fd);
        x->c.fd = -1;
        x->c.io.fd = -1;
    }
    x->c.rlen = 0;
    x->c.want_out = false;
    x->c.since = 0;
    x->c.own_len = x->c.own_off = 0;
    x->c.fin_wanted = x->c.fin_sent = false;
}

/* A connection attempt to the protocol's collector (false: none can be made, said why). */
bool session_connect(struct session *x)
{
    struct sessions *all = x->all;
    socklen_t len;
    const struct sockaddr_storage *to =
        all->env.collector(all->env.ctx, x->pc->id, x->collector, x->router->repro.family, &len);
    char err[256];
    x->c.fd = to ? all->ops->connect(&x->router->repro, to, len, all->env.sock_opts, err, sizeof err) : -1;
    if (x->c.fd < 0) {
        x->connect_failures++;
        x->router->stats[x->pc->id].send_errors++;
        all->env.stats->send_errors++;
        session_log(x, LOG_ERROR, "%s", to ? err : "no collector address");
        return false;
    }
    x->c.written = x->c.acked = 0;
    x->c.io.fd = x->c.fd;
    session_watch(x, true);
    return true;
}

unsigned session_classify(const struct session *x, const uint8_t *m, size_t len)
{
    size_t at = x->pc->proto->kind_offset;
    if (at && len > at) /* frame() accepted it whole: its type byte is all there is to read */
        return kind_flags(x->pc->proto, m[at]);
    struct msg_info info = { .kind = -1 };
    bool malformed = x->pc->proto->inspect(m, len, &info) < 0;
    return kind_flags(x->pc->proto, info.kind) | (malformed ? FLAG_MALFORMED : 0);
}

/* messages the collector acknowledged: count of them, the same flags, bytes in all from m */
static void count_written(void *ctx, const uint8_t *m, size_t bytes, size_t count, unsigned flags)
{
    struct session *x = ctx;
    if (!(flags & FLAG_CLASSIFIED)) /* the reconnect preamble (a run of one) */
        flags |= session_classify(x, m, bytes);
    if ((flags & FLAG_PREAMBLE_KIND) && !(flags & MSGQ_PREAMBLE))
        preamble_apply(&x->pre, x->pc->proto, (int)(flags >> FLAG_KIND_SHIFT) - 1, m, bytes);
    struct proto_stats *ps = &x->router->stats[x->pc->id];
    if (flags & FLAG_MALFORMED)
        ps->malformed += count;
    stats_count_kind(ps, (int)(flags >> FLAG_KIND_SHIFT) - 1, count);
    ps->packets += count;
    ps->bytes += bytes;
    x->all->env.stats->sent += count;
    x->messages_sent += count;
    x->bytes_sent += bytes;
}

/* What the collector's TCP has acknowledged is delivered: counted, and no longer kept for a
 * resend. */
void session_ack(struct session *x)
{
    /* tcpi_bytes_acked counts what the collector's TCP acknowledged, the SYN included, and
     * still tells after a reset (when the send queue, SIOCOUTQ, is emptied as if all had
     * been acknowledged) */
    uint64_t got = x->c.fd >= 0 ? x->all->ops->acked(x->c.fd) : 0;
    if (got == 0)
        return;
    uint64_t acked = got - 1;
    if (acked > x->c.written) /* our FIN */
        acked = x->c.written;
    if (acked > x->c.acked) {
        x->c.acked = acked;
        x->last_progress_ns = schedule_now_monotonic();
    }
    msgq_ack(&x->q, x->c.acked, count_written, x);
    x->acked_ever |= x->c.acked > 0;
}

/* A message of telrep's own (KEEPALIVE, Cease, the goodbye), written whole between two of
 * the queue's messages (false: no room for it; it is not sent). */
bool session_say(struct session *x, const uint8_t *m, size_t len)
{
    if (x->c.fd < 0 || x->c.fin_wanted || len > sizeof x->c.own - x->c.own_len)
        return false;
    memcpy(x->c.own + x->c.own_len, m, len);
    x->c.own_len += len;
    x->last_write_ns = schedule_now_monotonic();
    session_write(x);
    return true;
}

/* Our FIN, once what is half-written and our own messages are out. */
void session_fin(struct session *x)
{
    x->c.fin_wanted = true;
    session_write(x);
}

/* After a failed read or write: a real error takes the session down (true); EAGAIN/EINTR
 * only mean "later" (false). */
bool session_socket_failed(struct session *x, const char *what)
{
    if (errno == EAGAIN || errno == EINTR)
        return false;
    char why[160];
    snprintf(why, sizeof why, "%s: %s", what, strerror(errno));
    session_fsm(x, EV_PEER_DOWN, why);
    return true;
}

bool session_is_bgp_open(const struct session *x, const uint8_t *m, size_t len)
{
    return x->pc->id == PROTO_BGP && x->pc->proto->starts_session(m, len);
}

/* the next message to write, not started (NULL if there is none or it is partly written) */
static const uint8_t *next_whole(const struct session *x, size_t *len)
{
    size_t written;
    const uint8_t *m = msgq_head(&x->q, len, &written);
    return m && !written ? m : NULL;
}

/* our OPEN is at the head of the queue, not started */
static bool open_queued(const struct session *x)
{
    size_t len;
    const uint8_t *m = next_whole(x, &len);
    return m && session_is_bgp_open(x, m, len);
}

static void note_lag(void *ctx, int64_t due_ns)
{
    struct session *x = ctx;
    stats_note_lag(x->all->env.stats, x->last_write_ns - due_ns);
}

/* BGP before the session is established: our OPEN, not yet started, is at the head. It goes
 * before anything else, KEEPALIVE included. */
static bool open_first(const struct session *x)
{
    return (x->state == S_OPEN_SENT || x->state == S_OPEN_CONFIRM) && open_queued(x);
}

/* How many of the queue's messages the state lets out now (0: none). A half-written message
 * is always finished first, our OPEN goes first; then ESTABLISHED writes everything, the
 * other states nothing (BGP waits for the collector's OPEN and KEEPALIVE). */
static size_t writable(const struct session *x, bool partial)
{
    if (partial || open_first(x))
        return 1;
    return x->state == S_ESTABLISHED ? SIZE_MAX : 0;
}

/* Write what the socket takes, in this order: the rest of a half-written message; our own
 * messages (session_say); the queue, as far as the state lets it (writable); our FIN when
 * asked (session_fin). What the write finds (the capture's next OPEN or its END written, a
 * lost connection) is raised as an event. */
void session_write(struct session *x)
{
    size_t len, written;
    for (;;) {
        if (x->c.fd < 0)
            return;
        bool partial = msgq_head(&x->q, &len, &written) && written > 0;
        if (!partial && x->c.own_off < x->c.own_len && !open_first(x)) {
            struct iovec iov = { x->c.own + x->c.own_off, x->c.own_len - x->c.own_off };
            ssize_t w = x->all->ops->writev(x->c.fd, &iov, 1);
            if (w < 0) {
                if (session_socket_failed(x, "write"))
                    return;
                break;
            }
            x->c.written += (uint64_t)w;
            x->c.own_off += (size_t)w;
            if (x->c.own_off == x->c.own_len)
                x->c.own_off = x->c.own_len = 0;
            continue;
        }
        if (!partial && x->c.fin_wanted) {
            if (!x->c.fin_sent) {
                x->all->ops->shutdown(x->c.fd);
                x->c.fin_sent = true;
            }
            break;
        }
        if (!partial && x->state == S_ESTABLISHED && open_queued(x)) { /* the capture starts a new BGP session */
            session_fsm(x, EV_CAPTURE_RESTART, NULL);
            continue;
        }
        size_t max = writable(x, partial);
        if (!max)
            break;
        /* an OPEN starts a new session: it must reach the head alone */
        struct iovec iov[IOV_MAX];
        bool ending = x->state == S_ESTABLISHED && (msgq_head_flags(&x->q) & FLAG_ENDS);
        int n = msgq_iov(&x->q, iov, IOV_MAX, max == SIZE_MAX ? 0 : max,
                         x->pc->id == PROTO_BGP ? x->pc->proto->starts_session : NULL);
        if (n <= 0)
            break;
        size_t total = 0;
        for (int i = 0; i < n; i++)
            total += iov[i].iov_len;
        ssize_t w = x->all->ops->writev(x->c.fd, iov, n);
        if (w < 0) {
            if (session_socket_failed(x, "write"))
                return;
            break;
        }
        x->last_write_ns = schedule_now_monotonic();
        /* lag is behind a schedule: time_factor 0 has none (as for UDP) */
        msgq_written(&x->q, (size_t)w, x->c.written, x->all->env.cfg->time_factor > 0 ? note_lag : NULL, x);
        x->c.written += (uint64_t)w;
        if ((size_t)w < total)
            break; /* the socket is full */
        if (ending && !(msgq_head_flags(&x->q) & FLAG_ENDS)) { /* the router's END is out whole */
            session_ack(x);
            session_fsm(x, EV_CAPTURE_END, NULL);
        }
    }
    session_ack(x);
    bool partial = msgq_head(&x->q, &len, &written) && written > 0;
    bool out = x->c.own_off < x->c.own_len || (x->c.fin_wanted && !x->c.fin_sent) ||
               (msgq_unwritten(&x->q) && writable(x, partial));
    if (out != x->c.want_out)
        session_watch(x, out);
}

void session_send_keepalive(struct session *x)
{
    uint8_t ka[BGP_KEEPALIVE_LEN];
    bgp_keepalive(ka);
    if (x->c.own_len == 0 && session_say(x, ka, sizeof ka)) /* not while one waits */
        x->keepalives_sent++;
}

/* ---- timers ---- */

/* The state's next deadline (INT64_MAX: none): its timeout, the next KEEPALIVE (BGP,
 * established, nothing queued: a KEEPALIVE never goes between the parts of a message), the
 * end of a backoff. */
static int64_t state_deadline(const struct session *x)
{
    switch (x->state) {
    case S_CONNECTING: return x->state_since + CONNECT_TIMEOUT_NS;
    case S_OPEN_SENT:
    case S_OPEN_CONFIRM: return x->state_since + (int64_t)(x->pc->session.open_timeout * 1e9);
    case S_ESTABLISHED:
        if (x->pc->id == PROTO_BGP && x->hold_time && !msgq_queued(&x->q))
            return x->last_write_ns + (int64_t)x->hold_time * NS_PER_SEC / 3;
        return INT64_MAX;
    case S_RESTARTING: return x->state_since + RESTART_WAIT_NS;
    case S_BACKOFF: return x->retry_at;
    default: return INT64_MAX;
    }
}

/* The session's timer: the state's deadline, and while bytes are unacknowledged the next
 * look at what the collector acknowledged. */
void session_arm(struct session *x)
{
    int64_t at = state_deadline(x);
    if (x->c.fd >= 0 && msgq_unacked(&x->q)) {
        int64_t poll = schedule_now_monotonic() + ACK_POLL_NS;
        if (poll < at)
            at = poll;
    }
    /* an armed timer that comes sooner is kept: it only looks and arms again, and the
     * write path (which arms after every flush) does not move it in the heap each time */
    if (at == INT64_MAX)
        loop_timer_cancel(x->all->loop, &x->timer);
    else if (!loop_timer_armed(&x->timer) || x->timer.at > at)
        loop_timer_set(x->all->loop, &x->timer, at);
}

/* Written to, acknowledged nothing, for UNANSWERED_NS: never taken by the collector. */
static bool unanswered(const struct session *x)
{
    return x->c.fd >= 0 && x->c.since && x->c.written && !x->c.acked &&
           schedule_now_monotonic() - x->c.since >= UNANSWERED_NS;
}

/* The timer only raises the event its deadline names. */
void session_on_timer(void *obj)
{
    struct session *x = obj;
    if (msgq_unacked(&x->q))
        session_ack(x);
    if (unanswered(x)) {
        session_fsm(x, EV_PEER_DOWN, "the collector acknowledged nothing within 5 s of the connection (its listen "
                                     "queue was full?)");
        session_arm(x);
        return;
    }
    if (schedule_now_monotonic() >= state_deadline(x))
        session_fsm(x, x->state == S_ESTABLISHED ? EV_KEEPALIVE_DUE : EV_TIMEOUT, NULL);
    session_arm(x);
}

void session_on_io(void *obj, uint32_t events)
{
    struct session *x = obj;
    session_event(x, events);
    session_arm(x);
}

/* time_factor 0 is paced by the collectors: while a session has over PACE_BYTES unwritten and
 * its collector is reading (it acknowledged something within the last second), the captures
 * wait for it instead of spilling to disk. PACE_BYTES is small (the socket's buffer holds far
 * more), so that what is queued is still in the CPU's cache when the kernel copies it. A
 * collector that stopped reading does not hold the others up: its session spills, as at any
 * other time_factor. */
#define PACE_STALE_NS NS_PER_SEC
#define PACE_BYTES (256u << 10)

static struct session *pacing_session(struct sessions *s, int64_t now)
{
    for (struct session *x = s->list; x; x = x->next_all) {
        if (x->q.unwritten_bytes < PACE_BYTES || x->q.spilled || x->c.fd < 0)
            continue;
        int64_t since = x->last_progress_ns > x->state_since ? x->last_progress_ns : x->state_since;
        if (now - since < PACE_STALE_NS)
            return x;
    }
    return NULL;
}

void sessions_poll(struct sessions *s)
{
    if (!s || !s->n)
        return;
    loop_run(s->loop, 0);
    int64_t now;
    while (!loop_stop && pacing_session(s, now = schedule_now_monotonic()))
        loop_run(s->loop, now + NS_PER_SEC / 1000);
}
