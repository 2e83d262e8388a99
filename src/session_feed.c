/* session_feed.c — captured segments to the queue: the session of a router and protocol,
 * its captured conversations (conversation.h), each message's role (skipped, replaced or
 * queued), the OPEN rewrite, the flush of what was queued. */
#define _GNU_SOURCE
#include <stdlib.h>

#include "session_int.h"

/* ---- captured segments ---- */

struct delivery {
    struct session *x;
    int64_t due;
};

/* count messages queued (or not): the queue's answer counted and logged */
void session_queued(struct session *x, int rc, size_t count)
{
    if (rc == MSGQ_LOST) {
        x->lost += count;
    } else if (rc == MSGQ_DISK && x->spilled_total++ == 0) {
        session_log(x, LOG_INFO, "the collector is slower than the capture: over %u MB queued, the rest waits in a "
                 "temporary file", SESSION_MEMORY >> 20);
    }
}

/* still to start, failed or closed, or a loop's pass that checks each message's peer: a
 * message goes through on_message() */
static bool taking_runs(const struct session *x)
{
    return x->started && x->state != S_FAILED && x->state != S_CLOSED && !x->capture_ended && !x->confirm_pending &&
           !(x->looping && x->pc->proto->peer_key);
}

/* A message queued: counted, the loops' view of the peers follows it, the session told. */
static void queue_message(struct delivery *d, const uint8_t *m, size_t len, unsigned flags)
{
    struct session *x = d->x;
    session_queued(x, msgq_push(&x->q, m, len, d->due, flags), 1);
    if (x->all->loop_mode && (flags & FLAG_PREAMBLE_KIND))
        preamble_apply(&x->queued, x->pc->proto, (int)(flags >> FLAG_KIND_SHIFT) - 1, m, len);
    session_fsm(x, EV_QUEUED, NULL);
}

/* loop: (config) the capture list is a body played again and again on the same sessions.
 * Whether a message of a pass after the first goes: the session's start (BGP OPEN and the
 * router's KEEPALIVE confirming it, BMP INIT) went once; a PEER_UP of a peer up, or a
 * PEER_DOWN of one down, would say what is already so; a message about a peer the body
 * brought down is preceded by that peer's last PEER_UP. The router's own end (NOTIFICATION,
 * TERM) never goes in a loop, on any pass: the session stays up until telrep closes it. */
static bool loop_admits(struct delivery *d, enum msg_role role, const uint8_t *m, size_t len)
{
    struct session *x = d->x;
    const uint8_t *up;
    size_t up_len;
    if (role == ROLE_END) {
        x->loop_skipped++;
        return false;
    }
    if (!x->looping)
        return true;
    int peer = role == ROLE_START || role == ROLE_CONFIRM ? -1 : preamble_peer(&x->queued, x->pc->proto, m, len, &up, &up_len);
    switch (role) {
    case ROLE_START:
        x->confirm_pending = true; /* the router's KEEPALIVE answering it does not go either */
        x->loop_skipped++;
        return false;
    case ROLE_PEER_UP:
    case ROLE_PEER_DOWN:
        if (peer == (role == ROLE_PEER_UP ? 1 : 0) || (role == ROLE_PEER_DOWN && peer < 0)) {
            x->loop_skipped++;
            return false;
        }
        return true;
    default:
        if (peer == 0) { /* brought down by the body: up again first */
            queue_message(d, up, up_len, session_classify(x, up, up_len));
            x->loop_peer_ups++;
        }
        return true;
    }
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
    unsigned flags = session_classify(x, m, len);
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
    if (x->all->loop_mode && !loop_admits(d, role, m, len))
        return;
    if (role == ROLE_START) {
        x->capture_ended = false;
        x->confirm_pending = true;
    } else if (role == ROLE_END) {
        x->capture_ended = true;
    }
    uint8_t copy[4096 + 19];
    const struct router *r = x->router;
    const struct config *cfg = x->all->env.cfg;
    if (role == ROLE_START && r->clone && cfg->clones.sysname && x->pc->proto->clone_identity && len + 16 <= sizeof copy) {
        memcpy(copy, m, len); /* a clone's INIT names it (network.clones.sysname) */
        len = x->pc->proto->clone_identity(copy, len, sizeof copy, r->clone, CLONE_SYSNAME);
        m = copy;
    }
    if (session_is_bgp_open(x, m, len)) { /* rewritten as configured; its hold time is ours */
        const struct session_config *sc = &x->pc->session;
        /* the router's own BGP ID (its network.map entry, or as a clone its address) before
         * the section's (+ k for clone k); a clone without either: the captured one + k */
        uint32_t bgp_id = r->bgp_id ? r->bgp_id : sc->bgp_id ? sc->bgp_id + r->clone : 0;
        struct bgp_open captured;
        if (!bgp_id && r->clone && cfg->clones.bgp_id && bgp_parse_open(m, len, &captured) == 0)
            bgp_id = captured.bgp_id + r->clone;
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
    queue_message(d, m, len, flags);
}

/* The section asks to rewrite its messages (bmp timestamps: now): a copy of the run, each
 * message rewritten as it is queued (NULL: no memory; the run goes as captured). */
static const uint8_t *rewritten_run(struct session *x, const uint8_t *p, const uint32_t *lens, size_t n)
{
    struct sessions *s = x->all;
    size_t bytes = 0;
    for (size_t i = 0; i < n; i++)
        bytes += lens[i];
    if (bytes > s->scratch_cap) {
        uint8_t *b = realloc(s->scratch, bytes);
        if (!b)
            return NULL;
        s->scratch = b;
        s->scratch_cap = bytes;
    }
    memcpy(s->scratch, p, bytes);
    int64_t now = schedule_now_realtime();
    for (size_t i = 0, off = 0; i < n; off += lens[i++])
        x->pc->proto->rewrite(NULL, &x->pc->rewrite, s->scratch + off, lens[i], now);
    return s->scratch;
}

/* Messages that arrived together. Once the session runs, those of the same kind go into
 * the queue as one entry with one copy (classified in one loop, by their type byte); a
 * message acknowledged on its own (a preamble kind), a BGP OPEN (rewritten, and starting a
 * session) and whatever comes before the session's start go through on_message(). */
static void run_to(struct delivery *d, const uint8_t *p, const uint32_t *lens, size_t n)
{
    struct session *x = d->x;
    size_t at = x->pc->proto->kind_offset;
    if (x->pc->proto->rewrite && rewrite_wanted(&x->pc->rewrite)) {
        const uint8_t *copy = rewritten_run(x, p, lens, n);
        p = copy ? copy : p;
    }
    for (size_t i = 0; i < n;) {
        /* one at a time: before the start, after an end, or a message with a role in the
         * session (MSGQ_ALONE) */
        unsigned flags = taking_runs(x) ? session_classify(x, p, lens[i]) : MSGQ_ALONE;
        if (flags & MSGQ_ALONE) {
            on_message(d, p, lens[i]);
            p += lens[i++];
            continue;
        }
        size_t k = i + 1, bytes = lens[i];
        if (at && lens[i] > at) /* the same kind byte, the same flags */
            for (uint8_t kind = p[at]; k < n && lens[k] > at && p[bytes + at] == kind; bytes += lens[k++])
                ;
        else
            for (; k < n && session_classify(x, p + bytes, lens[k]) == flags; bytes += lens[k++])
                ;
        session_queued(x, msgq_push_n(&x->q, p, bytes, k - i, d->due, flags), k - i);
        session_fsm(x, EV_QUEUED, NULL);
        p += bytes;
        i = k;
    }
}

/* A conversation's messages go to its session and the rest of its fan (fan-out), each taking
 * them as its own state says. */
static void on_run(void *ctx, const uint8_t *p, const uint32_t *lens, size_t n, int64_t ts)
{
    const struct delivery *d = ctx;
    (void)ts;
    for (struct session *x = d->x; x; x = x->fan_next) {
        struct delivery dx = { x, d->due };
        run_to(&dx, p, lens, n);
    }
}

/* Write what the captures queued since the last flush: one writev per session for all of
 * it, rather than one write per message (at time_factor 0, tens of messages per call). */
void sessions_flush(void *obj)
{
    struct sessions *s = obj;
    while (s->dirty) {
        struct session *x = s->dirty;
        s->dirty = x->next_dirty;
        x->dirty = false;
        x->next_dirty = NULL;
        session_write(x);
        session_arm(x);
    }
}

/* The session a new captured conversation of router r feeds. A router's captured
 * connections that overlap in time are sessions of their own, each a live connection (issue
 * 12 item 10: two concurrent BMP sessions of one router were replayed as one connection
 * carrying both); one that starts after the others closed (or in a later capture) continues
 * the first session. */
static bool has_open_conversation(const struct session *x)
{
    for (const struct conversation *c = x->convs; c; c = c->next)
        if (c->open)
            return true;
    return false;
}

static struct session *session_new(struct sessions *s, struct router *r, const struct proto_config *pc,
                                   unsigned collector)
{
    struct session *x = calloc(1, sizeof *x);
    if (!x)
        return NULL;
    x->all = s;
    x->router = r;
    x->pc = pc;
    x->collector = collector;
    x->lead = x;
    x->c.fd = -1;
    x->c.io = (struct loop_io){ .fd = -1, .fn = session_on_io, .obj = x };
    x->timer = (struct loop_timer){ .fn = session_on_timer, .obj = x };
    msgq_init(&x->q, SESSION_MEMORY, session_queue_frame(x->pc->proto));
    x->queued.keep_down = true;
    x->state = S_WAITING; /* until its first message is queued (EV_QUEUED) */
    x->state_since = schedule_now_monotonic();
    x->next_all = s->list;
    s->list = x;
    s->n++;
    return x;
}

/* The lead session of router r's next captured session, with its fan (a session per
 * collector); only the lead is in the table. */
static struct session *session_for(struct sessions *s, struct router *r, const struct proto_config *pc)
{
    size_t h = session_key_hash(r, pc->id) % s->table_size;
    struct session **tail = &s->table[h];
    for (struct session *x = s->table[h]; x; tail = &x->next, x = x->next)
        if (x->router == r && x->pc == pc && !has_open_conversation(x))
            return x;
    struct session *lead = session_new(s, r, pc, 0);
    if (!lead)
        return NULL;
    struct session **fan = &lead->fan_next;
    for (unsigned k = 1; k < pc->n_collectors; k++) {
        if (!(*fan = session_new(s, r, pc, k)))
            break; /* no memory: that collector's share is not sent (the others go on) */
        (*fan)->lead = lead;
        fan = &(*fan)->fan_next;
    }
    *tail = lead; /* the router's first session stays first: later captures continue it */
    return lead;
}

void sessions_new_pass(struct sessions *s)
{
    if (!s)
        return;
    for (struct session *x = s->list; x; x = x->next_all)
        x->looping = x->started;
}

/* A conversation ends: what waits behind its holes is delivered, its counters kept. */
void conversation_end(struct session *x, struct conversation *c)
{
    struct delivery dl = { x, schedule_now_monotonic() };
    conversation_remove(&x->all->convs, c);
    for (struct conversation **p = &x->convs; *p; p = &(*p)->next)
        if (*p == c) {
            *p = c->next;
            x->n_convs--;
            break;
        }
    conversation_finish(c, &x->stream, &dl);
    free(c);
}

static struct conversation *conversation_new(struct session *x, const struct decoded *d)
{
    if (x->n_convs == MAX_CONVERSATIONS) { /* the oldest is the last */
        struct conversation *last = x->convs;
        while (last->next)
            last = last->next;
        conversation_end(x, last);
    }
    struct conversation *c = malloc(sizeof *c);
    if (!c)
        return NULL;
    conversation_init(c, x->pc->proto, d, x->router, on_run);
    c->owner = x;
    if (conversation_insert(&x->all->convs, c) < 0) {
        free(c);
        return NULL;
    }
    c->next = x->convs;
    x->convs = c;
    x->n_convs++;
    x->conversations++;
    return c;
}

void sessions_segment(struct sessions *s, struct router *r, const struct proto_config *pc, const struct decoded *d,
                      int64_t ts_ns)
{
    bool data = d->payload_len || (d->tcp_flags & TCP_SYN);
    struct conversation *c = conversation_find(&s->convs, d, r);
    if (c && conversation_restarted(c, d)) { /* a new connection on the same addresses and ports */
        conversation_end(c->owner, c);
        c = NULL;
    }
    if (!c) {
        struct session *x = data ? session_for(s, r, pc) : NULL;
        if (!x || !(c = conversation_new(x, d)))
            return;
    }
    struct session *x = c->owner;
    /* the due time only serves the lag, which time_factor 0 does not have */
    struct delivery dl = { x, x->all->env.cfg->time_factor > 0 ? schedule_now_monotonic() : 0 };
    conversation_segment(c, d, ts_ns, &dl);
}
