/* synthetic.c — see synthetic.h. */
#include "flow/synthetic.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int flow_dist_parse(const char *text, struct flow_dist *out, char *err, size_t errlen)
{
    char *end;
    if (strncmp(text, "uniform:", 8) == 0) {
        out->kind = 'u';
        out->a = strtod(text + 8, &end);
        if (*end == ':') {
            out->b = strtod(end + 1, &end);
            if (!*end && out->a >= 0 && out->b >= out->a)
                return 0;
        }
    } else if (strncmp(text, "exp:", 4) == 0) {
        out->kind = 'e';
        out->a = strtod(text + 4, &end);
        if (!*end && out->a > 0)
            return 0;
    } else {
        out->kind = 'f';
        out->a = strtod(text, &end);
        if (!*end && end != text && out->a >= 0)
            return 0;
    }
    snprintf(err, errlen, "\"%s\": expected a number >= 0, uniform:A:B (0 <= A <= B) or exp:MEAN (MEAN > 0)", text);
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

static double draw(const struct flow_dist *d, uint64_t *s)
{
    switch (d->kind) {
    case 'u': return d->a + (d->b - d->a) * uniform01(s);
    case 'e': return -d->a * log(1 - uniform01(s));
    }
    return d->a;
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
    long rounds = lround(draw(&o->rounds, s));
    double at = t;
    for (long r = 0; r < rounds; r++) {
        uint64_t req = (uint64_t)llround(draw(&o->request, s)), resp = (uint64_t)llround(draw(&o->response, s));
        double think = draw(&o->think, s);
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
    if (!o->flows || o->rate <= 0 || o->client.family != o->server.family) {
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
    const struct flow_dist gap = { o->poisson ? 'e' : 'f', 1 / o->rate, 0 };
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
        t += draw(&gap, &s);
    }
    return 0;
}
