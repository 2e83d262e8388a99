/* proc_int.h — pcap-proc's engine state, shared by pcapproc.c (the passes over the
 * captures) and output.c (the directories, the written config and the summary). Not a
 * public interface. */
#ifndef TELREP_PROC_INT_H
#define TELREP_PROC_INT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "anon.h"
#include "config.h"
#include "conversation.h"
#include "decode.h"
#include "pcapproc/pcapproc.h"
#include "pcapproc/pktwrite.h"
#include "tcpstream.h"

#define NS 1000000000LL
#define MAX_STREAMS 100000

struct proc;

/* one router's direction of one TCP connection: one session */
struct stream {
    struct stream *next_all;        /* creation order */
    struct proc *p;
    size_t router;                  /* index in p->routers (which grows: no pointer) */
    struct pktwrite_flow flow;      /* the output's addresses, ports and sequence numbers */
    struct conversation conv;       /* the captured conversation (conversation.h) */
    bool ended;
    void *digest;
    bool started;                   /* the session start (OPEN, INIT) was seen */
    uint64_t messages, before_start, filtered, kept, segments;
    struct bmp_anon *bmp_anon;      /* anonymise, BMP: which peers use ADD-PATH */
    bool bgp_as4, bgp_addpath;      /* anonymise, BGP: how the router's OPEN says its UPDATEs read */
    uint8_t *seg;                   /* the output segment being packed */
    size_t seg_len, seg_cap;
    bool seg_open;                  /* it carries a BGP OPEN */
};

struct proc_router {
    struct addr addr;
    json_t *json;                   /* its object in "routers" */
    void *digest;                   /* the current pass's protocol (UDP) */
    struct netflow_anon *nf_anon;   /* anonymise, IPFIX/NetFlow: the exporter's templates */
    uint64_t packets, kept, filtered;
    size_t next;                    /* hash chain: index + 1 */
};

struct proc {
    const struct config *c;
    const char *const *paths;       /* the inputs: the config's pcaps, or a live interface's recording */
    const struct pcapproc_options *o;
    const struct proto_config *pc;  /* this pass's protocol */
    size_t pass, passes;
    /* routers in order of appearance */
    struct proc_router *routers;
    size_t n_routers, cap_routers;
    size_t router_slots[1024];      /* index + 1 of a chain's first router */
    struct conversation_table convs; /* the streams' conversations */
    struct stream *streams, **streams_tail;
    size_t n_streams;
    uint64_t streams_over_limit;
    struct pktwrite w;
    int64_t first_ts, next_ts, last_ts; /* first_ts: EPOCH + initial_delay */
    bool wrote_any, pass_wrote;
    uint8_t *scratch;
    /* counters of the first pass (every pass reads the same packets) */
    uint64_t read, decode[DECODE_UNKNOWN_LINK + 1], unselected, collector_side, oversized;
    uint64_t selected[PROTO_COUNT], out_packets[PROTO_COUNT], out_messages[PROTO_COUNT];
    bool have_dst[PROTO_COUNT][2]; /* per protocol, per family ([1] IPv6) */
    struct addr dst[PROTO_COUNT][2];
    uint16_t dport[PROTO_COUNT];
    json_t *top, *routers_json, *inputs;
    /* anonymise (anon.h): the mapping, what it mapped, what it could not */
    struct anon *anon;
    struct bgp_anon_counts anon_n;
    uint64_t anon_unmappable[PROTO_COUNT], anon_malformed[PROTO_COUNT], anon_enterprise_fields;
    bool anon_failed;               /* unmappable: fail, and one was met: no output */
    json_t *anon_map;               /* --anon-map: {addresses, as_numbers, names}, original -> image */
    uint64_t anon_map_entries, anon_map_unlisted;
    int status;
    int64_t next_progress;
};

/* anonymise.c */
/* A message of this pass's protocol anonymised in place (st: its TCP stream, rt: its UDP
 * exporter); false: it cannot be (counted, and dropped unless the config says fail, which
 * ends the run without output). */
bool proc_anonymise(struct proc *p, struct stream *st, struct proc_router *rt, uint8_t *msg, size_t len);
/* anon.h's recorder: what became what, for the key holder's table (at most ANON_MAP_MAX). */
void proc_record_mapping(void *ctx, enum anon_kind kind, const uint8_t *orig, const uint8_t *image, size_t len);

/* record.c */
/* A live interface: opened (with the privileges that takes), then the process gives them up,
 * then the recording goes to raw (raw_is_temp: not kept after), recorded: its summary. 0 or an
 * exit status. */
int pcapproc_live_input(const struct config *c, const struct pcapproc_options *o, const char *folder, char *raw,
                        size_t raw_len, bool *raw_is_temp, json_t **recorded);

/* output.c */
/* mkdir -p; 0 or -1 with err */
int make_dirs(const char *path, char *err, size_t errlen);
/* A temporary file beside final (renamed into place once complete); NULL on failure. */
FILE *temp_open(const char *final, char *tmp, size_t tmplen);
/* traffic-reproducer.yml: replays the processed capture at pcap_path */
void write_config(struct proc *p, FILE *f, const char *pcap_path);
/* traffic-info.json's last fields: the output, the timing */
void summary_finish(struct proc *p, const char *pcap_name);

#endif
