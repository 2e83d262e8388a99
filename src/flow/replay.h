/* replay.h — flow-replay's engine: the flows of an events file over real TCP sockets, the
 * client end, the server end or both in one process (optionally each in its own network
 * namespace), one epoll loop, congestion-responsive (the kernel's TCP does the pacing), with
 * per-flow results and tcp_info samples. */
#ifndef TELREP_FLOW_REPLAY_H
#define TELREP_FLOW_REPLAY_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

#include "flow/events.h"

enum flow_role { FLOW_ROLE_BOTH, FLOW_ROLE_CLIENT, FLOW_ROLE_SERVER };

struct flow_addr_map { struct addr from, to; };
struct flow_port_map { uint16_t from, to; };

/* socket options: of every flow, or of the flows a rule matches */
struct flow_sockopts {
    const char *congestion;   /* TCP_CONGESTION, NULL = the system's */
    int nodelay;              /* TCP_NODELAY: 1, 0, -1 = unset */
    int sndbuf, rcvbuf;       /* SO_SNDBUF / SO_RCVBUF, 0 = unset */
};

/* per-flow options: the first rule whose set fields all match a flow applies (its unset
 * options fall back to the global ones) */
struct flow_rule {
    bool has_fid, has_client, has_server;
    uint64_t fid;
    struct addr client, server; /* as captured */
    int server_port;          /* as captured, -1 = any */
    struct flow_sockopts opts;
};

struct flow_replay_options {
    enum flow_role role;
    double time_scale;        /* event times x this (default 1) */
    bool asap;                /* every event as soon as the one before it is done */
    double stall_timeout;     /* seconds without progress that end a flow as stalled (default 30) */
    double timeout;           /* seconds the whole run may take (0 = no limit) */
    double tcpinfo_interval;  /* seconds between tcp_info samples of open flows (0 = at the end only) */
    struct flow_sockopts sock; /* of every socket */
    const struct flow_rule *rules;
    size_t n_rules;
    const struct flow_port_map *port_map; /* ports as captured -> as replayed */
    size_t n_port_map;
    int ecn;                  /* -1 = leave it; 0/1: net.ipv4.tcp_ecn in the namespaces given */
    const struct flow_addr_map *map; /* addresses as captured -> as replayed */
    size_t n_map;
    const char *client_netns, *server_netns; /* ip netns names, NULL = this one */
    FILE *results;            /* JSON lines: each flow when it ends, tcp_info samples; may be NULL */
    bool progress;            /* a line on stderr every few seconds */
    int64_t start_at_ns;      /* realtime of the run's time 0 (--start-at: hosts start together); 0 = now */
    /* least privilege (privs.h): once the listeners are open, give up what the flows do not
     * need (the tool sets it; a library caller's process keeps its privileges), as user (NULL:
     * the default); the files written at the end must stay writable */
    bool drop_privileges;
    const char *user;
    const char *write_at_end[2];
};

/* The signal handlers set loop_stop (loop.h): the replay ends its flows and returns. */

/* Runs every flow; fills *summary (a new JSON object: totals, rates, percentiles). Returns 0
 * when every flow completed, 1 when some did not (refused, reset, stalled, timeout), 2 when
 * the replay could not start (a listener, a namespace); err says why. */
int flow_replay_run(const struct flow_set *set, const struct flow_replay_options *o, json_t **summary, char *err,
                    size_t errlen);

#endif
