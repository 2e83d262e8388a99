/* conversation.h — one captured TCP conversation, one direction (the router's side): its
 * bytes in sequence order (tcpstream), cut into runs of whole messages of its protocol
 * (msgstream), and what the capture did to it. The replay (session_feed.c: a session's
 * conversations) and pcap-proc (src/pcapproc/: a session to write out) both read captured
 * TCP through it, and find a segment's conversation in a conversation_table.
 *
 * Rules:
 * - A conversation is its addresses and ports (conversation_of) and a key: who replays it
 *   (the replay: the router, one per clone of a captured router; pcap-proc: NULL). A SYN
 *   on them after data starts a new connection (conversation_restarted): the owner ends the
 *   old one.
 * - A FIN or RST from the router closes it (open = false); its bytes still count.
 * - conversation_finish delivers what waits behind holes, counts a message the capture cut
 *   short (never delivered) and adds the counters to a sum; then it holds nothing. */
#ifndef TELREP_CONVERSATION_H
#define TELREP_CONVERSATION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "decode.h"
#include "proto/proto.h"
#include "tcpstream.h"

struct conversation {
    struct conversation *next;   /* the owner's list */
    struct conversation *hnext;  /* its conversation_table chain */
    struct addr src, dst;
    uint16_t sport, dport;
    bool open;                   /* no FIN or RST from the router yet */
    struct tcpstream stream;
    struct msgstream msgs;
    msgstream_run_fn run;        /* where its messages go (with the ctx of each call) */
    void *owner;                 /* the replay's session, pcap-proc's stream */
    const void *key;             /* who replays it (conversation_find) */
};

/* What the capture did to conversations, summed: the "stream" object of the reports. */
struct conversation_counts {
    uint64_t bytes, duplicate_bytes, reordered_segments, holes, hole_bytes, resyncs, skipped_bytes;
    uint64_t incomplete_messages, incomplete_bytes;
};

/* d: the conversation's first segment; its protocol frames the messages, run takes them;
 * key: who replays it. */
void conversation_init(struct conversation *c, const struct proto *p, const struct decoded *d, const void *key,
                       msgstream_run_fn run);
bool conversation_of(const struct conversation *c, const struct decoded *d);
bool conversation_restarted(const struct conversation *c, const struct decoded *d);
/* One captured segment of it, ts_ns its capture time: runs of whole messages to run(ctx).
 * A segment without data or SYN only says whether the router closed the connection. */
void conversation_segment(struct conversation *c, const struct decoded *d, int64_t ts_ns, void *ctx);
/* The conversation is over: what waits behind holes goes to run(ctx), counters into sum. */
void conversation_finish(struct conversation *c, struct conversation_counts *sum, void *ctx);
/* {"bytes", "duplicate_bytes", ...} (json_t *) */
void *conversation_counts_json(const struct conversation_counts *n);

/* Conversations by addresses and ports (the owner keeps them; the table only finds them). */
struct conversation_table {
    struct conversation **b;
    size_t size, n;
    struct conversation *last; /* the last one found: consecutive packets are mostly of one */
};
int conversation_table_init(struct conversation_table *t);
struct conversation *conversation_find(struct conversation_table *t, const struct decoded *d, const void *key);
int conversation_insert(struct conversation_table *t, struct conversation *c);
void conversation_remove(struct conversation_table *t, struct conversation *c);
void conversation_table_free(struct conversation_table *t);

#endif
