/* config_int.h — what config.c (the file, the top level, the network map) and
 * config_proto.c (a protocol section: select, collector, sessions, rewrites) share. */
#ifndef TELREP_CONFIG_INT_H
#define TELREP_CONFIG_INT_H

#include <yaml.h>

#include "config.h"
#include "yamlwalk.h"

/* what the config's handlers need beside the walker (yw.user points here) */
struct config_state {
    struct config *cfg;
    size_t n_repeat_counts;          /* for the check against the pcap list */
    yaml_node_t *loop_node;          /* for the check of loop.count 0 against duration */
    yaml_node_t *repeat_count_node;
    yaml_node_t *mrt_node;
    yaml_node_t *live_node;
    bool no_sync_set;
};
#define STATE(p) ((struct config_state *)(p)->user)

int config_key_bool(struct yw *p, yaml_node_t *v, void *t, int arg);
/* a string (a null is an error); replaces what was there */
int config_key_string(struct yw *p, yaml_node_t *v, void *t, int arg);
int config_key_nonneg_double(struct yw *p, yaml_node_t *v, void *t, int arg);
struct config_mark config_mark_of(const yaml_node_t *n);
/* an IPv4 or IPv6 address literal (what: the key, for the message) */
int config_host_addr(struct yw *p, yaml_node_t *v, const char *what, struct addr *out);
/* bgp_id: an IPv4 address as a BGP identifier (config_proto.c) */
int config_key_bgp_id(struct yw *p, yaml_node_t *v, void *t, int arg);
/* a protocol section; arg is its enum proto_id (config_proto.c) */
int config_key_protocol(struct yw *p, yaml_node_t *v, void *t, int arg);
void config_collectors_free(struct proto_config *pc);
/* mrt: (config_mrt.c); config_check_mrt after the whole file: its play, its protocol and port */
int config_key_mrt(struct yw *p, yaml_node_t *v, void *t, int arg);
int config_check_mrt(struct yw *p, bool check_files);
/* live: (config_live.c); config_check_live after the whole file: the interface as the play */
int config_key_live(struct yw *p, yaml_node_t *v, void *t, int arg);
int config_check_live(struct yw *p);

#endif
