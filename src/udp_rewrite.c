/* udp_rewrite.c — see udp_rewrite.h. */
#include "udp_rewrite.h"

#include "decode.h"
#include "log.h"
#include "schedule.h"
#include "select.h"
#include "source.h"

static void *rewriter_of(struct router *r, const struct proto_config *pc)
{
    if (!pc->proto->rewriter_new)
        return NULL;
    if (!r->rewriter[pc->id])
        r->rewriter[pc->id] = pc->proto->rewriter_new();
    return r->rewriter[pc->id];
}

long udp_rewrite_learn(const struct config *c, struct router_table *t)
{
    bool asked = false;
    for (size_t k = 0; k < c->n_protos; k++)
        asked |= c->protos[k].rewrite.templates_prime && c->protos[k].proto->learn;
    if (!asked)
        return 0;
    long taught = 0;
    for (size_t i = 0; i < c->n_pcaps; i++) {
        char err[512];
        struct source *cap = source_open(c->pcaps[i], err, sizeof err);
        if (!cap) {
            log_error("%s", err);
            return -1;
        }
        struct capture_packet pkt;
        while (source_next(cap, &pkt) == 1) {
            struct decoded d;
            if (pkt.dlt < 0 || !decode_link_supported(pkt.dlt) ||
                decode_frame(pkt.dlt, pkt.data, pkt.caplen, &d) != DECODE_OK || d.ip_proto != IPPROTO_UDP)
                continue;
            const struct proto_config *pc = select_protocol(c, &d, pkt.dlt, &pkt.hdr, pkt.data);
            struct router *r = pc && pc->rewrite.templates_prime && pc->proto->learn ? router_lookup(t, &d.src) : NULL;
            for (unsigned k = 0; r && k < r->n_clones; k++) { /* each clone is an exporter of its own */
                void *w = r[k].elsewhere ? NULL : rewriter_of(&r[k], pc);
                if (w) {
                    pc->proto->learn(w, d.payload, d.payload_len);
                    taught++;
                }
            }
        }
        source_close(cap);
    }
    log_info("templates: the captures were read once for their templates (%ld messages)", taught);
    return taught;
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
