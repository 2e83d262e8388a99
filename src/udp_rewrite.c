/* udp_rewrite.c — see udp_rewrite.h. */
#include "udp_rewrite.h"

#include <netinet/in.h>

#include "log.h"
#include "schedule.h"

static void *rewriter_of(struct router *r, const struct proto_config *pc)
{
    if (!pc->proto->rewriter_new)
        return NULL;
    if (!r->rewriter[pc->id])
        r->rewriter[pc->id] = pc->proto->rewriter_new();
    return r->rewriter[pc->id];
}

void udp_rewrite_learn_packet(void *taught, const struct decoded *d, const struct proto_config *pc,
                              struct router *r)
{
    if (d->ip_proto != IPPROTO_UDP || !pc->rewrite.templates_prime || !pc->proto->learn)
        return;
    for (unsigned k = 0; k < r->n_clones; k++) { /* each clone is an exporter of its own */
        void *w = r[k].elsewhere ? NULL : rewriter_of(&r[k], pc);
        if (w) {
            pc->proto->learn(w, d->payload, d->payload_len);
            (*(long *)taught)++;
        }
    }
}

bool udp_rewrite_learns(const struct config *c)
{
    bool asked = false;
    for (size_t k = 0; k < c->n_protos; k++)
        asked |= c->protos[k].rewrite.templates_prime && c->protos[k].proto->learn;
    return asked;
}

void udp_rewrite_restart(struct router_table *t)
{
    for (size_t i = 0; i < t->n; i++)
        udp_rewrite_refused(&t->routers[i], -1);
}

void udp_rewrite_refused(struct router *r, int proto)
{
    for (int p = 0; p < PROTO_COUNT; p++)
        if ((proto < 0 || p == proto) && r->rewriter[p] && proto_by_id((enum proto_id)p)->restart)
            proto_by_id((enum proto_id)p)->restart(r->rewriter[p]);
}

size_t udp_rewrite_prime(struct router *r, const struct proto_config *pc, const uint8_t *msg, size_t len,
                         uint8_t *out, size_t max)
{
    void *w = pc->rewrite.templates_prime && pc->proto->prime ? rewriter_of(r, pc) : NULL;
    return w ? pc->proto->prime(w, &pc->rewrite, msg, len, out, max, schedule_now_realtime()) : 0;
}

void udp_rewrite_message(struct router *r, const struct proto_config *pc, uint8_t *msg, size_t len)
{
    void *w = pc->proto->rewrite ? rewriter_of(r, pc) : NULL;
    if (!w)
        return;
    if (pc->proto->rewrite(w, &pc->rewrite, msg, len, schedule_now_realtime()) < 0)
        r->stats[pc->id].not_rewritten++;
    else
        r->stats[pc->id].rewritten++;
}
