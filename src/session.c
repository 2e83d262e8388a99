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

const char *const session_state_names[] = { "waiting", "connecting", "open_sent", "open_confirm", "established",
                                     "restarting", "backoff", "closing", "closed", "failed" };

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

static const char *session_name(const struct session *x, char *buf, size_t len)
{
    char a[ADDR_STRLEN];
    snprintf(buf, len, "router %s %s session", addr_format(&x->router->src, a), proto_names[x->pc->id]);
    return buf;
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


/* Every state change re-arms the session's timer (a timer that fires early only looks). */
void session_set_state(struct session *x, enum state st)
{
    x->state = st;
    x->state_since = schedule_now_monotonic();
    session_arm(x);
}

/* ---- socket ---- */

void session_watch(struct session *x, bool out)
{
    if (loop_watch(x->all->loop, &x->c.io, EPOLLIN | EPOLLRDHUP | (out ? EPOLLOUT : 0)) == 0)
        x->c.want_out = out;
}

void session_close_socket(struct session *x)
{
    if (x->c.fd >= 0) {
        loop_unwatch(x->all->loop, &x->c.io);
        close(x->c.fd);
        x->c.fd = -1;
        x->c.io.fd = -1;
    }
    x->c.rlen = 0;
    x->c.want_out = false;
    x->c.since = 0;
}

/* reconnect: true always comes back (with backoff); by default (keep_open) only a session
 * that once had a connection last STABLE_NS: a collector that refuses a session (resets it
 * at once, as pmacct does a second session from one address) is not hammered into a restart
 * it did not have. */
static bool reconnect_enabled(const struct session *x)
{
    int r = x->pc->session.reconnect;
    if (x->no_reconnect)
        return false;
    return r < 0 ? x->all->env.keep_open && x->stable_ever : r;
}


/* The session lost its connection: back off and come back, or give up. What the collector
 * acknowledged up to the end (the last ACK may ride on its FIN) is delivered first. */
void session_down(struct session *x, const char *why)
{
    session_ack(x);
    if (x->c.since && schedule_now_monotonic() - x->c.since >= STABLE_NS) {
        x->stable_ever = true;
        x->backoff_ns = 0;
        x->quick_retries = 0;
    }
    session_close_socket(x);
    snprintf(x->last_error, sizeof x->last_error, "%s", why);
    queue_requeue_unacked(x);
    /* a connection that ended before the collector acknowledged a byte delivered nothing:
     * trying again loses and duplicates nothing (collectors with a listen backlog of 1
     * drop connections that arrive together) */
    bool nothing_delivered = x->c.acked == 0 && !x->no_reconnect && x->quick_retries < 5;
    if (nothing_delivered)
        x->quick_retries++;
    if ((nothing_delivered || reconnect_enabled(x)) && !loop_stop) {
        x->backoff_ns = x->backoff_ns ? x->backoff_ns * 2 : BACKOFF_MIN_NS;
        if (x->backoff_ns > BACKOFF_MAX_NS)
            x->backoff_ns = BACKOFF_MAX_NS;
        x->retry_at = schedule_now_monotonic() + x->backoff_ns;
        if (nothing_delivered)
            session_log(x, LOG_INFO, "%s before the collector took anything; trying again in %.1f s", why, (double)x->backoff_ns / 1e9);
        else
            session_log(x, LOG_WARN, "%s; reconnecting in %.1f s (%zu messages wait)", why,
                     (double)x->backoff_ns / 1e9, msgq_queued(&x->q));
        session_set_state(x, S_BACKOFF);
        return;
    }
    session_log(x, LOG_ERROR, "%s; this session ends, the others go on (its %zu queued messages and what the capture still "
              "holds for it are lost: the summary at the end counts them)", why,
              msgq_queued(&x->q));
    session_drop_all(x);
    x->all->env.stats->session_failures++;
    session_set_state(x, S_FAILED);
}

void session_connect(struct session *x)
{
    struct sessions *all = x->all;
    socklen_t len;
    const struct sockaddr_storage *to = all->env.collector(all->env.ctx, x->pc->id, x->router->repro.family, &len);
    char err[256];
    x->c.fd = to ? sock_open_tcp(&x->router->repro, to, len, all->env.sock_opts, err, sizeof err) : -1;
    if (x->c.fd < 0) {
        x->connect_failures++;
        x->router->stats[x->pc->id].send_errors++;
        all->env.stats->send_errors++;
        session_log(x, LOG_ERROR, "%s", to ? err : "no collector address");
        session_drop_all(x);
        session_set_state(x, S_FAILED);
        return;
    }
    x->c.written = x->c.acked = 0;
    x->c.io.fd = x->c.fd;
    session_watch(x, true);
    session_set_state(x, S_CONNECTING);
}

/* The connection is up: the preamble goes first on a reconnect. */
void session_connected(struct session *x)
{
    if (x->acked_ever && !x->fresh) {
        /* the preamble, then what the last connection did not deliver (a partly written
         * message whole again) */
        msgq_drop_head(&x->q, MSGQ_PREAMBLE); /* an earlier copy, never acknowledged: not twice */
        size_t len, msgs;
        const uint8_t *pre = preamble_bytes(&x->pre, &len, &msgs);
        if (len && (!pre || msgq_prepend(&x->q, pre, len, session_queue_frame(x->pc->proto), schedule_now_monotonic(),
                                         MSGQ_PREAMBLE) < 0))
            session_log(x, LOG_WARN, "no memory for the preamble");
        session_log(x, LOG_INFO, "connected again; preamble of %zu messages first", msgs);
    }
    x->fresh = false;
    x->c.since = schedule_now_monotonic();
    session_set_state(x, x->pc->id == PROTO_BGP ? S_OPEN_SENT : S_ESTABLISHED);
    x->last_write_ns = schedule_now_monotonic();
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
    struct tcp_info ti;
    socklen_t tl = sizeof ti;
    memset(&ti, 0, sizeof ti);
    if (x->c.fd < 0 || getsockopt(x->c.fd, IPPROTO_TCP, TCP_INFO, &ti, &tl) < 0 || ti.tcpi_bytes_acked == 0)
        return;
    uint64_t acked = ti.tcpi_bytes_acked - 1;
    if (acked > x->c.written) /* our FIN */
        acked = x->c.written;
    if (acked > x->c.acked) {
        x->c.acked = acked;
        x->last_progress_ns = schedule_now_monotonic();
    }
    msgq_ack(&x->q, x->c.acked, count_written, x);
    x->acked_ever |= x->c.acked > 0;
}

/* Bytes telrep itself writes (KEEPALIVE, NOTIFICATION, TERM) outside the queue. */
ssize_t session_raw_write(struct session *x, const void *p, size_t len)
{
    ssize_t w = write(x->c.fd, p, len);
    if (w > 0)
        x->c.written += (uint64_t)w;
    return w;
}

/* After a failed read or write: a real error takes the session down (true); EAGAIN/EINTR
 * only mean "later" (false). */
bool session_socket_failed(struct session *x, const char *what)
{
    if (errno == EAGAIN || errno == EINTR)
        return false;
    char why[160];
    snprintf(why, sizeof why, "%s: %s", what, strerror(errno));
    session_down(x, why);
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

/* BGP in OPEN_SENT: the head (not our OPEN) waits for the collector's OPEN */
static bool held_for_peer_open(const struct session *x)
{
    size_t len;
    const uint8_t *m = x->state == S_OPEN_SENT ? next_whole(x, &len) : NULL;
    return m && !session_is_bgp_open(x, m, len);
}

static void note_lag(void *ctx, int64_t due_ns)
{
    struct session *x = ctx;
    stats_note_lag(x->all->env.stats, x->last_write_ns - due_ns);
}

static void count_lost(void *ctx, const uint8_t *m, size_t bytes, size_t count, unsigned flags)
{
    ((struct session *)ctx)->lost += count;
}

/* A captured BGP session ended with our Cease and the collector's close: what the collector
 * acknowledged is delivered, the rest of that session is lost, never written on the next
 * connection, whose byte count starts again at 0. */
static void end_old_session(struct session *x)
{
    session_ack(x);
    msgq_ack(&x->q, UINT64_MAX, count_lost, x);
}

/* The captured session is over (the router's END message, or our Cease before the capture's
 * next OPEN, is written): half-close as the router did; the collector's close, or
 * RESTART_WAIT_NS, lets the next session start (session_next). */
static void end_captured_session(struct session *x)
{
    shutdown(x->c.fd, SHUT_WR);
    x->fresh = true;
    x->have_peer_open = false;
    session_set_state(x, S_RESTARTING);
    session_watch(x, false);
}

/* After end_captured_session: a new connection when the capture has more for it, else wait
 * for more (S_WAITING connects at the next message queued). */
void session_next(struct session *x)
{
    end_old_session(x);
    session_close_socket(x);
    if (msgq_pending(&x->q))
        session_connect(x);
    else
        session_set_state(x, S_WAITING);
}

/* Write what the socket takes. BGP in OPEN_SENT writes only its OPEN. */
void session_write(struct session *x)
{
    if (x->c.fd < 0)
        return;
    if (x->state != S_OPEN_SENT && x->state != S_ESTABLISHED) {
        if (x->state == S_OPEN_CONFIRM && x->c.want_out) /* nothing until the collector's KEEPALIVE */
            session_watch(x, false);
        return;
    }
    for (;;) {
        if (x->state == S_ESTABLISHED && open_queued(x)) {
            /* the capture starts a new BGP session: end this one as a peer would, open the next */
            uint8_t cease[21];
            bgp_notification(cease, BGP_ERR_CEASE, BGP_CEASE_ADMIN_RESET);
            if (session_raw_write(x, cease, sizeof cease) != (ssize_t)sizeof cease)
                session_log(x, LOG_DEBUG, "the Cease NOTIFICATION could not be written");
            session_log(x, LOG_INFO, "the capture opens a new BGP session: Cease, then a new connection once the collector "
                     "has closed the old one");
            x->restarts++;
            end_captured_session(x);
            return;
        }
        if (held_for_peer_open(x))
            break; /* the rest waits for the collector's OPEN */
        /* BGP: in OPEN_SENT only the OPEN; an OPEN starts a new session: it must reach the
         * head alone */
        bool bgp = x->pc->id == PROTO_BGP;
        struct iovec iov[IOV_MAX];
        bool ending = x->state == S_ESTABLISHED && (msgq_head_flags(&x->q) & FLAG_ENDS);
        int n = msgq_iov(&x->q, iov, IOV_MAX, x->state == S_OPEN_SENT, bgp ? x->pc->proto->starts_session : NULL);
        if (n <= 0)
            break;
        size_t total = 0;
        for (int i = 0; i < n; i++)
            total += iov[i].iov_len;
        ssize_t w = writev(x->c.fd, iov, n);
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
            session_log(x, LOG_INFO, "the capture ends the session here: closed as the router closed it");
            end_captured_session(x);
            session_ack(x);
            return;
        }
    }
    session_ack(x);
    bool out = msgq_unwritten(&x->q) && !held_for_peer_open(x);
    if (out != x->c.want_out)
        session_watch(x, out);
}

void session_send_keepalive(struct session *x)
{
    uint8_t ka[19];
    bgp_keepalive(ka);
    if (session_raw_write(x, ka, sizeof ka) == (ssize_t)sizeof ka) {
        x->keepalives_sent++;
        x->last_write_ns = schedule_now_monotonic();
    }
}

/* ---- timers ---- */

static void session_timers(struct session *x, int64_t now)
{
    char why[160];
    if (msgq_unacked(&x->q))
        session_ack(x);
    switch (x->state) {
    case S_CONNECTING:
        if (now - x->state_since >= CONNECT_TIMEOUT_NS)
            session_down(x, "no answer to the connection attempt within 10 s");
        break;
    case S_OPEN_CONFIRM:
    case S_OPEN_SENT:
        if (x->state == S_OPEN_CONFIRM || !open_queued(x)) { /* the OPEN is out */
            if (now - x->state_since >= (int64_t)(x->pc->session.open_timeout * 1e9)) {
                snprintf(why, sizeof why, "the collector did not answer the OPEN within %.0f s (bgp.open_timeout)",
                         x->pc->session.open_timeout);
                session_down(x, why);
            }
        }
        break;
    case S_ESTABLISHED:
        if (x->pc->id == PROTO_BGP && x->hold_time && !msgq_queued(&x->q) &&
            now - x->last_write_ns >= (int64_t)x->hold_time * NS_PER_SEC / 3)
            session_send_keepalive(x);
        break;
    case S_RESTARTING:
        if (now - x->state_since >= RESTART_WAIT_NS)
            session_next(x);
        break;
    case S_BACKOFF:
        if (now >= x->retry_at) {
            x->reconnects++;
            session_connect(x);
        }
        break;
    default:
        break;
    }
}

/* When the state next needs a look: its timeout, the next KEEPALIVE, the end of a backoff,
 * and while bytes are unacknowledged the next look at the socket's send queue. */
void session_arm(struct session *x)
{
    int64_t at = INT64_MAX;
    switch (x->state) {
    case S_CONNECTING: at = x->state_since + CONNECT_TIMEOUT_NS; break;
    case S_OPEN_SENT:
    case S_OPEN_CONFIRM: at = x->state_since + (int64_t)(x->pc->session.open_timeout * 1e9); break;
    case S_ESTABLISHED:
        if (x->pc->id == PROTO_BGP && x->hold_time)
            at = x->last_write_ns + (int64_t)x->hold_time * NS_PER_SEC / 3;
        break;
    case S_RESTARTING: at = x->state_since + RESTART_WAIT_NS; break;
    case S_BACKOFF: at = x->retry_at; break;
    default: break;
    }
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

void session_on_timer(void *obj)
{
    struct session *x = obj;
    if (x->state != S_CLOSED && x->state != S_FAILED)
        session_timers(x, schedule_now_monotonic());
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
