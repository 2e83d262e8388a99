/* metrics.c — see metrics.h. */
#define _GNU_SOURCE
#include "metrics.h"

#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "engine.h"
#include "log.h"
#include "version.h"

/* ---- the text ---- */

/* one router x protocol x collector */
struct row {
    const struct router *r;
    int proto;
    unsigned collector;
    uint64_t messages, bytes, refused, lost;
};

struct rows {
    struct engine *e;
    struct row *v;
    size_t n;
    size_t *first; /* per TCP protocol: where router 0's rows begin (rows of a router are n_collectors long) */
    uint64_t states[PROTO_COUNT][SESSION_STATES];
};

static void put_label(FILE *f, const char *name, const char *value, bool first)
{
    fprintf(f, "%s%s=\"", first ? "" : ",", name);
    for (const char *p = value; *p; p++) {
        if (*p == '\\' || *p == '"')
            fputc('\\', f);
        if (*p == '\n')
            fputs("\\n", f);
        else
            fputc(*p, f);
    }
    fputc('"', f);
}

static void put_row_labels(FILE *f, struct engine *e, const struct row *w)
{
    char a[ADDR_STRLEN], b[ADDR_STRLEN], c[80];
    put_label(f, "router", addr_format(&w->r->src, a), true);
    put_label(f, "repro_ip", addr_format(&w->r->repro, b), false);
    put_label(f, "protocol", proto_names[w->proto], false);
    put_label(f, "collector", sock_format(COLLECTOR_ADDR(e, w->proto, w->collector, w->r->repro.family == AF_INET6), c,
                                          sizeof c), false);
}

/* the TCP sessions add up per router, protocol and collector */
static void add_session(void *ctx, const struct session_view *v)
{
    struct rows *rs = ctx;
    size_t i = (size_t)(v->router - rs->e->routers.routers);
    struct row *w = &rs->v[rs->first[v->proto] + i * rs->e->n_collectors[v->proto] + v->collector];
    w->messages += v->delivered;
    w->bytes += v->bytes;
    w->lost += v->lost;
    w->refused += v->connect_refused;
    rs->states[v->proto][v->state]++;
}

static int collect(struct engine *e, struct rows *rs)
{
    const struct config *c = e->cfg;
    size_t n = 0;
    for (size_t k = 0; k < c->n_protos; k++)
        n += e->routers.n * e->n_collectors[c->protos[k].id];
    rs->e = e;
    rs->v = calloc(n ? n : 1, sizeof *rs->v);
    rs->first = calloc(PROTO_COUNT, sizeof *rs->first);
    if (!rs->v || !rs->first)
        return -1;
    for (size_t k = 0; k < c->n_protos; k++) {
        int p = c->protos[k].id;
        rs->first[p] = rs->n;
        for (size_t i = 0; i < e->routers.n; i++) {
            const struct router *r = &e->routers.routers[i];
            for (unsigned j = 0; j < e->n_collectors[p]; j++) {
                struct row *w = &rs->v[rs->n++];
                *w = (struct row){ .r = r, .proto = p, .collector = j };
                if (proto_by_id(p)->transport != TRANSPORT_UDP)
                    continue; /* the sessions say it */
                struct collector_stats cs = router_to(r, p, j);
                w->messages = cs.packets;
                w->bytes = cs.bytes;
                w->refused = cs.refused;
                w->lost = cs.send_errors;
            }
        }
    }
    sessions_each(e->sessions, add_session, rs);
    return 0;
}

static void family(FILE *f, struct rows *rs, const char *name, const char *help, size_t field)
{
    fprintf(f, "# HELP %s %s\n# TYPE %s counter\n", name, help, name);
    for (size_t i = 0; i < rs->n; i++) {
        const struct row *w = &rs->v[i];
        if (w->r->elsewhere)
            continue;
        fprintf(f, "%s{", name);
        put_row_labels(f, rs->e, w);
        uint64_t v = field == 0 ? w->messages : field == 1 ? w->bytes : field == 2 ? w->refused : w->lost;
        fprintf(f, "} %llu\n", (unsigned long long)v);
    }
}

char *metrics_render(struct engine *e, bool done, size_t *len)
{
    char *text = NULL;
    FILE *f = open_memstream(&text, len);
    struct rows rs = { 0 };
    if (!f || collect(e, &rs) < 0) {
        if (f)
            fclose(f);
        free(text);
        free(rs.v);
        free(rs.first);
        return NULL;
    }
    const struct stats *s = &e->stats;
    char shard[32] = "";
    if (s->shard_count)
        snprintf(shard, sizeof shard, "%u/%u", s->shard_index, s->shard_count);
    fprintf(f, "# HELP telrep_info The replaying telrep: its version and shard.\n# TYPE telrep_info gauge\n"
               "telrep_info{");
    put_label(f, "version", TELREP_VERSION, true);
    put_label(f, "shard", shard, false);
    fprintf(f, "} 1\n");
    fprintf(f, "# HELP telrep_done 1 once the run is over.\n# TYPE telrep_done gauge\ntelrep_done %d\n", done ? 1 : 0);
    fprintf(f, "# HELP telrep_packets_read_total Frames read from the captures.\n"
               "# TYPE telrep_packets_read_total counter\ntelrep_packets_read_total %llu\n",
            (unsigned long long)s->read);
    fprintf(f, "# HELP telrep_skipped_packets_total Frames not replayed, by reason.\n"
               "# TYPE telrep_skipped_packets_total counter\n");
    uint64_t malformed = s->decode[DECODE_TRUNCATED] + s->decode[DECODE_MALFORMED];
    const struct { const char *reason; uint64_t n; } skipped[] = {
        { "unmapped", s->unmapped }, { "unselected", s->unselected }, { "other_shard", s->other_shard },
        { "malformed", malformed }, { "tcp_reverse_direction", s->tcp_reverse },
        { "other", stats_skipped(s) - s->unmapped - s->unselected - malformed - s->tcp_reverse },
    };
    for (size_t i = 0; i < sizeof skipped / sizeof *skipped; i++)
        fprintf(f, "telrep_skipped_packets_total{reason=\"%s\"} %llu\n", skipped[i].reason,
                (unsigned long long)skipped[i].n);
    family(f, &rs, "telrep_messages_total",
           "UDP datagrams sent, TCP messages delivered (acknowledged by the collector).", 0);
    family(f, &rs, "telrep_bytes_total", "Bytes of those messages.", 1);
    family(f, &rs, "telrep_refused_total", "UDP datagrams refused, TCP connection attempts refused.", 2);
    family(f, &rs, "telrep_lost_total", "TCP messages lost, UDP sends that failed.", 3);
    fprintf(f, "# HELP telrep_sessions TCP sessions by protocol and state.\n# TYPE telrep_sessions gauge\n");
    for (size_t k = 0; k < e->cfg->n_protos; k++) {
        int p = e->cfg->protos[k].id;
        if (proto_by_id(p)->transport != TRANSPORT_TCP)
            continue;
        for (size_t st = 0; st < SESSION_STATES; st++)
            fprintf(f, "telrep_sessions{protocol=\"%s\",state=\"%s\"} %llu\n", proto_names[p], session_state_names[st],
                    (unsigned long long)rs.states[p][st]);
    }
    fprintf(f, "# HELP telrep_lag_seconds How late packets left after their schedule (time_factor > 0).\n"
               "# TYPE telrep_lag_seconds summary\n"
               "telrep_lag_seconds{quantile=\"0.5\"} %.9f\ntelrep_lag_seconds{quantile=\"0.99\"} %.9f\n"
               "telrep_lag_seconds_sum %.9f\ntelrep_lag_seconds_count %llu\n",
            stats_lag_quantile_us(s, 0.5) / 1e6, stats_lag_quantile_us(s, 0.99) / 1e6, (double)s->lag.sum_ns / 1e9,
            (unsigned long long)s->lag.n);
    free(rs.v);
    free(rs.first);
    if (fclose(f) != 0) {
        free(text);
        return NULL;
    }
    return text;
}

/* ---- the file and the server ---- */

struct metrics {
    struct engine *e;
    char *path, *tmp;
    int64_t interval_ns, next_ns;
    bool done, failed;
    struct MHD_Daemon *httpd;
    struct loop_io io;        /* the server's epoll descriptor on the loop */
    struct loop_timer timer;  /* the file every interval, the server's own timeouts */
};

static void write_file(struct metrics *m)
{
    size_t len;
    char *text = metrics_render(m->e, m->done, &len);
    FILE *f = text ? fopen(m->tmp, "w") : NULL;
    bool ok = f && fwrite(text, 1, len, f) == len;
    if (f && fclose(f) != 0)
        ok = false;
    if (ok && rename(m->tmp, m->path) != 0)
        ok = false;
    if (!ok) {
        if (!m->failed)
            log_error("cannot write the metrics to %s: %s (the run goes on)", m->path, strerror(errno));
        m->failed = true;
        remove(m->tmp);
    }
    free(text);
}

static enum MHD_Result serve(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                             const char *version, const char *upload, size_t *upload_len, void **state)
{
    struct metrics *m = cls;
    struct MHD_Response *resp;
    unsigned code = MHD_HTTP_OK;
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
        static const char no[] = "only GET /metrics\n";
        resp = MHD_create_response_from_buffer(sizeof no - 1, (void *)no, MHD_RESPMEM_PERSISTENT);
        code = MHD_HTTP_METHOD_NOT_ALLOWED;
    } else if (strcmp(url, "/metrics") != 0 && strcmp(url, "/") != 0) {
        static const char none[] = "telrep serves /metrics\n";
        resp = MHD_create_response_from_buffer(sizeof none - 1, (void *)none, MHD_RESPMEM_PERSISTENT);
        code = MHD_HTTP_NOT_FOUND;
    } else {
        size_t len = 0;
        char *text = metrics_render(m->e, m->done, &len);
        if (!text)
            return MHD_NO;
        resp = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
        if (resp)
            MHD_add_response_header(resp, "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
    }
    if (!resp)
        return MHD_NO;
    enum MHD_Result r = MHD_queue_response(conn, code, resp);
    MHD_destroy_response(resp);
    return r;
}

static void arm(struct metrics *m)
{
    int64_t at = m->path ? m->next_ns : INT64_MAX;
    MHD_UNSIGNED_LONG_LONG ms;
    if (m->httpd && MHD_get_timeout(m->httpd, &ms) == MHD_YES && loop_now() + (int64_t)ms * 1000000 < at)
        at = loop_now() + (int64_t)ms * 1000000;
    if (at != INT64_MAX)
        loop_timer_set(m->e->loop, &m->timer, at);
}

static void on_httpd(void *obj, uint32_t events)
{
    struct metrics *m = obj;
    MHD_run(m->httpd);
    arm(m);
}

/* the file when due; the server's own timeouts */
static void on_timer(void *obj)
{
    struct metrics *m = obj;
    if (m->httpd)
        MHD_run(m->httpd);
    metrics_tick(m, false);
}

/* Called between packets too: only a clock read unless the file is due (the server is served
 * by its descriptor and the timer, not here). */
void metrics_tick(struct metrics *m, bool force)
{
    if (!m)
        return;
    int64_t now = loop_now();
    if (m->path && (force || now >= m->next_ns)) {
        write_file(m);
        m->next_ns = now + m->interval_ns;
        arm(m);
    } else if (force) {
        arm(m);
    }
}

/* "[ADDR:]PORT", "[::1]:9460" */
static int listen_address(const char *text, struct sockaddr_storage *ss, char *err, size_t errlen)
{
    char host[256] = "0.0.0.0", port[16];
    const char *colon = strrchr(text, ':');
    if (colon) {
        const char *h = text, *he = colon;
        if (*h == '[' && he > h && he[-1] == ']') {
            h++;
            he--;
        }
        snprintf(host, sizeof host, "%.*s", (int)(he - h), h);
    }
    snprintf(port, sizeof port, "%s", colon ? colon + 1 : text);
    struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE | AI_NUMERICSERV }, *res = NULL;
    int rc = getaddrinfo(host, port, &hints, &res);
    if (rc != 0) {
        snprintf(err, errlen, "--metrics-listen %s: %s (give [ADDR:]PORT, e.g. 9460 or 127.0.0.1:9460)", text,
                 gai_strerror(rc));
        return -1;
    }
    memcpy(ss, res->ai_addr, res->ai_addrlen);
    freeaddrinfo(res);
    return 0;
}

struct metrics *metrics_new(struct engine *e, const char *path, const char *listen, double interval_s, char *err,
                            size_t errlen)
{
    struct metrics *m = calloc(1, sizeof *m);
    if (!m) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    m->e = e;
    m->interval_ns = (int64_t)(interval_s * 1e9);
    m->timer = (struct loop_timer){ .fn = on_timer, .obj = m };
    m->io = (struct loop_io){ .fd = -1, .fn = on_httpd, .obj = m };
    if (path) {
        m->path = strdup(path);
        if (!m->path || asprintf(&m->tmp, "%s.tmp", path) < 0) {
            snprintf(err, errlen, "out of memory");
            metrics_free(m);
            return NULL;
        }
    }
    if (listen) {
        struct sockaddr_storage ss;
        if (listen_address(listen, &ss, err, errlen) < 0) {
            metrics_free(m);
            return NULL;
        }
        unsigned flags = MHD_USE_EPOLL | (ss.ss_family == AF_INET6 ? MHD_USE_IPv6 : 0);
        m->httpd = MHD_start_daemon(flags, 0, NULL, NULL, serve, m, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
                                    MHD_OPTION_CONNECTION_TIMEOUT, 10u, MHD_OPTION_CONNECTION_LIMIT, 64u,
                                    MHD_OPTION_END);
        const union MHD_DaemonInfo *info = m->httpd ? MHD_get_daemon_info(m->httpd, MHD_DAEMON_INFO_EPOLL_FD) : NULL;
        if (!info) {
            snprintf(err, errlen, "--metrics-listen %s: cannot listen there (in use? a port below 1024 needs "
                     "privileges)", listen);
            metrics_free(m);
            return NULL;
        }
        m->io.fd = info->epoll_fd;
        if (loop_watch(e->loop, &m->io, EPOLLIN) < 0) {
            snprintf(err, errlen, "--metrics-listen: %s", strerror(errno));
            metrics_free(m);
            return NULL;
        }
    }
    metrics_tick(m, true);
    return m;
}

void metrics_done(struct metrics *m)
{
    if (!m)
        return;
    m->done = true;
    metrics_tick(m, true);
}

void metrics_free(struct metrics *m)
{
    if (!m)
        return;
    loop_timer_cancel(m->e->loop, &m->timer);
    if (m->io.fd >= 0)
        loop_unwatch(m->e->loop, &m->io);
    if (m->httpd)
        MHD_stop_daemon(m->httpd);
    free(m->path);
    free(m->tmp);
    free(m);
}
