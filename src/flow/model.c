/* model.c — a traffic model fitted from flows (model.h). */
#include "flow/model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flow/gmm.h"

enum { D_ARRIVAL, D_ROUNDS, D_CLIENT_BYTES, D_SERVER_BYTES, D_CLIENT_GAP, D_SERVER_GAP, D_THINK, D_FLOW_BYTES,
       D_DURATION, D_COUNT };
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
    if (x->n < MODEL_MIN_SAMPLES || gmm_fit_auto(x->v, x->n, GMM_MAX, &g) < 0)
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
