/* session_fsm.c — a session's state machine: session_fsm(), one function over (state,
 * event). The socket's handlers (session_peer.c), the write path and the timer (session.c),
 * the feed (session_feed.c) and the end of the run (session_end.c) only raise events; every
 * state change is made here, and tests/unit/test_session.c drives it without a network.
 *
 *   state          event                     next state (action)
 *   waiting        queued                    connecting (connect) / failed (no socket)
 *   connecting     connected                 open_sent (BGP) / established; the preamble
 *                                            first on a reconnect, then write
 *   connecting     connect_failed, timeout   backoff / failed (lose_connection)
 *   open_sent      peer_open                 open_confirm (our OPEN out, our KEEPALIVE)
 *   open_confirm   peer_confirm              established (write the queue)
 *   open_*         timeout (open_timeout)    backoff / failed
 *   connected      queued                    the same (a flush is posted)
 *   established    keepalive_due             the same (KEEPALIVE)
 *   established    capture_restart           restarting (our Cease, FIN)
 *   established    capture_end               restarting (FIN as the router's)
 *   connected      peer_down                 backoff / failed
 *   connected      stop                      closing (the rest of a half-written message,
 *                                            the goodbye, FIN)
 *   restarting     peer_down, timeout (2 s)  connecting, or waiting when nothing is queued
 *   backoff        timeout                   connecting (a reconnect)
 *   closing        closed, peer_down         closing, without a socket
 *   any            run_over                  closed (what is queued is lost), failed stays
 *   failed, closed anything else             the same
 *
 * backoff / failed: backoff when reconnect is on (explicitly, or by default with keep_open
 * after a connection that lasted STABLE_NS), or while a connection that delivered nothing
 * gets its quick retries; failed otherwise, and after an OPEN error. */
#define _GNU_SOURCE
#include <stdlib.h>

#include "session_int.h"

const char *const session_state_names[SESSION_STATES] = { "waiting", "connecting", "open_sent", "open_confirm", "established",
                                             "restarting", "backoff", "closing", "closed", "failed" };
const char *const session_event_names[] = { "queued", "connected", "connect_failed", "timeout", "keepalive_due",
                                            "peer_open", "peer_confirm", "peer_down", "capture_restart",
                                            "capture_end", "stop", "closed", "run_over" };
_Static_assert(sizeof session_event_names / sizeof *session_event_names == EV_COUNT, "a name per event");

/* Every state change re-arms the session's timer (a timer that fires early only looks). */
static void set_state(struct session *x, enum state st)
{
    bool was = x->state == S_ESTABLISHED, is = st == S_ESTABLISHED;
    x->all->established += (size_t)is - (size_t)was;
    x->state = st;
    if ((is || st == S_FAILED) && !x->settled) { /* up once, or never will be: --ready counts it */
        x->settled = true;
        x->all->settled++;
        x->all->failed += st == S_FAILED;
        if (x->all->env.settled)
            x->all->env.settled(x->all->env.ctx);
    }
    x->state_since = schedule_now_monotonic();
    session_arm(x);
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

/* The connection is lost. What the collector acknowledged up to the end is delivered first
 * (the last ACK may ride on its FIN); the rest is written again on the next connection.
 * Returns S_BACKOFF (retry_at set) or S_FAILED (the queue counted lost). */
static enum state lose_connection(struct session *x, const char *why)
{
    session_ack(x);
    if (x->c.since && schedule_now_monotonic() - x->c.since >= STABLE_NS) {
        x->stable_ever = true;
        x->backoff_ns = 0;
        x->quick_retries = 0;
    }
    session_close_socket(x);
    snprintf(x->last_error, sizeof x->last_error, "%s", why ? why : "the connection was lost");
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
        /* up to a quarter earlier or later: sessions that failed together (a collector's full
         * listen queue, its restart) do not all come back in the same instant */
        int64_t jitter = x->backoff_ns / 4;
        x->retry_at = schedule_now_monotonic() + x->backoff_ns - jitter + (int64_t)(drand48() * 2 * (double)jitter);
        session_emit(x, "session_down", events_on() ? json_pack("{s:s,s:b}", "reason", x->last_error, "retry", 1) : NULL);
        if (nothing_delivered)
            session_log(x, LOG_INFO, "%s before the collector took anything; trying again in %.1f s", x->last_error,
                        (double)x->backoff_ns / 1e9);
        else
            session_log(x, LOG_WARN, "%s; reconnecting in %.1f s (%zu messages wait)", x->last_error,
                        (double)x->backoff_ns / 1e9, msgq_queued(&x->q));
        return S_BACKOFF;
    }
    session_emit(x, "session_down", events_on() ? json_pack("{s:s,s:b}", "reason", x->last_error, "retry", 0) : NULL);
    session_log(x, LOG_ERROR, "%s; this session ends, the others go on (its %zu queued messages and what the capture "
                "still holds for it are lost: the summary at the end counts them)", x->last_error, msgq_queued(&x->q));
    session_drop_all(x);
    x->all->env.stats->session_failures++;
    return S_FAILED;
}

/* S_CONNECTING, or S_FAILED when no connection can be made (its queue counted lost). */
static enum state start_connection(struct session *x)
{
    if (session_connect(x))
        return S_CONNECTING;
    session_drop_all(x);
    return S_FAILED;
}

/* The connection is up: on a reconnect the preamble goes first, then what the last
 * connection did not deliver (a partly written message whole again: msgq_requeue). */
static enum state connected(struct session *x)
{
    if (x->acked_ever && !x->fresh) {
        msgq_drop_head(&x->q, MSGQ_PREAMBLE); /* an earlier copy, never acknowledged: not twice */
        size_t len, msgs;
        const uint8_t *pre = preamble_bytes(&x->pre, &len, &msgs);
        if (len && (!pre || msgq_prepend(&x->q, pre, len, session_queue_frame(x->pc->proto), schedule_now_monotonic(),
                                         MSGQ_PREAMBLE) < 0))
            session_log(x, LOG_WARN, "no memory for the preamble");
        session_log(x, LOG_INFO, "connected again; preamble of %zu messages first", msgs);
    }
    x->fresh = false;
    x->c.since = x->last_write_ns = schedule_now_monotonic();
    return x->pc->id == PROTO_BGP ? S_OPEN_SENT : S_ESTABLISHED;
}

/* The captured session is over (the router's END message is written, or the capture opens
 * its next session): half-close as the router did, once what is written is out
 * (session_fin); the collector's close, or RESTART_WAIT_NS, lets the next one start
 * (next_session). */
static enum state end_captured_session(struct session *x)
{
    x->fresh = true;
    x->have_peer_open = false;
    return S_RESTARTING;
}

static void count_lost(void *ctx, const uint8_t *m, size_t bytes, size_t count, unsigned flags)
{
    ((struct session *)ctx)->lost += count;
}

/* After end_captured_session: what the collector acknowledged of the old session is
 * delivered, the rest of it lost (never written on the next connection, whose byte count
 * starts again at 0); a new connection when the capture has more, else wait for more. */
static enum state next_session(struct session *x)
{
    session_ack(x);
    msgq_ack(&x->q, UINT64_MAX, count_lost, x);
    session_close_socket(x);
    return msgq_pending(&x->q) ? start_connection(x) : S_WAITING;
}

/* The run is over: why a session that still had something to deliver did not, and that is
 * counted lost. */
static void run_over(struct session *x)
{
    session_ack(x);
    if (msgq_pending(&x->q) && (!x->last_error[0] || x->state == S_CONNECTING))
        snprintf(x->last_error, sizeof x->last_error, x->state == S_CONNECTING
                 ? "timeout: the collector never answered the connection attempt (no SYN-ACK)"
                 : "timeout: the collector had not taken everything when the run ended (drain_timeout)");
    session_drop_all(x);
    session_close_socket(x);
}

/* something was queued on a connected session: written at the next flush, with whatever
 * else is due by then */
static void mark_dirty(struct session *x)
{
    if (!x->dirty) {
        x->dirty = true;
        x->next_dirty = x->all->dirty;
        x->all->dirty = x;
        loop_post(x->all->loop, &x->all->flush);
    }
}

/* A connected session (open_sent, open_confirm, established). */
static void fsm_connected(struct session *x, enum session_event ev, const char *why)
{
    char text[160];
    switch (ev) {
    case EV_QUEUED:
        mark_dirty(x);
        break;
    case EV_PEER_OPEN:
        if (x->state != S_OPEN_SENT)
            break;
        set_state(x, S_OPEN_CONFIRM);
        session_send_keepalive(x); /* confirms theirs, after our OPEN */
        break;
    case EV_PEER_CONFIRM:
        if (x->state != S_OPEN_CONFIRM)
            break;
        set_state(x, S_ESTABLISHED);
        session_write(x);
        break;
    case EV_KEEPALIVE_DUE:
        if (x->state == S_ESTABLISHED && x->pc->id == PROTO_BGP)
            session_send_keepalive(x);
        break;
    case EV_TIMEOUT:
        if (x->state == S_ESTABLISHED)
            break;
        snprintf(text, sizeof text, "the collector did not answer the OPEN within %.0f s (bgp.open_timeout)",
                 x->pc->session.open_timeout);
        set_state(x, lose_connection(x, text));
        break;
    case EV_PEER_DOWN:
        set_state(x, lose_connection(x, why));
        break;
    case EV_CAPTURE_RESTART: { /* end this one as a peer would, open the next */
        uint8_t cease[BGP_NOTIFICATION_LEN];
        bgp_notification(cease, BGP_ERR_CEASE, BGP_CEASE_ADMIN_RESET);
        session_log(x, LOG_INFO, "the capture opens a new BGP session: Cease, then a new connection once the "
                    "collector has closed the old one");
        x->restarts++;
        set_state(x, end_captured_session(x));
        session_say(x, cease, sizeof cease);
        session_fin(x);
        break;
    }
    case EV_CAPTURE_END:
        session_log(x, LOG_INFO, "the capture ends the session here: closed as the router closed it");
        set_state(x, end_captured_session(x));
        session_fin(x);
        break;
    case EV_STOP: {
        /* BGP ends an established session with a Cease; BMP with a TERM when send_term asks */
        bool bye = x->pc->id == PROTO_BGP ? x->state == S_ESTABLISHED : x->pc->session.send_term;
        uint8_t m[sizeof x->c.own];
        size_t len = bye && x->pc->proto->goodbye ? x->pc->proto->goodbye(m, sizeof m) : 0;
        set_state(x, S_CLOSING);
        if (len)
            session_log(x, LOG_INFO, "%s", x->pc->id == PROTO_BGP ? "Cease" : "TERM");
        if (len && !session_say(x, m, len))
            session_log(x, LOG_DEBUG, "no room for the goodbye");
        session_fin(x);
        break;
    }
    default:
        break;
    }
}

void session_fsm(struct session *x, enum session_event ev, const char *why)
{
    if (log_threshold >= LOG_DEBUG)
        session_log(x, LOG_DEBUG, "%s: %s%s%s", session_state_names[x->state], session_event_names[ev],
                    why ? ": " : "", why ? why : "");
    if (ev == EV_RUN_OVER) {
        run_over(x);
        if (x->state != S_FAILED)
            set_state(x, S_CLOSED);
        return;
    }
    switch (x->state) {
    case S_WAITING:
        if (ev == EV_QUEUED)
            set_state(x, start_connection(x));
        break;
    case S_CONNECTING:
        if (ev == EV_CONNECTED) {
            bool again = x->reconnects > 0;
            enum state next = connected(x);
            session_emit(x, "session_connected", events_on() ? json_pack("{s:b}", "reconnect", again) : NULL);
            if (again)
                session_emit(x, "collector_recovered", NULL);
            set_state(x, next); /* (a BMP session is up: --ready may follow these events) */
            session_write(x); /* BGP: our OPEN before anything we answer */
        } else if (ev == EV_CONNECT_FAILED || ev == EV_PEER_DOWN) {
            set_state(x, lose_connection(x, why));
        } else if (ev == EV_TIMEOUT) {
            set_state(x, lose_connection(x, "no answer to the connection attempt within 10 s"));
        }
        break; /* queued: written once connected; stop: nothing to close gracefully */
    case S_OPEN_SENT:
    case S_OPEN_CONFIRM:
    case S_ESTABLISHED:
        fsm_connected(x, ev, why);
        break;
    case S_RESTARTING: /* the old session is gone (or given RESTART_WAIT_NS): the next starts */
        if (ev == EV_PEER_DOWN || ev == EV_TIMEOUT)
            set_state(x, next_session(x));
        break;
    case S_BACKOFF:
        if (ev == EV_TIMEOUT) {
            x->reconnects++;
            set_state(x, start_connection(x));
        }
        break;
    case S_CLOSING:
        if (ev == EV_CLOSED || ev == EV_PEER_DOWN) {
            session_ack(x);
            closing_done(x);
        }
        break;
    case S_CLOSED:
    case S_FAILED:
        break;
    }
}
