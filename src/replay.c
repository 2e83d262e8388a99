/* replay.c — capture -> decode -> select -> router -> schedule -> send, one packet at a
 * time (memory does not grow with the capture), with sendmmsg batches at time_factor 0. */
#define _GNU_SOURCE
#include "replay.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "capture.h"
#include "source.h"
#include "decode.h"
#include "log.h"
#include "loop.h"
#include "netlink.h"
#include "router.h"
#include "schedule.h"
#include "session.h"
#include "events.h"
#include "metrics.h"
#include "prepass.h"
#include "privs.h"
#include "udp_rewrite.h"
#include "sock.h"
#include "stats.h"


#include "engine.h"

/* ---- one packet ---- */

/* -d: why each packet was skipped or where it went, one line each */
static void trace(const struct engine *e, const struct decoded *d, const char *what)
{
    char a[ADDR_STRLEN], b[ADDR_STRLEN];
    log_debug("packet %llu: %s %s:%u -> %s:%u, %zu bytes: %s", (unsigned long long)e->stats.read,
              d->ip_proto == IPPROTO_TCP ? "TCP" : "UDP", addr_format(&d->src, a), d->sport, addr_format(&d->dst, b),
              d->dport, d->payload_len, what);
}

/* --check: the BGP ID of a router's first captured OPEN (at a segment's start: enough to warn) */
static void note_bgp_id(struct engine *e, const struct router *r, const struct decoded *d)
{
    size_t i = (size_t)(r - e->routers.routers);
    if (!e->captured_bgp_id || e->captured_bgp_id[i])
        return;
    struct bgp_open o;
    ssize_t n = proto_bgp.frame(d->payload, d->payload_len);
    if (n > 0 && bgp_parse_open(d->payload, (size_t)n, &o) == 0)
        e->captured_bgp_id[i] = o.bgp_id;
}

/* network.clones asks to rename this clone's datagrams (domain) */
static bool clone_renamed(const struct engine *e, const struct router *r, const struct proto_config *pc)
{
    return r->clone && e->cfg->clones.domain && pc->proto->clone_identity;
}

/* A datagram the section asks to rewrite (or a clone's): the messages to send before it
 * (templates), then its copy rewritten (the capture's bytes stay as they are). */
static void send_rewritten(struct engine *e, struct router *r, const struct proto_config *pc, uint16_t sport,
                           const struct decoded *d)
{
    bool batched = e->schedule.time_factor == 0 && !e->capped;
    unsigned what = clone_renamed(e, r, pc) ? CLONE_DOMAIN : 0;
    size_t n;
    while ((n = udp_rewrite_prime(r, pc, d->payload, d->payload_len, e->scratch, PRIME_MAX)) > 0) {
        if (what)
            n = pc->proto->clone_identity(e->scratch, n, PRIME_MAX, r->clone, what);
        r->stats[pc->id].primed++;
        if (batched)
            udp_send_add(e, r, pc->id, sport, e->scratch, n);
        else
            udp_send_one(e, r, pc->id, sport, e->scratch, n);
    }
    uint8_t *copy = e->scratch;
    if (batched)
        copy = udp_send_add(e, r, pc->id, sport, d->payload, d->payload_len);
    else
        memcpy(copy, d->payload, d->payload_len);
    udp_rewrite_message(r, pc, copy, d->payload_len);
    if (what) /* the same length: NetFlow's identity is in its header */
        pc->proto->clone_identity(copy, d->payload_len, d->payload_len, r->clone, what);
    if (!batched)
        udp_send_one(e, r, pc->id, sport, copy, d->payload_len);
}

/* The rate caps (the run's and the router's): when a packet of len bytes due at want may
 * leave; the wall time the caps add between packets is counted. */
static int64_t paced_deadline(struct engine *e, struct router *r, int64_t want, size_t len)
{
    int64_t t = rate_when(&e->rate, rate_when(&r->rate, want));
    /* held back: beyond the schedule's deadline; at time_factor 0, which has none (each packet
     * right after the one before), beyond the previous packet. (Measured from `want`, the
     * moment this packet was read, it also counted this machine's cost per packet.) */
    int64_t from = e->schedule.time_factor == 0 || want < e->last_paced_ns ? e->last_paced_ns : want;
    if (e->last_paced_ns && t > from)
        e->stats.held_ns += t - from;
    rate_take(&e->rate, t, len);
    rate_take(&r->rate, t, len);
    e->last_paced_ns = t;
    if (!e->stats.paced_packets++)
        e->stats.paced_first_ns = t;
    e->stats.paced_last_ns = t;
    e->stats.paced_bytes += len;
    return t;
}

/* Router r's part of a routed packet (r one of the captured router's clones): counted,
 * then sent at its deadline. */
static void replay_as(struct engine *e, struct router *r, const struct proto_config *pc, const struct decoded *d,
                      int64_t ts_ns, int64_t deadline, const struct msg_info *info, bool malformed)
{
    bool tcp = pc->proto->transport == TRANSPORT_TCP;
    struct proto_stats *ps = &r->stats[pc->id];
    if (!tcp) { /* TCP messages are counted when the session writes them */
        ps->malformed += malformed;
        stats_count_kind(ps, info->kind, 1);
        ps->records += info->records;
    }
    if (e->dry) { /* what a run would send: datagrams, or TCP segments with payload */
        if (!tcp || d->payload_len)
            for (unsigned k = 0; k < e->n_collectors[pc->id]; k++)
                udp_send_count(e, r, pc->id, k, d->payload_len);
        if (tcp && pc->id == PROTO_BGP)
            note_bgp_id(e, r, d);
        return;
    }
    if (e->capped && (!tcp || d->payload_len)) /* the caps space the packets that carry something */
        deadline = paced_deadline(e, r, e->schedule.time_factor == 0 ? schedule_now_monotonic() : deadline,
                                  d->payload_len);
    bool rewrite = rewrite_wanted(&pc->rewrite) || clone_renamed(e, r, pc);
    bool batched = e->schedule.time_factor == 0 && !e->capped; /* due now: a datagram leaves with its batch */
    /* the sessions are served on every pass; --busy-wait spins through this wait alone */
    if (!batched && loop_run_spin(e->loop, deadline, e->opt->busy_wait ? LOOP_BUSY_NS : LOOP_SPIN_NS))
        return;
    if (tcp) { /* messages are counted (and their lag) when written */
        sessions_segment(e->sessions, r, pc, d, ts_ns);
    } else {
        if (!batched && e->schedule.time_factor > 0)
            stats_note_lag(&e->stats, schedule_now_monotonic() - deadline);
        if (rewrite)
            send_rewritten(e, r, pc, d->sport, d);
        else if (batched)
            udp_send_add(e, r, pc->id, d->sport, d->payload, d->payload_len);
        else
            udp_send_one(e, r, pc->id, d->sport, d->payload, d->payload_len);
    }
    ready_first_sent(e);
}

static void replay_packet(struct engine *e, const struct capture_packet *pkt, bool *first)
{
    struct decoded d;
    enum decode_result dr = decode_frame(pkt->dlt, pkt->data, pkt->caplen, &d);
    if (dr != DECODE_OK) {
        e->stats.decode[dr]++;
        log_debug("packet %llu: skipped: %s", (unsigned long long)e->stats.read, decode_result_name(dr));
        return;
    }
    const struct proto_config *pc = select_protocol(e->cfg, &d, pkt->dlt, &pkt->hdr, pkt->data);
    if (!pc) {
        stats_note_unselected(&e->stats, d.ip_proto,
                              d.ip_proto == IPPROTO_TCP && d.sport < d.dport ? d.sport : d.dport);
        trace(e, &d, "skipped: no protocol's select matches");
        return;
    }
    bool tcp = pc->proto->transport == TRANSPORT_TCP;
    struct router *r = router_lookup(&e->routers, &d.src);
    if (!r) {
        if (tcp && router_lookup(&e->routers, &d.dst)) {
            e->stats.tcp_reverse++; /* the collector's side of a router's session */
            trace(e, &d, "skipped: the collector's side of a TCP session");
        } else {
            stats_note_unmapped(&e->stats, &d.src);
            trace(e, &d, "skipped: its source is not in network.map");
        }
        return;
    }
    if (d.payload_len > DATAGRAM_MAX) {
        e->stats.oversized++;
        trace(e, &d, "skipped: larger than a UDP datagram can be");
        return;
    }
    bool any_mine = !e->opt->shard.count;
    for (unsigned k = 0; k < r->n_clones && !any_mine; k++)
        any_mine = !r[k].elsewhere;
    if (!any_mine) {
        e->stats.other_shard++;
        trace(e, &d, "skipped: its router is another shard's");
        return;
    }
    e->stats.routed++;
    if (log_threshold >= LOG_DEBUG) {
        char what[64 + ADDR_STRLEN], b[ADDR_STRLEN];
        snprintf(what, sizeof what, "%s from %s%s", proto_names[pc->id], addr_format(&r->repro, b),
                 r->n_clones > 1 ? " and its clones" : "");
        trace(e, &d, what);
    }
    struct msg_info info = { .kind = -1 };
    bool malformed = !tcp && pc->proto->inspect(d.payload, d.payload_len, &info) < 0;
    if (!e->dry && *first) {
        int64_t start = schedule_now_monotonic();
        bool run_start = e->play_index == 1 && e->pass == 0;
        if (run_start && (!e->opt->no_sync || e->opt->start_at_ns)) {
            /* --start-at: every shard's first packet at that instant (then minute sync from it) */
            int64_t now_real = schedule_now_realtime(), from = e->opt->start_at_ns ? e->opt->start_at_ns : now_real;
            int64_t at = e->opt->no_sync ? from : schedule_minute_sync(from, pkt->ts_ns);
            if (!e->opt->no_sync)
                log_note("waiting %.1f s for second %lld of the minute, as the capture began (no_sync: true or "
                         "--no-sync skips this)",
                         (double)(at - now_real) / 1e9, (long long)(pkt->ts_ns / NS_PER_SEC % 60));
            else
                log_note("waiting %.3f s for --start-at", (double)(at - now_real) / 1e9);
            start = schedule_monotonic_at(at);
            e->stats.first_due_real_ns = at;
        }
        schedule_start(&e->schedule, start, pkt->ts_ns);
        *first = false;
    }
    /* a live frame goes as it arrives (its delay is the relay's, counted by live_too_late) */
    int64_t deadline = e->dry ? 0 : e->stats.live.on ? schedule_now_monotonic() : schedule_deadline(&e->schedule, pkt->ts_ns);
    /* clones: each replays the packet, clone k network.clones.stagger * k later (--shard:
     * those of this shard) */
    int64_t stagger = e->schedule.time_factor > 0 ? (int64_t)(e->cfg->clones.stagger * 1e9) : 0;
    for (unsigned k = 0; k < r->n_clones && !loop_stop; k++)
        if (!r[k].elsewhere)
            replay_as(e, r + k, pc, &d, pkt->ts_ns, deadline + stagger * k, &info, malformed);
}

/* ---- captures ---- */

static bool ask_user(const char *path)
{
    fprintf(stderr, "telrep: replay %s? [y/N] ", path);
    fflush(stderr);
    char line[64];
    if (!fgets(line, sizeof line, stdin))
        return false;
    return line[0] == 'y' || line[0] == 'Y';
}

/* config duration: the replay ends once it has run this long (said once; not an error) */
static bool duration_reached(struct engine *e)
{
    if (e->duration_over)
        return true;
    if (e->cfg->duration <= 0 || e->dry || schedule_now_monotonic() - e->started_ns < (int64_t)(e->cfg->duration * 1e9))
        return false;
    log_note("duration: %.0f s reached; the replay ends here", e->cfg->duration);
    return e->duration_over = true;
}

/* ---- a live source ---- */

static void live_readable(void *obj, uint32_t events)
{
    struct engine *e = obj;
    if (e->live_waiting)
        loop_break(e->loop);
}

/* No frame yet: what is batched goes out, and the sessions are served until the interface
 * has a frame (at most 100 ms, so the progress line and a duration go on). */
static void live_wait(struct engine *e, struct source *src)
{
    udp_send_flush(e);
    progress_tick(e);
    int fd = source_wait_fd(src);
    if (fd != e->live_io.fd) {
        if (e->live_io.fd >= 0)
            loop_unwatch(e->loop, &e->live_io);
        e->live_io = (struct loop_io){ .fd = fd, .fn = live_readable, .obj = e };
        if (fd >= 0 && loop_watch(e->loop, &e->live_io, EPOLLIN) < 0)
            e->live_io.fd = -1;
    }
    e->live_waiting = true;
    loop_run(e->loop, schedule_now_monotonic() + (e->live_io.fd >= 0 ? 100 : 5) * (int64_t)1000000);
    e->live_waiting = false;
    e->stats.live.kernel_dropped = source_dropped(src);
}

/* A frame waited too long (the relay fell behind, or the collector held it up): dropped
 * and counted, so the delay stays bounded. Otherwise its delay is noted. */
static bool live_too_late(struct engine *e, const struct capture_packet *pkt)
{
    int64_t delay = schedule_now_realtime() - pkt->ts_ns;
    e->stats.live.frames++;
    if (delay > (int64_t)(e->stats.live.max_delay * 1e9)) {
        if (!e->stats.live.late++)
            log_warn("a frame waited %.3f s, more than live.max_delay (%.3f s): such frames are dropped and counted "
                     "(the report's live.late_dropped)", (double)delay / 1e9, e->stats.live.max_delay);
        return true;
    }
    stats_hist_note(&e->stats.live.delay, delay < 0 ? 0 : delay);
    return false;
}

/* At time_factor 0 the capture is read as fast as it goes and the sessions are served (their
 * queues written, acknowledgements and collectors' messages read, timers run) after every
 * POLL_BYTES of captured packets, or POLL_PACKETS packets if that comes first. Writing in
 * pieces this large matters: a collector that keeps up drains its socket between two
 * writes and sleeps, so every write wakes it, and a wakeup (an interrupt to the other CPU;
 * on a VM a trip through the hypervisor) costs the sender as much as copying ~100 KB.
 * Polling every 64 packets (90 KB of BMP) gave 2.5 GB/s in bench section 4, every 512 KiB
 * 3.6 GB/s; the ~1 ms between two polls is nothing to a session's timers (seconds). */
#define POLL_BYTES (512u * 1024)
#define POLL_PACKETS 1024u

static int replay_capture(struct engine *e, const char *path)
{
    char err[512];
    struct source *cap = e->live_src ? e->live_src : source_open(path, &e->cfg->sources, err, sizeof err);
    e->live_src = NULL; /* a live source is played once: this play owns it */
    if (!cap) {
        log_error("%s", err);
        e->stats.capture_errors++;
        return -1;
    }
    log_info("replaying %s (%s)", path, source_format(cap));
    if (events_on())
        events_emit("capture_start", json_pack("{s:s,s:I,s:I,s:I}", "capture", path, "play", (json_int_t)e->play_index,
                                               "plays", (json_int_t)e->plays, "pass", (json_int_t)e->pass + 1));
    e->current_capture = cap;
    if (e->pass == 0) /* each play primes its exporters' templates again; a loop's body, once */
        udp_rewrite_restart(&e->routers);
    struct capture_packet pkt;
    bool first = true, live = source_is_live(cap);
    int rc = 0;
    uint64_t n = 0;
    size_t since_poll = 0;
    if (live) {
        e->stats.live.on = true;
        e->stats.live.max_delay = e->cfg->live.uri || e->cfg->live.max_delay > 0 ? e->cfg->live.max_delay
                                                                                  : LIVE_MAX_DELAY_DEFAULT;
        e->live_io.fd = -1;
        log_note("relaying from %s as frames arrive; SIGINT or SIGTERM ends it%s", path,
                 e->cfg->duration > 0 ? " (or duration:)" : "");
    }
    while (!loop_stop && !duration_reached(e) &&
           ((rc = source_next(cap, &pkt)) == 1 || rc == SOURCE_AGAIN)) {
        if (rc == SOURCE_AGAIN) {
            live_wait(e, cap);
            continue;
        }
        e->stats.read++;
        if (live && live_too_late(e, &pkt))
            continue;
        if (pkt.dlt < 0 || !decode_link_supported(pkt.dlt)) {
            e->stats.decode[DECODE_UNKNOWN_LINK]++;
            continue;
        }
        replay_packet(e, &pkt, &first);
        if ((++n & 255) == 0 || e->schedule.time_factor > 0)
            progress_tick(e);
        since_poll += pkt.caplen;
        if (e->schedule.time_factor == 0 && (since_poll >= POLL_BYTES || (n & (POLL_PACKETS - 1)) == 0)) {
            since_poll = 0;
            sessions_poll(e->sessions);
        }
    }
    udp_send_flush(e);
    sessions_end_capture(e->sessions);
    if (!loop_stop && rc < 0) {
        log_error("%s: the input ends in an error after %llu packets: %s (the packets before it were replayed)",
                  path, (unsigned long long)n, source_error(cap));
        e->stats.capture_errors++;
    }
    if (events_on())
        events_emit("capture_end", json_pack("{s:s,s:I}", "capture", path, "packets", (json_int_t)n));
    json_t *summary = source_summary(cap); /* the report's "sources": the last pass's */
    if (summary && (e->stats.sources || (e->stats.sources = json_object())))
        json_object_set_new(e->stats.sources, path, summary);
    else
        json_decref(summary);
    e->current_capture = NULL;
    if (live) {
        if (e->live_io.fd >= 0)
            loop_unwatch(e->loop, &e->live_io);
        e->live_io.fd = -1;
        e->stats.live.kernel_dropped = source_dropped(cap);
        if (loop_stop) { /* a relay's normal end: what was relayed is still delivered */
            log_note("live: the relay ends (signal): %llu frames relayed, %llu too late, %llu dropped by the kernel",
                     (unsigned long long)e->stats.live.delay.n, (unsigned long long)e->stats.live.late,
                     (unsigned long long)e->stats.live.kernel_dropped);
            loop_stop = 0;
            e->live_ended_by_signal = true;
        }
    }
    source_close(cap);
    return 0;
}

/* privs.h: sockets opened from here on may need to bind a device (network.interface) or a
 * source port below 1024 (source_port: keep, or a number under 1024); nothing else does */
static int drop_privileges(struct engine *e)
{
    const struct config *c = e->cfg;
    struct privs_needs n = { .net_raw = c->interface != NULL };
    for (size_t k = 0; k < c->n_protos; k++)
        if (c->protos[k].source_port == -1 || (c->protos[k].source_port > 0 && c->protos[k].source_port < 1024))
            n.net_bind_service = true;
    char err[4400];
    const char *user = e->opt->user ? e->opt->user : c->user;
    if (privs_drop(user, &n, err, sizeof err) < 0 ||
        privs_check_writable(e->opt->stats_json, "--stats-json", err, sizeof err) < 0 ||
        privs_check_writable(e->opt->ready_path, "--ready", err, sizeof err) < 0 ||
        privs_check_writable(e->opt->metrics_path, "--metrics", err, sizeof err) < 0) {
        log_error("%s", err);
        return -1;
    }
    return 0;
}

/* Check every capture opens before anything is sent. A live interface stays open: it needs
 * privileges that are given up before the first frame (privs.h). */
static int check_captures(struct engine *e)
{
    const struct config *c = e->cfg;
    for (size_t i = 0; i < c->n_pcaps; i++) {
        char err[512];
        struct source *cap = source_open(c->pcaps[i], &c->sources, err, sizeof err);
        if (!cap) {
            log_error("%s", err);
            return -1;
        }
        if (source_is_live(cap) && !e->live_src)
            e->live_src = cap;
        else
            source_close(cap);
    }
    return 0;
}

int replay_run(const struct config *c, const struct replay_options *o)
{
    struct engine *e = calloc(1, sizeof *e);
    int status = 2;
    if (!e)
        return 1;
    e->cfg = c;
    e->opt = o;
    e->sock_opts = (struct sock_options){ .device = c->interface, .sndbuf = c->so_sndbuf, .rcvbuf = c->so_rcvbuf,
                                          .freebind = o->skip_address_check };
    for (size_t k = 0; k < c->n_protos; k++)
        e->source_port[c->protos[k].id] = c->protos[k].source_port;
    e->batch_bytes = malloc(BATCH_BYTES);
    e->scratch = malloc(DATAGRAM_MAX);
    schedule_init(&e->schedule, c->time_factor);
    e->loop = loop_new();
    if (!e->batch_bytes || !e->scratch || !e->loop || router_table_init(&e->routers, c) < 0) {
        log_error("out of memory");
        status = 1;
        goto out;
    }
    if (c->n_map == 0) {
        log_error("%s: network.map is missing or empty: no packet can be replayed. Map each captured router to a "
                  "local address: network: {map: [{src_ip: 192.0.2.1, repro_ip: 127.0.0.11}]} (telrep -p "
                  "writes one from the captures)", c->file);
        goto out;
    }
    if (check_captures(e) < 0 || collectors_resolve(e) < 0)
        goto out;
    e->stats.shard_index = o->shard.index;
    e->stats.shard_count = o->shard.count;
    for (size_t i = 0; i < e->routers.n; i++) { /* --shard: the others' routers are theirs */
        struct router *r = &e->routers.routers[i];
        r->elsewhere = !shard_mine(&o->shard, &r->src, r->clone);
        e->routers_here += !r->elsewhere;
    }
    if (o->shard.count)
        log_info("shard %u of %u: %zu of the %zu routers", o->shard.index, o->shard.count, e->routers_here,
                 e->routers.n);
    for (size_t k = 0; k < c->n_protos; k++) { /* fan-out: each router's UDP counts per collector */
        int p = c->protos[k].id;
        if (e->n_collectors[p] < 2 || proto_by_id(p)->transport != TRANSPORT_UDP)
            continue;
        for (size_t i = 0; i < e->routers.n; i++)
            if (!(e->routers.routers[i].to[p] = calloc(e->n_collectors[p], sizeof *e->routers.routers[i].to[p]))) {
                log_error("out of memory");
                status = 1;
                goto out;
            }
    }
    char err[4096];
    if (!o->skip_address_check && netlink_check(c, err, sizeof err) < 0) {
        log_error("%s", err);
        goto out;
    }
    e->dry = o->check;
    if (e->dry) {
        if (!(e->captured_bgp_id = calloc(e->routers.n, sizeof *e->captured_bgp_id))) {
            log_error("out of memory");
            status = 1;
            goto out;
        }
        /* each capture once, as a run would read it; nothing opened, nothing sent */
        for (size_t i = 0; i < c->n_pcaps && !loop_stop; i++) {
            if (live_spec(c->pcaps[i])) { /* it opened: what it will carry is not known beforehand */
                log_info("%s: the interface can be captured", c->pcaps[i]);
                e->stats.routed++;
                continue;
            }
            e->current_pcap = c->pcaps[i];
            replay_capture(e, c->pcaps[i]);
        }
        report_summary(e);
        check_bgp_ids(e);
        bool fits = check_descriptors(e);
        int unreachable = check_tcp_collectors(e);
        if (!e->stats.routed)
            report_nothing(e);
        status = loop_stop ? 1 : !e->stats.routed || e->stats.capture_errors || !fits ? 2 : 0;
        if (!status && unreachable)
            log_note("%d TCP collector%s did not accept a connection: see the warning%s above", unreachable,
                     unreachable == 1 ? "" : "s", unreachable == 1 ? "" : "s");
        goto out;
    }
    /* open every socket before the first packet, so that no bind/connect lands inside
     * the schedule (the first packet of each router would be late) */
    for (size_t i = 0; i < e->routers.n; i++)
        for (size_t k = 0; k < c->n_protos && !e->routers.routers[i].elsewhere; k++)
            if (proto_by_id(c->protos[k].id)->transport == TRANSPORT_UDP && c->protos[k].source_port >= 0)
                udp_send_socket(e, &e->routers.routers[i], c->protos[k].id, 0);
    for (size_t k = 0; k < c->n_protos && !e->sessions; k++)
        if (proto_by_id(c->protos[k].id)->transport == TRANSPORT_TCP) {
            struct session_env env = { .cfg = c, .sock_opts = &e->sock_opts, .stats = &e->stats,
                                       .collector = collector_addr, .ctx = e, .keep_open = o->keep_open,
                                       .loop = e->loop, .loop_body = c->loop.on, .settled = ready_on_settled };
            if (!(e->sessions = sessions_new(&env))) {
                log_error("cannot set up the TCP sessions: %s", strerror(errno));
                status = 1;
                goto out;
            }
        }
    e->rate = (struct rate){ .pps = c->rate.pps, .bps = c->rate.bps };
    for (size_t i = 0; i < e->routers.n; i++)
        e->routers.routers[i].rate = (struct rate){ .pps = c->rate.router_pps, .bps = c->rate.router_bps };
    e->capped = rate_on(&e->rate) || c->rate.router_pps > 0 || c->rate.router_bps > 0;
    /* what must be known before the first packet, from one read of the captures: each
     * exporter's templates (templates: prime), the sessions --ready awaits */
    long taught = 0;
    struct ready_count counted = { 0 };
    struct prepass_use uses[2];
    size_t n_uses = 0;
    if (udp_rewrite_learns(c))
        uses[n_uses++] = (struct prepass_use){ udp_rewrite_learn_packet, &taught };
    if (ready_counts(e)) {
        if (ready_count_begin(e, &counted) < 0) {
            log_error("out of memory");
            status = 1;
            goto out;
        }
        uses[n_uses++] = (struct prepass_use){ ready_count_packet, &counted };
    }
    int read = prepass(c, &e->routers, uses, n_uses);
    if (counted.seen)
        ready_count_end(&counted);
    if (read < 0) {
        status = 2;
        goto out;
    }
    if (udp_rewrite_learns(c))
        log_info("templates: the captures were read once for their templates (%ld messages)", taught);
    if (o->metrics_path || o->metrics_listen) {
        if (!(e->metrics = metrics_new(e, o->metrics_path, o->metrics_listen, o->metrics_interval, err, sizeof err))) {
            log_error("%s", err);
            status = 2;
            goto out;
        }
    }
    /* everything privileged is open (the interface, the sockets, the metrics listener): give up
     * what the rest of the run does not need */
    if (drop_privileges(e) < 0) {
        status = 2;
        goto out;
    }
    e->plays = config_plays(c);
    if (events_on())
        events_emit("run_start", json_pack("{s:s,s:I,s:I,s:i,s:i}", "config", c->file, "routers",
                                           (json_int_t)e->routers_here, "plays", (json_int_t)e->plays, "shard",
                                           (int)o->shard.index, "shards", (int)o->shard.count));
    e->started_ns = schedule_now_monotonic();
    e->next_progress_ns = e->started_ns + (int64_t)(o->progress_interval * 1e9);
    if (e->plays > c->n_pcaps) /* a capture is played more than once: after its first play, from memory */
        capture_keep(CAPTURE_KEEP_BYTES);
    /* loop: the whole list (with its repeats) is a body played pass after pass, gap apart */
    uint64_t passes = !c->loop.on ? 1 : c->loop.count ? c->loop.count : UINT64_MAX;
    for (e->pass = 0; e->pass < passes && !loop_stop && !duration_reached(e); e->pass++) {
        if (e->pass) {
            loop_run(e->loop, schedule_now_monotonic() + (int64_t)(c->loop.gap * 1e9));
            sessions_new_pass(e->sessions);
            log_info("loop: pass %llu", (unsigned long long)e->pass + 1);
            if (events_on())
                events_emit("loop_pass", json_pack("{s:I}", "pass", (json_int_t)e->pass + 1));
        }
        for (uint64_t i = 0; i < e->plays && !loop_stop && !duration_reached(e); i++) {
            e->play_index = i + 1;
            e->current_pcap = c->pcaps[config_play_pcap(c, i)];
            if (o->ask_for_input && !ask_user(e->current_pcap)) {
                log_info("skipping %s", e->current_pcap);
                continue;
            }
            replay_capture(e, e->current_pcap);
        }
    }
    capture_keep(0);
    e->stats.backward_steps = e->schedule.backward_steps;
    if (e->schedule.backward_steps)
        log_warn("capture time went backwards %llu times; each step was replayed as a zero gap",
                 (unsigned long long)e->schedule.backward_steps);
    sessions_drain(e->sessions);
    bool interrupted = loop_stop; /* a signal before every capture was replayed and delivered */
    if (!interrupted && events_on()) { /* a harness may stop a keep_open run from here on */
        struct session_summary t;
        sessions_summary(e->sessions, NULL, -1, -1, &t);
        events_emit("replayed", json_pack("{s:I,s:I,s:b}", "sent", (json_int_t)e->stats.sent, "lost",
                                          (json_int_t)t.lost, "keep_open", o->keep_open));
    }
    if (interrupted)
        log_warn("interrupted by a signal at play %llu of %llu: the rest of the captures was not replayed",
                 (unsigned long long)e->play_index, (unsigned long long)e->plays);
    if (o->keep_open && !loop_stop && !e->live_ended_by_signal) {
        log_note("keep_open: all captures replayed; the sockets stay open until SIGINT or SIGTERM");
        while (!loop_stop) /* a signal ends the wait at once */
            loop_run(e->loop, schedule_now_monotonic() + NS_PER_SEC);
    }
    sessions_close_all(e->sessions);
    udp_send_late_refusals(e);
    if (o->progress_interval > 0)
        progress_line(e, true);
    report_summary(e);
    struct session_summary t;
    sessions_summary(e->sessions, NULL, -1, -1, &t);
    e->stats.lost = t.lost;
    e->stats.incomplete = t.incomplete;
    bool nothing = !e->stats.routed && !interrupted;
    bool failed = e->stats.refused || e->stats.send_errors || e->stats.capture_errors || e->stats.session_failures ||
                  t.lost || interrupted;
    bool recovered = !failed && (t.reconnects || t.connect_refused || t.resent);
    e->stats.outcome = nothing ? "nothing sent" : interrupted ? "interrupted" : failed ? "failed"
                     : recovered ? "recovered" : "success";
    if (nothing)
        report_nothing(e);
    else if (recovered)
        log_warn("recovered: %llu reconnects after %llu refused connection attempts, nothing lost (%llu messages "
                 "written again after a reset may reach the collector twice)", (unsigned long long)t.reconnects,
                 (unsigned long long)t.connect_refused, (unsigned long long)t.resent);
    bool report_failed = o->stats_json && stats_write_json(&e->stats, &e->routers, c,
                                                           sessions_report_json(e->sessions), o->stats_json) < 0;
    status = nothing ? 2 : failed || report_failed ? 1 : 0;
    metrics_done(e->metrics);
    if (events_on())
        events_emit("done", json_pack("{s:s,s:I,s:I,s:I,s:i}", "outcome", e->stats.outcome, "sent",
                                      (json_int_t)e->stats.sent, "refused", (json_int_t)e->stats.refused, "lost",
                                      (json_int_t)t.lost, "exit_status", status));
out:
    source_close(e->live_src);
    json_decref(e->stats.sources);
    free(e->captured_bgp_id);
    metrics_free(e->metrics);
    sessions_free(e->sessions);
    loop_free(e->loop);
    router_table_free(&e->routers);
    for (int p = 0; p < PROTO_COUNT; p++)
        free(e->collectors[p]);
    free(e->batch_bytes);
    free(e->scratch);
    free(e);
    return status;
}
