/* mrt_int.h — the MRT source's state, shared by mrt_source.c (frames, peers, records to
 * frames, the source's ops) and mrt_pack.c (RIB entries packed into UPDATEs; the Loc-RIB).
 * Not a public interface: mrt_source.c's head comment says how a dump becomes sessions. */
#ifndef TELREP_SOURCE_MRT_INT_H
#define TELREP_SOURCE_MRT_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "addr.h"
#include "buf.h"
#include "source/mrt.h"

#define PACKS 4
#define SEGMENT_TARGET (32u << 10) /* a frame's payload: many messages, one reassembly step */
#define SEGMENT_MAX 65000u         /* an IPv4 packet holds 65535 bytes with its headers */
#define ISN 1000u
#define LOCAL_AS_DEFAULT 64512u
#define HOLD_TIME 180
#define LOC_RIB UINT32_MAX - 1  /* the speaker id of the router's Loc-RIB (BMP, RFC 9069) */
#define LOCAL_PREF_DEFAULT 100

/* one synthesised TCP connection, the router's direction */
struct conn {
    struct addr src, dst;
    uint16_t sport, dport;
    uint32_t seq;
    bool open;
    bool pending;         /* on the source's pending list */
    uint32_t owner;       /* speaker id + 1; 0 = the BMP router */
    struct buf seg;       /* messages waiting to become a frame */
    int64_t seg_ts;
};

/* an UPDATE being filled: routes of one attribute set */
struct pack {
    bool used;
    uint16_t afi;
    uint8_t safi;
    uint32_t hash;
    uint64_t last_use;
    int64_t ts_ns;          /* BMP: the per-peer header's time (the first entry's) */
    struct buf attrs;       /* the attributes but MP_REACH_NLRI */
    uint8_t nexthop[32];    /* MP_REACH_NLRI's next hop (not IPv4 unicast) */
    uint8_t nexthop_len;
    struct buf nlri;
};

/* a peer of the dump as the replay speaks for it */
struct speaker {
    int8_t selected;        /* -1: not decided yet */
    bool started;           /* its settings are decided (addpath) */
    bool up;                /* BGP: connected and OPEN sent; BMP: PEER_UP sent */
    bool addpath;
    bool dirty;             /* has packs in use (on the dirty list) */
    uint32_t next_dirty;
    unsigned restarts;
    struct conn conn;       /* BGP */
    struct pack packs[PACKS];
};

struct frame {
    struct frame *next;
    int64_t ts_ns;
    size_t len;
    uint8_t data[];
};

struct mrt_source {
    const struct mrt_options *o;
    size_t file;                    /* the next of o->files to open */
    struct mrt_reader *r;
    char error[400];
    struct speaker *speakers;       /* by mrt peer id */
    size_t n_speakers;
    uint32_t dirty_head;            /* speaker id + 1, 0 = none */
    struct conn router;             /* BMP */
    struct speaker loc_rib;         /* BMP with loc_rib: the router's selected routes */
    bool router_open, ended;
    uint64_t uses;
    int64_t now_ns;                 /* the time of the record being turned into frames */
    struct frame *head, *tail, *given;
    uint32_t *pending;              /* owners of connections with a frame being filled */
    size_t n_pending, cap_pending;
    struct buf msg, scratch, rm;    /* a message built; an entry's attributes; a Route Monitoring */
    struct buf wide;                /* a 2-byte AS message or attribute set, widened */
    uint64_t skipped_mismatch, skipped_session_messages;
    unsigned warned;                /* skipped records said (log_warn_limited) */
};

/* mrt_source.c */
uint32_t mrt_peer_bgp_id(const struct mrt_peer *p, uint32_t id);   /* its own, else one made from its address */
struct speaker *mrt_speaker(struct mrt_source *s, uint32_t id);    /* the peer's speaker, made on first use */
bool mrt_selected(struct mrt_source *s, uint32_t id, struct speaker *sp); /* by mrt.peers / mrt.asns */
int mrt_conn_flush(struct mrt_source *s, struct conn *c);          /* its waiting messages as a frame */
/* a message on the speaker's session (BGP: its connection; BMP: wrapped for the router's) */
int mrt_speaker_message(struct mrt_source *s, uint32_t id, struct speaker *sp, int64_t ts, const uint8_t *msg,
                        size_t len);
int mrt_speaker_ready(struct mrt_source *s, uint32_t id, struct speaker *sp, bool addpath); /* up, once */

/* mrt_source.c: one dump (its files one after the other) as a stream of frames; mrt_set.c
 * plays several side by side as the source */
struct capture_packet;
struct mrt_source *mrt_stream_open(const struct mrt_options *o, char *err, size_t errlen);
int mrt_stream_next(struct mrt_source *s, struct capture_packet *out); /* as source_ops.next */
const char *mrt_stream_error(const struct mrt_source *s);
const struct addr *mrt_stream_router(const struct mrt_source *s); /* BMP, once started; else NULL */
double mrt_stream_progress(const struct mrt_source *s);
json_t *mrt_stream_summary(const struct mrt_source *s);
void mrt_stream_close(struct mrt_source *s);

/* mrt_pack.c */
int mrt_rib_entry(struct mrt_source *s, const struct mrt_event *ev, const struct mrt_rib_entry *e); /* packed */
int mrt_speaker_flush(struct mrt_source *s, uint32_t id, struct speaker *sp); /* its packs out */
int mrt_flush_dirty(struct mrt_source *s);   /* every speaker's packs out */
int mrt_flush_pending(struct mrt_source *s); /* every connection's waiting frame out */
int mrt_loc_rib_record(struct mrt_source *s, const struct mrt_event *ev); /* a RIB record's selected routes */

#endif
