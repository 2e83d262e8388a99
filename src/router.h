/* router.h — one replayed router: its captured src_ip, its repro_ip, one socket per
 * protocol (opened on first use) and its counters. */
#ifndef TELREP_ROUTER_H
#define TELREP_ROUTER_H

#include <stdbool.h>

#include "config.h"
#include "stats.h"

struct router {
    struct addr src, repro;
    int fd[PROTO_COUNT];            /* -1 = not opened yet */
    bool open_failed[PROTO_COUNT];  /* said once, then its packets count as send errors */
    struct proto_stats stats[PROTO_COUNT];
};

struct router_table {
    struct router *routers;
    size_t n;
    uint32_t *slots; /* open addressing: index + 1, 0 = empty */
    size_t n_slots;
};

int router_table_init(struct router_table *t, const struct config *c);
struct router *router_lookup(const struct router_table *t, const struct addr *src);
void router_table_free(struct router_table *t);

#endif
