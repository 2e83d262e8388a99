/* results.c — what flow-replay writes: a line per ended flow and per tcp_info sample in
 * the results file, and the summary. */
#include <math.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "flow/replay_int.h"
#include "flow/values.h"

const char *const flow_state_names[] = { "pending", "running", "done", "refused", "reset", "stalled",
                                          "timeout", "failed" };

bool read_tcp_info(int fd, struct tcp_info *ti)
{
    socklen_t len = sizeof *ti;
    memset(ti, 0, sizeof *ti);
    return fd >= 0 && getsockopt(fd, IPPROTO_TCP, TCP_INFO, ti, &len) == 0;
}

/* ti: what read_tcp_info() read from fd, or NULL when it read nothing */
static json_t *tcp_info_json(int fd, const struct tcp_info *ti)
{
    if (!ti)
        return json_null();
    char cc[32] = "";
    socklen_t cl = sizeof cc - 1;
    getsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, cc, &cl);
    return json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:s,s:b}", "rtt_us", (json_int_t)ti->tcpi_rtt, "rttvar_us",
                     (json_int_t)ti->tcpi_rttvar, "cwnd", (json_int_t)ti->tcpi_snd_cwnd, "retransmits",
                     (json_int_t)ti->tcpi_total_retrans, "lost", (json_int_t)ti->tcpi_lost, "delivery_rate",
                     (json_int_t)ti->tcpi_delivery_rate, "congestion", cc, "ecn",
                     (ti->tcpi_options & TCPI_OPT_ECN) != 0);
}

/* one line of the results file (j is taken) */
static void write_line(struct engine *e, json_t *j)
{
    json_dumpf(j, e->o->results, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(9));
    fputc('\n', e->o->results);
    json_decref(j);
}

/* ti[s]: the end's tcp_info, NULL where there is none */
void write_result(struct engine *e, struct rflow *f, const struct tcp_info *const ti[2])
{
    char a[ADDR_STRLEN], b[ADDR_STRLEN];
    double planned = (double)(f->planned - e->t0) / 1e9;
    json_t *j = json_pack("{s:s,s:I,s:s,s:s,s:i,s:s,s:i,s:f}", "type", "flow", "fid", (json_int_t)f->spec->fid,
                          "state", flow_state_names[f->state], "client", addr_format(&f->ip[0], a), "client_port",
                          f->port[0], "server", addr_format(&f->ip[1], b), "server_port", f->port[1],
                          "planned_start", planned);
    if (f->started) {
        json_object_set_new(j, "actual_start", json_real((double)(f->started - e->t0) / 1e9));
        json_object_set_new(j, "lateness_ms", json_real((double)(f->started - f->planned) / 1e6));
        json_object_set_new(j, "duration", json_real((double)(f->ended - f->started) / 1e9));
    }
    for (int s = 0; s < 2; s++) {
        struct end *x = &f->e[s];
        json_t *side = json_pack("{s:I,s:I,s:I,s:I,s:I}", "sent", (json_int_t)x->sent, "received",
                                 (json_int_t)x->received, "expected_sent", (json_int_t)f->spec->side[s].send_bytes,
                                 "events_done", (json_int_t)x->next, "events", (json_int_t)f->spec->side[s].n);
        json_object_set_new(side, "tcp_info", tcp_info_json(x->fd, ti[s]));
        json_object_set_new(j, s ? "server_end" : "client_end", side);
    }
    write_line(e, j);
}

void sample(struct engine *e)
{
    if (!e->o->results)
        return;
    double t = (double)(now_ns() - e->t0) / 1e9;
    for (struct rflow *f = e->active; f; f = f->next_active)
        for (int s = 0; s < 2; s++)
            if (f->e[s].fd >= 0 && f->e[s].connected) {
                struct tcp_info info;
                bool ok = read_tcp_info(f->e[s].fd, &info);
                write_line(e, json_pack("{s:s,s:f,s:I,s:s,s:o}", "type", "tcp_info", "t", t, "fid",
                                        (json_int_t)f->spec->fid, "end", s ? "server" : "client", "tcp_info",
                                        tcp_info_json(f->e[s].fd, ok ? &info : NULL)));
            }
}

json_t *summary_json(struct engine *e, int64_t end)
{
    double secs = (double)(end - e->t0) / 1e9;
    json_t *j = json_object(), *states = json_object();
    uint64_t bytes = 0;
    for (size_t i = 0; i < e->n; i++)
        bytes += e->flows[i].e[0].sent + e->flows[i].e[1].sent;
    json_object_set_new(j, "flows", json_integer((json_int_t)e->n));
    for (int s = F_DONE; s <= F_FAILED; s++)
        json_object_set_new(states, flow_state_names[s], json_integer((json_int_t)e->counts[s]));
    json_object_set_new(j, "states", states);
    json_object_set_new(j, "bytes_sent", json_integer((json_int_t)bytes));
    json_object_set_new(j, "bytes_expected", json_integer((json_int_t)e->set->send_bytes));
    json_object_set_new(j, "seconds", json_real(secs));
    json_object_set_new(j, "flows_per_second", json_real(secs > 0 ? (double)e->finished / secs : 0));
    json_object_set_new(j, "max_concurrent", json_integer((json_int_t)e->max_active));
    json_object_set_new(j, "concurrency_limit", json_integer((json_int_t)e->max_open));
    json_object_set_new(j, "starts_held_for_descriptors", json_integer((json_int_t)e->held[HELD_DESCRIPTORS]));
    json_object_set_new(j, "starts_held_for_connects", json_integer((json_int_t)e->held[HELD_CONNECTS]));
    int64_t rtt = e->min_rtt < e->min_rtt_prev ? e->min_rtt : e->min_rtt_prev;
    json_object_set_new(j, "connect_window", json_pack("{s:I, s:o}", "max", (json_int_t)e->max_window, "min_handshake_ms",
                                                       rtt == INT64_MAX ? json_null() : json_real((double)rtt / 1e6)));
    /* time 0 on the realtime clock (--start-at's instant), in ns (an integer: the summary's reals
     * have 9 digits): hosts' results line up on it */
    json_object_set_new(j, "t0_epoch_ns", json_integer((json_int_t)e->t0_real));
    double *v = calloc(e->n ? e->n : 1, sizeof *v);
    static const char *const names[] = { "lateness_ms", "rtt_us", "retransmits" };
    for (int k = 0; v && k < 3; k++) {
        size_t nv = 0;
        for (size_t i = 0; i < e->n; i++) {
            const struct rflow *f = &e->flows[i];
            if (k == 0 && f->started)
                v[nv++] = (double)(f->started - f->planned) / 1e6;
            else if (k > 0 && f->has_info)
                v[nv++] = k == 1 ? f->rtt_us : f->retransmits;
        }
        qsort(v, nv, sizeof *v, values_cmp);
        json_object_set_new(j, names[k], json_pack("{s:f,s:f,s:f}", "p50", values_quantile(v, nv, 0.5), "p99",
                                                   values_quantile(v, nv, 0.99), "max", nv ? v[nv - 1] : 0.0));
    }
    free(v);
    return j;
}

