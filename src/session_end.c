/* session_end.c — the end of a run's sessions: the drain, the close of all at once, what
 * each did (the summary and the JSON report), and freeing them. */
#define _GNU_SOURCE
#include <jansson.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "session_int.h"

/* ---- the end ---- */

/* Something still to deliver: queued, spilled, or written but not yet acknowledged. */
static bool busy(const struct session *x)
{
    return msgq_pending(&x->q) && x->state != S_FAILED && x->state != S_CLOSED && x->state != S_WAITING;
}

void conversations_end(struct session *x)
{
    while (x->convs)
        conversation_end(x, x->convs);
}

void session_release(struct session *x)
{
    conversations_end(x);
    free(x->c.rbuf);
    x->c.rbuf = NULL;
    preamble_free(&x->pre);
    preamble_free(&x->queued);
    msgq_free(&x->q);
}

void sessions_end_capture(struct sessions *s)
{
    if (!s)
        return;
    for (struct session *x = s->list; x; x = x->next_all)
        conversations_end(x);
    sessions_flush(s);
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
    for (struct session *x = s->list; x; x = x->next_all)
        if (msgq_pending(&x->q))
            session_log(x, LOG_WARN, "%llu messages not delivered (%s)%s",
                        (unsigned long long)(msgq_queued(&x->q) + msgq_unacked(&x->q)), session_state_names[x->state],
                        loop_stop ? "" : busy(x) ? "; the collector took nothing for drain_timeout" : "");
}

void sessions_close_all(struct sessions *s)
{
    if (!s)
        return;
    /* all sessions close at once (the rest of a half-written message, the goodbye, FIN),
     * then the collectors' FINs are awaited together, however many sessions there are */
    size_t waiting = 0;
    for (struct session *x = s->list; x; x = x->next_all) {
        session_fsm(x, EV_STOP, NULL);
        waiting += x->state == S_CLOSING && x->c.fd >= 0;
    }
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
        session_fsm(x, EV_RUN_OVER, NULL); /* what is still queued is counted as lost */
        session_release(x);
        x->dirty = false;
        x->next_dirty = NULL;
    }
    s->dirty = NULL;
    /* the next capture's conversations are new sessions */
    memset(s->table, 0, s->table_size * sizeof *s->table);
    s->n = 0;
}

void sessions_summary(const struct sessions *s, const struct router *r, int proto, int collector,
                      struct session_summary *out)
{
    memset(out, 0, sizeof *out);
    for (const struct session *x = s ? s->list : NULL; x; x = x->next_all) {
        if ((r && x->router != r) || (proto >= 0 && (int)x->pc->id != proto) ||
            (collector >= 0 && x->collector != (unsigned)collector))
            continue;
        out->sessions++;
        out->delivered += x->messages_sent;
        out->bytes += x->bytes_sent;
        out->lost += x->lost;
        out->incomplete += x->lead->stream.incomplete_messages; /* each collector's share */
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
                              "protocol", proto_names[x->pc->id], "conversations", (json_int_t)x->lead->conversations,
                              "state", session_state_names[x->state], "messages_sent", (json_int_t)x->messages_sent,
                              "bytes_sent", (json_int_t)x->bytes_sent, "skipped_before_start",
                              (json_int_t)x->skipped_before_start, "lost", (json_int_t)x->lost, "reconnects",
                              (json_int_t)x->reconnects, "connect_failures", (json_int_t)x->connect_failures,
                              "keepalives_sent", (json_int_t)x->keepalives_sent);
        json_object_set_new(o, "queued_on_disk", json_integer((json_int_t)x->spilled_total));
        json_object_set_new(o, "bgp_restarts", json_integer((json_int_t)x->restarts));
        json_object_set_new(o, "confirms_replaced", json_integer((json_int_t)x->confirms_replaced));
        json_object_set_new(o, "skipped_after_end", json_integer((json_int_t)x->skipped_after_end));
        json_object_set_new(o, "resent_after_reset", json_integer((json_int_t)x->resent));
        if (x->all->loop_mode)
            json_object_set_new(o, "loop", json_pack("{s:I,s:I}", "skipped", (json_int_t)x->loop_skipped,
                                                     "peer_ups_again", (json_int_t)x->loop_peer_ups));
        json_object_set_new(o, "stream", conversation_counts_json(&x->lead->stream));
        if (x->have_peer_open)
            json_object_set_new(o, "peer", json_pack("{s:I,s:i,s:i}", "as", (json_int_t)x->peer_open.asn, "hold_time",
                                                     x->peer_open.hold_time, "negotiated_hold_time", x->hold_time));
        json_object_set_new(o, "incomplete_messages", json_integer((json_int_t)x->lead->stream.incomplete_messages));
        char c[80];
        json_object_set_new(o, "collector", json_string(session_collector_name(x, c, sizeof c)));
        json_object_set_new(o, "connect_refused", json_integer((json_int_t)x->connect_refused));
        if (x->last_error[0])
            json_object_set_new(o, "last_error", json_string(x->last_error));
        if (x->state == S_FAILED || x->lost)
            json_object_set_new(o, "reason", json_string(x->last_error[0] ? x->last_error : "unknown"));
        json_array_append_new(arr, o);
    }
    return arr;
}

void sessions_each(const struct sessions *s, void (*fn)(void *ctx, const struct session_view *v), void *ctx)
{
    for (const struct session *x = s ? s->list : NULL; x; x = x->next_all) {
        struct session_view v = { x->router, x->pc->id, x->collector, x->state,
                                  x->messages_sent, x->bytes_sent, x->lost, x->connect_refused };
        fn(ctx, &v);
    }
}

size_t sessions_settled(const struct sessions *s, size_t *failed)
{
    *failed = s ? s->failed : 0;
    return s ? s->settled : 0;
}

void sessions_free(struct sessions *s)
{
    if (!s)
        return;
    loop_unpost(s->loop, &s->flush);
    for (struct session *x = s->list; x;) {
        struct session *nx = x->next_all;
        loop_timer_cancel(s->loop, &x->timer);
        session_close_socket(x);
        session_drop_all(x);
        session_release(x);
        free(x);
        x = nx;
    }
    free(s->table);
    conversation_table_free(&s->convs);
    free(s->scratch);
    free(s);
    msgq_pool_release();
}
