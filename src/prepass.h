/* prepass.h — one read of the capture list before the replay, for what must be known up
 * front: the templates each exporter is primed with (udp_rewrite.c), the sessions --ready
 * awaits (ready.c). Each packet that decodes, is selected by a protocol and comes from a
 * mapped router goes to every use's fn with that protocol and router (clone 0 of its
 * clones); nothing is sent. The captures are read once however many uses there are. */
#ifndef TELREP_PREPASS_H
#define TELREP_PREPASS_H

#include "config.h"
#include "decode.h"
#include "router.h"

typedef void (*prepass_fn)(void *ctx, const struct decoded *d, const struct proto_config *pc, struct router *r);
struct prepass_use {
    prepass_fn fn;
    void *ctx;
};
/* 0 (also with no use: nothing read), or -1 when a capture cannot be opened (said). */
int prepass(const struct config *c, struct router_table *t, const struct prepass_use *uses, size_t n_uses);

#endif
