/* mrt.h — MRT archives (RFC 6396; ADD-PATH subtypes RFC 8050): the records of a dump, read
 * and named, and the peers they speak of. mrt.c reads; mrt_source.c turns what it reads into
 * live BGP or BMP sessions (a source, source.h); mrt_write.c writes MRT for the tests, the
 * bench and the examples (tools/mrt-gen).
 *
 * Rules:
 * - Every byte is hostile. A record is read whole (its length bounded by MRT_RECORD_MAX)
 *   through a cursor; a record that does not parse is counted (mrt_counts) and skipped with
 *   a message naming it, and the next record is read. Only a record length that cannot be
 *   true (over MRT_RECORD_MAX) or a file that ends within a record stops the reading: there is
 *   no way to find the next record after it.
 * - A peer is its address and AS. TABLE_DUMP_V2's PEER_INDEX_TABLE, BGP4MP and the legacy
 *   TABLE_DUMP all name peers into one table (mrt_peer_id), at most MRT_PEERS_MAX of them, so
 *   that a peer of the RIB dump and the same peer in the update files is one peer.
 * - Memory is one record (and the peer table), whatever the size of the dump.
 * - AS_PATH width: TABLE_DUMP_V2 and the _AS4 BGP4MP subtypes carry 4-byte AS numbers, the
 *   legacy TABLE_DUMP and BGP4MP_MESSAGE 2-byte ones (mrt_rib.as4, mrt_message.as4). */
#ifndef TELREP_MRT_H
#define TELREP_MRT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"

/* record types and subtypes (RFC 6396 section 4, RFC 8050 section 4) */
enum mrt_type { MRT_TABLE_DUMP = 12, MRT_TABLE_DUMP_V2 = 13, MRT_BGP4MP = 16, MRT_BGP4MP_ET = 17 };
enum mrt_td2_subtype {
    TD2_PEER_INDEX_TABLE = 1,
    TD2_RIB_IPV4_UNICAST = 2,
    TD2_RIB_IPV4_MULTICAST = 3,
    TD2_RIB_IPV6_UNICAST = 4,
    TD2_RIB_IPV6_MULTICAST = 5,
    TD2_RIB_GENERIC = 6,
    TD2_RIB_IPV4_UNICAST_ADDPATH = 8,
    TD2_RIB_IPV4_MULTICAST_ADDPATH = 9,
    TD2_RIB_IPV6_UNICAST_ADDPATH = 10,
    TD2_RIB_IPV6_MULTICAST_ADDPATH = 11,
    TD2_RIB_GENERIC_ADDPATH = 12,
};
enum mrt_bgp4mp_subtype {
    BGP4MP_STATE_CHANGE = 0,
    BGP4MP_MESSAGE = 1,
    BGP4MP_MESSAGE_AS4 = 4,
    BGP4MP_STATE_CHANGE_AS4 = 5,
    BGP4MP_MESSAGE_LOCAL = 6,
    BGP4MP_MESSAGE_AS4_LOCAL = 7,
    BGP4MP_MESSAGE_ADDPATH = 8,
    BGP4MP_MESSAGE_AS4_ADDPATH = 9,
    BGP4MP_MESSAGE_LOCAL_ADDPATH = 10,
    BGP4MP_MESSAGE_AS4_LOCAL_ADDPATH = 11,
};
/* PEER_INDEX_TABLE peer type bits */
#define MRT_PEER_IPV6 0x01
#define MRT_PEER_AS4 0x02
/* BGP FSM states in STATE_CHANGE (RFC 6396 section 4.4.1) */
enum mrt_bgp_state { MRT_STATE_IDLE = 1, MRT_STATE_CONNECT, MRT_STATE_ACTIVE, MRT_STATE_OPENSENT,
                     MRT_STATE_OPENCONFIRM, MRT_STATE_ESTABLISHED };
enum { MRT_AFI_IPV4 = 1, MRT_AFI_IPV6 = 2 };
enum { MRT_SAFI_UNICAST = 1, MRT_SAFI_MULTICAST = 2 };

#define MRT_HEADER 12
#define MRT_RECORD_MAX (16u << 20) /* a RIB record of every RIS peer is a few hundred KB */
#define MRT_PEERS_MAX 65536        /* PEER_INDEX_TABLE's count is 16 bits */
#define MRT_AS_PATH_BUCKETS 16     /* AS_PATH lengths 0..14, then 15 or more */

/* what the dump says of one peer (the summary) */
struct mrt_peer_stats {
    uint64_t rib_entries[2][2];   /* [ipv6][multicast] */
    uint64_t announced[2], withdrawn[2]; /* prefixes in update messages, [ipv6] */
    uint64_t updates, other_messages, state_changes, addpath_entries;
    int64_t first_ns, last_ns;
};

struct mrt_peer {
    struct addr ip;
    uint32_t as;
    uint32_t bgp_id;   /* from the PEER_INDEX_TABLE (0 when only BGP4MP named the peer) */
    struct addr local; /* the collector's side of the session, when BGP4MP said it */
    uint32_t local_as;
    struct mrt_peer_stats n;
};

/* what was read, and what was skipped and why */
struct mrt_counts {
    uint64_t records, bytes;
    uint64_t peer_tables, rib_records, rib_entries, messages, state_changes;
    uint64_t skipped_unknown_type;   /* types and subtypes this reader does not know */
    uint64_t skipped_malformed;      /* a record whose body contradicts itself */
    uint64_t skipped_local;          /* BGP4MP _LOCAL messages: the collector's own, not the peer's */
    uint64_t skipped_family;         /* RIB_GENERIC of an AFI/SAFI the replay does not map */
    uint64_t skipped_no_peer;        /* a RIB entry of a peer index the table does not have */
    uint64_t skipped_peers_full;     /* past MRT_PEERS_MAX distinct peers */
    uint64_t truncated;              /* the file ended within a record */
    int64_t first_ns, last_ns;
    /* the paths (RIB entries, UPDATEs that announce): how many carry each attribute type, the
     * length of their AS_PATH (as BGP counts it: a set is one), their communities */
    uint64_t paths, attr_paths[256];
    uint64_t as_path_len[MRT_AS_PATH_BUCKETS], as_path_len_sum, as_path_len_max;
    uint64_t communities;
};

enum mrt_event_kind { MRT_EV_PEER_TABLE, MRT_EV_RIB, MRT_EV_MESSAGE, MRT_EV_STATE };

/* a RIB record: one prefix, one entry per peer that has it */
struct mrt_rib_entry {
    uint32_t peer;          /* mrt_peer id */
    uint32_t originated;    /* seconds */
    uint32_t path_id;
    const uint8_t *attrs;   /* path attributes, as in the dump (valid until the next mrt_next) */
    size_t attrs_len;
};

struct mrt_event {
    enum mrt_event_kind kind;
    int64_t ts_ns;
    uint16_t type, subtype;
    /* MRT_EV_RIB */
    struct {
        uint16_t afi;
        uint8_t safi;
        uint8_t prefix_len;
        uint8_t prefix[16];
        bool addpath, as4;
        const struct mrt_rib_entry *entries;
        size_t n_entries;
    } rib;
    /* MRT_EV_MESSAGE and MRT_EV_STATE */
    struct {
        uint32_t peer;
        bool as4, addpath;
        const uint8_t *msg; /* a whole BGP message (valid until the next mrt_next) */
        size_t len;
        uint16_t old_state, new_state;
    } bgp;
};

struct mrt_reader;

/* Reads MRT records from a file (plain, .gz, .bz2, .xz, .zst: input.h). NULL with err. */
struct mrt_reader *mrt_open(const char *path, char *err, size_t errlen);
/* The next file of the same dump (RIB, then updates): the peers stay, the counts go on. */
int mrt_continue(struct mrt_reader *r, const char *path, char *err, size_t errlen);
/* The same over bytes in memory (the unit tests and the fuzz target); not copied. */
struct mrt_reader *mrt_open_memory(const uint8_t *data, size_t len);
/* 1 = an event, 0 = the end, -1 = the reading cannot go on (mrt_error says why). Records
 * that are skipped are counted and said through mrt_take_warning. */
int mrt_next(struct mrt_reader *r, struct mrt_event *ev);
const char *mrt_error(const struct mrt_reader *r);
/* What was skipped since the last call: the last skip's message ("record 7
 * (TABLE_DUMP_V2/RIB_IPV4_UNICAST): ...: skipped") and in *n how many there were; NULL when none. */
const char *mrt_take_warning(struct mrt_reader *r, uint64_t *n);
const struct mrt_counts *mrt_counts(const struct mrt_reader *r);
size_t mrt_peer_count(const struct mrt_reader *r);
const struct mrt_peer *mrt_peer(const struct mrt_reader *r, uint32_t id);
/* the PEER_INDEX_TABLE's collector BGP ID (0 if none was read) and view name ("" if none) */
uint32_t mrt_collector_id(const struct mrt_reader *r);
const char *mrt_view(const struct mrt_reader *r);
/* the fraction of the current file read (uncompressed files; -1 when it cannot be known) */
double mrt_progress(const struct mrt_reader *r);
/* {"records", "peers": [...], "skipped": {...}, "time": {...}} */
json_t *mrt_summary_json(const struct mrt_reader *r);
void mrt_close(struct mrt_reader *r);

/* "TABLE_DUMP_V2/RIB_IPV4_UNICAST", "BGP4MP_ET/MESSAGE_AS4", "type 99/3" */
const char *mrt_type_name(uint16_t type, uint16_t subtype, char *buf, size_t len);

/* ---- writing (mrt_write.c): the tests', the bench's and the examples' dumps ---- */

struct mrt_writer;
struct mrt_writer *mrt_writer_open(const char *path, bool extended_time);
/* one record (header + body); ts in ns (seconds only unless extended_time) */
int mrt_write_record(struct mrt_writer *w, int64_t ts_ns, uint16_t type, uint16_t subtype, const uint8_t *body,
                     size_t len);
int mrt_writer_close(struct mrt_writer *w);

/* ---- the MRT source (mrt_source.c): a dump replayed as live sessions ---- */

enum mrt_as { MRT_AS_BGP, MRT_AS_BMP };

/* what the config's `mrt:` section says (config.c fills it) */
struct mrt_options {
    char **files;          /* read one after another as one stream */
    size_t n_files;
    enum mrt_as as;
    uint16_t port;         /* the collector port of the synthesised connections (the section's select) */
    struct addr router;    /* BMP: the router's address (unset: the dump's collector BGP ID) */
    struct addr *peer_ips; /* peers to replay, by address or prefix, */
    size_t n_peer_ips;
    uint32_t *peer_ases;   /* ... or AS (none of either: every peer) */
    size_t n_peer_ases;
    char *sysname, *sysdescr; /* BMP INIT (NULL: the router's address; "telrep MRT replay") */
    uint32_t local_as;     /* the monitored router's AS in its OPENs (0: the dump's, or 64512) */
    bool loc_rib;          /* BMP: the RIB's selected routes also as the router's Loc-RIB (RFC 9069) */
    unsigned line;         /* where it was configured */
};
void mrt_options_free(struct mrt_options *o);

#endif
