/* model.c — a traffic model fitted from flows (model.h). */
#include "flow/model.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flow/gmm.h"

enum { D_ARRIVAL, D_ROUNDS, D_CLIENT_BYTES, D_SERVER_BYTES, D_CLIENT_GAP, D_SERVER_GAP, D_THINK, D_FLOW_BYTES,
       D_DURATION, D_COUNT };
_Static_assert(D_COUNT == sizeof ((struct model_class *)0)->d / sizeof ((struct model_class *)0)->d[0],
               "model.h's model_class.d holds every distribution");
static const char *const dist_names[D_COUNT] = { "arrival_gap", "rounds", "client_bytes", "server_bytes", "client_gap",
                                                 "server_gap", "think", "flow_bytes", "duration" };

struct values {
    double *v;
    size_t n, cap;
};

struct klass {
    char name[64];
    size_t flows;
    double last_start;
    struct values d[D_COUNT];
};

static int cmp_double_m(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int push(struct values *x, double v)
{
    if (x->n == x->cap) {
        size_t n = x->cap ? 2 * x->cap : 64;
        double *p = realloc(x->v, n * sizeof *p);
        if (!p)
            return -1;
        x->v = p;
        x->cap = n;
    }
    x->v[x->n++] = v;
    return 0;
}

static json_t *mixture_json(const struct values *x)
{
    struct gmm g;
    /* past MODEL_FIT_VALUES values EM runs on that many of their quantiles (evenly spaced in
     * the sorted values): the same distribution, a fit in bounded time whatever the capture */
    const double *fit = x->v;
    size_t n = x->n;
    double *q = NULL;
    if (n > MODEL_FIT_VALUES && (q = malloc(MODEL_FIT_VALUES * sizeof *q))) {
        qsort(x->v, x->n, sizeof *x->v, cmp_double_m);
        for (size_t i = 0; i < MODEL_FIT_VALUES; i++)
            q[i] = x->v[(size_t)(((double)i + 0.5) * (double)x->n / MODEL_FIT_VALUES)];
        fit = q;
        n = MODEL_FIT_VALUES;
    }
    int rc = x->n < MODEL_MIN_SAMPLES ? -1 : gmm_fit_auto(fit, n, GMM_MAX, &g);
    free(q);
    if (rc < 0)
        return json_pack("{s:I, s:s}", "n", (json_int_t)x->n, "fitted", "no: too few values");
    double mean = 0;
    for (size_t i = 0; i < x->n; i++)
        mean += x->v[i];
    json_t *comps = json_array();
    for (unsigned c = 0; c < g.k; c++)
        json_array_append_new(comps, json_pack("{s:f, s:f, s:f}", "weight", g.w[c], "mean", g.mu[c], "sd", g.sigma[c]));
    return json_pack("{s:I, s:i, s:b, s:f, s:o, s:f, s:f}", "n", (json_int_t)x->n, "k", (int)g.k, "log_scale",
                     g.log_scale, "bic", g.bic, "components", comps, "data_mean", mean / (double)x->n, "model_mean",
                     gmm_mean(&g));
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

static int add_flow(struct klass *k, const struct flow_spec *f)
{
    int rc = 0;
    if (k->flows)
        rc |= push(&k->d[D_ARRIVAL], f->stime - k->last_start);
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
            rc |= push(&k->d[s ? D_SERVER_BYTES : D_CLIENT_BYTES], (double)e->bytes);
            if (last_send >= 0)
                rc |= push(&k->d[s ? D_SERVER_GAP : D_CLIENT_GAP], e->stime - last_send);
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
            rc |= push(&k->d[D_THINK], f->side[1].ev[j++].stime - c->stime);
    }
    rc |= push(&k->d[D_ROUNDS], (double)rounds);
    rc |= push(&k->d[D_FLOW_BYTES], bytes > 0 ? bytes : 0);
    rc |= push(&k->d[D_DURATION], end - f->stime);
    return rc ? -1 : 0;
}

json_t *flow_model_fit(const struct flow_set *set, enum model_classes by, char *err, size_t errlen)
{
    struct klass *ks = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    for (size_t i = 0; i < set->n && rc == 0; i++) { /* flows come in start order */
        char name[64];
        class_name(&set->flows[i], by, name, sizeof name);
        size_t c = 0;
        while (c < n && strcmp(ks[c].name, name))
            c++;
        if (c == n) {
            if (n == cap) {
                size_t m = cap ? 2 * cap : 8;
                struct klass *p = realloc(ks, m * sizeof *p);
                if (!p) {
                    rc = -1;
                    break;
                }
                ks = p;
                cap = m;
            }
            memset(&ks[n], 0, sizeof ks[n]);
            snprintf(ks[n].name, sizeof ks[n].name, "%s", name);
            n++;
        }
        rc = add_flow(&ks[c], &set->flows[i]);
    }
    json_t *classes = json_object();
    for (size_t c = 0; c < n && rc == 0; c++) {
        json_t *o = json_pack("{s:I}", "flows", (json_int_t)ks[c].flows);
        for (int d = 0; d < D_COUNT; d++)
            json_object_set_new(o, dist_names[d], mixture_json(&ks[c].d[d]));
        json_object_set_new(classes, ks[c].name, o);
    }
    for (size_t c = 0; c < n; c++)
        for (int d = 0; d < D_COUNT; d++)
            free(ks[c].d[d].v);
    free(ks);
    if (rc) {
        json_decref(classes);
        snprintf(err, errlen, "out of memory fitting the model");
        return NULL;
    }
    static const char *const by_names[] = { "server port", "server address", "one class" };
    return json_pack("{s:s, s:i, s:s, s:I, s:o}", "model", "telrep flow model", "version", MODEL_VERSION, "classes_by",
                     by_names[by], "flows", (json_int_t)set->n, "classes", classes);
}

/* ---- reading a model ---- */

static int read_mixture(json_t *j, const char *where, struct model_dist *d, char *err, size_t errlen)
{
    memset(d, 0, sizeof *d);
    if (!json_is_object(j) || json_object_get(j, "fitted")) /* absent, or too few values to fit */
        return 0;
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
        for (int d = 0; d < D_COUNT; d++) {
            char where[160];
            snprintf(where, sizeof where, "class \"%s\": %s", name, dist_names[d]);
            if (read_mixture(json_object_get(c, dist_names[d]), where, &k->d[d], err, errlen) < 0)
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

static double draw(const struct model_dist *d, double fallback, uint64_t *s)
{
    return d->fitted ? gmm_sample(&d->g, s) : fallback;
}

static int cmp_start(const void *a, const void *b)
{
    const struct flow_spec *x = a, *y = b;
    return x->stime < y->stime ? -1 : x->stime > y->stime ? 1 : (x->fid > y->fid) - (x->fid < y->fid);
}

int flow_model_generate(const struct flow_model *m, const struct model_generate_options *o, struct flow_set *out,
                        char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (!o->flows || !m->n || o->client.family != o->server.family) {
        snprintf(err, errlen, "generating needs flows > 0 and client and server addresses of one family");
        return -1;
    }
    if (!(out->flows = calloc(o->flows, sizeof *out->flows))) {
        snprintf(err, errlen, "out of memory for %zu flows", o->flows);
        return -1;
    }
    double scale = o->scale > 0 ? o->scale : 1;
    uint64_t s = o->seed ? o->seed : 0x9e3779b97f4a7c15ull;
    double next[MODEL_CLASSES_MAX] = { 0 };
    size_t made[MODEL_CLASSES_MAX] = { 0 };
    for (size_t i = 0; i < o->flows; i++) {
        /* the class furthest behind its share, so that the proportions hold at every count */
        size_t c = 0;
        double worst = -1e300;
        for (size_t k = 0; k < m->n; k++) {
            double lag = m->classes[k].flows * (double)(i + 1) - (double)made[k];
            if (lag > worst)
                worst = lag, c = k;
        }
        const struct model_class *k = &m->classes[c];
        struct flow_spec *f = &out->flows[out->n++];
        f->fid = i;
        f->stime = next[c];
        next[c] += fmax(draw(&k->d[D_ARRIVAL], 0.01, &s), 0) / scale;
        made[c]++;
        f->side[0].ip = o->client;
        f->side[0].port = (uint16_t)(20000 + i % 40000);
        f->side[1].ip = o->server;
        f->side[1].port = k->port ? k->port : o->port;
        long rounds = lround(draw(&k->d[D_ROUNDS], 1, &s));
        if (rounds < 1)
            rounds = 1;
        if (rounds > 10000)
            rounds = 10000;
        double at = f->stime;
        int rc = 0;
        for (long r = 0; r < rounds && rc == 0; r++) {
            double req = fmax(round(draw(&k->d[D_CLIENT_BYTES], 100, &s)), 0);
            double resp = fmax(round(draw(&k->d[D_SERVER_BYTES], 1000, &s)), 0);
            double think = fmax(draw(&k->d[D_THINK], 0, &s), 0);
            req = fmin(req, 1e9), resp = fmin(resp, 1e9);
            if (req > 0)
                rc |= flow_side_add(&f->side[0], FLOW_SEND, (uint64_t)req, at) | flow_side_add(&f->side[1], FLOW_WAIT, (uint64_t)req, at);
            if (resp > 0)
                rc |= flow_side_add(&f->side[1], FLOW_SEND, (uint64_t)resp, at + think) |
                      flow_side_add(&f->side[0], FLOW_WAIT, (uint64_t)resp, at + think);
            at += think;
        }
        rc |= flow_side_add(&f->side[0], FLOW_CLOSE, 0, at) | flow_side_add(&f->side[1], FLOW_CLOSE, 0, at);
        if (rc) {
            flow_set_free(out);
            snprintf(err, errlen, "out of memory");
            return -1;
        }
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
    qsort(a, na, sizeof *a, cmp_double_m);
    qsort(b, nb, sizeof *b, cmp_double_m);
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

static int collect(const struct flow_set *set, enum model_classes by, struct klass **ks, size_t *n)
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
                struct klass *p = realloc(*ks, m * sizeof *p);
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

static void free_classes(struct klass *ks, size_t n)
{
    for (size_t c = 0; c < n; c++)
        for (int d = 0; d < D_COUNT; d++)
            free(ks[c].d[d].v);
    free(ks);
}

static double mean_of(const struct values *x)
{
    double s = 0;
    for (size_t i = 0; i < x->n; i++)
        s += x->v[i];
    return x->n ? s / (double)x->n : 0;
}

json_t *flow_model_compare(const struct flow_set *a, const struct flow_set *b, enum model_classes by, FILE *table,
                           char *err, size_t errlen)
{
    struct klass *ka, *kb;
    size_t na, nb;
    int rc = collect(a, by, &ka, &na);
    if (rc == 0)
        rc = collect(b, by, &kb, &nb);
    else
        kb = NULL, nb = 0;
    if (rc < 0) {
        free_classes(ka, na);
        free_classes(kb, nb);
        snprintf(err, errlen, "out of memory comparing the flows");
        return NULL;
    }
    json_t *classes = json_object();
    if (table)
        fprintf(table, "%-16s %-14s %8s %8s %7s %11s\n", "class", "parameter", "n (a)", "n (b)", "KS", "mean error");
    for (size_t c = 0; c < na; c++) {
        const struct klass *x = &ka[c], *y = NULL;
        for (size_t k = 0; k < nb && !y; k++)
            if (!strcmp(kb[k].name, x->name))
                y = &kb[k];
        json_t *o = json_pack("{s:I, s:I}", "flows_a", (json_int_t)x->flows, "flows_b", (json_int_t)(y ? y->flows : 0));
        for (int d = 0; d < D_COUNT; d++) {
            struct values va = x->d[d], vb = y ? y->d[d] : (struct values){ 0 };
            double ks = flow_ks(va.v, va.n, vb.v, vb.n), ma = mean_of(&va), mb = mean_of(&vb);
            double me = ma != 0 ? (mb - ma) / ma : (mb != 0);
            json_object_set_new(o, dist_names[d], json_pack("{s:f, s:f, s:I, s:I}", "ks", ks, "mean_error", me, "n_a",
                                                            (json_int_t)va.n, "n_b", (json_int_t)vb.n));
            if (table)
                fprintf(table, "%-16s %-14s %8zu %8zu %7.3f %+10.1f%%\n", x->name, dist_names[d], va.n, vb.n, ks, 100 * me);
        }
        json_object_set_new(classes, x->name, o);
    }
    free_classes(ka, na);
    free_classes(kb, nb);
    return json_pack("{s:I, s:I, s:o}", "flows_a", (json_int_t)a->n, "flows_b", (json_int_t)b->n, "classes", classes);
}
