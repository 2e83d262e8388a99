#include "stats.h"

#include <netinet/in.h>

void stats_count_kind(struct proto_stats *ps, int kind, uint64_t n)
{
    if (ps->n_kinds && ps->kinds[ps->last_kind].kind == kind) { /* runs of one kind are the rule */
        ps->kinds[ps->last_kind].count += n;
        return;
    }
    for (int i = 0; i < ps->n_kinds; i++)
        if (ps->kinds[i].kind == kind) {
            ps->kinds[i].count += n;
            ps->last_kind = i;
            return;
        }
    if (ps->n_kinds == STATS_KINDS) { /* the last slot collects the rest, named "other" */
        ps->kinds[STATS_KINDS - 1].kind = STATS_KIND_OTHER;
        ps->kinds[STATS_KINDS - 1].count += n;
        ps->last_kind = STATS_KINDS - 1;
        return;
    }
    ps->last_kind = ps->n_kinds++;
    ps->kinds[ps->last_kind].kind = kind;
    ps->kinds[ps->last_kind].count += n;
}

void stats_note_unmapped(struct stats *s, const struct addr *a)
{
    s->unmapped++;
    for (int i = 0; i < s->n_unmapped_sources; i++)
        if (addr_equal(&s->unmapped_sources[i].ip, a)) {
            s->unmapped_sources[i].packets++;
            return;
        }
    if (s->n_unmapped_sources < STATS_UNMAPPED_KEPT) {
        s->unmapped_sources[s->n_unmapped_sources].ip = *a;
        s->unmapped_sources[s->n_unmapped_sources++].packets = 1;
    }
}

void stats_note_unselected(struct stats *s, uint8_t ip_proto, uint16_t port)
{
    s->unselected++;
    for (int i = 0; i < s->n_unselected_ports; i++)
        if (s->unselected_ports[i].ip_proto == ip_proto && s->unselected_ports[i].port == port) {
            s->unselected_ports[i].packets++;
            return;
        }
    if (s->n_unselected_ports == STATS_PORTS_KEPT) {
        s->unselected_other_ports++;
        return;
    }
    s->unselected_ports[s->n_unselected_ports].ip_proto = ip_proto;
    s->unselected_ports[s->n_unselected_ports].port = port;
    s->unselected_ports[s->n_unselected_ports++].packets = 1;
}

const char *stats_unselected_text(const struct stats *s, char *buf, size_t len)
{
    size_t off = 0;
    buf[0] = 0;
    for (int i = 0; i < s->n_unselected_ports && off < len; i++)
        off += (size_t)snprintf(buf + off, len - off, "%s%s port %u (%llu packets)", i ? ", " : "",
                                s->unselected_ports[i].ip_proto == IPPROTO_TCP ? "TCP" : "UDP", s->unselected_ports[i].port,
                                (unsigned long long)s->unselected_ports[i].packets);
    if (s->unselected_other_ports && off < len)
        snprintf(buf + off, len - off, ", other ports (%llu packets)", (unsigned long long)s->unselected_other_ports);
    return buf;
}

const char *stats_unmapped_text(const struct stats *s, char *buf, size_t len)
{
    size_t off = 0;
    buf[0] = 0;
    int shown = s->n_unmapped_sources < 5 ? s->n_unmapped_sources : 5;
    for (int i = 0; i < shown && off < len; i++) {
        char a[ADDR_STRLEN];
        off += (size_t)snprintf(buf + off, len - off, "%s%s (%llu packets)", i ? ", " : "",
                                addr_format(&s->unmapped_sources[i].ip, a),
                                (unsigned long long)s->unmapped_sources[i].packets);
    }
    if (s->n_unmapped_sources > shown && off < len)
        snprintf(buf + off, len - off, " and %d more", s->n_unmapped_sources - shown);
    return buf;
}

static size_t lag_bucket(int64_t ns)
{
    if (ns < STATS_LAG_SUB)
        return ns < 0 ? 0 : (size_t)ns;
    int top = 63 - __builtin_clzll((unsigned long long)ns); /* >= 3 */
    size_t sub = (size_t)((unsigned long long)ns >> (top - 3)) & (STATS_LAG_SUB - 1);
    return (size_t)(top - 2) * STATS_LAG_SUB + sub;
}

/* the largest value of a bucket */
static int64_t lag_bucket_top(size_t b)
{
    if (b < STATS_LAG_SUB)
        return (int64_t)b;
    int top = (int)(b / STATS_LAG_SUB) + 2;
    uint64_t sub = b % STATS_LAG_SUB;
    return (int64_t)((((uint64_t)STATS_LAG_SUB + sub + 1) << (top - 3)) - 1);
}

double stats_hist_quantile_us(const struct stats_hist *h, double q)
{
    if (!h->n)
        return 0;
    uint64_t want = (uint64_t)((double)h->n * q + 0.5), seen = 0;
    if (want == 0)
        want = 1;
    for (size_t b = 0; b < STATS_LAG_BUCKETS; b++)
        if ((seen += h->b[b]) >= want) {
            int64_t top = lag_bucket_top(b);
            return (double)(top < h->max_ns ? top : h->max_ns) / 1e3;
        }
    return (double)h->max_ns / 1e3;
}

double stats_hist_mean_us(const struct stats_hist *h)
{
    return h->n ? (double)h->sum_ns / (double)h->n / 1e3 : 0.0;
}

void stats_hist_note(struct stats_hist *h, int64_t ns)
{
    h->n++;
    h->b[lag_bucket(ns)]++;
    h->sum_ns += ns;
    if (ns > h->max_ns)
        h->max_ns = ns;
}

void stats_note_lag(struct stats *s, int64_t lag_ns)
{
    stats_hist_note(&s->lag, lag_ns);
    if (lag_ns > 1000000)
        s->late_1ms++;
}

uint64_t stats_skipped(const struct stats *s)
{
    uint64_t n = s->unselected + s->unmapped + s->tcp_reverse + s->oversized;
    for (int i = DECODE_NOT_IP; i <= DECODE_UNKNOWN_LINK; i++)
        n += s->decode[i];
    return n;
}

/* ---- the JSON report ---- */

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "log.h"
#include "router.h"

static json_t *proto_stats_json(const struct proto_stats *ps, enum proto_id id)
{
    const struct proto *p = proto_by_id(id);
    json_t *kinds = json_object();
    for (int k = 0; k < ps->n_kinds; k++) { /* kinds that share a name ("other") add up */
        const char *name = ps->kinds[k].kind == STATS_KIND_OTHER ? "other" : p->kind_name(ps->kinds[k].kind);
        json_t *prev = json_object_get(kinds, name);
        json_int_t n = (json_int_t)ps->kinds[k].count + (prev ? json_integer_value(prev) : 0);
        json_object_set_new(kinds, name, json_integer(n));
    }
    json_t *o = json_pack("{s:I,s:I,s:I,s:I,s:I,s:o}", "packets", (json_int_t)ps->packets, "bytes",
                          (json_int_t)ps->bytes, "refused", (json_int_t)ps->refused, "send_errors",
                          (json_int_t)ps->send_errors, "malformed", (json_int_t)ps->malformed, "messages", kinds);
    if (p->transport == TRANSPORT_TCP)
        json_object_set_new(o, "connect_refused", json_integer((json_int_t)ps->connect_refused));
    if (ps->records)
        json_object_set_new(o, "records", json_integer((json_int_t)ps->records));
    if (ps->primed)
        json_object_set_new(o, "template_messages_primed", json_integer((json_int_t)ps->primed));
    if (ps->rewritten || ps->not_rewritten)
        json_object_set_new(o, "rewritten", json_pack("{s:I,s:I}", "messages", (json_int_t)ps->rewritten,
                                                      "unreadable", (json_int_t)ps->not_rewritten));
    return o;
}

/* "192.0.2.10:2055", "[2001:db8::10]:2055": the collector as configured */
const char *stats_collector_name(const struct collector_config *cc, char *buf, size_t len)
{
    const char *h = cc->n_hosts ? cc->hosts[0] : "?";
    snprintf(buf, len, strchr(h, ':') ? "[%s]:%u" : "%s:%u", h, cc->port);
    return buf;
}

static json_t *collectors_json(const struct proto_config *pc, const struct collector_stats *to)
{
    json_t *arr = json_array();
    for (size_t k = 0; k < pc->n_collectors; k++) {
        char name[300];
        json_array_append_new(arr, json_pack("{s:s,s:I,s:I,s:I,s:I}", "collector",
                                             stats_collector_name(&pc->collectors[k], name, sizeof name), "packets",
                                             (json_int_t)to[k].packets, "bytes", (json_int_t)to[k].bytes, "refused",
                                             (json_int_t)to[k].refused, "send_errors", (json_int_t)to[k].send_errors));
    }
    return arr;
}

int stats_write_json(const struct stats *s, const struct router_table *t, const struct config *c, void *sessions,
                     const char *path)
{
    char a[ADDR_STRLEN];
    json_t *skipped = json_pack("{s:I,s:I,s:I}", "unmapped", (json_int_t)s->unmapped, "unselected",
                                (json_int_t)s->unselected, "oversized", (json_int_t)s->oversized);
    json_object_set_new(skipped, "tcp_reverse_direction", json_integer((json_int_t)s->tcp_reverse));
    json_object_set_new(skipped, "other_shard", json_integer((json_int_t)s->other_shard));
    for (int i = DECODE_NOT_IP; i <= DECODE_UNKNOWN_LINK; i++) {
        char key[32];
        snprintf(key, sizeof key, "%s", decode_result_name((enum decode_result)i));
        for (char *k = key; *k; k++)
            if (*k == ' ' || *k == '/')
                *k = '_';
        json_object_set_new(skipped, key, json_integer((json_int_t)s->decode[i]));
    }
    json_t *routers = json_array();
    for (size_t i = 0; i < t->n; i++) {
        const struct router *r = &t->routers[i];
        if (r->elsewhere) /* another shard's report has it */
            continue;
        json_t *protos = json_object();
        for (size_t k = 0; k < c->n_protos; k++) {
            enum proto_id id = c->protos[k].id;
            json_t *po = proto_stats_json(&r->stats[id], id);
            if (r->to[id]) /* fan-out: what went to each collector (TCP: the sessions say it) */
                json_object_set_new(po, "collectors", collectors_json(&c->protos[k], r->to[id]));
            json_object_set_new(protos, proto_names[id], po);
        }
        json_t *ro = json_pack("{s:s,s:o}", "src_ip", addr_format(&r->src, a), "protocols", protos);
        json_object_set_new(ro, "repro_ip", json_string(addr_format(&r->repro, a)));
        json_array_append_new(routers, ro);
    }
    json_t *unmapped = json_array();
    for (int i = 0; i < s->n_unmapped_sources; i++)
        json_array_append_new(unmapped, json_pack("{s:s,s:I}", "src_ip", addr_format(&s->unmapped_sources[i].ip, a),
                                                  "packets", (json_int_t)s->unmapped_sources[i].packets));
    json_t *timing = json_pack("{s:f,s:I,s:f,s:f,s:f,s:f,s:I,s:I}", "time_factor", c->time_factor, "lag_samples",
                               (json_int_t)s->lag.n, "lag_mean_us", stats_lag_mean_us(s), "lag_p50_us",
                               stats_lag_quantile_us(s, 0.5), "lag_p99_us", stats_lag_quantile_us(s, 0.99),
                               "lag_max_us", s->lag.max_ns / 1e3, "late_over_1ms", (json_int_t)s->late_1ms,
                               "backward_steps", (json_int_t)s->backward_steps);
    if (c->rate.pps > 0 || c->rate.bps > 0 || c->rate.router_pps > 0 || c->rate.router_bps > 0) {
        double span = (double)(s->paced_last_ns - s->paced_first_ns) / 1e9;
        json_object_set_new(timing, "rate", json_pack("{s:f,s:f,s:f,s:f,s:I,s:f,s:f,s:f}", "pps_cap", c->rate.pps,
                                                      "bps_cap", c->rate.bps, "router_pps_cap", c->rate.router_pps,
                                                      "router_bps_cap", c->rate.router_bps, "packets",
                                                      (json_int_t)s->paced_packets, "packets_per_second",
                                                      span > 0 ? (double)(s->paced_packets - 1) / span : 0.0,
                                                      "bits_per_second",
                                                      span > 0 ? (double)s->paced_bytes * 8 / span : 0.0,
                                                      "held_back_s", (double)s->held_ns / 1e9));
    }
    if (c->duration > 0)
        json_object_set_new(timing, "duration_s", json_real(c->duration));
    json_t *root = json_pack("{s:s,s:I,s:I,s:o,s:I,s:I,s:I,s:o,s:o,s:o}", "config", c->file, "read",
                             (json_int_t)s->read, "sent", (json_int_t)s->sent, "skipped", skipped, "refused",
                             (json_int_t)s->refused, "send_errors", (json_int_t)s->send_errors, "capture_errors",
                             (json_int_t)s->capture_errors, "timing", timing, "routers", routers,
                             "unmapped_sources", unmapped);
    json_t *ports = json_array();
    for (int i = 0; i < s->n_unselected_ports; i++)
        json_array_append_new(ports, json_pack("{s:s,s:i,s:I}", "transport",
                                               s->unselected_ports[i].ip_proto == IPPROTO_TCP ? "tcp" : "udp", "port",
                                               s->unselected_ports[i].port,
                                               "packets", (json_int_t)s->unselected_ports[i].packets));
    json_object_set_new(root, "unselected_ports", ports);
    json_object_set_new(root, "connect_refused", json_integer((json_int_t)s->connect_refused));
    if (s->shard_count)
        json_object_set_new(root, "shard", json_pack("{s:i,s:i}", "index", (int)s->shard_index, "count",
                                                     (int)s->shard_count));
    if (s->first_due_real_ns) /* --start-at or minute sync: when the first packet was due */
        json_object_set_new(timing, "first_packet_due", json_real((double)s->first_due_real_ns / 1e9));
    json_object_set_new(root, "lost", json_integer((json_int_t)s->lost));
    json_object_set_new(root, "incomplete", json_integer((json_int_t)s->incomplete));
    if (s->outcome)
        json_object_set_new(root, "outcome", json_string(s->outcome));
    if (s->sources)
        json_object_set(root, "sources", s->sources);
    if (s->live.on) {
        const struct stats_hist *h = &s->live.delay;
        json_object_set_new(root, "live", json_pack("{s:I,s:I,s:I,s:f,s:I,s:{s:I,s:f,s:f,s:f,s:f}}",
            "frames", (json_int_t)s->live.frames, "relayed", (json_int_t)h->n, "late_dropped", (json_int_t)s->live.late,
            "max_delay_s", s->live.max_delay, "kernel_dropped", (json_int_t)s->live.kernel_dropped,
            "delay_us", "samples", (json_int_t)h->n, "mean", stats_hist_mean_us(h), "p50",
            stats_hist_quantile_us(h, 0.5), "p99", stats_hist_quantile_us(h, 0.99), "max", h->max_ns / 1e3));
    }
    if (sessions) {
        json_object_set_new(root, "sessions", sessions);
        json_object_set_new(root, "session_failures", json_integer((json_int_t)s->session_failures));
    }
    if (strcmp(path, "-") == 0) { /* one line on stdout (a pod's log, a pipe) */
        int rc = root && json_dumpf(root, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER) == 0 && fputc('\n', stdout) != EOF &&
                 fflush(stdout) == 0 ? 0 : -1;
        if (rc)
            log_error("cannot write the report to stdout");
        json_decref(root);
        return rc;
    }
    size_t n = strlen(path) + 8;
    char *tmp = malloc(n);
    int rc = -1;
    if (root && tmp) {
        snprintf(tmp, n, "%s.tmp", path);
        rc = json_dump_file(root, tmp, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        if (rc == 0 && rename(tmp, path) != 0)
            rc = -1;
    }
    if (rc != 0) {
        log_error("cannot write the report to %s", path);
        if (tmp)
            remove(tmp);
    }
    free(tmp);
    json_decref(root);
    return rc == 0 ? 0 : -1;
}
