/* router.h — one replayed router: its captured src_ip, its repro_ip, one socket per
 * protocol (opened on first use) and its counters.
 *
 * A map entry with clones: N is N routers, next to each other in the table: clone 0 (the
 * one router_lookup finds by the captured src_ip) and clones 1..N-1, from repro_ip + k.
 * Each captured packet of that src_ip is replayed by every clone (replay.c). */
#ifndef TELREP_ROUTER_H
#define TELREP_ROUTER_H

#include <stdbool.h>

#include "config.h"
#include "rate.h"
#include "stats.h"

/* source_port: keep — a socket per captured exporter source port, at most ROUTER_PORTS_MAX
 * per router (beyond, the kernel's port is used and a warning said) */
#define ROUTER_PORTS_MAX 16
struct router_port { int proto; uint16_t port; int fd; };

/* fan-out: what went to one of a UDP protocol's collectors (with one, stats[] says it all) */
struct collector_stats {
    uint64_t packets, bytes, refused, send_errors;
};

struct router {
    struct addr src, repro;
    uint32_t bgp_id;                /* from its network.map entry; 0 = the bgp section's or as captured */
    unsigned clone, n_clones;       /* its number among the clones of its map entry, and how many */
    bool elsewhere;                 /* --shard: another shard replays it */
    int fd[PROTO_COUNT];            /* -1 = not opened yet */
    bool open_failed[PROTO_COUNT];  /* said once, then its packets count as send errors */
    struct proto_stats stats[PROTO_COUNT]; /* with several collectors, what went to all of them */
    struct collector_stats *to[PROTO_COUNT]; /* per collector when several (NULL: one) */
    void *rewriter[PROTO_COUNT];    /* the protocol's rewrite state for this exporter (NULL: none yet) */
    struct rate rate;               /* its caps (config rate.router_pps, router_bps) */
    struct router_port *ports;      /* source_port: keep */
    size_t n_ports;
    bool ports_full;                /* over ROUTER_PORTS_MAX: said once */
};

/* What went to collector k of protocol p (UDP): its own counts with several collectors, the
 * protocol's with one. */
static inline struct collector_stats router_to(const struct router *r, int p, unsigned k)
{
    if (r->to[p])
        return r->to[p][k];
    const struct proto_stats *ps = &r->stats[p];
    return (struct collector_stats){ ps->packets, ps->bytes, ps->refused, ps->send_errors };
}

struct router_table {
    struct router *routers;
    size_t n;
    uint32_t *slots; /* open addressing: index + 1, 0 = empty */
    size_t n_slots;
    struct router *last; /* the last one found: a capture's next packet is mostly its router's */
};

int router_table_init(struct router_table *t, const struct config *c);
struct router *router_lookup(struct router_table *t, const struct addr *src);
void router_table_free(struct router_table *t);

#endif
