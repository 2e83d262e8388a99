/* udp_rewrite.h — the replay's side of the protocols' rewrites (struct rewrite_config, asked
 * per protocol section): each exporter's rewriter (router.rewriter, made when first needed),
 * the pass before the replay that teaches them every template of the capture list, a new
 * play of the captures and a collector's refusal (what is sent before an exporter's data goes
 * again), the messages sent before a datagram, and the datagram rewritten. The protocol's
 * facts are its plugin's (src/proto/netflow_rewrite.c). */
#ifndef TELREP_UDP_REWRITE_H
#define TELREP_UDP_REWRITE_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "decode.h"
#include "router.h"

/* Before the replay, when a section primes templates (udp_rewrite_learns), the prepass
 * (prepass.h) teaches each exporter its templates: udp_rewrite_learn_packet is that use, its
 * ctx a long counting the messages that taught something. */
bool udp_rewrite_learns(const struct config *c);
void udp_rewrite_learn_packet(void *taught, const struct decoded *d, const struct proto_config *pc,
                              struct router *r);
/* A play of a capture begins: templates are primed again before each exporter's data. */
void udp_rewrite_restart(struct router_table *t);
/* The collector refused a datagram of router r: the next one is primed again. */
void udp_rewrite_refused(struct router *r, int proto);
/* What to send before msg (call until 0): a message into out, at most max bytes. */
size_t udp_rewrite_prime(struct router *r, const struct proto_config *pc, const uint8_t *msg, size_t len,
                         uint8_t *out, size_t max);
/* msg rewritten in place, counted in r's stats (rewritten, not_rewritten). */
void udp_rewrite_message(struct router *r, const struct proto_config *pc, uint8_t *msg, size_t len);

#endif
