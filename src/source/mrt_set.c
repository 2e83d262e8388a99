/* mrt_set.c — the MRT source (source.h): the config's dumps played side by side.
 *
 * Each dump is a stream (mrt_source.c: its files one after the other, its own BMP router or
 * BGP sessions); the set hands out the earliest frame of all the streams, so that two
 * collectors' dumps of the same hours (RIPE RIS rrc00 and rrc01, say) replay as two routers
 * at once, each at its own times. With one dump the set is that stream.
 *
 * Two routers with one address would be one conversation to the replay, their bytes
 * interleaved: the set refuses it when the second starts (the config refuses it already when
 * both addresses are given; the defaults come from the dumps). A stream that fails stops;
 * the others play to their end, then the source says the error (what came before it was
 * replayed, as with one dump). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture.h"
#include "source.h"
#include "source/mrt_int.h"

struct stream {
    struct mrt_source *s;
    struct capture_packet cur; /* its next frame, valid until its next call */
    bool have, done;
    bool router_checked;       /* its router's address compared with the others' */
};

struct mrt_set {
    struct stream *v;
    size_t n;
    char error[512], format[32];
    bool fatal; /* two routers with one address: nothing more */
};

static void set_close(void *impl)
{
    struct mrt_set *set = impl;
    if (!set)
        return;
    for (size_t i = 0; i < set->n; i++)
        mrt_stream_close(set->v[i].s);
    free(set->v);
    free(set);
}

static void *set_open(const char *spec, const struct source_options *so, char *err, size_t errlen)
{
    if (!so || !so->mrt || !so->n_mrt) {
        snprintf(err, errlen, "%s: an MRT source needs the config's mrt: section", spec);
        return NULL;
    }
    struct mrt_set *set = calloc(1, sizeof *set);
    if (set)
        set->v = calloc(so->n_mrt, sizeof *set->v);
    if (!set || !set->v) {
        free(set);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    for (; set->n < so->n_mrt; set->n++)
        if (!(set->v[set->n].s = mrt_stream_open(&so->mrt[set->n], err, errlen))) {
            set_close(set);
            return NULL;
        }
    snprintf(set->format, sizeof set->format, "mrt (as %s)", so->mrt[0].as == MRT_AS_BGP ? "bgp" : "bmp");
    return set;
}

/* a router that another started stream already is: the error, else 0 */
static int same_router(struct mrt_set *set, size_t i)
{
    const struct addr *a = mrt_stream_router(set->v[i].s);
    if (!a)
        return 0;
    for (size_t k = 0; k < set->n; k++) {
        const struct addr *b = k != i ? mrt_stream_router(set->v[k].s) : NULL;
        if (b && addr_equal(a, b)) {
            char name[ADDR_STRLEN];
            snprintf(set->error, sizeof set->error,
                     "mrt: dumps %zu and %zu are both router %s (from the dumps): give each dump a router: of its own",
                     (k < i ? k : i) + 1, (k < i ? i : k) + 1, addr_format(a, name));
            return -1;
        }
    }
    return 0;
}

static int set_next(void *impl, struct capture_packet *out)
{
    struct mrt_set *set = impl;
    if (set->fatal)
        return -1;
    size_t best = set->n;
    for (size_t i = 0; i < set->n; i++) {
        struct stream *st = &set->v[i];
        if (!st->have && !st->done) {
            int rc = mrt_stream_next(st->s, &st->cur);
            if (rc == 1)
                st->have = true;
            else {
                st->done = true;
                if (rc < 0 && !set->error[0])
                    snprintf(set->error, sizeof set->error, "%s", mrt_stream_error(st->s));
            }
            if (set->n > 1 && st->have && !st->router_checked && mrt_stream_router(st->s)) {
                st->router_checked = true;
                if (same_router(set, i) < 0) {
                    set->fatal = true;
                    return -1;
                }
            }
        }
        if (st->have && (best == set->n || st->cur.ts_ns < set->v[best].cur.ts_ns))
            best = i;
    }
    if (best == set->n)
        return set->error[0] ? -1 : 0;
    *out = set->v[best].cur;
    set->v[best].have = false;
    return 1;
}

static bool set_claims(const char *spec) { return !strncmp(spec, "mrt:", 4); }
static const char *set_format(const void *impl) { return ((const struct mrt_set *)impl)->format; }
static const char *set_error(const void *impl) { return ((const struct mrt_set *)impl)->error; }

/* the mean of the streams' progress; -1 when one cannot say */
static double set_progress(const void *impl)
{
    const struct mrt_set *set = impl;
    double sum = 0;
    for (size_t i = 0; i < set->n; i++) {
        double f = set->v[i].done ? 1 : mrt_stream_progress(set->v[i].s);
        if (f < 0)
            return -1;
        sum += f;
    }
    return sum / (double)set->n;
}

/* one dump: its summary; several: {"dumps": [each one's]} */
static json_t *set_summary(const void *impl)
{
    const struct mrt_set *set = impl;
    if (set->n == 1)
        return mrt_stream_summary(set->v[0].s);
    json_t *dumps = json_array();
    for (size_t i = 0; i < set->n; i++)
        json_array_append_new(dumps, mrt_stream_summary(set->v[i].s));
    return json_pack("{s:o}", "dumps", dumps);
}

const struct source_ops source_mrt = {
    .name = "mrt",
    .claims = set_claims,
    .open = set_open,
    .next = set_next,
    .format = set_format,
    .error = set_error,
    .progress = set_progress,
    .summary = set_summary,
    .close = set_close,
};
