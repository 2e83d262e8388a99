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
    double t = 0;
    size_t clients = o->clients ? o->clients : 1;
    for (size_t i = 0; i < o->flows; i++) {
        struct flow_spec *f = &out->flows[i];
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
        long rounds = lround(draw(&o->rounds, &s));
        double at = t;
        for (long r = 0; r < rounds; r++) {
            uint64_t req = (uint64_t)llround(draw(&o->request, &s)), resp = (uint64_t)llround(draw(&o->response, &s));
            double think = draw(&o->think, &s);
            if ((req && (flow_side_add(&f->side[0], FLOW_SEND, req, at) < 0 || flow_side_add(&f->side[1], FLOW_WAIT, req, at) < 0)) ||
                (resp && (flow_side_add(&f->side[1], FLOW_SEND, resp, at + think) < 0 ||
                          flow_side_add(&f->side[0], FLOW_WAIT, resp, at + think) < 0))) {
                flow_set_free(out);
                snprintf(err, errlen, "out of memory");
                return -1;
            }
            at += think;
            out->events += (req ? 2 : 0) + (resp ? 2 : 0);
        }
        if (flow_side_add(&f->side[0], FLOW_CLOSE, 0, at) < 0 || flow_side_add(&f->side[1], FLOW_CLOSE, 0, at) < 0) {
            flow_set_free(out);
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        out->events += 2;
        out->send_bytes += f->side[0].send_bytes + f->side[1].send_bytes;
        out->n++;
        t += o->poisson ? -log(1 - uniform01(&s)) / o->rate : 1 / o->rate;
    }
    return 0;
}
