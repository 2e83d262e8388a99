/* ready.c — --ready and its event: the sessions the captures hold, counted before the run,
 * and the moment the replay is up (engine.h declares these). */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "events.h"
#include "log.h"
#include "prepass.h"

struct counting {
    struct engine *e;
    uint8_t *seen; /* router x protocol: has a session */
    long n;
};

static void count_session(void *ctx, const struct decoded *d, const struct proto_config *pc, struct router *r)
{
    struct counting *k = ctx;
    /* a session is what begins with its start (BMP INIT, BGP OPEN: the first message of its
     * segment); a router whose capture holds none never opens one */
    if (d->ip_proto != IPPROTO_TCP || !d->payload_len || pc->proto->transport != TRANSPORT_TCP ||
        (pc->proto->starts_session && !pc->proto->starts_session(d->payload, d->payload_len)))
        return;
    for (unsigned j = 0; j < r->n_clones; j++) {
        size_t at = (size_t)(r + j - k->e->routers.routers) * PROTO_COUNT + pc->id;
        if (!r[j].elsewhere && !k->seen[at]++)
            k->n += (long)k->e->n_collectors[pc->id];
    }
}

/* --ready: the sessions the captures hold (each TCP conversation start of a router of this
 * shard, for each collector), counted by reading the captures once before the run. */
long ready_expected_sessions(struct engine *e)
{
    const struct config *c = e->cfg;
    bool tcp = false;
    for (size_t k = 0; k < c->n_protos; k++)
        tcp |= c->protos[k].proto->transport == TRANSPORT_TCP;
    if (!tcp)
        return 0;
    struct counting k = { e, calloc(e->routers.n, PROTO_COUNT), 0 };
    if (!k.seen)
        return -1;
    if (prepass(c, &e->routers, count_session, &k) < 0)
        k.n = -1;
    free(k.seen);
    return k.n;
}

/* --ready: once the first packet went and each session the captures hold has been
 * established (or failed for good: an OPEN refused, reconnect off), the file (a JSON object,
 * written whole and renamed) and the event. A session in backoff is still awaited. */
void ready_check(struct engine *e)
{
    size_t failed = 0, settled = sessions_settled(e->sessions, &failed);
    if (e->ready_done || !e->first_sent || (long)settled < e->ready_sessions)
        return;
    e->ready_done = true;
    size_t routers = 0;
    for (size_t i = 0; i < e->routers.n; i++)
        routers += !e->routers.routers[i].elsewhere;
    if (events_on())
        events_emit("ready", json_pack("{s:I,s:I,s:I}", "routers", (json_int_t)routers, "sessions",
                                       (json_int_t)settled - (json_int_t)failed, "failed", (json_int_t)failed));
    const char *path = e->opt->ready_path;
    if (!path)
        return;
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    json_t *o = json_pack("{s:f,s:I,s:I,s:I}", "time", (double)schedule_now_realtime() / 1e9, "routers",
                          (json_int_t)routers, "sessions", (json_int_t)settled - (json_int_t)failed, "failed",
                          (json_int_t)failed);
    if (!o || json_dump_file(o, tmp, JSON_COMPACT) != 0 || rename(tmp, path) != 0)
        log_error("cannot write the ready file %s: %s", path, strerror(errno));
    json_decref(o);
}

void ready_on_settled(void *ctx) { ready_check(ctx); }

/* A packet went (or, for TCP, its session has it): the replay is under way. */
void ready_first_sent(struct engine *e)
{
    if (!e->first_sent) {
        e->first_sent = true;
        ready_check(e);
    }
}
