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

bool ready_counts(const struct engine *e)
{
    if (!e->opt->ready_path && !events_on())
        return false;
    for (size_t k = 0; k < e->cfg->n_protos; k++)
        if (e->cfg->protos[k].proto->transport == TRANSPORT_TCP)
            return true;
    return false;
}

int ready_count_begin(struct engine *e, struct ready_count *k)
{
    *k = (struct ready_count){ e, calloc(e->routers.n, PROTO_COUNT), 0 };
    return k->seen ? 0 : -1;
}

void ready_count_packet(void *ctx, const struct decoded *d, const struct proto_config *pc, struct router *r)
{
    struct ready_count *k = ctx;
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

void ready_count_end(struct ready_count *k)
{
    k->e->ready_sessions = k->n;
    free(k->seen);
    k->seen = NULL;
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
    size_t routers = e->routers_here;
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
