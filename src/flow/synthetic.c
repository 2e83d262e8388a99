/* synthetic.c — see synthetic.h. */
#include "flow/synthetic.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char dist_help[] = "a number >= 0, uniform:A:B (0 <= A <= B), exp:MEAN (MEAN > 0), normal:MEAN:SD "
                                "(SD >= 0), lognormal:MU:SIGMA (SIGMA >= 0), or a mixture W*D+W*D (up to 5, weights > 0)";

/* "N:A[:B]" after a kind's name: its numbers, all of them there and nothing after */
static int numbers(const char *at, int want, double *a, double *b)
{
    char *end;
    *a = strtod(at, &end);
    if (end == at)
        return -1;
    if (want == 2) {
        if (*end != ':')
            return -1;
        at = end + 1;
        *b = strtod(at, &end);
        if (end == at)
            return -1;
    }
    return *end ? -1 : 0;
}

static int part_parse(const char *text, struct flow_dist_part *p)
{
    static const struct { const char *name; char kind; int numbers; } kinds[] = {
        { "uniform:", 'u', 2 }, { "exp:", 'e', 1 }, { "normal:", 'n', 2 }, { "lognormal:", 'l', 2 },
    };
    for (size_t k = 0; k < sizeof kinds / sizeof *kinds; k++) {
        size_t len = strlen(kinds[k].name);
        if (strncmp(text, kinds[k].name, len))
            continue;
        p->kind = kinds[k].kind;
        if (numbers(text + len, kinds[k].numbers, &p->a, &p->b) < 0 || !isfinite(p->a) || !isfinite(p->b))
            return -1;
        switch (p->kind) {
        case 'u': return p->a >= 0 && p->b >= p->a ? 0 : -1;
        case 'e': return p->a > 0 ? 0 : -1;
        case 'n': return p->b >= 0 ? 0 : -1;
        default: return p->b >= 0 && fabs(p->a) < 700 && p->b < 50 ? 0 : -1; /* exp() of it stays finite */
        }
    }
    p->kind = 'f';
    return numbers(text, 1, &p->a, &p->b) == 0 && p->a >= 0 && isfinite(p->a) ? 0 : -1;
}

int flow_dist_parse(const char *text, struct flow_dist *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    char buf[512];
    if (snprintf(buf, sizeof buf, "%s", text) >= (int)sizeof buf)
        goto bad;
    bool mixture = strchr(buf, '*') != NULL;
    double total = 0;
    char *save = NULL;
    for (char *part = strtok_r(buf, "+", &save); part; part = strtok_r(NULL, "+", &save)) {
        if (out->n == FLOW_DIST_PARTS)
            goto bad;
        struct flow_dist_part *p = &out->p[out->n++];
        p->w = 1;
        char *star = strchr(part, '*');
        if (mixture) { /* every part weighted */
            char *end;
            if (!star || (p->w = strtod(part, &end), end != star) || !(p->w > 0) || !isfinite(p->w))
                goto bad;
            part = star + 1;
        }
        if (part_parse(part, p) < 0)
            goto bad;
        total += p->w;
    }
    if (!out->n || (out->n > 1 && !mixture))
        goto bad;
    for (unsigned i = 0; i < out->n; i++)
        out->p[i].w /= total;
    return 0;
bad:
    snprintf(err, errlen, "\"%s\": expected %s", text, dist_help);
    return -1;
}

/* xorshift64*: small, seeded, the same sequence everywhere */
static double uniform01(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return (double)((*s * 2685821657736338717ull) >> 11) / 9007199254740992.0;
}

static double std_normal(uint64_t *s)
{
    double u = uniform01(s);
    return sqrt(-2 * log(u > 0 ? u : 1e-300)) * cos(2 * M_PI * uniform01(s));
}

double flow_dist_draw(const struct flow_dist *d, uint64_t *s)
{
    if (!d->n)
        return 0;
    const struct flow_dist_part *p = &d->p[0];
    if (d->n > 1) { /* the part, by weight */
        double u = uniform01(s), acc = 0;
        unsigned i = 0;
        for (; i + 1 < d->n; i++)
            if (u < (acc += d->p[i].w))
                break;
        p = &d->p[i];
    }
    double v;
    switch (p->kind) {
    case 'u': v = p->a + (p->b - p->a) * uniform01(s); break;
    case 'e': v = -p->a * log(1 - uniform01(s)); break;
    case 'n': v = p->a + p->b * std_normal(s); break;
    case 'l': v = exp(p->a + p->b * std_normal(s)); break;
    default: v = p->a;
    }
    return v > 0 ? v : 0;
}

/* bytes from one side: its SEND and the other's WAIT, at time `at` (nothing for 0 bytes) */
static int exchange(struct flow_side *from, struct flow_side *to, uint64_t bytes, double at)
{
    if (!bytes)
        return 0;
    return flow_side_add(from, FLOW_SEND, bytes, at) < 0 || flow_side_add(to, FLOW_WAIT, bytes, at) < 0 ? -1 : 0;
}

/* flow i starting at t: its addresses, rounds and close */
static int make_flow(const struct flow_synthetic_options *o, size_t i, double t, uint64_t *s, struct flow_spec *f)
{
    size_t clients = o->clients ? o->clients : 1;
    f->fid = i;
    f->stime = t;
    f->side[0].ip = o->client;
    /* consecutive client addresses: the last byte(s) counted up */
    uint32_t k = (uint32_t)(i % clients);
    for (int b = f->side[0].ip.family == AF_INET6 ? 15 : 3; k && b >= 0; b--) {
        uint32_t v = f->side[0].ip.bytes[b] + (k & 0xff);
        f->side[0].ip.bytes[b] = (uint8_t)v;
        k = (k >> 8) + (v >> 8);
    }
    f->side[0].port = (uint16_t)(20000 + (i / clients) % 40000);
    f->side[1].ip = o->server;
    f->side[1].port = o->port;
    if (o->bulk > 0) { /* a timed bulk flow: the sender(s) BULK, then both close */
        uint64_t us = (uint64_t)llround(o->bulk * 1e6);
        for (int side = 0; side < 2; side++)
            if ((o->bulk_dir == 2 || o->bulk_dir == side) && flow_side_add(&f->side[side], FLOW_BULK, us, t) < 0)
                return -1;
        return flow_side_add(&f->side[0], FLOW_CLOSE, 0, t + o->bulk) < 0 ||
               flow_side_add(&f->side[1], FLOW_CLOSE, 0, t + o->bulk) < 0 ? -1 : 0;
    }
    long rounds = lround(flow_dist_draw(&o->rounds, s));
    double at = t;
    for (long r = 0; r < rounds; r++) {
        uint64_t req = (uint64_t)llround(flow_dist_draw(&o->request, s)), resp = (uint64_t)llround(flow_dist_draw(&o->response, s));
        double think = flow_dist_draw(&o->think, s);
        if (exchange(&f->side[0], &f->side[1], req, at) < 0 || exchange(&f->side[1], &f->side[0], resp, at + think) < 0)
            return -1;
        at += think;
    }
    return flow_side_add(&f->side[0], FLOW_CLOSE, 0, at) < 0 || flow_side_add(&f->side[1], FLOW_CLOSE, 0, at) < 0
               ? -1 : 0;
}

int flow_synthetic(const struct flow_synthetic_options *o, struct flow_set *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (!o->flows || (o->rate <= 0 && !o->arrival.n) || o->client.family != o->server.family) {
        snprintf(err, errlen, "synthetic traffic needs --flows N > 0, --rate > 0 and client and server "
                              "addresses of one family");
        return -1;
    }
    out->flows = calloc(o->flows, sizeof *out->flows);
    if (!out->flows) {
        snprintf(err, errlen, "out of memory for %zu flows", o->flows);
        return -1;
    }
    uint64_t s = o->seed ? o->seed : 0x9e3779b97f4a7c15ull;
    struct flow_dist gap = { .n = 1, .p[0] = { 1, o->poisson ? 'e' : 'f', 1 / o->rate, 0 } };
    if (o->arrival.n)
        gap = o->arrival;
    double t = 0;
    for (size_t i = 0; i < o->flows; i++) {
        struct flow_spec *f = &out->flows[i];
        out->n++; /* freed with the set, even half made */
        if (make_flow(o, i, t, &s, f) < 0) {
            flow_set_free(out);
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        out->events += f->side[0].n + f->side[1].n;
        out->send_bytes += f->side[0].send_bytes + f->side[1].send_bytes;
        t += flow_dist_draw(&gap, &s);
    }
    return 0;
}
