/* plot.c — flow-replay's pictures (plot.h): data files and a gnuplot script, then gnuplot. */
#define _GNU_SOURCE
#include "flow/plot.h"

#include <errno.h>
#include <jansson.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

extern char **environ;

struct series {
    long long fid;
    char end[8];
    char *rows;     /* "t cwnd rtt_ms delivery_mbps\n" lines */
    size_t len, cap;
};

struct values {
    double *v;
    size_t n, cap;
};

static int push(struct values *x, double v)
{
    if (x->n == x->cap) {
        size_t n = x->cap ? 2 * x->cap : 256;
        double *p = realloc(x->v, n * sizeof *p);
        if (!p)
            return -1;
        x->v = p;
        x->cap = n;
    }
    x->v[x->n++] = v;
    return 0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int write_cdf(const char *dir, const char *name, struct values *x)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.cdf", dir, name);
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    qsort(x->v, x->n, sizeof *x->v, cmp_double);
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

/* gnuplot in dir, on plot.gp with SERIES (sample series to draw) and DONE (flows done); 0 or
 * -1 with err */
static int run_gnuplot(const char *dir, size_t series, size_t done, char *err, size_t errlen)
{
    char def[64];
    snprintf(def, sizeof def, "SERIES=%zu; DONE=%zu", series < PLOT_SERIES_MAX ? series : PLOT_SERIES_MAX, done);
    char *argv[] = { "gnuplot", "-e", def, "plot.gp", NULL };
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

int flow_plot(const char *results_path, const char *dir, char *err, size_t errlen)
{
    if (mkdir(dir, 0777) < 0 && errno != EEXIST) {
        snprintf(err, errlen, "--plot %s: %s", dir, strerror(errno));
        return -1;
    }
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
            if (state && !strcmp(state, "done") && json_is_number(d) && push(&fct, json_number_value(d)) < 0)
                rc = -1;
            if (json_is_number(l) && push(&late, json_number_value(l)) < 0)
                rc = -1;
            double b = (double)json_integer_value(json_object_get(json_object_get(j, "client_end"), "sent")) +
                       (double)json_integer_value(json_object_get(json_object_get(j, "server_end"), "sent"));
            if (push(&bytes, b > 0 ? b : 1) < 0)
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
        rc = run_gnuplot(dir, n, fct.n, err, errlen);
    }
    for (size_t i = 0; i < n; i++)
        free(all[i].rows);
    free(all);
    free(fct.v);
    free(bytes.v);
    free(late.v);
    return rc;
}
