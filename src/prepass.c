/* prepass.c — see prepass.h. */
#include "prepass.h"

#include "log.h"
#include "select.h"
#include "source.h"
#include "source/live.h"

int prepass(const struct config *c, struct router_table *t, const struct prepass_use *uses, size_t n_uses)
{
    for (size_t i = 0; i < c->n_pcaps && n_uses; i++) {
        if (live_spec(c->pcaps[i])) /* what a live interface will carry is not known beforehand */
            continue;
        char err[512];
        struct source *cap = source_open(c->pcaps[i], &c->sources, err, sizeof err);
        if (!cap) {
            log_error("%s", err);
            return -1;
        }
        struct capture_packet pkt;
        while (source_next(cap, &pkt) == 1) {
            struct decoded d;
            if (pkt.dlt < 0 || !decode_link_supported(pkt.dlt) ||
                decode_frame(pkt.dlt, pkt.data, pkt.caplen, &d) != DECODE_OK)
                continue;
            const struct proto_config *pc = select_protocol(c, &d, pkt.dlt, &pkt.hdr, pkt.data);
            struct router *r = pc ? router_lookup(t, &d.src) : NULL;
            for (size_t u = 0; r && u < n_uses; u++)
                uses[u].fn(uses[u].ctx, &d, pc, r);
        }
        source_close(cap);
    }
    return 0;
}
