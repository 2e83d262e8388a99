/* model.c — a traffic model fitted from flows (model.h). */
#include "flow/model.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flow/gmm.h"
#include "flow/values.h"

const char *const model_dist_names[MODEL_DISTS] = { "arrival_gap", "rounds", "client_bytes", "server_bytes",
                                                    "client_gap", "server_gap", "think", "flow_bytes", "duration" };

static json_t *mixture_json(struct values *x)
{
    struct gmm g;
    /* past MODEL_FIT_VALUES values EM runs on that many of their quantiles (evenly spaced in
     * the sorted values): the same distribution, a fit in bounded time whatever the capture */
    const double *fit = x->v;
    size_t n = x->n;
    double *q = NULL;
    if (n > MODEL_FIT_VALUES && (q = malloc(MODEL_FIT_VALUES * sizeof *q))) {
        values_sort(x);
        for (size_t i = 0; i < MODEL_FIT_VALUES; i++)
            q[i] = x->v[(size_t)(((double)i + 0.5) * (double)x->n / MODEL_FIT_VALUES)];
        fit = q;
        n = MODEL_FIT_VALUES;
    }
    int rc = x->n < MODEL_MIN_SAMPLES ? -1 : gmm_fit_auto(fit, n, GMM_MAX, &g);
    free(q);
    if (rc < 0)
        return json_pack("{s:I, s:s}", "n", (json_int_t)x->n, "fitted", "no: too few values");
    double mean = values_mean(x);
    json_t *comps = json_array();
    for (unsigned c = 0; c < g.k; c++)
        json_array_append_new(comps, json_pack("{s:f, s:f, s:f}", "weight", g.w[c], "mean", g.mu[c], "sd", g.sigma[c]));
    return json_pack("{s:I, s:i, s:b, s:f, s:o, s:f, s:f}", "n", (json_int_t)x->n, "k", (int)g.k, "log_scale",
                     g.log_scale, "bic", g.bic, "components", comps, "data_mean", mean, "model_mean",
                     gmm_mean(&g));
}

/* The data's own distribution: MODEL_QUANTILES of its quantiles, or every value when fewer. */
static json_t *empirical_json(struct values *x)
{
    if (x->n < MODEL_MIN_SAMPLES)
        return json_pack("{s:I, s:s}", "n", (json_int_t)x->n, "fitted", "no: too few values");
    values_sort(x);
    struct model_dist d = { .fitted = true, .empirical = true };
    d.nq = (unsigned)(x->n < MODEL_QUANTILES ? x->n : MODEL_QUANTILES);
    json_t *q = json_array();
    for (size_t i = 0; i < d.nq; i++) {
        d.q[i] = x->v[(size_t)round((double)i * (double)(x->n - 1) / (double)(d.nq - 1))];
        json_array_append_new(q, json_real(d.q[i]));
    }
    return json_pack("{s:I, s:o, s:f, s:f}", "n", (json_int_t)x->n, "quantiles", q, "data_mean", values_mean(x),
                     "model_mean", model_dist_mean(&d));
}

static void class_name(const struct flow_spec *f, enum model_classes by, char *out, size_t len)
{
    char a[ADDR_STRLEN];
    if (by == MODEL_BY_PORT)
        snprintf(out, len, "port %u", f->side[1].port);
    else if (by == MODEL_BY_ADDRESS)
        snprintf(out, len, "%s", addr_format(&f->side[1].ip, a));
    else
        snprintf(out, len, "all");
}

static int add_flow(struct model_data *k, const struct flow_spec *f)
{
    int rc = 0;
    if (k->flows)
        rc |= values_push(&k->d[MODEL_ARRIVAL_GAP], f->stime - k->last_start);
    k->last_start = f->stime;
    k->flows++;
    double end = f->stime, bytes = 0, last_client_send = -1;
    size_t rounds = 0;
    for (int s = 0; s < 2; s++) {
        double last_send = -1;
        for (size_t i = 0; i < f->side[s].n; i++) {
            const struct flow_event *e = &f->side[s].ev[i];
            if (e->stime > end)
                end = e->stime;
            if (e->type != FLOW_SEND)
                continue;
            rc |= values_push(&k->d[s ? MODEL_SERVER_BYTES : MODEL_CLIENT_BYTES], (double)e->bytes);
            if (last_send >= 0)
                rc |= values_push(&k->d[s ? MODEL_SERVER_GAP : MODEL_CLIENT_GAP], e->stime - last_send);
            last_send = e->stime;
            bytes += (double)e->bytes;
            rounds += !s;
        }
    }
    /* think: from each client SEND to the server's first SEND after it */
    for (size_t i = 0, j = 0; i < f->side[0].n; i++) {
        const struct flow_event *c = &f->side[0].ev[i];
        if (c->type != FLOW_SEND || c->stime < last_client_send)
            continue;
        last_client_send = c->stime;
        while (j < f->side[1].n && (f->side[1].ev[j].type != FLOW_SEND || f->side[1].ev[j].stime < c->stime))
            j++;
        if (j < f->side[1].n) /* that SEND answers this request, not the next one */
            rc |= values_push(&k->d[MODEL_THINK], f->side[1].ev[j++].stime - c->stime);
    }
    rc |= values_push(&k->d[MODEL_ROUNDS], (double)rounds);
    rc |= values_push(&k->d[MODEL_FLOW_BYTES], bytes > 0 ? bytes : 0);
    rc |= values_push(&k->d[MODEL_DURATION], end - f->stime);
    return rc ? -1 : 0;
}

/* flows come in start order: the arrival gaps need it */
int flow_model_data(const struct flow_set *set, enum model_classes by, struct model_data **ks, size_t *n)
{
    size_t cap = 0;
    *ks = NULL;
    *n = 0;
    for (size_t i = 0; i < set->n; i++) {
        char name[64];
        class_name(&set->flows[i], by, name, sizeof name);
        size_t c = 0;
        while (c < *n && strcmp((*ks)[c].name, name))
            c++;
        if (c == *n) {
            if (*n == cap) {
                size_t m = cap ? 2 * cap : 8;
                struct model_data *p = realloc(*ks, m * sizeof *p);
                if (!p)
                    return -1;
                *ks = p;
                cap = m;
            }
            memset(&(*ks)[*n], 0, sizeof **ks);
            snprintf((*ks)[*n].name, sizeof (*ks)[*n].name, "%s", name);
            (*n)++;
        }
        if (add_flow(&(*ks)[c], &set->flows[i]) < 0)
            return -1;
    }
    return 0;
}

void flow_model_data_free(struct model_data *ks, size_t n)
{
    for (size_t c = 0; c < n; c++)
        for (int d = 0; d < MODEL_DISTS; d++)
            free(ks[c].d[d].v);
    free(ks);
}

json_t *flow_model_fit(const struct flow_set *set, enum model_classes by, enum model_fit fit, char *err,
                       size_t errlen)
{
    struct model_data *ks;
    size_t n;
    if (flow_model_data(set, by, &ks, &n) < 0) {
        flow_model_data_free(ks, n);
        snprintf(err, errlen, "out of memory fitting the model");
        return NULL;
    }
    json_t *classes = json_object();
    for (size_t c = 0; c < n; c++) {
        json_t *o = json_pack("{s:I}", "flows", (json_int_t)ks[c].flows);
        for (int d = 0; d < MODEL_DISTS; d++)
            json_object_set_new(o, model_dist_names[d], fit == MODEL_FIT_EMPIRICAL ? empirical_json(&ks[c].d[d])
                                                                             : mixture_json(&ks[c].d[d]));
        json_object_set_new(classes, ks[c].name, o);
    }
    flow_model_data_free(ks, n);
    static const char *const by_names[] = { "server port", "server address", "one class" };
    return json_pack("{s:s, s:i, s:s, s:s, s:I, s:o}", "model", "telrep flow model", "version", MODEL_VERSION, "fit",
                     fit == MODEL_FIT_EMPIRICAL ? "empirical" : "mixture", "classes_by", by_names[by], "flows",
                     (json_int_t)set->n, "classes", classes);
}

/* ---- reading a model ---- */

/* quantiles: ascending finite values, 2 to MODEL_QUANTILES of them */
static int read_quantiles(json_t *q, const char *where, struct model_dist *d, char *err, size_t errlen)
{
    size_t m = json_array_size(q);
    if (!json_is_array(q) || m < 2 || m > MODEL_QUANTILES) {
        snprintf(err, errlen, "%s: quantiles: 2 to %d values expected", where, MODEL_QUANTILES);
        return -1;
    }
    for (size_t i = 0; i < m; i++) {
        json_t *v = json_array_get(q, i);
        double x = json_number_value(v);
        if (!json_is_number(v) || !isfinite(x) || fabs(x) > 1e15 || (i && x < d->q[i - 1])) {
            snprintf(err, errlen, "%s: quantile %zu: a finite number, none below the one before, expected", where, i + 1);
            return -1;
        }
        d->q[i] = x;
    }
    d->nq = (unsigned)m;
    d->empirical = d->fitted = true;
    return 0;
}

static int read_dist(json_t *j, const char *where, struct model_dist *d, char *err, size_t errlen)
{
    memset(d, 0, sizeof *d);
    if (!json_is_object(j) || json_object_get(j, "fitted")) /* absent, or too few values to fit */
        return 0;
    json_t *quantiles = json_object_get(j, "quantiles");
    if (quantiles)
        return read_quantiles(quantiles, where, d, err, errlen);
    json_t *comps = json_object_get(j, "components");
    size_t k = json_array_size(comps);
    if (!json_is_array(comps) || k < 1 || k > GMM_MAX) {
        snprintf(err, errlen, "%s: components: 1 to %d of them expected", where, GMM_MAX);
        return -1;
    }
    double total = 0;
    for (size_t c = 0; c < k; c++) {
        json_t *o = json_array_get(comps, c);
        json_t *w = json_object_get(o, "weight"), *mu = json_object_get(o, "mean"), *sd = json_object_get(o, "sd");
        if (!json_is_number(w) || !json_is_number(mu) || !json_is_number(sd) || !(json_number_value(w) >= 0) ||
            !(json_number_value(sd) > 0) || !isfinite(json_number_value(mu)) || !isfinite(json_number_value(sd)) ||
            json_number_value(sd) > 1e12 || fabs(json_number_value(mu)) > 1e12) {
            snprintf(err, errlen, "%s: component %zu: weight >= 0, a finite mean and sd > 0 expected", where, c + 1);
            return -1;
        }
        d->g.w[c] = json_number_value(w);
        d->g.mu[c] = json_number_value(mu);
        d->g.sigma[c] = json_number_value(sd);
        total += d->g.w[c];
    }
    if (!(total > 0.99 && total < 1.01)) {
        snprintf(err, errlen, "%s: the weights add up to %g, not 1", where, total);
        return -1;
    }
    d->g.k = (unsigned)k;
    d->g.log_scale = json_is_true(json_object_get(j, "log_scale"));
    if (d->g.log_scale)
        for (size_t c = 0; c < k; c++)
            if (fabs(d->g.mu[c]) > 700 || d->g.sigma[c] > 50) { /* exp() of it must stay finite */
                snprintf(err, errlen, "%s: component %zu: out of range for a log scale", where, c + 1);
                return -1;
            }
    d->fitted = true;
    return 0;
}

int flow_model_read(json_t *j, struct flow_model *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    json_t *classes = json_object_get(j, "classes");
    if (!json_is_object(j) || json_integer_value(json_object_get(j, "version")) != MODEL_VERSION || !json_is_object(classes)) {
        snprintf(err, errlen, "not a telrep flow model of version %d (flow-extract --model writes one)", MODEL_VERSION);
        return -1;
    }
    const char *name;
    json_t *c;
    double total = 0;
    json_object_foreach(classes, name, c) {
        if (out->n == MODEL_CLASSES_MAX) {
            snprintf(err, errlen, "more than %d classes", MODEL_CLASSES_MAX);
            return -1;
        }
        struct model_class *k = &out->classes[out->n];
        snprintf(k->name, sizeof k->name, "%s", name);
        unsigned port;
        char tail;
        if (sscanf(name, "port %u%c", &port, &tail) == 1 && port >= 1 && port <= 65535)
            k->port = (uint16_t)port;
        json_t *flows = json_object_get(c, "flows");
        if (!json_is_integer(flows) || json_integer_value(flows) < 1) {
            snprintf(err, errlen, "class \"%s\": flows: a count >= 1 expected", name);
            return -1;
        }
        k->flows = (double)json_integer_value(flows);
        total += k->flows;
        for (int d = 0; d < MODEL_DISTS; d++) {
            char where[160];
            snprintf(where, sizeof where, "class \"%s\": %s", name, model_dist_names[d]);
            if (read_dist(json_object_get(c, model_dist_names[d]), where, &k->d[d], err, errlen) < 0)
                return -1;
        }
        out->n++;
    }
    if (!out->n) {
        snprintf(err, errlen, "the model has no class");
        return -1;
    }
    for (size_t i = 0; i < out->n; i++)
        out->classes[i].flows /= total;
    return 0;
}

int flow_model_load(const char *path, struct flow_model *out, char *err, size_t errlen)
{
    json_error_t je;
    json_t *j = json_load_file(path, 0, &je);
    if (!j) {
        snprintf(err, errlen, "%s:%d: %s", path, je.line, je.text);
        return -1;
    }
    char e[400];
    int rc = flow_model_read(j, out, e, sizeof e);
    if (rc < 0)
        snprintf(err, errlen, "%s: %s", path, e);
    json_decref(j);
    return rc;
}

/* ---- generating flows ---- */

double model_dist_sample(const struct model_dist *d, uint64_t *s)
{
    if (!d->empirical)
        return gmm_sample(&d->g, s);
    double at = gmm_uniform(s) * (d->nq - 1);
    size_t i = (size_t)at;
    if (i >= d->nq - 1)
        return d->q[d->nq - 1];
    return d->q[i] + (at - (double)i) * (d->q[i + 1] - d->q[i]);
}

double model_dist_mean(const struct model_dist *d)
{
    if (!d->empirical)
        return gmm_mean(&d->g);
    double m = 0;
    for (unsigned i = 0; i + 1 < d->nq; i++)
        m += (d->q[i] + d->q[i + 1]) / 2;
    return m / (double)(d->nq - 1);
}

double model_dist_cdf(const struct model_dist *d, double x)
{
    if (!d->empirical)
        return gmm_cdf(&d->g, x);
    if (x < d->q[0])
        return 0;
    if (x >= d->q[d->nq - 1])
        return 1;
    size_t i = 0; /* the last quantile at or below x */
    while (i + 1 < d->nq && d->q[i + 1] <= x)
        i++;
    double part = d->q[i + 1] > d->q[i] ? (x - d->q[i]) / (d->q[i + 1] - d->q[i]) : 0;
    return ((double)i + part) / (double)(d->nq - 1);
}

static double draw(const struct model_dist *d, double fallback, uint64_t *s)
{
    return d->fitted ? model_dist_sample(d, s) : fallback;
}

static int cmp_start(const void *a, const void *b)
{
    const struct flow_spec *x = a, *y = b;
    return x->stime < y->stime ? -1 : x->stime > y->stime ? 1 : (x->fid > y->fid) - (x->fid < y->fid);
}

/* One flow of class k, flow number i, starting at stime. 0 or -1 (out of memory). */
static int model_flow(const struct model_class *k, const struct model_generate_options *o, size_t i, double stime,
                      uint64_t *s, struct flow_spec *f)
{
    f->fid = i;
    f->stime = stime;
    f->side[0].ip = o->client;
    f->side[0].port = (uint16_t)(20000 + i % 40000);
    f->side[1].ip = o->server;
    f->side[1].port = k->port ? k->port : o->port;
    long rounds = lround(draw(&k->d[MODEL_ROUNDS], 1, s));
    if (rounds < 1)
        rounds = 1;
    if (rounds > 10000)
        rounds = 10000;
    double at = f->stime;
    int rc = 0;
    for (long r = 0; r < rounds && rc == 0; r++) {
        double req = fmax(round(draw(&k->d[MODEL_CLIENT_BYTES], 100, s)), 0);
        double resp = fmax(round(draw(&k->d[MODEL_SERVER_BYTES], 1000, s)), 0);
        double think = fmax(draw(&k->d[MODEL_THINK], 0, s), 0);
        req = fmin(req, 1e9), resp = fmin(resp, 1e9);
        if (req > 0)
            rc |= flow_side_add(&f->side[0], FLOW_SEND, (uint64_t)req, at) | flow_side_add(&f->side[1], FLOW_WAIT, (uint64_t)req, at);
        if (resp > 0)
            rc |= flow_side_add(&f->side[1], FLOW_SEND, (uint64_t)resp, at + think) |
                  flow_side_add(&f->side[0], FLOW_WAIT, (uint64_t)resp, at + think);
        at += think;
    }
    rc |= flow_side_add(&f->side[0], FLOW_CLOSE, 0, at) | flow_side_add(&f->side[1], FLOW_CLOSE, 0, at);
    return rc ? -1 : 0;
}

/* The next flow of out, growing it (a duration's flows are not known beforehand). */
static struct flow_spec *next_flow(struct flow_set *out, size_t *cap)
{
    if (out->n == *cap) {
        size_t c = *cap ? 2 * *cap : 1024;
        struct flow_spec *p = realloc(out->flows, c * sizeof *p);
        if (!p)
            return NULL;
        memset(p + *cap, 0, (c - *cap) * sizeof *p);
        out->flows = p;
        *cap = c;
    }
    return &out->flows[out->n++]; /* counted now: freed with the set, even half made */
}

int flow_model_generate(const struct flow_model *m, const struct model_generate_options *o, struct flow_set *out,
                        char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if ((!o->flows && !(o->duration > 0)) || !m->n || o->client.family != o->server.family) {
        snprintf(err, errlen, "generating needs flows > 0 (or a duration) and client and server addresses of one family");
        return -1;
    }
    double scale = o->scale > 0 ? o->scale : 1;
    uint64_t s = o->seed ? o->seed : 0x9e3779b97f4a7c15ull;
    double next[MODEL_CLASSES_MAX] = { 0 }, fallback[MODEL_CLASSES_MAX];
    size_t made[MODEL_CLASSES_MAX] = { 0 }, cap = 0;
    /* a class without fitted arrival gaps: the fitted classes' rate per share of flows, times
     * its share (with --flows the shares alone decide, and the gap is only spacing) */
    double rate = 0, share = 0;
    for (size_t k = 0; k < m->n; k++)
        if (m->classes[k].d[MODEL_ARRIVAL_GAP].fitted) {
            double mean = model_dist_mean(&m->classes[k].d[MODEL_ARRIVAL_GAP]);
            rate += mean > 0 ? 1 / mean : 0;
            share += m->classes[k].flows;
        }
    for (size_t k = 0; k < m->n; k++)
        fallback[k] = rate > 0 && share > 0 ? 1 / (rate / share * m->classes[k].flows) : 0.01;
    for (size_t i = 0;; i++) {
        size_t c = 0;
        if (o->duration > 0) { /* the class whose next flow comes first, until all are past the end */
            for (size_t k = 1; k < m->n; k++)
                if (next[k] < next[c])
                    c = k;
            if (next[c] >= o->duration)
                break;
            if (out->n == MODEL_DURATION_FLOWS) {
                flow_set_free(out);
                snprintf(err, errlen, "more than %d flows in %g s: a shorter duration, or --flows", MODEL_DURATION_FLOWS,
                         o->duration);
                return -1;
            }
        } else { /* the class furthest behind its share, so that the proportions hold at every count */
            if (i == o->flows)
                break;
            double worst = -1e300;
            for (size_t k = 0; k < m->n; k++) {
                double lag = m->classes[k].flows * (double)(i + 1) - (double)made[k];
                if (lag > worst)
                    worst = lag, c = k;
            }
        }
        const struct model_class *k = &m->classes[c];
        struct flow_spec *f = next_flow(out, &cap);
        if (!f || model_flow(k, o, i, next[c], &s, f) < 0) {
            flow_set_free(out);
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        next[c] += fmax(draw(&k->d[MODEL_ARRIVAL_GAP], fallback[c], &s), 0) / scale;
        made[c]++;
        out->events += f->side[0].n + f->side[1].n;
        out->send_bytes += f->side[0].send_bytes + f->side[1].send_bytes;
    }
    /* in start order, as an events file would be */
    qsort(out->flows, out->n, sizeof *out->flows, cmp_start);
    for (size_t i = 0; i < out->n; i++)
        out->flows[i].fid = i;
    return 0;
}

double flow_ks(double *a, size_t na, double *b, size_t nb)
{
    if (!na || !nb)
        return 1;
    qsort(a, na, sizeof *a, values_cmp);
    qsort(b, nb, sizeof *b, values_cmp);
    size_t i = 0, j = 0;
    double d = 0;
    while (i < na && j < nb) {
        double x = a[i] < b[j] ? a[i] : b[j];
        while (i < na && a[i] <= x)
            i++;
        while (j < nb && b[j] <= x)
            j++;
        d = fmax(d, fabs((double)i / (double)na - (double)j / (double)nb));
    }
    return d;
}

/* ---- the check mode: two sets of flows, parameter by parameter ---- */

json_t *flow_model_compare(const struct flow_set *a, const struct flow_set *b, enum model_classes by, FILE *table,
                           char *err, size_t errlen)
{
    struct model_data *ka, *kb;
    size_t na, nb;
    int rc = flow_model_data(a, by, &ka, &na);
    if (rc == 0)
        rc = flow_model_data(b, by, &kb, &nb);
    else
        kb = NULL, nb = 0;
    if (rc < 0) {
        flow_model_data_free(ka, na);
        flow_model_data_free(kb, nb);
        snprintf(err, errlen, "out of memory comparing the flows");
        return NULL;
    }
    json_t *classes = json_object();
    if (table)
        fprintf(table, "%-16s %-14s %8s %8s %7s %11s\n", "class", "parameter", "n (a)", "n (b)", "KS", "mean error");
    for (size_t c = 0; c < na; c++) {
        const struct model_data *x = &ka[c], *y = NULL;
        for (size_t k = 0; k < nb && !y; k++)
            if (!strcmp(kb[k].name, x->name))
                y = &kb[k];
        json_t *o = json_pack("{s:I, s:I}", "flows_a", (json_int_t)x->flows, "flows_b", (json_int_t)(y ? y->flows : 0));
        for (int d = 0; d < MODEL_DISTS; d++) {
            struct values va = x->d[d], vb = y ? y->d[d] : (struct values){ 0 };
            double ks = flow_ks(va.v, va.n, vb.v, vb.n), ma = values_mean(&va), mb = values_mean(&vb);
            double me = ma != 0 ? (mb - ma) / ma : (mb != 0);
            json_object_set_new(o, model_dist_names[d], json_pack("{s:f, s:f, s:I, s:I}", "ks", ks, "mean_error", me, "n_a",
                                                            (json_int_t)va.n, "n_b", (json_int_t)vb.n));
            if (table)
                fprintf(table, "%-16s %-14s %8zu %8zu %7.3f %+10.1f%%\n", x->name, model_dist_names[d], va.n, vb.n, ks, 100 * me);
        }
        json_object_set_new(classes, x->name, o);
    }
    flow_model_data_free(ka, na);
    flow_model_data_free(kb, nb);
    return json_pack("{s:I, s:I, s:o}", "flows_a", (json_int_t)a->n, "flows_b", (json_int_t)b->n, "classes", classes);
}
