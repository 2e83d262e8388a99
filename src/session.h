/* session.h — the TCP side of a replay: each captured router->collector conversation of a
 * TCP protocol (bgp, bmp, tcp_generic) becomes a live, non-blocking TCP session from the
 * router's repro_ip to the protocol's collector.
 *
 * Captured segments go through tcpstream (ordered bytes) and msgstream (whole messages);
 * the session starts at the first message the protocol calls a session start (BGP OPEN,
 * BMP INIT), earlier ones are counted and skipped. Messages are queued when their capture
 * time is due and written as the socket allows: a slow collector delays only its session
 * (lag is measured); a queue over SESSION_MEMORY bytes continues in an unlinked temporary
 * file, so memory stays bounded and nothing is dropped.
 *
 * BGP is a peer: after the captured OPEN it waits for the collector's OPEN (open_timeout)
 * before anything else, answers it with a KEEPALIVE, logs NOTIFICATIONs by name, and sends
 * KEEPALIVEs at a third of the negotiated hold time while it has nothing else to send.
 * A collector that closes or refuses a session ends that session only; with reconnect the
 * session comes back with backoff, replays its preamble (BGP: OPEN; BMP: INIT and the
 * PEER_UPs so far) and continues with its queue.
 *
 * The sessions live on the run's one event loop (loop.h): each session's socket is a
 * loop_io, its next deadline (connect and OPEN timeouts, KEEPALIVE, backoff, the look at
 * unacknowledged bytes) one loop_timer re-armed at every state change, and a session with
 * new messages posts the flush that writes them. Every wait of the replay is a loop_run, so
 * the sessions are served however dense the packets or late the schedule.
 *
 * A session's state changes in one function over (state, event), session_fsm (its table
 * is in session_fsm.c); the socket is reached through struct session_ops. On the wire a
 * connection always starts with a whole message, and telrep's own messages (KEEPALIVE,
 * Cease, TERM) go whole between two captured ones.
 *
 * A protocol with several collectors (fan-out) has a session per collector for each captured
 * one: the first (the lead) reads the captured conversations, and every message it takes
 * goes to each session of its fan, which then lives on its own (its connection, its BGP
 * negotiation, its queue, its backoff): a collector that is down or slow holds up only its
 * own session. */
#ifndef TELREP_SESSION_H
#define TELREP_SESSION_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "config.h"
#include "loop.h"
#include "decode.h"
#include "router.h"
#include "sock.h"
#include "stats.h"

#define SESSION_MEMORY (4u << 20)

struct sessions;
struct iovec;

/* What a session does to its socket. The run uses the system's calls (session_sys_ops);
 * tests/unit/test_session.c drives the state machine with its own, without a network. */
struct session_ops {
    /* a non-blocking connection attempt from local to remote (in progress): its descriptor,
     * or -1 with err filled in */
    int (*connect)(const struct addr *local, const struct sockaddr_storage *remote, socklen_t len,
                   const struct sock_options *o, char *err, size_t errlen);
    ssize_t (*writev)(int fd, const struct iovec *iov, int n);
    ssize_t (*read)(int fd, void *buf, size_t len);
    int (*shutdown)(int fd);           /* our FIN (SHUT_WR) */
    int (*close)(int fd);
    int (*error)(int fd);              /* the connection attempt's outcome (SO_ERROR) */
    /* bytes the peer's TCP acknowledged (tcpi_bytes_acked, the SYN counted): 0 when unknown */
    uint64_t (*acked)(int fd);
};
extern const struct session_ops session_sys_ops;

struct session_env {
    const struct config *cfg;
    const struct sock_options *sock_opts;
    struct stats *stats;
    /* the protocol's collector k (of its config's n_collectors) for a family (AF_INET /
     * AF_INET6); NULL when it has none */
    const struct sockaddr_storage *(*collector)(void *ctx, int proto, unsigned k, int family, socklen_t *len);
    void *ctx;
    bool keep_open;
    struct loop *loop;        /* the run's event loop: sockets, timers, posted writes */
    const struct session_ops *ops; /* NULL: session_sys_ops */
    bool loop_body;           /* config loop: the captures are a body played again */
    void (*settled)(void *ctx); /* a session was established for the first time, or failed (NULL: not told) */
};

struct sessions *sessions_new(const struct session_env *env);
/* One captured segment from router r for protocol pc, due now. */
void sessions_segment(struct sessions *s, struct router *r, const struct proto_config *pc, const struct decoded *d,
                      int64_t ts_ns);
/* Serve without waiting (time_factor 0 between packets); wait while a session whose
 * collector is reading has over half its memory bound queued (time_factor 0 is paced by the
 * collectors, not by the disk). */
void sessions_poll(struct sessions *s);
/* A capture ended: its conversations deliver what waits behind holes and end; the live
 * sessions go on into the next capture (route monitoring continues an INIT's session). */
void sessions_end_capture(struct sessions *s);
/* config loop: the captures begin again as a body: each session's start goes once, peers
 * are tracked (session_feed.c, loop_admits). */
void sessions_new_pass(struct sessions *s);
/* The run's captures are done: let every queue drain (drain_timeout, or a stop). */
void sessions_drain(struct sessions *s);
/* Close every session gracefully, all at once (BMP TERM if configured, BGP Cease, FIN,
 * up to a second for the collectors' FINs); what is still queued is counted as lost. */
void sessions_close_all(struct sessions *s);
/* What the sessions of router r (NULL: of every router) for protocol proto (-1: every
 * TCP protocol) to its collector k (-1: every one) did, in units that add up: messages
 * delivered (acknowledged by the collector) + lost + incomplete = what the capture held
 * after the session start (for each collector). */
struct session_summary {
    uint64_t sessions, delivered, bytes, lost, incomplete, skipped_before_start;
    uint64_t connect_refused, connect_failures, reconnects, resent, failed;
    char reason[160]; /* why the last failed session failed ("" when none failed) */
};
void sessions_summary(const struct sessions *s, const struct router *r, int proto, int collector,
                      struct session_summary *out);
/* Per session: state, counters, peer, and for a failed session its reason; NULL when there
 * were none. (json_t *) */
void *sessions_report_json(const struct sessions *s);
/* Each session as the metrics see it (metrics.c), in no particular order. */
#define SESSION_STATES 10
extern const char *const session_state_names[SESSION_STATES]; /* "waiting", ..., "established", ... */
struct session_view {
    const struct router *router;
    int proto;
    unsigned collector;
    unsigned state;           /* an index of session_state_names */
    uint64_t delivered, bytes, lost, connect_refused;
};
void sessions_each(const struct sessions *s, void (*fn)(void *ctx, const struct session_view *v), void *ctx);
/* How many sessions have been established at least once or failed for good, and of those
 * how many failed (--ready). */
size_t sessions_settled(const struct sessions *s, size_t *failed);
void sessions_free(struct sessions *s);

#endif
