/* replay.c — capture -> decode -> select -> router -> schedule -> send, one packet at a
 * time (memory does not grow with the capture), with sendmmsg batches at time_factor 0. */
#define _GNU_SOURCE
#include "replay.h"

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "capture.h"
#include "decode.h"
#include "log.h"
#include "netlink.h"
#include "router.h"
#include "schedule.h"
#include "session.h"
#include "sock.h"
#include "stats.h"

volatile int replay_stop;

#define BATCH_MAX 1024
#define BATCH_BYTES (2u << 20)
#define DATAGRAM_MAX 65507
/* captures played more than once are kept in memory after their first play, up to this */
#define CAPTURE_KEEP_BYTES (64u << 20)

struct collector {
    bool has[2]; /* [0] IPv4, [1] IPv6 */
    struct sockaddr_storage addr[2];
    socklen_t len[2];
};

struct pending {
    struct router *router;
    int proto;
    size_t offset, len;
};

struct engine {
    const struct config *cfg;
    const struct replay_options *opt;
    struct router_table routers;
    struct collector collectors[PROTO_COUNT];
    struct sock_options sock_opts;
    struct stats stats;
    struct schedule schedule;
    /* time_factor 0: datagrams wait here and leave in sendmmsg batches */
    struct pending batch[BATCH_MAX];
    size_t n_batch, batch_used;
    uint8_t *batch_bytes;
    /* progress */
    int64_t next_progress_ns, started_ns;
    const char *current_pcap;
    size_t play_index, plays;
    struct capture *current_capture;
    unsigned warned_open;
    struct sessions *sessions; /* the TCP protocols' live sessions; NULL when none is configured */
};

static const struct sockaddr_storage *session_collector(void *ctx, int proto, int family, socklen_t *len)
{
    struct engine *e = ctx;
    int f = family == AF_INET6;
    if (!e->collectors[proto].has[f])
        return NULL;
    *len = e->collectors[proto].len[f];
    return &e->collectors[proto].addr[f];
}

/* ---- collectors ---- */

static int resolve_collectors(struct engine *e)
{
    const struct config *c = e->cfg;
    for (size_t i = 0; i < c->n_protos; i++) {
        const struct proto_config *pc = &c->protos[i];
        struct collector *col = &e->collectors[pc->id];
        if (!pc->n_collector_hosts) {
            log_error("%s:%u: protocol %s has no collector: add collector: {ip: ..., port: ...}", c->file, pc->line,
                      proto_names[pc->id]);
            return -1;
        }
        for (size_t h = 0; h < pc->n_collector_hosts; h++) {
            const char *host = pc->collector_hosts[h];
            struct addrinfo hints = { .ai_socktype = SOCK_DGRAM }, *res = NULL;
            char port[8];
            snprintf(port, sizeof port, "%u", pc->collector_port);
            int rc = getaddrinfo(host, port, &hints, &res);
            if (rc != 0) {
                log_error("%s:%u:%u: %s collector \"%s\" does not resolve: %s", c->file, pc->collector_at.line,
                          pc->collector_at.col, proto_names[pc->id], host, gai_strerror(rc));
                return -1;
            }
            for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
                int f = ai->ai_family == AF_INET6;
                if ((ai->ai_family == AF_INET || ai->ai_family == AF_INET6) && !col->has[f]) {
                    col->has[f] = true;
                    memcpy(&col->addr[f], ai->ai_addr, ai->ai_addrlen);
                    col->len[f] = ai->ai_addrlen;
                }
            }
            freeaddrinfo(res);
        }
        /* every router must be able to reach this collector from its repro_ip */
        for (size_t m = 0; m < c->n_map; m++) {
            int f = c->map[m].repro.family == AF_INET6;
            if (!col->has[f]) {
                char r[ADDR_STRLEN];
                log_error("%s:%u:%u: repro_ip %s is IPv%d but the %s collector (%s:%u:%u) has no IPv%d address: give "
                          "it one of each family the routers use (ip: [192.0.2.10, \"2001:db8::10\"]) or map this "
                          "router to an IPv%d address", c->file, c->map[m].line, c->map[m].col,
                          addr_format(&c->map[m].repro, r), f ? 6 : 4, proto_names[pc->id], c->file,
                          pc->collector_at.line, pc->collector_at.col, f ? 6 : 4, f ? 4 : 6);
                return -1;
            }
        }
    }
    return 0;
}

/* ---- sending ---- */

static int router_socket(struct engine *e, struct router *r, int proto)
{
    if (r->fd[proto] >= 0 || r->open_failed[proto])
        return r->fd[proto];
    struct collector *col = &e->collectors[proto];
    int f = r->repro.family == AF_INET6;
    char err[256], a[ADDR_STRLEN];
    r->fd[proto] = sock_open_udp(&r->repro, &col->addr[f], col->len[f], &e->sock_opts, err, sizeof err);
    if (r->fd[proto] < 0) {
        r->open_failed[proto] = true;
        log_error("router %s: %s: %s; its %s packets are counted as send errors", addr_format(&r->src, a),
                  proto_names[proto], err, proto_names[proto]);
    }
    return r->fd[proto];
}

static void count_send_failure(struct engine *e, struct router *r, int proto, int err)
{
    char a[ADDR_STRLEN], b[80];
    struct proto_stats *ps = &r->stats[proto];
    if (err == ECONNREFUSED) {
        ps->refused++;
        e->stats.refused++;
        if (ps->refused == 1)
            log_warn("router %s: %s collector %s refused (not listening?); replay goes on, refusals are "
                     "counted", addr_format(&r->src, a), proto_names[proto],
                     sock_format(&e->collectors[proto].addr[r->repro.family == AF_INET6], b, sizeof b));
    } else {
        ps->send_errors++;
        e->stats.send_errors++;
        if (ps->send_errors == 1)
            log_warn("router %s: %s send failed: %s", addr_format(&r->src, a), proto_names[proto], strerror(err));
    }
}

static void count_sent(struct engine *e, struct router *r, int proto, size_t len)
{
    r->stats[proto].packets++;
    r->stats[proto].bytes += len;
    e->stats.sent++;
}

/* Send msgs[0..n) on fd. A connected UDP socket reports an ICMP port unreachable of an
 * earlier datagram on a later send, which is then not sent: that datagram is retried once. */
static void send_many(struct engine *e, struct router *r, int proto, struct mmsghdr *msgs, unsigned n)
{
    int fd = router_socket(e, r, proto);
    unsigned i = 0;
    bool retried = false;
    while (i < n) {
        if (fd < 0) {
            count_send_failure(e, r, proto, EBADF);
            i++;
            continue;
        }
        int k = sendmmsg(fd, msgs + i, n - i, 0);
        if (k > 0) {
            for (int j = 0; j < k; j++)
                count_sent(e, r, proto, msgs[i + j].msg_len);
            i += (unsigned)k;
            retried = false;
            continue;
        }
        if (errno == EINTR)
            continue;
        int err = errno;
        if (err == ECONNREFUSED && !retried) {
            count_send_failure(e, r, proto, err);
            retried = true;
            continue;
        }
        if (err != ECONNREFUSED)
            count_send_failure(e, r, proto, err);
        i++;
        retried = false;
    }
}

static void send_one(struct engine *e, struct router *r, int proto, const uint8_t *data, size_t len)
{
    struct iovec iov = { .iov_base = (void *)data, .iov_len = len };
    struct mmsghdr m = { .msg_hdr = { .msg_iov = &iov, .msg_iovlen = 1 } };
    send_many(e, r, proto, &m, 1);
}

/* Batches go out per socket, in capture order within each socket. */
static void batch_flush(struct engine *e)
{
    struct mmsghdr msgs[BATCH_MAX];
    struct iovec iov[BATCH_MAX];
    bool done[BATCH_MAX] = { false };
    for (size_t i = 0; i < e->n_batch; i++) {
        if (done[i])
            continue;
        struct pending *first = &e->batch[i];
        unsigned n = 0;
        for (size_t j = i; j < e->n_batch; j++) {
            struct pending *p = &e->batch[j];
            if (done[j] || p->router != first->router || p->proto != first->proto)
                continue;
            iov[n] = (struct iovec){ .iov_base = e->batch_bytes + p->offset, .iov_len = p->len };
            msgs[n] = (struct mmsghdr){ .msg_hdr = { .msg_iov = &iov[n], .msg_iovlen = 1 } };
            n++;
            done[j] = true;
        }
        send_many(e, first->router, first->proto, msgs, n);
    }
    e->n_batch = 0;
    e->batch_used = 0;
}

static void batch_add(struct engine *e, struct router *r, int proto, const uint8_t *data, size_t len)
{
    if (e->n_batch == BATCH_MAX || e->batch_used + len > BATCH_BYTES)
        batch_flush(e);
    memcpy(e->batch_bytes + e->batch_used, data, len);
    e->batch[e->n_batch++] = (struct pending){ .router = r, .proto = proto, .offset = e->batch_used, .len = len };
    e->batch_used += len;
}

/* ---- progress ---- */

static void progress_line(struct engine *e, bool final)
{
    const struct stats *s = &e->stats;
    double secs = (double)(schedule_now_monotonic() - e->started_ns) / 1e9;
    char where[96] = "";
    if (e->current_capture && !final) {
        double f = capture_progress(e->current_capture);
        if (f >= 0)
            snprintf(where, sizeof where, " %.0f%%", f * 100);
    }
    uint64_t per_proto[PROTO_COUNT] = { 0 };
    for (size_t i = 0; i < e->routers.n; i++)
        for (int p = 0; p < PROTO_COUNT; p++)
            per_proto[p] += e->routers.routers[i].stats[p].packets;
    char sent[160] = "";
    size_t off = 0;
    for (size_t i = 0; i < e->cfg->n_protos && off < sizeof sent; i++) {
        int p = e->cfg->protos[i].id;
        off += (size_t)snprintf(sent + off, sizeof sent - off, " %s %llu", proto_names[p],
                                (unsigned long long)per_proto[p]);
    }
    uint64_t malformed = s->decode[DECODE_TRUNCATED] + s->decode[DECODE_MALFORMED];
    fprintf(stderr, "telrep: %s[%zu/%zu %s%s] %.1fs sent:%s | skipped: unmapped %llu, unselected %llu, "
            "malformed %llu, other %llu | refused %llu | lag %.0fus (max %.0fus)\n",
            final ? "done " : "", e->play_index, e->plays, e->current_pcap ? e->current_pcap : "-", where, secs,
            sent, (unsigned long long)s->unmapped, (unsigned long long)s->unselected,
            (unsigned long long)malformed, (unsigned long long)(stats_skipped(s) - s->unmapped - s->unselected - malformed),
            (unsigned long long)s->refused, s->lag_last_ns / 1e3, s->lag_max_ns / 1e3);
}

static void progress_tick(struct engine *e)
{
    if (e->opt->progress_interval <= 0)
        return;
    int64_t now = schedule_now_monotonic();
    if (now < e->next_progress_ns)
        return;
    e->next_progress_ns = now + (int64_t)(e->opt->progress_interval * 1e9);
    progress_line(e, false);
}

/* What made the run fail, said even with --quiet: the exit status needs its reason. */
static void report_failures(struct engine *e)
{
    for (size_t i = 0; i < e->routers.n; i++) {
        const struct router *r = &e->routers.routers[i];
        for (int p = 0; p < PROTO_COUNT; p++) {
            const struct proto_stats *ps = &r->stats[p];
            if (!ps->refused && !ps->send_errors)
                continue;
            char a[ADDR_STRLEN], b[80];
            log_error("router %s: %s to %s: %llu sent, %llu refused (collector not listening), %llu failed",
                      addr_format(&r->src, a), proto_names[p],
                      sock_format(&e->collectors[p].addr[r->repro.family == AF_INET6], b, sizeof b),
                      (unsigned long long)ps->packets, (unsigned long long)ps->refused,
                      (unsigned long long)ps->send_errors);
        }
    }
}

/* ---- one packet ---- */

static void replay_packet(struct engine *e, const struct capture_packet *pkt, bool *first)
{
    struct decoded d;
    enum decode_result dr = decode_frame(pkt->dlt, pkt->data, pkt->caplen, &d);
    if (dr != DECODE_OK) {
        e->stats.decode[dr]++;
        return;
    }
    const struct proto_config *pc = select_protocol(e->cfg, &d, pkt->dlt, &pkt->hdr, pkt->data);
    if (!pc) {
        e->stats.unselected++;
        return;
    }
    bool tcp = pc->proto->transport == TRANSPORT_TCP;
    struct router *r = router_lookup(&e->routers, &d.src);
    if (!r) {
        if (tcp && router_lookup(&e->routers, &d.dst))
            e->stats.tcp_reverse++; /* the collector's side of a router's session */
        else
            stats_note_unmapped(&e->stats, &d.src);
        return;
    }
    if (d.payload_len > DATAGRAM_MAX) {
        e->stats.oversized++;
        return;
    }
    struct msg_info info = { .kind = -1 };
    struct proto_stats *ps = &r->stats[pc->id];
    if (!tcp) { /* TCP messages are counted when the session writes them */
        if (pc->proto->inspect(d.payload, d.payload_len, &info) < 0)
            ps->malformed++;
        stats_count_kind(ps, info.kind, 1);
        ps->records += info.records;
    }

    if (*first) {
        int64_t start = schedule_now_monotonic();
        if (!e->opt->no_sync && e->play_index == 1) {
            int64_t now_real = schedule_now_realtime();
            int64_t at = schedule_minute_sync(now_real, pkt->ts_ns);
            log_info("waiting %.1f s for second %lld of the minute (no_sync: true skips this)",
                     (double)(at - now_real) / 1e9, (long long)(pkt->ts_ns / NS_PER_SEC % 60));
            start += at - now_real;
        }
        schedule_start(&e->schedule, start, pkt->ts_ns);
        *first = false;
    }
    int64_t deadline = schedule_deadline(&e->schedule, pkt->ts_ns);
    if (e->schedule.time_factor == 0) {
        if (tcp) {
            sessions_segment(e->sessions, r, pc, &d, pkt->ts_ns);
            return;
        }
        batch_add(e, r, pc->id, d.payload, d.payload_len);
        return;
    }
    if (sessions_active(e->sessions) ? sessions_wait(e->sessions, deadline, &replay_stop)
                                     : schedule_sleep_until(deadline, &replay_stop))
        return;
    if (tcp) { /* messages are counted (and their lag) when written */
        sessions_segment(e->sessions, r, pc, &d, pkt->ts_ns);
        return;
    }
    stats_note_lag(&e->stats, schedule_now_monotonic() - deadline);
    send_one(e, r, pc->id, d.payload, d.payload_len);
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

static int replay_capture(struct engine *e, const char *path)
{
    char err[512];
    struct capture *cap = capture_open(path, err, sizeof err);
    if (!cap) {
        log_error("%s", err);
        e->stats.capture_errors++;
        return -1;
    }
    log_info("replaying %s (%s)", path, capture_format(cap));
    e->current_capture = cap;
    struct capture_packet pkt;
    bool first = true;
    int rc;
    uint64_t n = 0;
    while (!replay_stop && (rc = capture_next(cap, &pkt)) == 1) {
        e->stats.read++;
        if (pkt.dlt < 0 || !decode_link_supported(pkt.dlt)) {
            e->stats.decode[DECODE_UNKNOWN_LINK]++;
            continue;
        }
        replay_packet(e, &pkt, &first);
        if ((++n & 255) == 0 || e->schedule.time_factor > 0)
            progress_tick(e);
        if ((n & 63) == 0 && e->schedule.time_factor == 0)
            sessions_poll(e->sessions);
    }
    batch_flush(e);
    sessions_end_capture(e->sessions);
    if (!replay_stop && rc < 0) {
        log_error("%s: capture ends in an error after %llu packets: %s (the packets before it were replayed)",
                  path, (unsigned long long)n, capture_error(cap));
        e->stats.capture_errors++;
    }
    e->current_capture = NULL;
    capture_close(cap);
    return 0;
}

/* Check every capture opens before anything is sent. */
static int check_captures(const struct config *c)
{
    for (size_t i = 0; i < c->n_pcaps; i++) {
        char err[512];
        struct capture *cap = capture_open(c->pcaps[i], err, sizeof err);
        if (!cap) {
            log_error("%s", err);
            return -1;
        }
        capture_close(cap);
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
    e->sock_opts = (struct sock_options){ .device = c->interface, .sndbuf = c->so_sndbuf, .rcvbuf = c->so_rcvbuf };
    e->batch_bytes = malloc(BATCH_BYTES);
    schedule_init(&e->schedule, c->time_factor);
    if (!e->batch_bytes || router_table_init(&e->routers, c) < 0) {
        log_error("out of memory");
        status = 1;
        goto out;
    }
    if (c->n_map == 0)
        log_warn("%s: network.map is empty: every packet will be skipped as unmapped", c->file);
    if (check_captures(c) < 0 || resolve_collectors(e) < 0)
        goto out;
    char err[4096];
    if (!o->skip_address_check && netlink_check(c, err, sizeof err) < 0) {
        log_error("%s", err);
        goto out;
    }
    /* open every socket before the first packet, so that no bind/connect lands inside
     * the schedule (the first packet of each router would be late) */
    for (size_t i = 0; i < e->routers.n; i++)
        for (size_t k = 0; k < c->n_protos; k++)
            if (proto_by_id(c->protos[k].id)->transport == TRANSPORT_UDP)
                router_socket(e, &e->routers.routers[i], c->protos[k].id);
    for (size_t k = 0; k < c->n_protos && !e->sessions; k++)
        if (proto_by_id(c->protos[k].id)->transport == TRANSPORT_TCP) {
            struct session_env env = { .cfg = c, .sock_opts = &e->sock_opts, .stats = &e->stats,
                                       .collector = session_collector, .ctx = e, .keep_open = o->keep_open };
            if (!(e->sessions = sessions_new(&env))) {
                log_error("cannot set up the TCP sessions: %s", strerror(errno));
                status = 1;
                goto out;
            }
        }
    size_t *order;
    e->plays = config_play_order(c, &order);
    e->started_ns = schedule_now_monotonic();
    e->next_progress_ns = e->started_ns + (int64_t)(o->progress_interval * 1e9);
    if (e->plays > c->n_pcaps) /* a capture is played more than once: after its first play, from memory */
        capture_keep(CAPTURE_KEEP_BYTES);
    for (size_t i = 0; i < e->plays && !replay_stop; i++) {
        e->play_index = i + 1;
        e->current_pcap = c->pcaps[order[i]];
        if (o->ask_for_input && !ask_user(e->current_pcap)) {
            log_info("skipping %s", e->current_pcap);
            continue;
        }
        replay_capture(e, e->current_pcap);
    }
    free(order);
    capture_keep(0);
    e->stats.backward_steps = e->schedule.backward_steps;
    if (e->schedule.backward_steps)
        log_warn("capture time went backwards %llu times; each step was replayed as a zero gap",
                 (unsigned long long)e->schedule.backward_steps);
    sessions_drain(e->sessions, &replay_stop);
    if (o->keep_open && !replay_stop) {
        log_info("keep_open: all captures replayed; sockets stay open until SIGINT/SIGTERM");
        while (!replay_stop) {
            if (sessions_active(e->sessions))
                sessions_wait(e->sessions, schedule_now_monotonic() + NS_PER_SEC / 10, &replay_stop);
            else
                pause();
        }
    }
    sessions_close_all(e->sessions);
    if (o->progress_interval > 0)
        progress_line(e, true);
    report_failures(e);
    if (e->stats.unmapped)
        log_warn("%llu packets from %d source address%s not in network.map were skipped (see the report)",
                 (unsigned long long)e->stats.unmapped, e->stats.n_unmapped_sources,
                 e->stats.n_unmapped_sources == 1 ? "" : "es");
    bool report_failed = o->stats_json && stats_write_json(&e->stats, &e->routers, c,
                                                           sessions_report_json(e->sessions), o->stats_json) < 0;
    status = e->stats.refused || e->stats.send_errors || e->stats.capture_errors || e->stats.session_failures ||
                     report_failed ? 1 : 0;
out:
    sessions_free(e->sessions);
    router_table_free(&e->routers);
    free(e->batch_bytes);
    free(e);
    return status;
}
