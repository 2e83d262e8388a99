/* report.c — what a run says: the progress line while it runs; at its end a line per router
 * and protocol in units that add up, what was skipped and why; the findings of --check. */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "engine.h"
#include "log.h"
#include "metrics.h"
#include "source.h"

/* One router's line for one protocol and one of its collectors (k) into buf (t: what its
 * session to that collector did, for TCP); returns whether something went wrong (refused,
 * failed or lost). Units add up: UDP datagrams sent + refused + failed = what the capture
 * held; TCP messages delivered + lost + incomplete = what its sessions held (for each
 * collector of a fan-out). */
static bool router_proto_line(struct engine *e, const struct router *r, int p, unsigned k,
                              const struct session_summary *t, char *buf, size_t len)
{
    const struct proto_stats *ps = &r->stats[p];
    struct collector_stats cs = router_to(r, p, k);
    char a[ADDR_STRLEN], b[ADDR_STRLEN], col[80];
    size_t off = (size_t)snprintf(buf, len, "router %s (as %s) %s -> %s: ", addr_format(&r->src, a),
                                  addr_format(&r->repro, b), proto_names[p],
                                  sock_format(COLLECTOR_ADDR(e, p, k, r->repro.family == AF_INET6), col, sizeof col));
    if (e->dry) {
        uint64_t n = e->n_collectors[p] ? e->n_collectors[p] : 1; /* counted once per collector */
        snprintf(buf + off, len - off, proto_by_id(p)->transport == TRANSPORT_TCP
                 ? "would send %llu bytes (%llu segments with payload)" : "would send %llu datagrams (%llu bytes)",
                 (unsigned long long)((proto_by_id(p)->transport == TRANSPORT_TCP ? ps->bytes : ps->packets) / n),
                 (unsigned long long)((proto_by_id(p)->transport == TRANSPORT_TCP ? ps->packets : ps->bytes) / n));
        return false;
    }
    if (proto_by_id(p)->transport == TRANSPORT_UDP) {
        snprintf(buf + off, len - off, "%llu datagrams sent (%llu bytes), %llu refused by the collector, %llu failed",
                 (unsigned long long)cs.packets, (unsigned long long)cs.bytes, (unsigned long long)cs.refused,
                 (unsigned long long)cs.send_errors);
        return cs.refused || cs.send_errors;
    }
    off += (size_t)snprintf(buf + off, len - off, "%llu messages delivered (%llu bytes), %llu lost",
                            (unsigned long long)t->delivered, (unsigned long long)t->bytes, (unsigned long long)t->lost);
    if (t->lost && off < len)
        off += (size_t)snprintf(buf + off, len - off, " (%s)", t->reason);
    if (t->incomplete && off < len)
        off += (size_t)snprintf(buf + off, len - off, ", %llu incomplete at the capture's end (not sent)",
                                (unsigned long long)t->incomplete);
    if (t->skipped_before_start && off < len)
        off += (size_t)snprintf(buf + off, len - off, ", %llu before the session start (not sent)",
                                (unsigned long long)t->skipped_before_start);
    if ((t->connect_refused || t->reconnects) && off < len)
        off += (size_t)snprintf(buf + off, len - off, "; %llu connection attempts refused, %llu reconnects",
                                (unsigned long long)t->connect_refused, (unsigned long long)t->reconnects);
    if (t->failed && off < len)
        snprintf(buf + off, len - off, t->lost ? "; %llu session%s failed" : "; %llu session%s failed: %s",
                 (unsigned long long)t->failed, t->failed == 1 ? "" : "s", t->reason);
    return t->lost || t->failed || (k == 0 && ps->send_errors);
}

#define SUMMARY_ROUTERS 32 /* beyond this many routers only those with a problem get a line */

/* The per-router summary, said at the end of every run: problems at error level (seen with
 * --quiet too), the rest as notes. */
void report_summary(struct engine *e)
{
    const struct config *c = e->cfg;
    size_t shown = 0, quiet_routers = 0;
    for (size_t i = 0; i < e->routers.n; i++) {
        const struct router *r = &e->routers.routers[i];
        bool any = false, bad_router = false;
        if (r->elsewhere)
            continue;
        for (size_t j = 0; j < c->n_protos; j++) {
            int p = c->protos[j].id;
            for (unsigned k = 0; k < e->n_collectors[p]; k++) { /* each collector */
                struct session_summary t = { 0 };
                if (proto_by_id(p)->transport == TRANSPORT_TCP) /* the UDP protocols have none */
                    sessions_summary(e->sessions, r, p, (int)k, &t);
                const struct proto_stats *ps = &r->stats[p];
                if (!ps->packets && !ps->refused && !ps->send_errors && !t.sessions)
                    continue;
                any = true;
                char line[768];
                bool bad = router_proto_line(e, r, p, k, &t, line, sizeof line);
                bad_router |= bad;
                if (bad && shown < SUMMARY_ROUTERS * PROTO_COUNT)
                    log_error("%s", line);
                else if (e->routers.n <= SUMMARY_ROUTERS)
                    log_note("%s", line);
                shown += bad;
            }
        }
        if (!any && e->routers.n <= SUMMARY_ROUTERS) {
            char a[ADDR_STRLEN];
            log_note("router %s: nothing in the captures for it", addr_format(&r->src, a));
        }
        quiet_routers += !bad_router && e->routers.n > SUMMARY_ROUTERS;
    }
    if (quiet_routers)
        log_note("%zu more routers %s without a problem (the --stats-json report has each)", quiet_routers,
                 e->dry ? "checked" : "replayed");
    const struct stats *s = &e->stats;
    if (e->capped && s->paced_packets > 1) {
        double span = (double)(s->paced_last_ns - s->paced_first_ns) / 1e9;
        log_note("rate: %llu packets in %.2f s: %.0f packets/s, %.0f bits/s; the caps held the replay back %.2f s",
                 (unsigned long long)s->paced_packets, span, span > 0 ? (double)(s->paced_packets - 1) / span : 0,
                 span > 0 ? (double)s->paced_bytes * 8 / span : 0, (double)s->held_ns / 1e9);
    }
    /* what was skipped, and why, with the ports and sources seen (report_nothing() says
     * it when nothing was for a router) */
    if (!s->routed)
        return;
    char ports[512], sources[512];
    if (s->unselected)
        log_note("%llu packets skipped: no protocol's select matches them: %s", (unsigned long long)s->unselected,
                 stats_unselected_text(s, ports, sizeof ports));
    if (s->unmapped)
        log_warn("%llu packets skipped: from %d source address%s not in network.map: %s%s",
                 (unsigned long long)s->unmapped, s->n_unmapped_sources, s->n_unmapped_sources == 1 ? "" : "es",
                 stats_unmapped_text(s, sources, sizeof sources),
                 e->opt->stats_json ? " (the report lists them)" : "");
    uint64_t other = stats_skipped(s) - s->unselected - s->unmapped - s->tcp_reverse;
    if (other)
        log_note("%llu packets skipped: not IP, not UDP/TCP, fragments, truncated, malformed or oversized (the "
                 "--stats-json report counts each reason)", (unsigned long long)other);
}

/* --check: the descriptors a run would hold at once (a socket per router and UDP protocol,
 * whatever its collectors; a TCP session per router, protocol and collector), against the
 * process's limit. Returns whether they fit. */
bool check_descriptors(struct engine *e)
{
    uint64_t udp = 0, tcp = 0;
    for (size_t i = 0; i < e->routers.n; i++) {
        const struct router *r = &e->routers.routers[i];
        for (size_t k = 0; k < e->cfg->n_protos; k++) {
            int p = e->cfg->protos[k].id;
            if (!r->stats[p].packets)
                continue;
            if (proto_by_id(p)->transport == TRANSPORT_UDP)
                udp += e->cfg->protos[k].source_port < 0 ? 1 + r->n_ports : 1; /* keep: up to one per port */
            else
                tcp += e->n_collectors[p];
        }
    }
    struct rlimit rl;
    uint64_t limit = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY ? rl.rlim_cur : UINT64_MAX;
    uint64_t need = udp + tcp + 16; /* the captures, the event loop, stdio */
    if (need > limit) {
        log_warn("descriptors: %llu UDP sockets and %llu TCP sessions at once need about %llu, over this process's "
                 "limit of %llu: raise it (ulimit -n, systemd LimitNOFILE=) or split the routers over processes "
                 "(--shard)", (unsigned long long)udp, (unsigned long long)tcp, (unsigned long long)need,
                 (unsigned long long)limit);
        return false;
    }
    log_note("descriptors: %llu UDP sockets (one per router and protocol, whatever its collectors) and %llu TCP "
             "sessions (one per router, protocol and collector): about %llu of this process's %llu",
             (unsigned long long)udp, (unsigned long long)tcp, (unsigned long long)need, (unsigned long long)limit);
    return true;
}

/* --check: can a TCP connection to each TCP protocol's collector be made? (2 s each) A
 * warning, not an error: the collector may be started after the check. */
int check_tcp_collectors(struct engine *e)
{
    int bad = 0;
    for (size_t k = 0; k < e->cfg->n_protos; k++) {
        int p = e->cfg->protos[k].id;
        if (proto_by_id(p)->transport != TRANSPORT_TCP)
            continue;
        for (unsigned f = 0; f < 2 * e->n_collectors[p]; f++) { /* each collector, each family */
            const struct collector *col = &e->collectors[p][f / 2];
            if (!col->has[f % 2])
                continue;
            char where[80];
            const struct sockaddr_storage *to = &col->addr[f % 2];
            sock_format(to, where, sizeof where);
            int fd = socket(to->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
            int err = fd < 0 ? errno : 0;
            if (!err && connect(fd, (const struct sockaddr *)to, col->len[f % 2]) < 0 && errno != EINPROGRESS)
                err = errno;
            if (!err && fd >= 0) {
                struct pollfd pf = { .fd = fd, .events = POLLOUT };
                int n = poll(&pf, 1, 2000);
                socklen_t l = sizeof err;
                if (n == 0)
                    err = ETIMEDOUT;
                else if (n < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &l) < 0)
                    err = errno;
            }
            if (fd >= 0)
                close(fd);
            if (err) {
                log_warn("%s collector %s: cannot connect now: %s (its sessions fail unless it listens by the "
                         "time the run starts)", proto_names[p], where, strerror(err));
                bad++;
            } else {
                log_note("%s collector %s: accepts connections", proto_names[p], where);
            }
        }
    }
    return bad;
}

/* --check: routers whose OPENs would carry the same BGP ID (a collector such as pmbgpd
 * refuses the second session). The ID is the network.map entry's, else bgp.bgp_id, else
 * the captured one. */
void check_bgp_ids(struct engine *e)
{
    const struct proto_config *pc = NULL;
    for (size_t k = 0; k < e->cfg->n_protos; k++)
        if (e->cfg->protos[k].id == PROTO_BGP)
            pc = &e->cfg->protos[k];
    if (!pc)
        return;
    for (size_t i = 0; i < e->routers.n; i++) {
        const struct router *r = &e->routers.routers[i];
        uint32_t id = r->bgp_id ? r->bgp_id : pc->session.bgp_id ? pc->session.bgp_id : e->captured_bgp_id[i];
        if (!id || !r->stats[PROTO_BGP].packets)
            continue;
        for (size_t j = 0; j < i; j++) {
            const struct router *q = &e->routers.routers[j];
            uint32_t id2 = q->bgp_id ? q->bgp_id : pc->session.bgp_id ? pc->session.bgp_id : e->captured_bgp_id[j];
            if (id2 != id || !q->stats[PROTO_BGP].packets)
                continue;
            char a[ADDR_STRLEN], b[ADDR_STRLEN];
            log_warn("routers %s and %s would both open BGP with BGP ID %u.%u.%u.%u: a collector that keys peers "
                     "by BGP ID (pmbgpd) refuses the second; give each its own with bgp_id: in its network.map "
                     "entry", addr_format(&q->src, a), addr_format(&r->src, b), id >> 24, id >> 16 & 255,
                     id >> 8 & 255, id & 255);
            break;
        }
    }
}

/* Nothing to send is a mistake, never a success: say what was seen instead. */
void report_nothing(struct engine *e)
{
    const struct stats *s = &e->stats;
    if (!s->read) {
        log_error("the captures hold no packets: nothing to replay");
        return;
    }
    char ports[512], sources[512];
    log_error("none of the %llu packets read is for a configured protocol from a router in network.map: "
              "nothing %s sent", (unsigned long long)s->read, e->dry ? "would be" : "was");
    if (s->unselected)
        log_error("  %llu matched no protocol's select; seen: %s (check the protocols' select: ports and "
                  "collectors)", (unsigned long long)s->unselected, stats_unselected_text(s, ports, sizeof ports));
    if (s->unmapped)
        log_error("  %llu came from sources not in network.map: %s (map them with src_ip:)",
                  (unsigned long long)s->unmapped, stats_unmapped_text(s, sources, sizeof sources));
}

/* ---- the progress line (-v, progress_interval) ---- */

void progress_line(struct engine *e, bool final)
{
    const struct stats *s = &e->stats;
    double secs = (double)(schedule_now_monotonic() - e->started_ns) / 1e9;
    char where[96] = "";
    if (e->current_capture && !final) {
        double f = source_progress(e->current_capture);
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
    struct session_summary t;
    sessions_summary(e->sessions, NULL, -1, -1, &t);
    fprintf(stderr, "telrep: %s[%llu/%llu %s%s] %.1fs sent:%s | skipped: unmapped %llu, unselected %llu, "
            "malformed %llu, other %llu | refused %llu | lost %llu | lag mean %.0fus (max %.0fus)\n",
            final ? "done " : "", (unsigned long long)e->play_index, (unsigned long long)e->plays, e->current_pcap ? e->current_pcap : "-", where, secs,
            sent, (unsigned long long)s->unmapped, (unsigned long long)s->unselected,
            (unsigned long long)malformed, (unsigned long long)(stats_skipped(s) - s->unmapped - s->unselected - malformed),
            (unsigned long long)s->refused, (unsigned long long)t.lost, stats_lag_mean_us(s), s->lag.max_ns / 1e3);
    if (s->live.on) /* the relay: how long frames wait, what it had to drop */
        fprintf(stderr, "telrep: %slive: %llu frames, delay p50 %.0fus p99 %.0fus max %.0fus | too late (> %.3g s) %llu | "
                "dropped by the kernel %llu\n", final ? "done " : "", (unsigned long long)s->live.frames,
                stats_hist_quantile_us(&s->live.delay, 0.5), stats_hist_quantile_us(&s->live.delay, 0.99),
                s->live.delay.max_ns / 1e3, s->live.max_delay, (unsigned long long)s->live.late,
                (unsigned long long)s->live.kernel_dropped);
}

void progress_tick(struct engine *e)
{
    metrics_tick(e->metrics, false);
    if (e->opt->progress_interval <= 0)
        return;
    int64_t now = schedule_now_monotonic();
    if (now < e->next_progress_ns)
        return;
    e->next_progress_ns = now + (int64_t)(e->opt->progress_interval * 1e9);
    progress_line(e, false);
}
