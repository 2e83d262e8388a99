/* config.h — the YAML configuration (traffic-reproducer compatible, plus extensions). */
#ifndef TELREP_CONFIG_H
#define TELREP_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "proto/proto.h"
#include "select.h"
#include "source.h"
#include "source/mrt.h"
#include "source/live.h"

/* what pcap-proc writes as repro_ip for a router the input config did not map */
#define CONFIG_REPRO_PLACEHOLDER "SET-LOCAL-ADDRESS"

enum repeat_pattern { REPEAT_ROUND_ROBIN, REPEAT_BULK };

/* where something was configured, for messages (1-based) */
struct config_mark { unsigned line, col; };

/* network.map clones: at most this many routers per captured one */
#define CLONES_MAX 100000

struct map_entry {
    struct addr src, repro;
    uint32_t bgp_id; /* this router's BGP identifier in its OPEN (0 = the bgp section's, or as captured) */
    unsigned clones; /* replayed as this many routers, from repro, repro + 1, ... (1: itself) */
    unsigned line;   /* where it was configured, for messages */
    unsigned col;
};

/* TCP sessions (bgp, bmp, tcp_generic): telrep extensions */
struct session_config {
    int reconnect;          /* -1 = not set: on with keep_open */
    double open_timeout;    /* bgp: seconds to wait for the collector's OPEN (default 10) */
    double drain_timeout;   /* seconds a session may take to send its queue at the end (default 30) */
    uint32_t my_as;         /* bgp: rewrite the OPEN's AS (0 = keep) */
    uint32_t bgp_id;        /* bgp: rewrite the OPEN's BGP identifier (0 = keep) */
    int hold_time;          /* bgp: rewrite the OPEN's hold time (-1 = keep) */
    bool send_term;         /* bmp: send a TERM message before a graceful close */
};

/* One collector: its addresses or host names (for each router the first address of its
 * repro_ip's family is used: a collector reachable over IPv4 and IPv6 is one collector). */
struct collector_config {
    char **hosts;
    size_t n_hosts;
    uint16_t port;
    struct config_mark at;
};

/* collector: a list fans a protocol out to each (the same packets on the same schedule) */
#define COLLECTORS_MAX 64

struct proto_config {
    const struct proto *proto;
    enum proto_id id;
    struct selector select;
    struct collector_config *collectors;
    size_t n_collectors;  /* 0 = none configured */
    int source_port;      /* UDP: -1 = the captured exporter's, 0 = any (the kernel's), else this one */
    struct rewrite_config rewrite; /* ipfix: export_time, sequence */
    unsigned line;
    struct session_config session;
};

/* pcap_processing.anonymise (anon.h): the outputs' addresses, prefixes, AS numbers and names mapped */
struct pcap_anonymise {
    char *key_file;           /* NULL: off */
    struct addr *keep;        /* prefixes left as they are */
    size_t n_keep;
    bool as;                  /* map AS numbers (default true) */
    bool fail;                /* a message that cannot be mapped fails the run (default: dropped, counted) */
};

struct pcap_processing {
    bool present;
    struct pcap_anonymise anonymise;
    double initial_delay, inter_packet_delay, inter_protocol_delay;
    unsigned desired_tcp_payload_size;
    char *output_folder; /* NULL = pcap path without extension */
    bool exit;
};

struct config {
    char *file;
    char **pcaps;
    struct config_mark *pcap_at; /* one per pcap */
    size_t n_pcaps;
    unsigned *repeat_counts; /* one per pcap; 1 when no repeat: key */
    enum repeat_pattern repeat_pattern;
    double time_factor;      /* 0 = as fast as possible */
    /* rate: caps (0: none), packets and bits per second, the whole run and per router */
    struct { double pps, bps, router_pps, router_bps; } rate;
    double duration;         /* seconds: the replay ends after this (0: when the captures do) */
    /* loop: the capture list played as a body, count passes (0: until duration), gap s apart */
    struct { bool on; unsigned long count; double gap; } loop;
    bool keep_open, no_sync, ask_for_input;
    bool threading, preload; /* accepted for compatibility; telrep streams single-threaded */
    int so_sndbuf, so_rcvbuf; /* 0 = system default */
    struct map_entry *map;
    size_t n_map;
    char *interface;          /* SO_BINDTODEVICE target, NULL = none */
    /* network.clones: how the clones of a router (map entry clones: N) differ. Clone k's copy of
     * a packet leaves k * stagger s after the packet's time (time_factor > 0); identity: each
     * clone k >= 1 its own BGP identifier (its repro_ip, or the captured one + k), BMP INIT
     * sysName ("name-k"), IPFIX observation domain / v9 source id (+ k: off by default) */
    struct { double stagger; bool bgp_id, sysname, domain; } clones;
    struct proto_config protos[PROTO_COUNT]; /* in config order */
    size_t n_protos;
    struct pcap_processing pcap_processing;
    /* mrt: MRT dumps replayed as BGP or BMP sessions, one play "mrt:<first file>" in pcaps for
     * them all; several dumps are several BMP routers, played side by side */
    struct mrt_options *mrt;
    size_t n_mrt;
    /* live: a live interface relayed (telrep) or recorded (pcap-proc); its play is its URI in pcaps */
    struct live_options live;
    /* user: the unprivileged user to run as once the privileged things are open (privs.h) */
    char *user;
    struct source_options sources; /* what the sources of the plays need: source_open(pcaps[i], &sources, ...) */
};

/* Parse and check a config file. On error returns NULL and a message naming
 * file:line:col in err. Warnings (unknown keys, ignored options) go to the log; with
 * CONFIG_STRICT an unknown key is an error. */
#define CONFIG_STRICT 1u
struct config *config_load(const char *path, char *err, size_t errlen);
struct config *config_load_flags(const char *path, unsigned flags, char *err, size_t errlen);
/* The same from memory; `name` labels messages. Paths of pcaps are not checked for
 * existence when check_files is false. */
struct config *config_parse(const char *name, const char *text, size_t len, bool check_files,
                            char *err, size_t errlen);
struct config *config_parse_flags(const char *name, const char *text, size_t len, bool check_files,
                                  unsigned flags, char *err, size_t errlen);
void config_free(struct config *c);
/* Replay `path` once instead of the configured pcaps (telrep -p). 0 or -1. */
int config_replace_pcaps(struct config *c, const char *path);

/* The plays of a run: config_plays() of them (the sum of the repeat counts); play k
 * (0-based) is capture config_play_pcap(c, k), an index into c->pcaps. Round robin
 * [2, 1] plays a b a; bulk [2, 1] plays a a b. Nothing is allocated. */
uint64_t config_plays(const struct config *c);
size_t config_play_pcap(const struct config *c, uint64_t k);

/* The routers a config replays: each map entry's clones (at least 1 each). */
uint64_t config_routers(const struct config *c);

/* Levenshtein-closest of `candidates` to `word`, or NULL if none is close. */
const char *config_closest(const char *word, const char *const *candidates, size_t n);

#endif
