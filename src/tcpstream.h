/* tcpstream.h — one direction of a captured TCP conversation as an ordered byte stream,
 * and that stream cut into whole protocol messages.
 *
 * tcpstream: segments arrive in capture order; bytes leave in sequence order, each run
 * stamped with the capture time of the segment that made it deliverable. Retransmitted
 * and overlapping bytes are delivered once; out-of-order segments wait (bounded); a hole
 * that never fills is skipped once the waiting data exceeds the bound or the stream ends,
 * and the bytes after it are delivered marked `after_hole`. The first sequence number is
 * the SYN's + 1 when the SYN was captured, else the first data segment's. Sequence
 * numbers wrap (serial arithmetic).
 *
 * msgstream: bytes -> whole messages through a protocol's frame(); after a hole or a
 * corrupt header it resynchronises at the next offset frame() accepts. */
#ifndef TELREP_TCPSTREAM_H
#define TELREP_TCPSTREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef void (*tcpstream_deliver_fn)(void *ctx, const uint8_t *data, size_t len, int64_t ts_ns, bool after_hole);

struct tcpstream_segment;

struct tcpstream {
    bool started;
    bool syn_data;            /* the stream began with a SYN carrying data: see tcpstream_add */
    uint32_t next;            /* the next sequence number to deliver */
    struct tcpstream_segment *pending; /* out-of-order segments, sorted by sequence */
    size_t pending_bytes, pending_count;
    size_t max_pending_bytes; /* beyond this the first hole is skipped */
    int64_t last_ts;
    /* what was seen, for reports */
    uint64_t delivered_bytes, duplicate_bytes, reordered_segments, holes, hole_bytes;
};

/* max_pending_bytes 0 = the default (1 MiB) */
void tcpstream_init(struct tcpstream *s, size_t max_pending_bytes);
/* One captured segment of this direction (payload may be empty: SYN or pure ACK). */
void tcpstream_add(struct tcpstream *s, uint32_t seq, uint8_t tcp_flags, const uint8_t *payload, size_t len,
                   int64_t ts_ns, tcpstream_deliver_fn deliver, void *ctx);
/* The capture ended: deliver what waits behind holes. */
void tcpstream_finish(struct tcpstream *s, tcpstream_deliver_fn deliver, void *ctx);
void tcpstream_free(struct tcpstream *s);

/* ---- messages ---- */

typedef void (*msgstream_message_fn)(void *ctx, const uint8_t *msg, size_t len, int64_t ts_ns);
/* n whole messages back to back from p, lens[i] bytes each (1 <= n <= MSGSTREAM_RUN_MAX) */
typedef void (*msgstream_run_fn)(void *ctx, const uint8_t *p, const uint32_t *lens, size_t n, int64_t ts_ns);
#define MSGSTREAM_RUN_MAX 64

struct msgstream {
    ssize_t (*frame)(const uint8_t *p, size_t len); /* the protocol's frame() */
    uint8_t *buf;
    size_t len, cap, max;     /* max: the largest message accepted (bounds memory) */
    bool resync;              /* looking for the next message start */
    /* optional: after a message upgrades() accepts, frame with frame_ext up to max_ext */
    bool (*upgrades)(const uint8_t *msg, size_t len);
    ssize_t (*frame_ext)(const uint8_t *p, size_t len);
    size_t max_ext;
    uint64_t messages, skipped_bytes, resyncs;
    /* msgstream_finish: the partial message the stream ended in */
    uint64_t incomplete_messages, incomplete_bytes;
};

void msgstream_init(struct msgstream *m, ssize_t (*frame)(const uint8_t *, size_t), size_t max_message);
/* Bytes from tcpstream; calls message() for each whole message they complete. */
void msgstream_add(struct msgstream *m, const uint8_t *data, size_t len, int64_t ts_ns, bool after_hole,
                   msgstream_message_fn message, void *ctx);
/* The same, a run of messages per call (those that arrived together): for a consumer that
 * handles a run faster than its messages one by one. */
void msgstream_add_runs(struct msgstream *m, const uint8_t *data, size_t len, int64_t ts_ns, bool after_hole,
                        msgstream_run_fn run, void *ctx);
/* A message upgrades() accepts (BGP: an OPEN announcing extended messages) switches the
 * stream to frame_ext() and max_ext for the messages after it. */
void msgstream_set_upgrade(struct msgstream *m, bool (*upgrades)(const uint8_t *, size_t),
                           ssize_t (*frame_ext)(const uint8_t *, size_t), size_t max_ext);
/* The conversation ended: bytes still waiting for the rest of their message are counted
 * (incomplete_messages, incomplete_bytes), never sent. */
void msgstream_finish(struct msgstream *m);
void msgstream_free(struct msgstream *m);

#endif
