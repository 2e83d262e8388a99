/* session_int.h — what the session files share (not a public interface): the state of a
 * session and of the set, the queue flags a message carries, and the functions that cross
 * the files.
 *   session_fsm.c   the state machine: session_fsm(), one function over (state, event), and
 *                   the transitions' actions (backoff, reconnect with the preamble, restart)
 *   session.c       the table, the socket (through struct session_ops), the write path, the
 *                   acknowledgements, the timer
 *   session_peer.c  what the collector says (the BGP peer), I/O events, the closing handshake
 *   session_feed.c  captured segments -> conversations -> messages -> the queue
 *   session_end.c   drain, close, the summary and the JSON report */
#ifndef TELREP_SESSION_INT_H
#define TELREP_SESSION_INT_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/types.h>

#include "events.h"
#include "log.h"
#include "loop.h"
#include "conversation.h"
#include "msgq.h"
#include "preamble.h"
#include "proto/proto.h"
#include "schedule.h"
#include "session.h"
#include "tcpstream.h"

#define ACK_POLL_NS 50000000         /* unacknowledged bytes are looked at every 50 ms */
#define DRAIN_STEP_NS 50000000
#define CONNECT_TIMEOUT_NS (10 * NS_PER_SEC)
#define BACKOFF_MIN_NS (NS_PER_SEC / 2)
#define BACKOFF_MAX_NS (30 * NS_PER_SEC)
/* A connection that lasted this long was a session, not a refusal: the backoff and the quick
 * retries start again after it. (A collector's kernel acknowledges what it queues before the
 * application reads it, so an acknowledgement alone proves nothing.) */
#define STABLE_NS (5 * NS_PER_SEC)
#define READ_MAX 65536
/* A connection that has acknowledged nothing of what was written this long after it came up
 * was never taken by the collector (its kernel completed the handshake, its listen queue
 * was full: SYN cookies keep no state, so nothing would ever retry it): tried again. */
#define UNANSWERED_NS (5 * NS_PER_SEC)

/* BGP: OPEN_SENT (our OPEN out, waiting for theirs) -> OPEN_CONFIRM (their OPEN answered
 * with a KEEPALIVE, waiting for their KEEPALIVE) -> ESTABLISHED; only then UPDATEs. */
enum state { S_WAITING, S_CONNECTING, S_OPEN_SENT, S_OPEN_CONFIRM, S_ESTABLISHED, S_RESTARTING, S_BACKOFF,
             S_CLOSING, S_CLOSED, S_FAILED };
_Static_assert(S_FAILED + 1 == SESSION_STATES, "session.h counts the states");
#define RESTART_WAIT_NS (2 * NS_PER_SEC)

/* What moves a session. The socket's handlers, the timer, the feed and the end of the run
 * only raise these; session_fsm() alone changes the state (its table is in session_fsm.c). */
enum session_event {
    EV_QUEUED,          /* a captured message was queued */
    EV_CONNECTED,       /* the connection attempt succeeded */
    EV_CONNECT_FAILED,  /* it was refused or failed (why) */
    EV_TIMEOUT,         /* the state's deadline passed: connect, OPEN, restart wait, backoff */
    EV_KEEPALIVE_DUE,   /* established BGP, nothing queued, a third of the hold time quiet */
    EV_PEER_OPEN,       /* the collector's OPEN (parsed into peer_open) */
    EV_PEER_CONFIRM,    /* its KEEPALIVE or UPDATE */
    EV_PEER_DOWN,       /* it closed, reset, sent a NOTIFICATION or garbage; a write failed (why) */
    EV_CAPTURE_RESTART, /* the capture's next BGP OPEN is at the head of an established session */
    EV_CAPTURE_END,     /* the capture's END message (NOTIFICATION, TERM) is written whole */
    EV_STOP,            /* the run ends: close gracefully */
    EV_CLOSED,          /* closing: the collector's FIN, or it is gone */
    EV_RUN_OVER,        /* the end: what is still queued is lost */
    EV_COUNT
};
extern const char *const session_event_names[];
struct session;
void session_fsm(struct session *x, enum session_event ev, const char *why);

#define MAX_CONVERSATIONS 64 /* per session and capture; beyond, the oldest is finished */

/* A session's live connection: what exists only while its socket is open (the read buffer
 * is kept for the next one). */
struct conn {
    int fd;                   /* -1: none */
    struct loop_io io;        /* the socket on the loop (io.fd == fd) */
    bool want_out;            /* EPOLLOUT registered */
    uint64_t written, acked;  /* bytes on this connection */
    int64_t since;            /* when it came up (0: not yet) */
    uint8_t *rbuf;            /* what the collector sent, not yet framed */
    size_t rlen;
    /* telrep's own messages (KEEPALIVE, Cease, the goodbye) still to write: only between two
     * of the queue's messages, and whole (a full socket only delays them) */
    uint8_t own[64];
    size_t own_len, own_off;
    bool fin_wanted, fin_sent; /* our FIN after the above (the end of a session or of the run) */
};

/* One live session per router and protocol: it lives across the captures of a run (a
 * capture of route monitoring continues the session another capture's INIT started). */
struct session {
    struct sessions *all;
    struct router *router;
    const struct proto_config *pc;
    unsigned collector;         /* the protocol's collector it goes to */
    struct session *lead;       /* the session of collector 0, which reads the conversations (itself) */
    struct session *fan_next;   /* the lead's: the sessions of collectors 1.. (fan-out) */
    struct conversation *convs; /* its captured conversations (conversation.h), newest first */
    unsigned n_convs;
    uint64_t conversations;   /* seen in all */
    struct conversation_counts stream; /* what the ended conversations held */
    bool started;             /* a session start was seen */
    bool dirty;               /* on the sessions' dirty list */
    struct session *next_dirty;
    bool fresh;               /* BGP: a new OPEN starts a new session: no preamble */
    bool capture_ended;       /* the capture's ROLE_END was queued: nothing until its next START */
    bool confirm_pending;     /* a START was queued: a ROLE_CONFIRM next is the router's, replaced */
    uint64_t confirms_replaced, skipped_after_end;
    uint64_t restarts;        /* BGP sessions the capture itself started again */
    /* the live side */
    enum state state;
    struct conn c;
    struct loop_timer timer;  /* the state's next deadline: see session_arm() */
    int64_t state_since, last_write_ns, retry_at, backoff_ns;
    int64_t last_progress_ns; /* when the collector last acknowledged something */
    unsigned hold_time;       /* negotiated, BGP */
    unsigned our_hold_time;   /* in the OPEN we send */
    /* the messages: queued, written, and kept until the collector's TCP acknowledged them
     * (sent again after a reset) */
    struct msgq q;
    bool acked_ever;          /* the collector has received something: a reconnect needs the preamble */
    bool stable_ever;         /* a connection lasted STABLE_NS: the collector takes this session */
    unsigned quick_retries;   /* connections that ended before anything was acknowledged */
    uint64_t resent;
    /* what a reconnect replays first */
    struct preamble pre;
    /* loop: the peers as queued (keep_down: a peer down keeps its PEER_UP); a pass after the
     * first is playing; what the loops skipped and the PEER_UPs they sent again */
    struct preamble queued;
    bool looping;
    uint64_t loop_skipped, loop_peer_ups;
    /* counters */
    uint64_t spilled_total;   /* messages that waited in the temporary file */
    uint64_t messages_sent, bytes_sent, skipped_before_start, lost, reconnects, connect_failures, keepalives_sent,
        peer_messages, notifications_received;
    uint64_t connect_refused; /* connection attempts the collector refused (not messages) */
    char last_error[160];
    struct bgp_open peer_open;
    bool have_peer_open;
    bool no_reconnect;        /* the collector refused for good (OPEN error) */
    bool settled;             /* counted in sessions.settled */
    struct session *next;     /* in the hash chain */
    struct session *next_all;
};

struct sessions {
    struct session_env env;
    const struct session_ops *ops; /* env.ops, or the system's */
    struct loop *loop;        /* the run's one event loop (env.loop) */
    struct loop_work flush;   /* posted when a session became dirty */
    size_t closing;           /* sessions_close_all: FINs still awaited */
    size_t established;       /* sessions in S_ESTABLISHED now */
    size_t settled, failed;   /* sessions that have been established once, or failed for good (--ready) */
    struct session **table;
    size_t table_size, n;
    struct conversation_table convs; /* every session's captured conversations */
    uint8_t *scratch;         /* a run of messages being rewritten (rewritten_run) */
    bool loop_mode;           /* config loop: the captures are a body played again (loop_admits) */
    size_t scratch_cap;
    struct session *list;     /* every session ever, for the report */
    struct session *dirty;    /* sessions with new messages, written at the next flush */
};

/* What the counters need of a message, found while it is queued (and in the cache) and kept
 * in its queue flags, so that counting it once acknowledged does not read it again. */
#define FLAG_CLASSIFIED (1u << 8)
#define FLAG_MALFORMED (1u << 9)
#define FLAG_PREAMBLE_KIND (1u << 10) /* a preamble role (preamble.h): applied once acknowledged */
#define FLAG_ENDS (1u << 11)          /* ROLE_END: the session ends once it is written */
#define FLAG_KIND_SHIFT 16            /* kind + 1 (0: none) */

/* the flags of a message of this kind (-1: unknown) */
static inline unsigned kind_flags(const struct proto *p, int kind)
{
    unsigned f = FLAG_CLASSIFIED;
    if (kind >= 0 && kind < 0xffff)
        f |= (unsigned)(kind + 1) << FLAG_KIND_SHIFT;
    enum msg_role role = p->msg_role ? p->msg_role(kind) : ROLE_NONE;
    if (role != ROLE_NONE && role != ROLE_CONFIRM)
        f |= FLAG_PREAMBLE_KIND | MSGQ_ALONE; /* applied from its acknowledgement on, alone */
    if (role == ROLE_END)
        f |= FLAG_ENDS | MSGQ_BARRIER; /* in a write of its own, then the session ends */
    return f;
}

/* After a lost connection what it did not acknowledge is written again, in order. */
static inline void queue_requeue_unacked(struct session *x) { x->resent += msgq_requeue(&x->q); }
/* Everything still queued or unacknowledged is lost (counted). */
static inline void session_drop_all(struct session *x) { x->lost += msgq_drop(&x->q); }

void session_arm(struct session *x);
unsigned session_classify(const struct session *x, const uint8_t *m, size_t len);
void session_close_socket(struct session *x);
void conversation_end(struct session *x, struct conversation *c);
void sessions_flush(void *obj);
bool session_is_bgp_open(const struct session *x, const uint8_t *m, size_t len);
size_t session_key_hash(const struct router *r, int proto);
void session_on_io(void *obj, uint32_t events);
void session_on_timer(void *obj);
ssize_t (*session_queue_frame(const struct proto *p))(const uint8_t *, size_t);
void session_queued(struct session *x, int rc, size_t count);
bool session_say(struct session *x, const uint8_t *m, size_t len);
void session_fin(struct session *x);
void session_send_keepalive(struct session *x);
void session_ack(struct session *x);
bool session_connect(struct session *x);
void session_event(struct session *x, uint32_t events);
/* "192.0.2.10:1790": the collector session x goes to ("none" without an address) */
const char *session_collector_name(const struct session *x, char *buf, size_t len);
/* An event (events.h) about session x: its router, repro_ip, protocol and collector, and the
 * fields (taken; build them only when events_on()). */
void session_emit(const struct session *x, const char *name, json_t *fields);
/* A line about a session: "router 10.0.0.1 bmp session: ..." at the given level. */
void session_log(const struct session *x, enum log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void session_write(struct session *x);
bool session_socket_failed(struct session *x, const char *what);
void session_watch(struct session *x, bool out);
void conversations_end(struct session *x);
void session_release(struct session *x);
void session_read(struct session *x);
void peer_message(struct session *x, const uint8_t *m, size_t len);
void closing_done(struct session *x);

#endif
