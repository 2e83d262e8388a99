/* plot.c — flow-replay's pictures (plot.h): data files and a gnuplot script, then gnuplot. */
#define _GNU_SOURCE
#include "flow/plot.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "flow/gmm.h"
#include "flow/model.h"
#include "flow/values.h"

extern char **environ;

struct series {
    long long fid;
    char end[8];
    char *rows;     /* "t cwnd rtt_ms delivery_mbps\n" lines */
    size_t len, cap;
};

/* name.cdf in dir: the sorted values, each with the fraction at or below it */
static int write_cdf(const char *dir, const char *name, struct values *x)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.cdf", dir, name);
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    values_sort(x);
    fprintf(f, "# %s: value, fraction of the flows at or below it\n", name);
    for (size_t i = 0; i < x->n; i++)
        fprintf(f, "%.9g %.6f\n", x->v[i], (double)(i + 1) / (double)x->n);
    return fclose(f);
}

static struct series *series_of(struct series **all, size_t *n, size_t *cap, long long fid, const char *end)
{
    for (size_t i = *n; i-- > 0;)
        if ((*all)[i].fid == fid && !strcmp((*all)[i].end, end))
            return &(*all)[i];
    if (*n == *cap) {
        size_t c = *cap ? 2 * *cap : 64;
        struct series *p = realloc(*all, c * sizeof *p);
        if (!p)
            return NULL;
        *all = p;
        *cap = c;
    }
    struct series *s = &(*all)[(*n)++];
    memset(s, 0, sizeof *s);
    s->fid = fid;
    snprintf(s->end, sizeof s->end, "%s", end);
    return s;
}

static int append(struct series *s, const char *row)
{
    size_t l = strlen(row);
    if (s->len + l + 1 > s->cap) {
        size_t c = s->cap ? 2 * s->cap : 1024;
        while (c < s->len + l + 1)
            c *= 2;
        char *p = realloc(s->rows, c);
        if (!p)
            return -1;
        s->rows = p;
        s->cap = c;
    }
    memcpy(s->rows + s->len, row, l + 1);
    s->len += l;
    return 0;
}

static const char script[] =
    "# written by flow-replay --plot: gnuplot plot.gp (in this folder) draws every picture again\n"
    "set grid\nset key outside right top font ',8'\n"
    "do for [term in 'svg png'] {\n"
    "  ext = term eq 'svg' ? '.svg' : '.png'\n"
    "  if (term eq 'svg') { set terminal svg size 960,540 dynamic } else { set terminal png size 960,540 }\n"
    "  if (SERIES > 0) {\n"
    "    set xlabel 'seconds since time 0'\n"
    "    set output 'cwnd'.ext; set ylabel 'cwnd (segments)'; set title 'Congestion window'\n"
    "    plot for [i=0:SERIES-1] 'samples.dat' index i using 1:2 with linespoints pt 7 ps 0.4 title columnheader(1)\n"
    "    set output 'rtt'.ext; set ylabel 'RTT (ms)'; set title 'Smoothed RTT'\n"
    "    plot for [i=0:SERIES-1] 'samples.dat' index i using 1:3 with linespoints pt 7 ps 0.4 title columnheader(1)\n"
    "    set output 'delivery'.ext; set ylabel 'delivery rate (Mbit/s)'; set title 'Delivery rate'\n"
    "    plot for [i=0:SERIES-1] 'samples.dat' index i using 1:4 with linespoints pt 7 ps 0.4 title columnheader(1)\n"
    "  }\n"
    "  set ylabel 'fraction of flows'; set yrange [0:1]\n"
    "  if (DONE > 0) {\n"
    "    set output 'fct'.ext; set xlabel 'flow completion time (s)'; set title 'CDF of flow completion times'\n"
    "    plot 'fct.cdf' using 1:2 with steps lw 2 notitle\n"
    "  }\n"
    "  set output 'bytes'.ext; set xlabel 'bytes (both ends)'; set title 'CDF of flow sizes'; set logscale x\n"
    "  plot 'bytes.cdf' using 1:2 with steps lw 2 notitle\n"
    "  unset logscale x\n"
    "  set output 'lateness'.ext; set xlabel 'start lateness (ms)'; set title 'CDF of start lateness'\n"
    "  plot 'lateness.cdf' using 1:2 with steps lw 2 notitle\n"
    "  unset yrange\n"
    "}\n";

/* gnuplot in dir on plot.gp, with def (variables it reads) given first; 0 or -1 with err */
static int run_gnuplot(const char *dir, const char *def, char *err, size_t errlen)
{
    char *argv[] = { "gnuplot", "-e", (char *)def, "plot.gp", NULL };
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addchdir_np(&fa, dir);
    pid_t pid;
    int rc = posix_spawnp(&pid, "gnuplot", &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) {
        snprintf(err, errlen, "cannot run gnuplot: %s (apt install gnuplot-nox); the data files and plot.gp are in %s",
                 strerror(rc), dir);
        return -1;
    }
    int st;
    if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        snprintf(err, errlen, "gnuplot failed on %s/plot.gp (its message is above)", dir);
        return -1;
    }
    return 0;
}

static int make_dir(const char *dir, char *err, size_t errlen)
{
    if (mkdir(dir, 0777) < 0 && errno != EEXIST) {
        snprintf(err, errlen, "--plot %s: %s", dir, strerror(errno));
        return -1;
    }
    return 0;
}

int flow_plot(const char *results_path, const char *dir, char *err, size_t errlen)
{
    if (make_dir(dir, err, errlen) < 0)
        return -1;
    FILE *in = fopen(results_path, "r");
    if (!in) {
        snprintf(err, errlen, "%s: %s", results_path, strerror(errno));
        return -1;
    }
    struct series *all = NULL;
    size_t n = 0, cap = 0;
    struct values fct = { 0 }, bytes = { 0 }, late = { 0 };
    char *line = NULL;
    size_t lcap = 0;
    int rc = 0;
    while (rc == 0 && getline(&line, &lcap, in) > 0) {
        json_t *j = json_loads(line, 0, NULL);
        const char *type = json_string_value(json_object_get(j, "type"));
        if (type && !strcmp(type, "tcp_info")) {
            json_t *ti = json_object_get(j, "tcp_info");
            const char *end = json_string_value(json_object_get(j, "end"));
            if (json_is_object(ti) && end) {
                char row[160];
                snprintf(row, sizeof row, "%.6f %lld %.3f %.3f\n", json_number_value(json_object_get(j, "t")),
                         (long long)json_integer_value(json_object_get(ti, "cwnd")),
                         (double)json_integer_value(json_object_get(ti, "rtt_us")) / 1e3,
                         (double)json_integer_value(json_object_get(ti, "delivery_rate")) * 8 / 1e6);
                struct series *s = series_of(&all, &n, &cap, (long long)json_integer_value(json_object_get(j, "fid")), end);
                if (!s || append(s, row) < 0)
                    rc = -1;
            }
        } else if (type && !strcmp(type, "flow")) {
            const char *state = json_string_value(json_object_get(j, "state"));
            json_t *d = json_object_get(j, "duration"), *l = json_object_get(j, "lateness_ms");
            if (state && !strcmp(state, "done") && json_is_number(d) && values_push(&fct, json_number_value(d)) < 0)
                rc = -1;
            if (json_is_number(l) && values_push(&late, json_number_value(l)) < 0)
                rc = -1;
            double b = (double)json_integer_value(json_object_get(json_object_get(j, "client_end"), "sent")) +
                       (double)json_integer_value(json_object_get(json_object_get(j, "server_end"), "sent"));
            if (values_push(&bytes, b > 0 ? b : 1) < 0)
                rc = -1;
        }
        json_decref(j);
    }
    free(line);
    fclose(in);
    char path[4096];
    snprintf(path, sizeof path, "%s/samples.dat", dir);
    FILE *f = rc == 0 ? fopen(path, "w") : NULL;
    if (f) {
        for (size_t i = 0; i < n; i++) /* one index per flow end: its title row, its samples */
            fprintf(f, "%s\"flow %lld %s\"\n%s", i ? "\n\n" : "", all[i].fid, all[i].end, all[i].rows ? all[i].rows : "");
        rc = fclose(f) == 0 ? 0 : -1;
    } else {
        rc = -1;
    }
    snprintf(path, sizeof path, "%s/plot.gp", dir);
    f = rc == 0 ? fopen(path, "w") : NULL;
    if (rc < 0 || !f || fputs(script, f) == EOF || fclose(f) != 0 || write_cdf(dir, "fct", &fct) < 0 ||
        write_cdf(dir, "bytes", &bytes) < 0 || write_cdf(dir, "lateness", &late) < 0) {
        snprintf(err, errlen, "--plot %s: cannot write its files: %s", dir, strerror(errno));
        rc = -1;
    } else {
        char def[64];
        snprintf(def, sizeof def, "SERIES=%zu; DONE=%zu", n < PLOT_SERIES_MAX ? n : PLOT_SERIES_MAX, fct.n);
        rc = run_gnuplot(dir, def, err, errlen);
    }
    for (size_t i = 0; i < n; i++)
        free(all[i].rows);
    free(all);
    values_free(&fct);
    values_free(&bytes);
    values_free(&late);
    return rc;
}

/* ---- flow-extract --plot: what the flows did, and the model's fits over it ---- */

#define FIT_BINS 40
#define FIT_CURVE 200

static const char extract_script_head[] =
    "# written by flow-extract --plot: gnuplot plot.gp (in this folder) draws every picture again\n"
    "set grid\n"
    "do for [term in 'svg png'] {\n"
    "  ext = term eq 'svg' ? '.svg' : '.png'\n";

/* A class's name as a file name: letters, digits and dots kept, anything else '-'. */
static void slug(const char *name, char *out, size_t len)
{
    size_t i = 0;
    for (; name[i] && i + 1 < len; i++) {
        char c = name[i];
        out[i] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ? c : '-';
    }
    out[i] = 0;
}

/* One CDF picture in the script (its data written by write_cdf), log x when the data spans decades. */
static void script_cdf(FILE *gp, const char *name, const char *xlabel, const char *title, const struct values *x)
{
    bool logx = gmm_spans_decades(x->v, x->n);
    char range[96] = "set autoscale x"; /* one value: a range around it (gnuplot would warn) */
    if (x->n && x->v[0] == x->v[x->n - 1])
        snprintf(range, sizeof range, "set xrange [%.9g:%.9g]", x->v[0] - fmax(fabs(x->v[0]) / 10, 0.5),
                 x->v[0] + fmax(fabs(x->v[0]) / 10, 0.5));
    fprintf(gp, "  if (term eq 'svg') { set terminal svg size 960,540 dynamic noenhanced } else { set terminal png size 960,540 noenhanced }\n"
                "  set output '%s'.ext; set xlabel '%s'; set ylabel 'fraction of flows'; set yrange [0:1]; %s\n"
                "  set title '%s (%zu flows)'; %s\n"
                "  plot '%s.cdf' using 1:2 with steps lw 2 notitle\n  unset logscale x; unset yrange; set autoscale x\n",
            name, xlabel, range, title, x->n, logx ? "set logscale x" : "unset logscale x", name);
}

/* Whether a panel's x axis is logarithmic: a mixture's own scale; an empirical distribution's
 * by gmm_fit_auto's rule for its values. */
static bool panel_log(const struct values *x, const struct model_dist *d)
{
    return d->empirical ? gmm_spans_decades(x->v, x->n) : d->g.log_scale;
}

/* One distribution's panel: index 2i the data's histogram, 2i+1 the model over it, each as
 * "x density" rows (density per unit of the fitting scale: ln x when log). 1 if drawn, 0 if
 * there was nothing to draw (its indices then hold one row at 0, gnuplot's indices stay in step). */
static int fit_panel(FILE *dat, const struct values *x, const struct model_dist *d)
{
    if (!d || !d->fitted || x->n < MODEL_MIN_SAMPLES) {
        fprintf(dat, "0 0\n\n\n0 0\n\n\n");
        return 0;
    }
    bool logx = panel_log(x, d);
    double lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < x->n; i++) {
        double v = logx ? log(x->v[i]) : x->v[i];
        lo = fmin(lo, v), hi = fmax(hi, v);
    }
    if (hi - lo < 1e-9 * fmax(1, fabs(hi)))
        lo -= 0.5, hi += 0.5;
    double w = (hi - lo) / FIT_BINS;
    size_t count[FIT_BINS] = { 0 };
    for (size_t i = 0; i < x->n; i++) {
        double v = logx ? log(x->v[i]) : x->v[i];
        size_t b = (size_t)((v - lo) / w);
        count[b < FIT_BINS ? b : FIT_BINS - 1]++;
    }
#define AXIS(y) (logx ? exp(y) : (y))
    fprintf(dat, "# histogram: x, density\n");
    for (size_t b = 0; b <= FIT_BINS; b++) /* steps: each bin's left edge, and the right edge at the end */
        fprintf(dat, "%.9g %.9g\n", AXIS(lo + w * (double)b),
                (double)count[b < FIT_BINS ? b : FIT_BINS - 1] / ((double)x->n * w));
    fprintf(dat, "\n\n# model: x, density\n");
    if (d->empirical) { /* the mass the interpolated quantiles give each bin */
        for (size_t b = 0; b <= FIT_BINS; b++) {
            size_t k = b < FIT_BINS ? b : FIT_BINS - 1;
            double mass = model_dist_cdf(d, AXIS(lo + w * (double)(k + 1))) - model_dist_cdf(d, AXIS(lo + w * (double)k));
            fprintf(dat, "%.9g %.9g\n", AXIS(lo + w * (double)b), mass / w);
        }
    } else {
        for (size_t i = 0; i <= FIT_CURVE; i++) {
            double y = lo + (hi - lo) * (double)i / FIT_CURVE;
            fprintf(dat, "%.9g %.9g\n", AXIS(y), gmm_pdf(&d->g, y));
        }
    }
#undef AXIS
    fprintf(dat, "\n\n");
    return 1;
}

static int by_flows(const void *a, const void *b)
{
    const struct model_data *x = *(struct model_data *const *)a, *y = *(struct model_data *const *)b;
    return (x->flows < y->flows) - (x->flows > y->flows);
}

int flow_plot_extract(const struct flow_set *set, json_t *model, enum model_classes by, struct values *rtts_ms,
                      const char *dir, char *err, size_t errlen)
{
    if (make_dir(dir, err, errlen) < 0)
        return -1;
    struct flow_model *fm = malloc(sizeof *fm);
    struct model_data *data = NULL, **order = NULL;
    size_t n = 0;
    struct values sizes = { 0 }, durations = { 0 };
    char path[4096], e[400];
    FILE *gp = NULL;
    int rc = -1;
    if (!fm || flow_model_data(set, by, &data, &n) < 0 || !(order = calloc(n ? n : 1, sizeof *order))) {
        snprintf(err, errlen, "--plot: out of memory");
        goto out;
    }
    if (flow_model_read(model, fm, e, sizeof e) < 0) {
        snprintf(err, errlen, "--plot: the model: %s", e);
        goto out;
    }
    for (size_t c = 0; c < n; c++) {
        order[c] = &data[c];
        const struct values *b = &data[c].d[MODEL_FLOW_BYTES], *t = &data[c].d[MODEL_DURATION]; /* one per flow */
        for (size_t i = 0; i < b->n && i < t->n; i++)
            if (values_push(&sizes, b->v[i]) < 0 || values_push(&durations, t->v[i]) < 0) {
                snprintf(err, errlen, "--plot: out of memory");
                goto out;
            }
    }
    for (size_t i = 0; i < sizes.n; i++) /* zero-byte flows on a log axis: at 1 */
        sizes.v[i] = fmax(sizes.v[i], 1);
    qsort(order, n, sizeof *order, by_flows);
    snprintf(path, sizeof path, "%s/plot.gp", dir);
    if (!(gp = fopen(path, "w")) || write_cdf(dir, "sizes", &sizes) < 0 || write_cdf(dir, "durations", &durations) < 0 ||
        (rtts_ms && write_cdf(dir, "rtt", rtts_ms) < 0))
        goto write_error;
    fputs(extract_script_head, gp);
    script_cdf(gp, "sizes", "bytes (both directions)", "CDF of flow sizes", &sizes);
    script_cdf(gp, "durations", "seconds", "CDF of flow durations", &durations);
    if (rtts_ms && rtts_ms->n)
        script_cdf(gp, "rtt", "SYN to SYN-ACK (ms, at the capture point)", "CDF of handshake RTTs", rtts_ms);
    for (size_t c = 0; c < n && c < PLOT_CLASSES_MAX; c++) {
        const struct model_data *k = order[c];
        const struct model_class *mc = NULL;
        for (size_t i = 0; i < fm->n && !mc; i++)
            if (!strcmp(fm->classes[i].name, k->name))
                mc = &fm->classes[i];
        bool any = false; /* a class with nothing fitted has no picture */
        for (int d = 0; d < MODEL_DISTS && mc; d++)
            any |= mc->d[d].fitted && k->d[d].n >= MODEL_MIN_SAMPLES;
        if (!any)
            continue;
        char s[64];
        slug(k->name, s, sizeof s);
        snprintf(path, sizeof path, "%s/fit-%s.dat", dir, s);
        FILE *dat = fopen(path, "w");
        if (!dat)
            goto write_error;
        fprintf(dat, "# flow-extract --plot: class \"%s\", per distribution two indices (histogram, model)\n", k->name);
        fprintf(gp, "  if (term eq 'svg') { set terminal svg size 1440,1080 dynamic noenhanced } else { set terminal png size 1440,1080 noenhanced }\n"
                    "  set output 'fit-%s'.ext; set multiplot layout 3,3 title '%s: %zu flows, data and model'\n"
                    "  set ylabel 'density'; set key top right font ',8'; set format y '%%g'; set tics font ',9'; set xtics rotate by -30\n", s, k->name, k->flows);
        for (int d = 0; d < MODEL_DISTS; d++) {
            const struct model_dist *md = mc ? &mc->d[d] : NULL;
            if (!fit_panel(dat, &k->d[d], md))
                continue;
            bool logx = panel_log(&k->d[d], md);
            char what[48];
            if (md->empirical)
                snprintf(what, sizeof what, "empirical, %u quantiles", md->nq);
            else
                snprintf(what, sizeof what, "mixture of %u", md->g.k);
            fprintf(gp, "  set title '%s (n=%zu; %s)'; set xlabel '%s'; %s\n"
                        "  plot 'fit-%s.dat' index %d using 1:2 with steps lw 1 title 'data', '' index %d using 1:2 with %s lw 2 title 'model'\n",
                    model_dist_names[d], k->d[d].n, what, logx ? "log scale" : "", logx ? "set logscale x" : "unset logscale x",
                    s, 2 * d, 2 * d + 1, md->empirical ? "steps" : "lines");
        }
        fputs("  unset multiplot; unset logscale x; set format y; set tics font ''; set xtics norotate\n", gp);
        if (fclose(dat) != 0)
            goto write_error;
    }
    fputs("}\n", gp);
    if (fclose(gp) != 0) {
        gp = NULL;
        goto write_error;
    }
    gp = NULL;
    rc = run_gnuplot(dir, "", err, errlen);
    goto out;
write_error:
    snprintf(err, errlen, "--plot %s: cannot write its files: %s", dir, strerror(errno));
out:
    if (gp)
        fclose(gp);
    flow_model_data_free(data, n);
    free(order);
    free(fm);
    values_free(&sizes);
    values_free(&durations);
    return rc;
}
