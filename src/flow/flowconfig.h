/* flowconfig.h — flow-replay's YAML config (telrep's style: file:line:col errors, unknown keys
 * warned about with the closest known one). Every key is optional; flags override it.
 *
 *   role: both | client | server        time_scale: 1        asap: false
 *   client_netns: NAME                  server_netns: NAME
 *   stall_timeout: 30   timeout: 0      tcpinfo_interval: 0
 *   results: FILE       summary: FILE
 *   map:      [{from: ADDR, to: ADDR}, ...]     address as captured -> as replayed
 *   port_map: [{from: PORT, to: PORT}, ...]
 *   socket: {congestion: ALG, nodelay: BOOL, sndbuf: BYTES, rcvbuf: BYTES, ecn: BOOL}
 *   flows:   per-flow options, the first rule that matches a flow applies
 *     - match: {fid: N, client: ADDR, server: ADDR, server_port: PORT}
 *       congestion: ALG   nodelay: BOOL   sndbuf: BYTES   rcvbuf: BYTES
 *   synthetic: {flows, rate, poisson, rounds, request, response, think, client, clients,
 *               server, port, seed}      (made-up traffic instead of an events file) */
#ifndef TELREP_FLOW_CONFIG_H
#define TELREP_FLOW_CONFIG_H

#include "flow/replay.h"
#include "flow/synthetic.h"

struct flow_config {
    struct flow_replay_options o;
    struct flow_synthetic_options syn;
    bool synthetic;
    const char *results, *summary;
    /* what the options point into */
    struct flow_addr_map *map;
    struct flow_port_map *port_map;
    struct flow_rule *rules;
    char **strings;
    size_t n_strings;
};

/* Defaults into *c (as without a config). */
void flow_config_defaults(struct flow_config *c);
/* Read path over the defaults already in *c: 0, or -1 with file:line:col in err. */
int flow_config_load(const char *path, struct flow_config *c, char *err, size_t errlen);
int flow_config_parse(const char *name, const char *text, size_t len, struct flow_config *c, char *err, size_t errlen);
void flow_config_free(struct flow_config *c);

#endif
