/* session.c — live TCP sessions replaying captured BGP, BMP and generic TCP streams.
 * See session.h for the behaviour; this file is the state machine and the event loop. */
#define _GNU_SOURCE
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <linux/tcp.h> /* its tcp_info has tcpi_bytes_acked */
#include <netinet/in.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "loop.h"
#include "msgq.h"
#include "preamble.h"
#include "replay.h"
#include "proto/proto.h"
#include "schedule.h"
#include "session.h"
#include "tcpstream.h"

#define ACK_POLL_NS 50000000         /* unacknowledged bytes are looked at every 50 ms */
#define DRAIN_STEP_NS 50000000
#define CONNECT_TIMEOUT_NS (10 * NS_PER_SEC)
#define BACKOFF_MIN_NS (NS_PER_SEC / 2)
#define BACKOFF_MAX_NS (30 * NS_PER_SEC)
/* A connection that lasted this long was a session, not a refusal: the backoff and the quick
 * retries start again after it. (A collector's kernel acknowledges what it queues before the
 * application reads it, so an acknowledgement alone proves nothing.) */
#define STABLE_NS (5 * NS_PER_SEC)
#define READ_MAX 65536

/* BGP: OPEN_SENT (our OPEN out, waiting for theirs) -> OPEN_CONFIRM (their OPEN answered
 * with a KEEPALIVE, waiting for their KEEPALIVE) -> ESTABLISHED; only then UPDATEs. */
enum state { S_WAITING, S_CONNECTING, S_OPEN_SENT, S_OPEN_CONFIRM, S_ESTABLISHED, S_RESTARTING, S_BACKOFF,
             S_CLOSING, S_CLOSED, S_FAILED };
static const char *state_names[] = { "waiting", "connecting", "open_sent", "open_confirm", "established",
                                     "restarting", "backoff", "closing", "closed", "failed" };
#define RESTART_WAIT_NS (2 * NS_PER_SEC)

/* One captured TCP conversation (one direction) feeding a session. */
struct conversation {
    struct conversation *next;
    struct addr dst;
    uint16_t sport, dport;
    struct tcpstream stream;
    struct msgstream msgs;
};

#define MAX_CONVERSATIONS 64 /* per session and capture; beyond, the oldest is finished */

/* One live session per router and protocol: it lives across the captures of a run (a
 * capture of route monitoring continues the session another capture's INIT started). */
struct session {
    struct sessions *all;
    struct router *router;
    const struct proto_config *pc;
    struct conversation *convs;
    unsigned n_convs;
    uint64_t conversations;   /* seen in all */
    /* what the conversations held, summed when they end */
    uint64_t duplicate_bytes, reordered_segments, holes, hole_bytes, resyncs, skipped_bytes;
    uint64_t incomplete_messages, incomplete_bytes; /* cut short by the capture's end */
    bool started;             /* a session start was seen */
    bool dirty;               /* on the sessions' dirty list */
    struct session *next_dirty;
    bool fresh;               /* BGP: a new OPEN starts a new session: no preamble */
    bool capture_ended;       /* the capture's ROLE_END was queued: nothing until its next START */
    bool confirm_pending;     /* a START was queued: a ROLE_CONFIRM next is the router's, replaced */
    uint64_t confirms_replaced, skipped_after_end;
    /* sessions_close_all: the goodbye (proto->goodbye) still to write, then our FIN */
    uint8_t bye[32];
    size_t bye_len, bye_off;
    bool fin_sent;
    uint64_t restarts;        /* BGP sessions the capture itself started again */
    /* the live side */
    enum state state;
    int fd;
    bool want_out;            /* EPOLLOUT registered */
    struct loop_io io;        /* the socket on the loop (io.fd == fd) */
    struct loop_timer timer;  /* the state's next deadline: see arm() */
    int64_t state_since, last_write_ns, retry_at, backoff_ns;
    int64_t last_progress_ns; /* when the collector last acknowledged something */
    unsigned hold_time;       /* negotiated, BGP */
    unsigned our_hold_time;   /* in the OPEN we send */
    uint8_t *rbuf;            /* what the collector sent, not yet framed */
    size_t rlen;
    /* the messages: queued, written, and kept until the collector's TCP acknowledged them
     * (sent again after a reset) */
    struct msgq q;
    uint64_t conn_written, conn_acked; /* bytes on the current connection */
    bool acked_ever;          /* the collector has received something: a reconnect needs the preamble */
    int64_t connected_at;     /* when the current connection came up (0: none) */
    bool stable_ever;         /* a connection lasted STABLE_NS: the collector takes this session */
    unsigned quick_retries;   /* connections that ended before anything was acknowledged */
    uint64_t resent;
    /* what a reconnect replays first */
    struct preamble pre;
    /* counters */
    uint64_t spilled_total;   /* messages that waited in the temporary file */
    uint64_t messages_sent, bytes_sent, skipped_before_start, lost, reconnects, connect_failures, keepalives_sent,
        peer_messages, notifications_received;
    uint64_t connect_refused; /* connection attempts the collector refused (not messages) */
    char last_error[160];
    struct bgp_open peer_open;
    bool have_peer_open;
    bool no_reconnect;        /* the collector refused for good (OPEN error) */
    struct session *next;     /* in the hash chain */
    struct session *next_all;
};

struct sessions {
    struct session_env env;
    struct loop *loop;        /* the run's one event loop (env.loop) */
    struct loop_work flush;   /* posted when a session became dirty */
    size_t closing;           /* sessions_close_all: FINs still awaited */
    struct session **table;
    size_t table_size, n;
    struct session *list;     /* every session ever, for the report */
    struct session *dirty;    /* sessions with new messages, written at the next flush */
};

/* ---- table ---- */

static size_t key_hash(const struct router *r, int proto)
{
    return ((size_t)(uintptr_t)r * 31u + (size_t)proto) * 2654435761u;
}

static void flush_dirty(void *obj);

struct sessions *sessions_new(const struct session_env *env)
{
    struct sessions *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->env = *env;
    s->loop = env->loop;
    s->flush = (struct loop_work){ .fn = flush_dirty, .obj = s };
    s->table_size = 1024;
    s->table = calloc(s->table_size, sizeof *s->table);
    if (!s->table) {
        free(s);
        return NULL;
    }
    return s;
}

bool sessions_active(const struct sessions *s) { return s && s->n > 0; }

/* The send queue frames messages its stream already cut, so it takes the longest the
 * protocol may carry. */
static ssize_t (*queue_frame(const struct proto *p))(const uint8_t *, size_t)
{
    return p->frame_ext ? p->frame_ext : p->frame;
}

static const char *session_name(const struct session *x, char *buf, size_t len)
{
    char a[ADDR_STRLEN];
    snprintf(buf, len, "router %s %s session", addr_format(&x->router->src, a), proto_names[x->pc->id]);
    return buf;
}

static void arm(struct session *x);

/* Every state change re-arms the session's timer (a timer that fires early only looks). */
static void set_state(struct session *x, enum state st)
{
    x->state = st;
    x->state_since = schedule_now_monotonic();
    arm(x);
}

/* ---- queue ---- */

/* After a lost connection what it did not acknowledge is written again, in order. */
static void queue_requeue_unacked(struct session *x) { x->resent += msgq_requeue(&x->q); }

/* Everything still queued or unacknowledged is lost (counted). */
static void queue_drop_all(struct session *x) { x->lost += msgq_drop(&x->q); }

/* ---- socket ---- */

static void watch(struct session *x, bool out)
{
    if (loop_watch(x->all->loop, &x->io, EPOLLIN | EPOLLRDHUP | (out ? EPOLLOUT : 0)) == 0)
        x->want_out = out;
}

static void close_socket(struct session *x)
{
    if (x->fd >= 0) {
        loop_unwatch(x->all->loop, &x->io);
        close(x->fd);
        x->fd = -1;
        x->io.fd = -1;
    }
    x->rlen = 0;
    x->want_out = false;
    x->connected_at = 0;
}

/* reconnect: true always comes back (with backoff); by default (keep_open) only a session
 * the collector once took something from: a collector that refuses a session (resets it
 * before taking anything, as pmacct does a second session from one address) is not hammered
 * into a restart it did not have. */
static bool reconnect_enabled(const struct session *x)
{
    int r = x->pc->session.reconnect;
    if (x->no_reconnect)
        return false;
    return r < 0 ? x->all->env.keep_open && x->stable_ever : r;
}

static void session_ack(struct session *x);

/* The session lost its connection: back off and come back, or give up. What the collector
 * acknowledged up to the end (the last ACK may ride on its FIN) is delivered first. */
static void session_down(struct session *x, const char *why)
{
    char n[160];
    session_ack(x);
    if (x->connected_at && schedule_now_monotonic() - x->connected_at >= STABLE_NS) {
        x->stable_ever = true;
        x->backoff_ns = 0;
        x->quick_retries = 0;
    }
    close_socket(x);
    snprintf(x->last_error, sizeof x->last_error, "%s", why);
    queue_requeue_unacked(x);
    /* a connection that ended before the collector acknowledged a byte delivered nothing:
     * trying again loses and duplicates nothing (collectors with a listen backlog of 1
     * drop connections that arrive together) */
    bool nothing_delivered = x->conn_acked == 0 && !x->no_reconnect && x->quick_retries < 5;
    if (nothing_delivered)
        x->quick_retries++;
    if ((nothing_delivered || reconnect_enabled(x)) && !loop_stop) {
        x->backoff_ns = x->backoff_ns ? x->backoff_ns * 2 : BACKOFF_MIN_NS;
        if (x->backoff_ns > BACKOFF_MAX_NS)
            x->backoff_ns = BACKOFF_MAX_NS;
        x->retry_at = schedule_now_monotonic() + x->backoff_ns;
        if (nothing_delivered)
            log_info("%s: %s before the collector took anything; trying again in %.1f s", session_name(x, n, sizeof n),
                     why, (double)x->backoff_ns / 1e9);
        else
            log_warn("%s: %s; reconnecting in %.1f s (%zu messages wait)", session_name(x, n, sizeof n), why,
                     (double)x->backoff_ns / 1e9, msgq_queued(&x->q));
        set_state(x, S_BACKOFF);
        return;
    }
    log_error("%s: %s; this session ends, the others go on (its %zu queued messages and what the capture still "
              "holds for it are lost: the summary at the end counts them)", session_name(x, n, sizeof n), why,
              msgq_queued(&x->q));
    queue_drop_all(x);
    x->all->env.stats->session_failures++;
    set_state(x, S_FAILED);
}

static void session_connect(struct session *x)
{
    struct sessions *all = x->all;
    socklen_t len;
    const struct sockaddr_storage *to = all->env.collector(all->env.ctx, x->pc->id, x->router->repro.family, &len);
    char err[256], n[160];
    x->fd = to ? sock_open_tcp(&x->router->repro, to, len, all->env.sock_opts, err, sizeof err) : -1;
    if (x->fd < 0) {
        x->connect_failures++;
        x->router->stats[x->pc->id].send_errors++;
        all->env.stats->send_errors++;
        log_error("%s: %s", session_name(x, n, sizeof n), to ? err : "no collector address");
        queue_drop_all(x);
        set_state(x, S_FAILED);
        return;
    }
    x->conn_written = x->conn_acked = 0;
    x->io.fd = x->fd;
    watch(x, true);
    set_state(x, S_CONNECTING);
}

/* The connection is up: the preamble goes first on a reconnect. */
static void session_connected(struct session *x)
{
    char n[160];
    if (x->acked_ever && !x->fresh) {
        /* the preamble, then what the last connection did not deliver (a partly written
         * message whole again) */
        msgq_drop_head(&x->q, MSGQ_PREAMBLE); /* an earlier copy, never acknowledged: not twice */
        size_t len, msgs;
        const uint8_t *pre = preamble_bytes(&x->pre, &len, &msgs);
        if (len && (!pre || msgq_prepend(&x->q, pre, len, queue_frame(x->pc->proto), schedule_now_monotonic(),
                                         MSGQ_PREAMBLE) < 0))
            log_warn("%s: no memory for the preamble", session_name(x, n, sizeof n));
        log_info("%s: connected again; preamble of %zu messages first", session_name(x, n, sizeof n), msgs);
    }
    x->fresh = false;
    x->connected_at = schedule_now_monotonic();
    set_state(x, x->pc->id == PROTO_BGP ? S_OPEN_SENT : S_ESTABLISHED);
    x->last_write_ns = schedule_now_monotonic();
}

/* What the counters need of a message, found while it is queued (and in the cache) and kept
 * in its queue flags, so that counting it once acknowledged does not read it again. */
#define FLAG_CLASSIFIED (1u << 8)
#define FLAG_MALFORMED (1u << 9)
#define FLAG_PREAMBLE_KIND (1u << 10) /* a preamble role (preamble.h): applied once acknowledged */
#define FLAG_ENDS (1u << 11)          /* ROLE_END: the session ends once it is written */
#define FLAG_KIND_SHIFT 16            /* kind + 1 (0: none) */

/* the flags of a message of this kind (-1: unknown) */
static inline unsigned kind_flags(const struct proto *p, int kind)
{
    unsigned f = FLAG_CLASSIFIED;
    if (kind >= 0 && kind < 0xffff)
        f |= (unsigned)(kind + 1) << FLAG_KIND_SHIFT;
    enum msg_role role = p->msg_role ? p->msg_role(kind) : ROLE_NONE;
    if (role != ROLE_NONE && role != ROLE_CONFIRM)
        f |= FLAG_PREAMBLE_KIND | MSGQ_ALONE; /* applied from its acknowledgement on, alone */
    if (role == ROLE_END)
        f |= FLAG_ENDS | MSGQ_BARRIER; /* in a write of its own, then the session ends */
    return f;
}

static unsigned classify(const struct session *x, const uint8_t *m, size_t len)
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
        flags |= classify(x, m, bytes);
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

/* What the collector's TCP has acknowledged (sent minus what is still in the socket's
 * send queue) is delivered: counted, and no longer kept for a resend. */
static void session_ack(struct session *x)
{
    /* tcpi_bytes_acked counts what the collector's TCP acknowledged, the SYN included, and
     * still tells after a reset (when the send queue, SIOCOUTQ, is emptied as if all had
     * been acknowledged) */
    struct tcp_info ti;
    socklen_t tl = sizeof ti;
    memset(&ti, 0, sizeof ti);
    if (x->fd < 0 || getsockopt(x->fd, IPPROTO_TCP, TCP_INFO, &ti, &tl) < 0 || ti.tcpi_bytes_acked == 0)
        return;
    uint64_t acked = ti.tcpi_bytes_acked - 1;
    if (acked > x->conn_written) /* our FIN */
        acked = x->conn_written;
    if (acked > x->conn_acked) {
        x->conn_acked = acked;
        x->last_progress_ns = schedule_now_monotonic();
    }
    msgq_ack(&x->q, x->conn_acked, count_written, x);
    if (x->conn_acked) {
        x->acked_ever = true;
    }
}

/* Bytes telrep itself writes (KEEPALIVE, NOTIFICATION, TERM) outside the queue. */
static ssize_t raw_write(struct session *x, const void *p, size_t len)
{
    ssize_t w = write(x->fd, p, len);
    if (w > 0)
        x->conn_written += (uint64_t)w;
    return w;
}

/* After a failed read or write: a real error takes the session down (true); EAGAIN/EINTR
 * only mean "later" (false). */
static bool socket_failed(struct session *x, const char *what)
{
    if (errno == EAGAIN || errno == EINTR)
        return false;
    char why[160];
    snprintf(why, sizeof why, "%s: %s", what, strerror(errno));
    session_down(x, why);
    return true;
}

static bool is_bgp_open(const struct session *x, const uint8_t *m, size_t len)
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
    return m && is_bgp_open(x, m, len);
}

/* BGP in OPEN_SENT: the head (not our OPEN) waits for the collector's OPEN */
static bool held_for_peer_open(const struct session *x)
{
    size_t len;
    const uint8_t *m = x->state == S_OPEN_SENT ? next_whole(x, &len) : NULL;
    return m && !is_bgp_open(x, m, len);
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
 * RESTART_WAIT_NS, lets the next session start (next_session). */
static void end_captured_session(struct session *x)
{
    shutdown(x->fd, SHUT_WR);
    x->fresh = true;
    x->have_peer_open = false;
    set_state(x, S_RESTARTING);
    watch(x, false);
}

/* After end_captured_session: a new connection when the capture has more for it, else wait
 * for more (S_WAITING connects at the next message queued). */
static void next_session(struct session *x)
{
    end_old_session(x);
    close_socket(x);
    if (msgq_pending(&x->q))
        session_connect(x);
    else
        set_state(x, S_WAITING);
}

/* Write what the socket takes. BGP in OPEN_SENT writes only its OPEN. */
static void session_write(struct session *x)
{
    if (x->fd < 0)
        return;
    if (x->state != S_OPEN_SENT && x->state != S_ESTABLISHED) {
        if (x->state == S_OPEN_CONFIRM && x->want_out) /* nothing until the collector's KEEPALIVE */
            watch(x, false);
        return;
    }
    for (;;) {
        if (x->state == S_ESTABLISHED && open_queued(x)) {
            /* the capture starts a new BGP session: end this one as a peer would, open the next */
            char n[160];
            uint8_t cease[21];
            bgp_notification(cease, BGP_ERR_CEASE, BGP_CEASE_ADMIN_RESET);
            if (raw_write(x, cease, sizeof cease) != (ssize_t)sizeof cease)
                log_debug("%s: the Cease NOTIFICATION could not be written", session_name(x, n, sizeof n));
            log_info("%s: the capture opens a new BGP session: Cease, then a new connection once the collector "
                     "has closed the old one", session_name(x, n, sizeof n));
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
        ssize_t w = writev(x->fd, iov, n);
        if (w < 0) {
            if (socket_failed(x, "write"))
                return;
            break;
        }
        x->last_write_ns = schedule_now_monotonic();
        /* lag is behind a schedule: time_factor 0 has none (as for UDP) */
        msgq_written(&x->q, (size_t)w, x->conn_written, x->all->env.cfg->time_factor > 0 ? note_lag : NULL, x);
        x->conn_written += (uint64_t)w;
        if ((size_t)w < total)
            break; /* the socket is full */
        if (ending && !(msgq_head_flags(&x->q) & FLAG_ENDS)) { /* the router's END is out whole */
            char nm[160];
            log_info("%s: the capture ends the session here: closed as the router closed it", session_name(x, nm, sizeof nm));
            end_captured_session(x);
            session_ack(x);
            return;
        }
    }
    session_ack(x);
    bool out = msgq_unwritten(&x->q) && !held_for_peer_open(x);
    if (out != x->want_out)
        watch(x, out);
}

static void send_keepalive(struct session *x)
{
    uint8_t ka[19];
    bgp_keepalive(ka);
    if (raw_write(x, ka, sizeof ka) == (ssize_t)sizeof ka) {
        x->keepalives_sent++;
        x->last_write_ns = schedule_now_monotonic();
    }
}

/* ---- what the collector says ---- */

static void peer_message(struct session *x, const uint8_t *m, size_t len)
{
    char n[160], text[160];
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
        log_info("%s: collector OPEN: AS %u, hold time %u (negotiated %u), BGP ID %s, %u capabilities",
                 session_name(x, n, sizeof n), x->peer_open.asn, x->peer_open.hold_time, x->hold_time,
                 addr_format_ipv4(x->peer_open.bgp_id, id), x->peer_open.n_caps);
        if (x->state == S_OPEN_SENT) {
            session_write(x); /* our OPEN first, if it is not out yet */
            send_keepalive(x); /* confirms theirs */
            set_state(x, S_OPEN_CONFIRM);
        }
        break;
    case BGP_KEEPALIVE:
    case BGP_UPDATE:
        if (x->state == S_OPEN_CONFIRM) {
            set_state(x, S_ESTABLISHED);
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

static void session_read(struct session *x)
{
    if (!x->rbuf && !(x->rbuf = malloc(READ_MAX)))
        return;
    for (;;) {
        ssize_t r = read(x->fd, x->rbuf + x->rlen, READ_MAX - x->rlen);
        if (x->state == S_RESTARTING && (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR))) {
            next_session(x); /* the old session is gone: the new one starts */
            return;
        }
        if (x->state == S_RESTARTING && r > 0) {
            x->rlen = 0; /* what the old session still says does not matter */
            continue;
        }
        if (r == 0) {
            session_down(x, "the collector closed the connection");
            return;
        }
        if (r < 0) {
            socket_failed(x, "read");
            return;
        }
        if (x->pc->id != PROTO_BGP) { /* BMP collectors send nothing that matters */
            x->rlen = 0;
            continue;
        }
        x->rlen += (size_t)r;
        size_t off = 0;
        while (off < x->rlen) {
            ssize_t l = proto_bgp.frame_ext(x->rbuf + off, x->rlen - off);
            if (l < 0) {
                session_down(x, "the collector sent bytes that are not BGP");
                return;
            }
            if (l == 0)
                break;
            peer_message(x, x->rbuf + off, (size_t)l);
            if (x->fd < 0)
                return;
            off += (size_t)l;
        }
        memmove(x->rbuf, x->rbuf + off, x->rlen - off);
        x->rlen -= off;
    }
}

static void closing_done(struct session *x)
{
    close_socket(x);
    if (x->all->closing && --x->all->closing == 0)
        loop_break(x->all->loop);
}

/* sessions_close_all: what a write left half-written is finished first (the collector never
 * sees a stream end inside a message), then the goodbye, then our FIN; a full socket only
 * means later (EPOLLOUT), never a dropped TERM. */
static void closing_write(struct session *x)
{
    size_t len, written;
    while (msgq_head(&x->q, &len, &written) && written > 0) {
        struct iovec iov[8];
        int n = msgq_iov(&x->q, iov, 8, 1, NULL);
        ssize_t w = n > 0 ? writev(x->fd, iov, n) : -1;
        if (w <= 0)
            goto blocked;
        msgq_written(&x->q, (size_t)w, x->conn_written, NULL, NULL);
        x->conn_written += (uint64_t)w;
    }
    while (x->bye_off < x->bye_len) {
        ssize_t w = raw_write(x, x->bye + x->bye_off, x->bye_len - x->bye_off);
        if (w <= 0)
            goto blocked;
        x->bye_off += (size_t)w;
    }
    if (!x->fin_sent) {
        char n[160];
        if (x->bye_len)
            log_info("%s: %s sent", session_name(x, n, sizeof n), x->pc->id == PROTO_BGP ? "Cease" : "TERM");
        shutdown(x->fd, SHUT_WR);
        x->fin_sent = true;
        watch(x, false);
    }
    return;
blocked:
    if (errno == EAGAIN || errno == EINTR)
        watch(x, true);
    else
        closing_done(x); /* the collector is gone: nothing more can reach it */
}

/* sessions_close_all: the FIN is out, the collector's is awaited */
static void closing_event(struct session *x)
{
    char b[4096];
    ssize_t r;
    while ((r = read(x->fd, b, sizeof b)) > 0)
        ; /* what the collector still says does not matter */
    if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
        session_ack(x);
        closing_done(x);
    }
}

static void session_event(struct session *x, uint32_t events)
{
    if (x->state == S_CLOSING) {
        if (events & EPOLLOUT)
            closing_write(x);
        if (x->fd >= 0 && (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)))
            closing_event(x);
        return;
    }
    if (x->state == S_CONNECTING) {
        if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
            return;
        int err = 0;
        socklen_t l = sizeof err;
        getsockopt(x->fd, SOL_SOCKET, SO_ERROR, &err, &l);
        if (err) {
            char why[160], n[160];
            x->connect_failures++;
            if (err == ECONNREFUSED) { /* attempts, not messages: counted apart */
                x->connect_refused++;
                x->router->stats[x->pc->id].connect_refused++;
                x->all->env.stats->connect_refused++;
            }
            snprintf(why, sizeof why, "cannot connect: %s", strerror(err));
            if (x->connect_failures == 1)
                log_debug("%s: %s", session_name(x, n, sizeof n), why);
            session_down(x, why);
            return;
        }
        session_connected(x);
        session_write(x); /* BGP: our OPEN before anything we answer */
        if (x->fd < 0)
            return;
    }
    if (events & EPOLLIN || events & EPOLLRDHUP) {
        session_read(x);
        if (x->fd < 0)
            return;
    }
    if (events & EPOLLOUT)
        session_write(x);
}

/* ---- timers ---- */

static void session_timers(struct session *x, int64_t now)
{
    char why[160];
    if (msgq_unacked(&x->q))
        session_ack(x);
    switch (x->state) {
    case S_CONNECTING:
        if (now - x->state_since > CONNECT_TIMEOUT_NS)
            session_down(x, "no answer to the connection attempt within 10 s");
        break;
    case S_OPEN_CONFIRM:
    case S_OPEN_SENT:
        if (x->state == S_OPEN_CONFIRM || !open_queued(x)) { /* the OPEN is out */
            if (now - x->state_since > (int64_t)(x->pc->session.open_timeout * 1e9)) {
                snprintf(why, sizeof why, "the collector did not answer the OPEN within %.0f s (bgp.open_timeout)",
                         x->pc->session.open_timeout);
                session_down(x, why);
            }
        }
        break;
    case S_ESTABLISHED:
        if (x->pc->id == PROTO_BGP && x->hold_time && !msgq_queued(&x->q) &&
            now - x->last_write_ns >= (int64_t)x->hold_time * NS_PER_SEC / 3)
            send_keepalive(x);
        break;
    case S_RESTARTING:
        if (now - x->state_since > RESTART_WAIT_NS)
            next_session(x);
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
static void arm(struct session *x)
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
    if (x->fd >= 0 && msgq_unacked(&x->q)) {
        int64_t poll = schedule_now_monotonic() + ACK_POLL_NS;
        if (poll < at)
            at = poll;
    }
    if (at == INT64_MAX)
        loop_timer_cancel(x->all->loop, &x->timer);
    else if (!loop_timer_armed(&x->timer) || x->timer.at != at)
        loop_timer_set(x->all->loop, &x->timer, at);
}

static void on_timer(void *obj)
{
    struct session *x = obj;
    if (x->state != S_CLOSED && x->state != S_FAILED)
        session_timers(x, schedule_now_monotonic());
    arm(x);
}

static void on_io(void *obj, uint32_t events)
{
    struct session *x = obj;
    session_event(x, events);
    arm(x);
}

int sessions_wait(struct sessions *s, int64_t deadline_ns)
{
    return loop_run(s->loop, deadline_ns);
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
        if (x->q.unwritten_bytes < PACE_BYTES || x->q.spilled || x->fd < 0)
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

/* ---- captured segments ---- */

struct delivery {
    struct session *x;
    struct conversation *c;
    int64_t due;
};

/* count messages queued (or not): the queue's answer counted and logged */
static void queued(struct session *x, int rc, size_t count)
{
    if (rc == MSGQ_LOST) {
        x->lost += count;
    } else if (rc == MSGQ_DISK && x->spilled_total++ == 0) {
        char n[160];
        log_info("%s: the collector is slower than the capture: over %u MB queued, the rest waits in a "
                 "temporary file", session_name(x, n, sizeof n), SESSION_MEMORY >> 20);
    }
}

/* something was queued: connect, or write at the next flush with whatever else is due by then */
static void mark_dirty(struct session *x)
{
    if (x->state == S_WAITING)
        session_connect(x);
    else if (!x->dirty) {
        x->dirty = true;
        x->next_dirty = x->all->dirty;
        x->all->dirty = x;
        loop_post(x->all->loop, &x->all->flush);
    }
}

/* still to start, failed or closed: a message goes through on_message() */
static bool taking_runs(const struct session *x)
{
    return x->started && x->state != S_FAILED && x->state != S_CLOSED && !x->capture_ended && !x->confirm_pending;
}

static void on_message(struct delivery *d, const uint8_t *m, size_t len)
{
    struct session *x = d->x;
    /* The session starts at the run's first OPEN / INIT; later captures continue it, with
     * or without one of their own (a capture of UPDATEs or route monitoring continues the
     * session an earlier capture opened; a new OPEN starts a new BGP session). */
    if (!x->started) {
        if (x->pc->proto->starts_session && !x->pc->proto->starts_session(m, len)) {
            x->skipped_before_start++;
            return;
        }
        x->started = true;
    }
    if (x->state == S_FAILED || x->state == S_CLOSED) {
        x->lost++;
        return;
    }
    unsigned flags = classify(x, m, len);
    int kind = (int)(flags >> FLAG_KIND_SHIFT) - 1;
    enum msg_role role = x->pc->proto->msg_role ? x->pc->proto->msg_role(kind) : ROLE_NONE;
    if (x->capture_ended && role != ROLE_START) { /* the router ended that session */
        x->skipped_after_end++;
        return;
    }
    if (x->confirm_pending) {
        x->confirm_pending = false;
        if (role == ROLE_CONFIRM) { /* telrep answers the collector's OPEN itself */
            x->confirms_replaced++;
            return;
        }
    }
    if (role == ROLE_START) {
        x->capture_ended = false;
        x->confirm_pending = true;
    } else if (role == ROLE_END) {
        x->capture_ended = true;
    }
    uint8_t copy[4096 + 19];
    if (is_bgp_open(x, m, len)) { /* rewritten as configured; its hold time is ours */
        const struct session_config *sc = &x->pc->session;
        /* the router's own BGP ID (its network.map entry) before the section's */
        uint32_t bgp_id = x->router->bgp_id ? x->router->bgp_id : sc->bgp_id;
        if ((sc->my_as || bgp_id || sc->hold_time >= 0) && len <= sizeof copy) {
            memcpy(copy, m, len);
            struct bgp_open_rewrite rw = { .asn = sc->my_as, .bgp_id = bgp_id, .set_hold_time = sc->hold_time >= 0,
                                           .hold_time = (uint16_t)(sc->hold_time < 0 ? 0 : sc->hold_time) };
            bgp_rewrite_open(copy, len, &rw);
            m = copy;
        }
        struct bgp_open o;
        if (bgp_parse_open(m, len, &o) == 0)
            x->our_hold_time = o.hold_time;
    }
    queued(x, msgq_push(&x->q, m, len, d->due, flags), 1);
    mark_dirty(x);
}

/* Messages that arrived together. Once the session runs, those of the same kind go into
 * the queue as one entry with one copy (classified in one loop, by their type byte); a
 * message acknowledged on its own (a preamble kind), a BGP OPEN (rewritten, and starting a
 * session) and whatever comes before the session's start go through on_message(). */
static void on_run(void *ctx, const uint8_t *p, const uint32_t *lens, size_t n, int64_t ts)
{
    struct delivery *d = ctx;
    struct session *x = d->x;
    size_t at = x->pc->proto->kind_offset;
    (void)ts;
    for (size_t i = 0; i < n;) {
        if (!taking_runs(x)) {
            on_message(d, p, lens[i]);
            p += lens[i++];
            continue;
        }
        unsigned flags = classify(x, p, lens[i]);
        if (flags & MSGQ_ALONE) { /* a role in the session: see on_message */
            on_message(d, p, lens[i]);
            p += lens[i++];
            continue;
        }
        size_t k = i + 1, bytes = lens[i];
        if (at && lens[i] > at) /* the same kind byte, the same flags */
            for (uint8_t kind = p[at]; k < n && lens[k] > at && p[bytes + at] == kind; bytes += lens[k++])
                ;
        else
            for (; k < n && classify(x, p + bytes, lens[k]) == flags; bytes += lens[k++])
                ;
        queued(x, msgq_push_n(&x->q, p, bytes, k - i, d->due, flags), k - i);
        mark_dirty(x);
        p += bytes;
        i = k;
    }
}

/* Write what the captures queued since the last flush: one writev per session for all of
 * it, rather than one write per message (at time_factor 0, tens of messages per call). */
static void flush_dirty(void *obj)
{
    struct sessions *s = obj;
    while (s->dirty) {
        struct session *x = s->dirty;
        s->dirty = x->next_dirty;
        x->dirty = false;
        x->next_dirty = NULL;
        session_write(x);
        arm(x);
    }
}

static void on_bytes(void *ctx, const uint8_t *data, size_t len, int64_t ts, bool after_hole)
{
    struct delivery *d = ctx;
    msgstream_add_runs(&d->c->msgs, data, len, ts, after_hole, on_run, ctx);
}

static struct session *session_find(struct sessions *s, struct router *r, const struct proto_config *pc)
{
    size_t h = key_hash(r, pc->id) % s->table_size;
    for (struct session *x = s->table[h]; x; x = x->next)
        if (x->router == r && x->pc == pc)
            return x;
    struct session *x = calloc(1, sizeof *x);
    if (!x)
        return NULL;
    x->all = s;
    x->router = r;
    x->pc = pc;
    x->fd = -1;
    x->io = (struct loop_io){ .fd = -1, .fn = on_io, .obj = x };
    x->timer = (struct loop_timer){ .fn = on_timer, .obj = x };
    msgq_init(&x->q, SESSION_MEMORY, queue_frame(x->pc->proto));
    set_state(x, S_WAITING);
    x->next = s->table[h];
    s->table[h] = x;
    x->next_all = s->list;
    s->list = x;
    s->n++;
    return x;
}

/* A conversation ends: what waits behind its holes is delivered, its counters kept. */
static void conversation_end(struct session *x, struct conversation *c)
{
    struct delivery dl = { x, c, schedule_now_monotonic() };
    tcpstream_finish(&c->stream, on_bytes, &dl);
    msgstream_finish(&c->msgs);
    x->incomplete_messages += c->msgs.incomplete_messages;
    x->incomplete_bytes += c->msgs.incomplete_bytes;
    x->duplicate_bytes += c->stream.duplicate_bytes;
    x->reordered_segments += c->stream.reordered_segments;
    x->holes += c->stream.holes;
    x->hole_bytes += c->stream.hole_bytes;
    x->resyncs += c->msgs.resyncs;
    x->skipped_bytes += c->msgs.skipped_bytes;
    tcpstream_free(&c->stream);
    msgstream_free(&c->msgs);
    free(c);
}

static struct conversation *conversation_find(struct session *x, const struct decoded *d)
{
    struct conversation **at = &x->convs;
    for (; *at; at = &(*at)->next)
        if ((*at)->sport == d->sport && (*at)->dport == d->dport && addr_equal(&(*at)->dst, &d->dst))
            return *at;
    if (x->n_convs == MAX_CONVERSATIONS) { /* the oldest is the last */
        struct conversation **last = &x->convs;
        while ((*last)->next)
            last = &(*last)->next;
        conversation_end(x, *last);
        *last = NULL;
        x->n_convs--;
    }
    struct conversation *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->dst = d->dst;
    c->sport = d->sport;
    c->dport = d->dport;
    tcpstream_init(&c->stream, 0);
    msgstream_init(&c->msgs, x->pc->proto->frame, x->pc->proto->max_message);
    msgstream_set_upgrade(&c->msgs, x->pc->proto->upgrades, x->pc->proto->frame_ext, x->pc->proto->max_message_ext);
    c->next = x->convs;
    x->convs = c;
    x->n_convs++;
    x->conversations++;
    return c;
}

void sessions_segment(struct sessions *s, struct router *r, const struct proto_config *pc, const struct decoded *d,
                      int64_t ts_ns)
{
    if (!d->payload_len && !(d->tcp_flags & TCP_SYN))
        return;
    struct session *x = session_find(s, r, pc);
    struct conversation *c = x ? conversation_find(x, d) : NULL;
    if (!c)
        return;
    /* the due time only serves the lag, which time_factor 0 does not have */
    struct delivery dl = { x, c, x->all->env.cfg->time_factor > 0 ? schedule_now_monotonic() : 0 };
    tcpstream_add(&c->stream, d->seq, d->tcp_flags, d->payload, d->payload_len, ts_ns, on_bytes, &dl);
}

/* ---- the end ---- */

/* Something still to deliver: queued, spilled, or written but not yet acknowledged. */
static bool busy(const struct session *x)
{
    return msgq_pending(&x->q) && x->state != S_FAILED && x->state != S_CLOSED && x->state != S_WAITING;
}

/* The first half of a graceful close: a BMP TERM (send_term) or a BGP NOTIFICATION Cease /
 * Administrative Shutdown, then FIN. Returns whether to wait for the collector's FIN. */
static bool session_close_begin(struct session *x)
{
    if (x->fd < 0 || (x->state != S_ESTABLISHED && x->state != S_OPEN_SENT && x->state != S_OPEN_CONFIRM))
        return false;
    /* BGP ends an established session with a Cease; BMP with a TERM when send_term asks */
    bool bye = x->pc->id == PROTO_BGP ? x->state == S_ESTABLISHED : x->pc->session.send_term;
    x->bye_len = bye && x->pc->proto->goodbye ? x->pc->proto->goodbye(x->bye, sizeof x->bye) : 0;
    x->bye_off = 0;
    x->fin_sent = false;
    set_state(x, S_CLOSING);
    closing_write(x);
    return true;
}

static void session_close_end(struct session *x)
{
    session_ack(x);
    if (msgq_pending(&x->q) && (!x->last_error[0] || x->state == S_CONNECTING))
        snprintf(x->last_error, sizeof x->last_error, x->state == S_CONNECTING
                 ? "timeout: the collector never answered the connection attempt (no SYN-ACK)"
                 : "timeout: the collector had not taken everything when the run ended (drain_timeout)");
    queue_drop_all(x);
    close_socket(x);
    if (x->state != S_FAILED)
        set_state(x, S_CLOSED);
}

static void conversations_end(struct session *x)
{
    while (x->convs) {
        struct conversation *c = x->convs;
        x->convs = c->next;
        conversation_end(x, c);
    }
    x->n_convs = 0;
}

static void session_release(struct session *x)
{
    conversations_end(x);
    free(x->rbuf);
    x->rbuf = NULL;
    preamble_free(&x->pre);
    msgq_free(&x->q);
}

void sessions_end_capture(struct sessions *s)
{
    if (!s)
        return;
    for (struct session *x = s->list; x; x = x->next_all)
        conversations_end(x);
    flush_dirty(s);
}

/* After the last capture: wait until the collectors have acknowledged everything. A session
 * is given up once its collector has acknowledged nothing for drain_timeout: a slow collector
 * that keeps reading gets everything, a stalled one delays the end by drain_timeout only. */
void sessions_drain(struct sessions *s)
{
    if (!s || !s->n)
        return;
    int64_t start = schedule_now_monotonic();
    while (!loop_stop) {
        int64_t now = schedule_now_monotonic();
        bool any = false;
        for (struct session *x = s->list; x && !any; x = x->next_all) {
            int64_t progress = x->last_progress_ns > start ? x->last_progress_ns : start;
            any = busy(x) && now - progress < (int64_t)(x->pc->session.drain_timeout * 1e9);
        }
        if (!any)
            break;
        loop_run(s->loop, now + DRAIN_STEP_NS);
    }
    char n[160];
    for (struct session *x = s->list; x; x = x->next_all)
        if (msgq_pending(&x->q))
            log_warn("%s (%s): %llu messages not delivered%s", session_name(x, n, sizeof n), state_names[x->state],
                     (unsigned long long)(msgq_queued(&x->q) + msgq_unacked(&x->q)),
                     loop_stop ? "" : busy(x) ? "; the collector took nothing for drain_timeout" : "");
}

void sessions_close_all(struct sessions *s)
{
    if (!s)
        return;
    /* all sessions close at once: FIN everywhere, then up to a second for the collectors'
     * FINs, however many sessions there are */
    size_t waiting = 0;
    for (struct session *x = s->list; x; x = x->next_all)
        waiting += session_close_begin(x) && x->fd >= 0;
    s->closing = waiting;
    if (waiting) {
        /* also after a stop: the goodbyes go out (a second signal ends this at once). The
         * wait lasts while the collectors make progress (a slow one still has the rest of a
         * message and the goodbye to take), until a second without any, or drain_timeout */
        sig_atomic_t stopped = loop_stop;
        loop_stop = 0;
        int64_t start = schedule_now_monotonic(), limit = start + NS_PER_SEC, progress = start;
        for (struct session *x = s->list; x; x = x->next_all)
            if (start + (int64_t)(x->pc->session.drain_timeout * 1e9) > limit)
                limit = start + (int64_t)(x->pc->session.drain_timeout * 1e9);
        while (s->closing && !loop_stop) {
            int64_t now = schedule_now_monotonic();
            for (struct session *x = s->list; x; x = x->next_all)
                if (x->state == S_CLOSING && x->last_progress_ns > progress)
                    progress = x->last_progress_ns;
            if (now - progress >= NS_PER_SEC || now >= limit)
                break;
            loop_run(s->loop, now + NS_PER_SEC / 10); /* the last FIN breaks it */
        }
        loop_stop = loop_stop || stopped;
    }
    s->closing = 0;
    for (struct session *x = s->list; x; x = x->next_all) {
        session_close_end(x); /* what is still queued is counted as lost */
        session_release(x);
        x->dirty = false;
        x->next_dirty = NULL;
    }
    s->dirty = NULL;
    /* the next capture's conversations are new sessions */
    memset(s->table, 0, s->table_size * sizeof *s->table);
    s->n = 0;
}

void sessions_summary(const struct sessions *s, const struct router *r, int proto, struct session_summary *out)
{
    memset(out, 0, sizeof *out);
    for (const struct session *x = s ? s->list : NULL; x; x = x->next_all) {
        if ((r && x->router != r) || (proto >= 0 && (int)x->pc->id != proto))
            continue;
        out->sessions++;
        out->delivered += x->messages_sent;
        out->bytes += x->bytes_sent;
        out->lost += x->lost;
        out->incomplete += x->incomplete_messages;
        out->skipped_before_start += x->skipped_before_start;
        out->connect_refused += x->connect_refused;
        out->connect_failures += x->connect_failures;
        out->reconnects += x->reconnects;
        out->resent += x->resent;
        if (x->state == S_FAILED || x->lost) {
            out->failed += x->state == S_FAILED;
            snprintf(out->reason, sizeof out->reason, "%s", x->last_error[0] ? x->last_error : "unknown");
        }
    }
}

void *sessions_report_json(const struct sessions *s)
{
    if (!s || !s->list)
        return NULL;
    json_t *arr = json_array();
    for (const struct session *x = s->list; x; x = x->next_all) {
        char a[ADDR_STRLEN], b[ADDR_STRLEN];
        json_t *o = json_pack("{s:s,s:s,s:s,s:I,s:s,s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "router",
                              addr_format(&x->router->src, a), "repro_ip", addr_format(&x->router->repro, b),
                              "protocol", proto_names[x->pc->id], "conversations", (json_int_t)x->conversations,
                              "state", state_names[x->state], "messages_sent", (json_int_t)x->messages_sent,
                              "bytes_sent", (json_int_t)x->bytes_sent, "skipped_before_start",
                              (json_int_t)x->skipped_before_start, "lost", (json_int_t)x->lost, "reconnects",
                              (json_int_t)x->reconnects, "connect_failures", (json_int_t)x->connect_failures,
                              "keepalives_sent", (json_int_t)x->keepalives_sent);
        json_object_set_new(o, "queued_on_disk", json_integer((json_int_t)x->spilled_total));
        json_object_set_new(o, "bgp_restarts", json_integer((json_int_t)x->restarts));
        json_object_set_new(o, "confirms_replaced", json_integer((json_int_t)x->confirms_replaced));
        json_object_set_new(o, "skipped_after_end", json_integer((json_int_t)x->skipped_after_end));
        json_object_set_new(o, "resent_after_reset", json_integer((json_int_t)x->resent));
        json_object_set_new(o, "stream", json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "duplicate_bytes",
                                                   (json_int_t)x->duplicate_bytes, "reordered_segments",
                                                   (json_int_t)x->reordered_segments, "holes", (json_int_t)x->holes,
                                                   "hole_bytes", (json_int_t)x->hole_bytes, "resyncs",
                                                   (json_int_t)x->resyncs, "skipped_bytes",
                                                   (json_int_t)x->skipped_bytes, "incomplete_messages",
                                                   (json_int_t)x->incomplete_messages, "incomplete_bytes",
                                                   (json_int_t)x->incomplete_bytes));
        if (x->have_peer_open)
            json_object_set_new(o, "peer", json_pack("{s:I,s:i,s:i}", "as", (json_int_t)x->peer_open.asn, "hold_time",
                                                     x->peer_open.hold_time, "negotiated_hold_time", x->hold_time));
        json_object_set_new(o, "incomplete_messages", json_integer((json_int_t)x->incomplete_messages));
        json_object_set_new(o, "connect_refused", json_integer((json_int_t)x->connect_refused));
        if (x->last_error[0])
            json_object_set_new(o, "last_error", json_string(x->last_error));
        if (x->state == S_FAILED || x->lost)
            json_object_set_new(o, "reason", json_string(x->last_error[0] ? x->last_error : "unknown"));
        json_array_append_new(arr, o);
    }
    return arr;
}

void sessions_free(struct sessions *s)
{
    if (!s)
        return;
    loop_unpost(s->loop, &s->flush);
    for (struct session *x = s->list; x;) {
        struct session *nx = x->next_all;
        loop_timer_cancel(s->loop, &x->timer);
        close_socket(x);
        queue_drop_all(x);
        session_release(x);
        free(x);
        x = nx;
    }
    free(s->table);
    free(s);
    msgq_pool_release();
}
