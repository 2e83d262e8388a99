#include "router.h"

#include <stdlib.h>
#include <unistd.h>

int router_table_init(struct router_table *t, const struct config *c)
{
    *t = (struct router_table){ 0 };
    t->n = c->n_map;
    t->n_slots = 16;
    while (t->n_slots < t->n * 2)
        t->n_slots *= 2;
    t->routers = calloc(t->n ? t->n : 1, sizeof *t->routers);
    t->slots = calloc(t->n_slots, sizeof *t->slots);
    if (!t->routers || !t->slots)
        return -1;
    for (size_t i = 0; i < t->n; i++) {
        struct router *r = &t->routers[i];
        r->src = c->map[i].src;
        r->repro = c->map[i].repro;
        r->bgp_id = c->map[i].bgp_id;
        for (int p = 0; p < PROTO_COUNT; p++)
            r->fd[p] = -1;
        size_t s = addr_hash(&r->src) & (t->n_slots - 1);
        while (t->slots[s])
            s = (s + 1) & (t->n_slots - 1);
        t->slots[s] = (uint32_t)i + 1;
    }
    return 0;
}

struct router *router_lookup(const struct router_table *t, const struct addr *src)
{
    size_t s = addr_hash(src) & (t->n_slots - 1);
    while (t->slots[s]) {
        struct router *r = &t->routers[t->slots[s] - 1];
        if (addr_equal(&r->src, src))
            return r;
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
