/* replay_int.h — flow-replay's engine state, shared by replay.c (the flows on the loop) and
 * results.c (the results file and the summary). Not a public interface. */
#ifndef TELREP_FLOW_REPLAY_INT_H
#define TELREP_FLOW_REPLAY_INT_H

#include <jansson.h>
#include <linux/tcp.h> /* its tcp_info has the newer fields (delivery rate) */
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "addr.h"
#include "flow/replay.h"
#include "loop.h"

#define NS 1000000000LL
#define IO_CHUNK (64 * 1024)
/* The connect window: client connects under way at once (SYN sent, not yet answered). Without
 * one, thousands of flows due together overflow the listeners' SYN and accept queues
 * (tcp_max_syn_backlog is 2048 by default): the dropped SYNs come back a second later, and
 * the half-open connections thrash the caches (both ends in one process on loopback: 0.44x a
 * sequential connect/accept loop). The window follows what the path needs, as a congestion
 * window follows a pipe: twice the connects completed per second times the shortest
 * handshake seen (its delay without queueing, as BBR's min RTT), from CONNECT_WINDOW_MIN (a
 * loopback handshake takes microseconds) up to CONNECT_WINDOW_MAX (half the default SYN
 * backlog). Limited by it, the rate doubles each CONNECT_EPOCH_NS until the path or the host
 * is the limit, as slow start does. Flows due meanwhile start as slots free up, and their
 * lateness says so. */
#define CONNECT_WINDOW_MIN 8
#define CONNECT_WINDOW_MAX 1024
#define CONNECT_EPOCH_NS 100000000LL     /* the rate measured over 100 ms */
#define CONNECT_MIN_RTT_NS 10000000000LL /* the shortest handshake of the last 10-20 s */

enum flow_state { F_PENDING, F_RUNNING, F_DONE, F_REFUSED, F_RESET, F_STALLED, F_TIMEOUT, F_FAILED };
extern const char *const flow_state_names[]; /* by enum flow_state (results.c) */

struct rflow;

struct engine;

struct end {
    struct engine *eng;
    struct rflow *f;
    int side;                  /* 0 client, 1 server */
    int fd;
    size_t next;               /* the next event */
    uint64_t to_send;          /* left of the SEND under way */
    int64_t bulk_until;        /* the BULK under way sends until then (0: none) */
    bool sending, waiting;     /* an event under way */
    uint64_t sent, received, wait_target;
    bool connected, shut, eof, finished;
    struct loop_io io;         /* its socket on the loop (io.fd == fd while watched) */
    struct loop_timer timer;   /* armed while its next event is not due yet */
};

struct rflow {
    const struct flow_spec *spec;
    struct end e[2];
    struct addr ip[2];         /* as replayed */
    enum flow_state state;
    int64_t planned, started, ended, last_progress;
    struct flow_sockopts opts; /* resolved: its rule's, else the global ones */
    uint16_t port[2];          /* as replayed */
    bool has_info;             /* its tcp_info at the end: for the summary's percentiles */
    bool connecting;           /* its client end counts in the engine's connect window */
    int64_t connect_at;        /* when it connected (the handshake's start) */
    uint8_t held;              /* why it started late: 0, HELD_DESCRIPTORS or HELD_CONNECTS */
    uint32_t rtt_us, retransmits;
    struct rflow *next_accept; /* waiting for the server's accept, same client address */
    struct rflow *next_active, *prev_active;
};

struct listener {
    struct engine *eng;
    struct loop_io io;
    int fd;
    struct addr ip;
    uint16_t port;
};

struct accept_key { struct addr ip; uint16_t port; struct rflow *first; };

enum { HELD_DESCRIPTORS = 1, HELD_CONNECTS };

struct engine {
    const struct flow_set *set;
    const struct flow_replay_options *o;
    struct rflow *flows;
    size_t n, next_start, active_n, max_active, finished;
    size_t max_open;           /* flows open at once that the descriptor limit allows */
    size_t connecting;         /* client connects under way (at most window) */
    size_t window, max_window; /* the connect window now, and the largest it was */
    uint64_t connected_epoch;  /* handshakes completed since epoch_at */
    int64_t epoch_at, min_rtt, min_rtt_prev, min_rtt_at; /* min_rtt: of this period, _prev: the last one's */
    uint64_t held[3];          /* flows that started late, by why (HELD_...) */
    struct loop_work starter;  /* posted when a descriptor or a connect slot frees up */
    struct loop_timer start_timer; /* at the next flow's planned start */
    struct rflow *active;
    struct loop *loop;         /* the one event loop (loop.h): sockets and the ends' timers */
    int netns_self, netns_client, netns_server;
    struct listener **listeners; /* each its own allocation: the loop points at them */
    size_t n_listeners;
    struct accept_key *keys;   /* open addressing on (client address, port) */
    size_t n_keys;
    int64_t t0, next_sample, next_scan, next_progress;
    int64_t t0_real;          /* t0 on the realtime clock: what --start-at asked, or when it began */
    uint8_t *buf;
    uint64_t counts[F_FAILED + 1];
};

static inline int64_t now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * NS + t.tv_nsec;
}

/* sockets.c */
struct addr flow_map_addr(const struct flow_replay_options *o, const struct addr *a); /* --map, else a */
uint16_t flow_map_port(const struct flow_replay_options *o, uint16_t port);           /* --port-map */
/* A socket in a network namespace (-1 = this one), returning to e's own after. */
int flow_socket_in(struct engine *e, int netns, int family);
/* A flow's options: the first rule that matches it, over the global ones. */
struct flow_sockopts flow_opts_of(const struct flow_replay_options *o, const struct flow_spec *f);
void flow_tune(int fd, const struct flow_sockopts *s);
/* /var/run/netns/NAME opened, or -1 with err (NULL name: -1, no error) */
int flow_open_netns(const char *name, char *err, size_t errlen);
/* net.ipv4.tcp_ecn of a namespace: 0 or -1 */
int flow_set_ecn(struct engine *e, int netns, int value);

/* results.c */
bool read_tcp_info(int fd, struct tcp_info *ti);
/* one line of the results file for a flow that ended; ti[s]: the end's tcp_info or NULL */
void write_result(struct engine *e, struct rflow *f, const struct tcp_info *const ti[2]);
/* a tcp_info line per connected end of the flows under way (tcpinfo_interval) */
void sample(struct engine *e);
/* the run's summary: states, bytes, flows/s, lateness, RTT and retransmission percentiles */
json_t *summary_json(struct engine *e, int64_t end);

#endif
