/* engine.h — the replay engine's state, shared by replay.c (the packet path and the run)
 * and report.c (the end-of-run summary and the --check findings). Not a public interface. */
#ifndef TELREP_ENGINE_H
#define TELREP_ENGINE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "config.h"
#include "loop.h"
#include "replay.h"
#include "router.h"
#include "schedule.h"
#include "session.h"
#include "sock.h"
#include "stats.h"

#define BATCH_MAX 1024
#define BATCH_BYTES (2u << 20)
#define DATAGRAM_MAX 65507
#define PRIME_MAX 1400 /* templates sent before an exporter's data: messages of at most this */
/* captures played more than once are kept in memory after their first play, up to this */
#define CAPTURE_KEEP_BYTES (64u << 20)

/* One resolved collector of a protocol. A protocol with several (fan-out) sends each of them
 * every packet: UDP from one unconnected socket per router (the destination per datagram, so
 * that 10,000 routers x 3 collectors need 10,000 descriptors, not 30,000), TCP over a session
 * per collector. */
struct collector {
    bool has[2]; /* [0] IPv4, [1] IPv6 */
    struct sockaddr_storage addr[2];
    socklen_t len[2];
};

/* the collector k of protocol p has the address of family f (0 IPv4, 1 IPv6) */
#define COLLECTOR_ADDR(e, p, k, f) (&(e)->collectors[p][k].addr[f])

struct pending {
    struct router *router;
    int proto;
    uint16_t sport; /* the captured exporter's source port (source_port: keep) */
    size_t offset, len;
};

struct engine {
    const struct config *cfg;
    const struct replay_options *opt;
    struct router_table routers;
    struct collector *collectors[PROTO_COUNT]; /* the protocol's, as configured */
    size_t n_collectors[PROTO_COUNT];
    struct sock_options sock_opts;
    int source_port[PROTO_COUNT]; /* per UDP protocol: -1 keep, 0 the kernel's, else this */
    struct stats stats;
    struct schedule schedule;
    struct rate rate;          /* the whole run's caps (config rate.pps, bps) */
    bool capped;               /* some cap is set: every packet is paced */
    int64_t last_paced_ns;     /* when the previous paced packet left */
    bool duration_over;        /* config duration: reached (the replay ends, not an error) */
    /* time_factor 0: datagrams wait here and leave in sendmmsg batches */
    struct pending batch[BATCH_MAX];
    size_t n_batch, batch_used;
    uint8_t *batch_bytes;
    uint8_t *scratch;          /* DATAGRAM_MAX: a datagram rewritten before it is sent (time_factor > 0) */
    /* progress */
    int64_t next_progress_ns, started_ns;
    const char *current_pcap;
    uint64_t play_index, plays;
    uint64_t pass;             /* config loop: the pass of the body being played (0: the first) */
    struct source *current_capture;
    /* a live source: its descriptor watched while the replay waits for a frame (the loop
     * breaks when it is readable, only while waiting) */
    struct source *live_src;   /* opened before privileges are given up, until its play takes it */
    struct loop_io live_io;
    bool live_waiting;
    bool live_ended_by_signal; /* the signal that ended a relay is its normal end, not an interruption */
    struct sessions *sessions; /* the TCP protocols' live sessions; NULL when none is configured */
    struct loop *loop;         /* the one event loop: the sessions' sockets and timers, the pacing */
    bool dry;                  /* --check: read, decide, count; open nothing, send nothing */
    size_t routers_here;       /* routers this process replays (--shard: not elsewhere) */
    bool first_sent, ready_done; /* --ready: the first packet went; the file is written */
    long ready_sessions;       /* --ready: the sessions the captures hold (for each collector) */
    struct metrics *metrics;   /* --metrics, --metrics-listen (NULL: none) */
    uint32_t *captured_bgp_id; /* --check: per router, the BGP ID of its first captured OPEN */
};

/* udp_send.c */
/* The socket router r sends proto from (captured source port sport with source_port: keep);
 * -1 when it cannot be opened (said once). */
int udp_send_socket(struct engine *e, struct router *r, int proto, uint16_t sport);
/* A datagram to collector k counted as sent (--check counts what a run would send). */
void udp_send_count(struct engine *e, struct router *r, int proto, unsigned k, size_t len);
/* A failed send: a refusal moves the datagram it is about from sent to refused. */
void udp_send_failure(struct engine *e, struct router *r, int proto, int err);
/* One datagram now. */
void udp_send_one(struct engine *e, struct router *r, int proto, uint16_t sport, const uint8_t *data, size_t len);
/* time_factor 0: into the batch (its copy, to rewrite in place), and the batch out. */
uint8_t *udp_send_add(struct engine *e, struct router *r, int proto, uint16_t sport, const uint8_t *data, size_t len);
void udp_send_flush(struct engine *e);
/* The end: refusals of the last datagrams, which come back after the last send. */
void udp_send_late_refusals(struct engine *e);

/* ready.c */
/* --ready (or --events) with a TCP protocol: the sessions the captures hold (routers of this
 * shard x collectors) are counted in the prepass (prepass.h): ready_count_packet is that use;
 * ready_count_end sets engine.ready_sessions. */
struct ready_count {
    struct engine *e;
    uint8_t *seen; /* router x protocol: has a session */
    long n;
};
bool ready_counts(const struct engine *e);
int ready_count_begin(struct engine *e, struct ready_count *k);
void ready_count_packet(void *count, const struct decoded *d, const struct proto_config *pc, struct router *r);
void ready_count_end(struct ready_count *k);
/* The replay's first packet went; a session settled: write --ready (and its event) once every
 * expected session is established or failed for good. */
void ready_first_sent(struct engine *e);
void ready_on_settled(void *engine);
void ready_check(struct engine *e);

/* collectors.c */
/* Every protocol's collectors resolved into e->collectors; -1 said (file:line) when one cannot be. */
int collectors_resolve(struct engine *e);
/* sessions' collector callback: protocol proto's collector k for a router of family (NULL: none). */
const struct sockaddr_storage *collector_addr(void *engine, int proto, unsigned k, int family, socklen_t *len);

/* report.c */
/* The progress line on stderr (final: the run's last); progress_tick: when it is due, and the
 * metrics' tick. */
void progress_line(struct engine *e, bool final);
void progress_tick(struct engine *e);
/* The per-router summary said at the end of every run (and of --check). */
void report_summary(struct engine *e);
/* Nothing to send is a mistake, never a success: what was seen instead. */
void report_nothing(struct engine *e);
/* --check: routers whose OPENs would share a BGP ID (a warning each). */
void check_bgp_ids(struct engine *e);
/* --check: the descriptors a run would hold, against the limit (a warning when over). */
bool check_descriptors(struct engine *e);
/* --check: a test connection to each TCP collector; how many did not accept one. */
int check_tcp_collectors(struct engine *e);

#endif
