#include "router.h"

#include <stdlib.h>
#include <unistd.h>

int router_table_init(struct router_table *t, const struct config *c)
{
    *t = (struct router_table){ 0 };
    uint64_t n = config_routers(c);
    if (n >= UINT32_MAX)
        return -1;
    t->n = (size_t)n;
    t->n_slots = 16;
    while (t->n_slots < c->n_map * 2)
        t->n_slots *= 2;
    t->routers = calloc(t->n ? t->n : 1, sizeof *t->routers);
    t->slots = calloc(t->n_slots, sizeof *t->slots);
    if (!t->routers || !t->slots)
        return -1;
    size_t i = 0;
    for (size_t m = 0; m < c->n_map; m++) {
        const struct map_entry *e = &c->map[m];
        unsigned clones = e->clones ? e->clones : 1;
        size_t s = addr_hash(&e->src) & (t->n_slots - 1); /* clone 0 is the one found */
        while (t->slots[s])
            s = (s + 1) & (t->n_slots - 1);
        t->slots[s] = (uint32_t)i + 1;
        for (unsigned k = 0; k < clones; k++, i++) {
            struct router *r = &t->routers[i];
            r->src = e->src;
            if (addr_add(&e->repro, k, &r->repro) < 0) /* the config checked the range */
                return -1;
            r->clone = k;
            r->n_clones = clones;
            /* a clone's BGP ID: the entry's + k, or (identity) its own IPv4 address */
            r->bgp_id = e->bgp_id ? e->bgp_id + k : 0;
            if (!e->bgp_id && k && c->clones.bgp_id && r->repro.family == AF_INET)
                r->bgp_id = (uint32_t)r->repro.bytes[0] << 24 | (uint32_t)r->repro.bytes[1] << 16 |
                            (uint32_t)r->repro.bytes[2] << 8 | r->repro.bytes[3];
            for (int p = 0; p < PROTO_COUNT; p++)
                r->fd[p] = -1;
        }
    }
    return 0;
}

struct router *router_lookup(struct router_table *t, const struct addr *src)
{
    if (t->last && addr_equal(&t->last->src, src))
        return t->last;
    size_t s = addr_hash(src) & (t->n_slots - 1);
    while (t->slots[s]) {
        struct router *r = &t->routers[t->slots[s] - 1];
        if (addr_equal(&r->src, src))
            return t->last = r;
        s = (s + 1) & (t->n_slots - 1);
    }
    return NULL;
}

void router_table_free(struct router_table *t)
{
    for (size_t i = 0; i < t->n; i++) {
        for (int p = 0; p < PROTO_COUNT; p++) {
            if (t->routers[i].fd[p] >= 0)
                close(t->routers[i].fd[p]);
            free(t->routers[i].to[p]);
            if (t->routers[i].rewriter[p])
                proto_by_id((enum proto_id)p)->rewriter_free(t->routers[i].rewriter[p]);
        }
        for (size_t k = 0; k < t->routers[i].n_ports; k++)
            if (t->routers[i].ports[k].fd >= 0)
                close(t->routers[i].ports[k].fd);
        free(t->routers[i].ports);
    }
    free(t->routers);
    free(t->slots);
    *t = (struct router_table){ 0 };
}
