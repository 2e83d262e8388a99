/* collectors.c — the replay engine's collectors (engine.h): each protocol's collector names
 * resolved to an address of each family its routers need, said with the config's file:line
 * when they cannot be; and the address a TCP session of protocol proto, collector k, connects
 * to. */
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "log.h"

const struct sockaddr_storage *collector_addr(void *ctx, int proto, unsigned k, int family, socklen_t *len)
{
    struct engine *e = ctx;
    int f = family == AF_INET6;
    if (k >= e->n_collectors[proto] || !e->collectors[proto][k].has[f])
        return NULL;
    *len = e->collectors[proto][k].len[f];
    return &e->collectors[proto][k].addr[f];
}

static int resolve_collector(struct engine *e, const struct proto_config *pc, const struct collector_config *cc,
                             struct collector *col)
{
    const struct config *c = e->cfg;
    if (!cc->n_hosts) {
        log_error("%s:%u:%u: the %s collector has no ip: add it: collector: {ip: 192.0.2.10, port: %u}", c->file,
                  cc->at.line, cc->at.col, proto_names[pc->id], pc->proto->default_port);
        return -1;
    }
    for (size_t h = 0; h < cc->n_hosts; h++) {
        const char *host = cc->hosts[h];
        struct addrinfo hints = { .ai_socktype = SOCK_DGRAM }, *res = NULL;
        char port[8];
        snprintf(port, sizeof port, "%u", cc->port);
        int rc = getaddrinfo(host, port, &hints, &res);
        if (rc != 0) {
            log_error("%s:%u:%u: %s collector \"%s\" does not resolve: %s", c->file, cc->at.line, cc->at.col,
                      proto_names[pc->id], host, gai_strerror(rc));
            return -1;
        }
        for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
            int f = ai->ai_family == AF_INET6;
            if ((ai->ai_family == AF_INET || ai->ai_family == AF_INET6) && !col->has[f]) {
                col->has[f] = true;
                memcpy(&col->addr[f], ai->ai_addr, ai->ai_addrlen);
                col->len[f] = ai->ai_addrlen;
            }
        }
        freeaddrinfo(res);
    }
    /* every router must be able to reach this collector from its repro_ip */
    for (size_t m = 0; m < c->n_map; m++) {
        int f = c->map[m].repro.family == AF_INET6;
        if (!col->has[f]) {
            char r[ADDR_STRLEN];
            log_error("%s:%u:%u: repro_ip %s is IPv%d but the %s collector (%s:%u:%u) has no IPv%d address: give "
                      "it one of each family the routers use (ip: [192.0.2.10, \"2001:db8::10\"]) or map this "
                      "router to an IPv%d address", c->file, c->map[m].line, c->map[m].col,
                      addr_format(&c->map[m].repro, r), f ? 6 : 4, proto_names[pc->id], c->file, cc->at.line,
                      cc->at.col, f ? 6 : 4, f ? 4 : 6);
            return -1;
        }
    }
    return 0;
}

int collectors_resolve(struct engine *e)
{
    const struct config *c = e->cfg;
    for (size_t i = 0; i < c->n_protos; i++) {
        const struct proto_config *pc = &c->protos[i];
        if (!pc->n_collectors) {
            log_error("%s:%u: protocol %s has no collector: add collector: {ip: ..., port: ...}", c->file, pc->line,
                      proto_names[pc->id]);
            return -1;
        }
        if (!(e->collectors[pc->id] = calloc(pc->n_collectors, sizeof *e->collectors[pc->id]))) {
            log_error("out of memory");
            return -1;
        }
        e->n_collectors[pc->id] = pc->n_collectors;
        for (size_t k = 0; k < pc->n_collectors; k++)
            if (resolve_collector(e, pc, &pc->collectors[k], &e->collectors[pc->id][k]) < 0)
                return -1;
    }
    return 0;
}
