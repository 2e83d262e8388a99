/* proto.h — the protocol plugin interface. Everything a protocol knows lives in its one
 * file under src/proto/; the reproducer and pcap-proc use the same plugins. */
#ifndef TELREP_PROTO_H
#define TELREP_PROTO_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "addr.h"

enum transport { TRANSPORT_UDP, TRANSPORT_TCP };

/* The role a captured TCP message plays in its session, by kind:
 * ROLE_START     begins a session (BGP OPEN, BMP INIT): the preamble starts again with it;
 * ROLE_PEER_UP   a peer comes up (BMP PEER_UP): kept in the preamble, by peer_key;
 * ROLE_PEER_DOWN a peer goes down (BMP PEER_DOWN): its PEER_UP leaves the preamble;
 * ROLE_END       the speaker ends the session (BGP NOTIFICATION, BMP TERM): written alone,
 *                then the connection is closed as the router closed it; what the capture
 *                holds before the next START is not sent;
 * ROLE_CONFIRM   confirms the peer's OPEN (BGP KEEPALIVE): the first after a START is the
 *                router's answer to the collector it was captured with, which telrep, a peer
 *                itself, gives the live collector instead.
 * See preamble.h and session.h. */
enum msg_role { ROLE_NONE, ROLE_START, ROLE_PEER_UP, ROLE_PEER_DOWN, ROLE_END, ROLE_CONFIRM };

/* What a plugin learned from one message, for counters and logs. */
struct msg_info {
    int kind;          /* protocol-specific: NetFlow version, BGP/BMP type; -1 unknown */
    uint32_t records;  /* flow records / prefixes it carries, when known */
    uint32_t sequence; /* NetFlow/IPFIX sequence number, when present */
    uint32_t domain;   /* IPFIX observation domain / v9 source id */
    uint32_t export_time;
};

/* What a protocol section asks the replay to rewrite in its messages (issue 13); all false:
 * the captured bytes, as the Python tool sends them. */
struct rewrite_config {
    bool export_time_now;     /* export_time: now (NetFlow/IPFIX headers and record times) */
    bool sequence_continuous; /* sequence: continuous (per exporter and domain) */
    bool templates_prime;     /* templates: prime (sent before an exporter's data) */
    int64_t template_resend_ns; /* template_resend: and again after this long (0: not) */
    uint32_t template_resend_packets; /* ... or after this many of the domain's messages (0: not) */
};
static inline bool rewrite_wanted(const struct rewrite_config *r)
{
    return r->export_time_now || r->sequence_continuous || r->templates_prime;
}

/* what a clone's messages change (clone_identity) */
#define CLONE_SYSNAME 1u /* BMP INIT sysName: "name-k" */
#define CLONE_DOMAIN 2u  /* IPFIX observation domain, v9 source id, v5 engine type and id: + k */

struct proto {
    const char *name;        /* config key: "ipfix", "bgp", "bmp", "udp_generic", ... */
    enum transport transport;
    uint16_t default_port;
    size_t max_message;      /* TCP: the largest message frame() accepts (bounds buffers) */
    size_t kind_offset;      /* TCP: where a framed message's type byte is (0: ask inspect()) */
    /* Look at one whole message (UDP: the datagram). 0 = well formed, <0 = malformed
     * (replay still sends it: the capture is the truth, the counter tells). */
    int (*inspect)(const uint8_t *msg, size_t len, struct msg_info *info);
    /* TCP: length of the message at the head of the stream; 0 = need more bytes,
     * <0 = not this protocol / corrupt. */
    ssize_t (*frame)(const uint8_t *p, size_t len);
    /* TCP, optional: a message after which a speaker's stream may carry longer messages
     * (BGP: an OPEN with the extended message capability, RFC 8654), framed from then on
     * by frame_ext() up to max_message_ext. frame_ext() also frames what was already cut
     * (the send queue), so it accepts everything frame() does. */
    bool (*upgrades)(const uint8_t *msg, size_t len);
    ssize_t (*frame_ext)(const uint8_t *p, size_t len);
    size_t max_message_ext;
    /* Is this message a session start (BGP OPEN, BMP INIT)? */
    bool (*starts_session)(const uint8_t *msg, size_t len);
    /* TCP, optional: the session role of a message of this kind (NULL: none has one), and
     * the key of the peer a PEER_UP or PEER_DOWN is about (into key, at most max bytes;
     * returns its length, 0 when the message is too short to say). */
    enum msg_role (*msg_role)(int kind);
    size_t (*peer_key)(const uint8_t *msg, size_t len, uint8_t *key, size_t max);
    /* TCP, optional: the message that ends a session politely when telrep closes it (BGP: a
     * NOTIFICATION Cease / Administrative Shutdown; BMP: a TERM, administratively closed),
     * into out (at most max bytes); its length, 0 for none. */
    size_t (*goodbye)(uint8_t *out, size_t max);
    /* UDP, optional: rewrite a message in place before it is sent, as rewrite_config asks,
     * with the state of one exporter (rewriter_new; NULL: nothing to rewrite). 0, or -1 when
     * the message could not be read (it is sent as it is). */
    void *(*rewriter_new)(void);
    void (*rewriter_free)(void *rewriter);
    int (*rewrite)(void *rewriter, const struct rewrite_config *cfg, uint8_t *msg, size_t len, int64_t now_ns);
    /* UDP, optional, with rewrite: what a message teaches the rewriter before the replay (the
     * templates of the whole capture list); a new play of the captures (what is sent before
     * an exporter's data is sent again); and that message, to send before msg into out (at
     * most max bytes): its length, 0 when there is none (call again until 0). */
    void (*learn)(void *rewriter, const uint8_t *msg, size_t len);
    void (*restart)(void *rewriter);
    size_t (*prime)(void *rewriter, const struct rewrite_config *cfg, const uint8_t *msg, size_t len, uint8_t *out,
                    size_t max, int64_t now_ns);
    /* Optional: the message made clone k's (k >= 1) where it names its router, as `what`
     * asks (CLONE_*): in place, growing up to cap bytes; returns its length (len when there
     * is nothing to change or it cannot be read). BMP: the INIT's sysName; NetFlow: the
     * observation domain / source id / engine. (BGP's identifier is the OPEN rewrite's.) */
    size_t (*clone_identity)(uint8_t *msg, size_t len, size_t cap, unsigned k, unsigned what);
    /* Name of a msg_info.kind for reports ("ipfix", "v9", "update", ...). */
    const char *(*kind_name)(int kind);
    /* pcap-proc: one digest per exporter (UDP) or per TCP session. digest_message() says
     * whether to keep a message and may shorten it in place (NetFlow drops the data sets
     * whose template was not seen); digest_json() is the summary so far (a new object).
     * NULL digest_new = keep every message, counters only. */
    void *(*digest_new)(void);
    bool (*digest_message)(void *digest, uint8_t *msg, size_t *len);
    json_t *(*digest_json)(const void *digest);
    void (*digest_free)(void *digest);
};

enum proto_id { PROTO_IPFIX, PROTO_BGP, PROTO_BMP, PROTO_UDP_GENERIC, PROTO_TCP_GENERIC, PROTO_COUNT };

extern const struct proto proto_netflow, proto_bgp, proto_bmp, proto_udp_generic, proto_tcp_generic;

/* By config key; NULL if none. */
const struct proto *proto_by_name(const char *name);
const struct proto *proto_by_id(enum proto_id id);
/* The names, for "did you mean" and help text. */
extern const char *const proto_names[PROTO_COUNT];

/* netflow.c specifics used by tests and pcap-proc */
struct netflow_header {
    uint16_t version; /* 5, 9 or 10 */
    uint16_t count;   /* v5/v9: records (v9: records incl. templates); IPFIX: 0 */
    uint16_t length;  /* IPFIX: message length; v5: 24 + 48 * count; v9: 0 (not in header) */
    uint32_t export_time;
    uint32_t sequence;
    uint32_t domain;  /* IPFIX observation domain / v9 source id / v5 engine type+id */
    uint32_t sets, templates, option_templates, data_sets;
};
int netflow_parse(const uint8_t *msg, size_t len, struct netflow_header *out);
/* netflow_rewrite.c: export time, sequence numbers and record times (see there) */
struct netflow_rewriter;
struct netflow_rewriter *netflow_rewriter_new(void);
void netflow_rewriter_free(struct netflow_rewriter *w);
size_t netflow_clone_identity(uint8_t *msg, size_t len, size_t cap, unsigned k, unsigned what);
int netflow_rewrite(struct netflow_rewriter *w, const struct rewrite_config *cfg, uint8_t *msg, size_t len,
                    int64_t now_ns);
void netflow_rewriter_learn(struct netflow_rewriter *w, const uint8_t *msg, size_t len);
void netflow_rewriter_restart(struct netflow_rewriter *w);
/* With templates: prime, before a data message of a domain not primed since the last restart
 * (or template_resend ago): a message of that domain's templates, options templates
 * included, into out (at most max bytes); 0 once all are out. */
size_t netflow_prime(struct netflow_rewriter *w, const struct rewrite_config *cfg, const uint8_t *msg, size_t len,
                     uint8_t *out, size_t max, int64_t now_ns);
struct netflow_digest;
struct netflow_digest *netflow_digest_new(void);
/* false = drop the message; *len may shrink (data sets without their template removed) */
bool netflow_digest_message(struct netflow_digest *g, uint8_t *msg, size_t *len);
json_t *netflow_digest_json(const struct netflow_digest *g);
void netflow_digest_free(struct netflow_digest *g);

/* bgp.c specifics: being a BGP peer. The names a peer needs (RFC 4271 section 4.1, 6). */
#define BGP_TYPE_OFFSET 18 /* the type byte after the marker and the length */
enum bgp_type { BGP_OPEN = 1, BGP_UPDATE = 2, BGP_NOTIFICATION = 3, BGP_KEEPALIVE = 4, BGP_ROUTE_REFRESH = 5 };
enum bgp_error { BGP_ERR_HEADER = 1, BGP_ERR_OPEN = 2, BGP_ERR_UPDATE = 3, BGP_ERR_HOLD_TIMER = 4, BGP_ERR_FSM = 5,
                 BGP_ERR_CEASE = 6 };
enum bgp_cease { BGP_CEASE_ADMIN_SHUTDOWN = 2, BGP_CEASE_ADMIN_RESET = 4 }; /* RFC 4486 */
#define BGP_KEEPALIVE_LEN 19    /* the header alone */
#define BGP_NOTIFICATION_LEN 21 /* the header, code and subcode, no data */
#define BGP_MAX_CAPS 32
struct bgp_open {
    uint8_t version;
    uint16_t my_as;       /* the 2-byte field (23456 = AS_TRANS) */
    uint32_t asn;         /* the real AS: the 4-octet capability's when present */
    bool four_byte_as;
    size_t as4_offset;    /* where the capability's AS is, in the message */
    uint16_t hold_time;
    uint32_t bgp_id;
    uint8_t caps[BGP_MAX_CAPS];
    unsigned n_caps;
    uint16_t afi[BGP_MAX_CAPS];
    uint8_t safi[BGP_MAX_CAPS];
    unsigned n_afi_safi;
};
struct bgp_open_rewrite {
    uint32_t asn;         /* 0 = keep */
    uint32_t bgp_id;      /* 0 = keep */
    bool set_hold_time;
    uint16_t hold_time;
};
int bgp_parse_open(const uint8_t *msg, size_t len, struct bgp_open *out);
/* in place; the length does not change */
int bgp_rewrite_open(uint8_t *msg, size_t len, const struct bgp_open_rewrite *rw);
int bgp_parse_notification(const uint8_t *msg, size_t len, uint8_t *code, uint8_t *subcode);
/* "OPEN Message Error / Bad Peer AS (2/2)" */
const char *bgp_notification_name(uint8_t code, uint8_t subcode, char *out, size_t outlen);
/* BGP capability codes (RFC 5492, IANA's registry), the ones telrep reads, writes or names,
 * and the OPEN optional parameter that carries them */
enum bgp_capability {
    BGP_CAP_MULTIPROTOCOL = 1, BGP_CAP_ROUTE_REFRESH = 2, BGP_CAP_ORF = 3, BGP_CAP_EXTENDED_NEXTHOP = 5,
    BGP_CAP_EXTENDED_MESSAGE = 6, BGP_CAP_ROLE = 9, BGP_CAP_GRACEFUL_RESTART = 64, BGP_CAP_FOUR_OCTET_AS = 65,
    BGP_CAP_ADD_PATH = 69, BGP_CAP_ENHANCED_ROUTE_REFRESH = 70, BGP_CAP_LLGR = 71, BGP_CAP_FQDN = 73,
    BGP_CAP_ROUTE_REFRESH_OLD = 128,
};
#define BGP_OPEN_PARAM_CAPABILITIES 2
/* ADD-PATH's send/receive field (RFC 7911 section 4) */
enum { BGP_ADD_PATH_RECEIVE = 1, BGP_ADD_PATH_SEND = 2, BGP_ADD_PATH_SEND_RECEIVE = 3 };
const char *bgp_capability_name(uint8_t code);
size_t bgp_keepalive(uint8_t out[BGP_KEEPALIVE_LEN]);
size_t bgp_notification(uint8_t out[BGP_NOTIFICATION_LEN], uint8_t code, uint8_t subcode);

/* Building a speaker's messages (the MRT source's sessions, src/source/mrt_source.c): a
 * message is begun (its header, the length to come), filled with put helpers (buf.h), and
 * ended (the length put). */
struct buf;
enum bgp_attr_type { BGP_ATTR_ORIGIN = 1, BGP_ATTR_AS_PATH = 2, BGP_ATTR_NEXT_HOP = 3, BGP_ATTR_MED = 4,
                     BGP_ATTR_LOCAL_PREF = 5, BGP_ATTR_ATOMIC_AGGREGATE = 6, BGP_ATTR_AGGREGATOR = 7,
                     BGP_ATTR_COMMUNITIES = 8, BGP_ATTR_ORIGINATOR_ID = 9, BGP_ATTR_CLUSTER_LIST = 10,
                     BGP_ATTR_MP_REACH = 14, BGP_ATTR_MP_UNREACH = 15, BGP_ATTR_AS4_PATH = 17,
                     BGP_ATTR_AS4_AGGREGATOR = 18, BGP_ATTR_LARGE_COMMUNITY = 32 };
/* "AS_PATH", "COMMUNITIES", ... ; NULL for a type without a name here */
const char *bgp_attr_name(uint8_t type);
#define BGP_ATTR_FLAG_OPTIONAL 0x80
#define BGP_ATTR_FLAG_TRANSITIVE 0x40
#define BGP_ATTR_FLAG_EXTENDED 0x10 /* a 2-byte length */
enum bgp_as_path_segment { BGP_AS_SET = 1, BGP_AS_SEQUENCE = 2, BGP_AS_CONFED_SEQUENCE = 3, BGP_AS_CONFED_SET = 4 };
#define BGP_AS_TRANS 23456
#define BGP_MAX_MESSAGE 4096
#define BGP_OPEN_FAMILIES 8
struct bgp_open_spec {
    uint32_t asn, bgp_id;
    uint16_t hold_time;
    bool four_byte_as;
    bool addpath;         /* ADD-PATH (RFC 7911) send and receive for each family */
    bool extended_nexthop; /* IPv4 routes may have IPv6 next hops (RFC 8950) */
    unsigned n_families;  /* multiprotocol (RFC 4760) */
    uint16_t afi[BGP_OPEN_FAMILIES];
    uint8_t safi[BGP_OPEN_FAMILIES];
};
size_t bgp_begin(struct buf *b, enum bgp_type type);
/* A 2-byte-AS speaker's path attributes as a 4-byte-AS one sends them (RFC 6793 section
 * 4.2.3): AS_PATH and AGGREGATOR widened, AS4_PATH and AS4_AGGREGATOR merged in and dropped;
 * the rest as it was. Appended to out; -1 when the attributes are malformed. */
int bgp_attrs_as4(const uint8_t *attrs, size_t len, struct buf *out);
/* The same for a whole UPDATE (its withdrawn routes and NLRI kept), into out (emptied first). */
int bgp_update_as4(const uint8_t *msg, size_t len, struct buf *out);
void bgp_end(struct buf *b, size_t at);
void bgp_put_open(struct buf *b, const struct bgp_open_spec *o);

/* bgp_anon.c: a BGP message's addresses, prefixes and AS numbers anonymised in place (anon.h),
 * its length unchanged. as4: its AS_PATH has 4-byte ASes; addpath: its NLRI path identifiers. */
enum anon_result { ANON_OK, ANON_UNMAPPABLE /* an NLRI family it cannot map */, ANON_MALFORMED };
struct bgp_anon_counts { uint64_t addresses, prefixes, ases; };
struct anon;
enum anon_result bgp_anonymise(struct anon *a, uint8_t *msg, size_t len, bool as4, bool addpath,
                               struct bgp_anon_counts *n);
/* a route distinguisher's administrator (an AS or an IPv4 address, RFC 4364) in place */
void bgp_anon_rd(struct anon *a, uint8_t *rd);
/* bmp_anon.c: a BMP message likewise, with a session's state (which peers use ADD-PATH, from
 * their PEER_UPs). */
struct bmp_anon;
struct bmp_anon *bmp_anon_new(struct anon *a);
void bmp_anon_free(struct bmp_anon *s);
enum anon_result bmp_anonymise(struct bmp_anon *s, uint8_t *msg, size_t len, struct bgp_anon_counts *n);
/* netflow_anon.c: a NetFlow v5/v9 or IPFIX message likewise, with an exporter's state (its
 * templates); fields of enterprise elements are counted, not mapped. */
struct netflow_anon;
struct netflow_anon *netflow_anon_new(struct anon *a);
void netflow_anon_free(struct netflow_anon *s);
enum anon_result netflow_anonymise(struct netflow_anon *s, uint8_t *msg, size_t len, struct bgp_anon_counts *n);
uint64_t netflow_anon_enterprise_fields(const struct netflow_anon *s);

/* bmp.c specifics: the names of BMP v3 (RFC 7854, RFC 9069) and its messages' builders. */
enum bmp_type { BMP_ROUTE_MONITORING = 0, BMP_STATS = 1, BMP_PEER_DOWN = 2, BMP_PEER_UP = 3, BMP_INIT = 4,
                BMP_TERM = 5, BMP_ROUTE_MIRRORING = 6, BMP_RPAT = 100 };
enum bmp_peer_type { BMP_PEER_GLOBAL = 0, BMP_PEER_RD = 1, BMP_PEER_LOCAL = 2, BMP_PEER_LOC_RIB = 3 };
#define BMP_PEER_FLAG_IPV6 0x80    /* V: the peer address is IPv6 */
#define BMP_PEER_FLAG_POST 0x40    /* L: post-policy */
#define BMP_PEER_FLAG_AS2 0x20     /* A: the AS_PATH has 2-byte AS numbers */
enum bmp_info_type { BMP_INFO_STRING = 0, BMP_INFO_SYS_DESCR = 1, BMP_INFO_SYS_NAME = 2, BMP_INFO_VRF_TABLE = 3 };
enum bmp_down_reason { BMP_DOWN_LOCAL_NOTIFICATION = 1, BMP_DOWN_LOCAL_NO_NOTIFICATION = 2,
                       BMP_DOWN_REMOTE_NOTIFICATION = 3, BMP_DOWN_REMOTE_NO_NOTIFICATION = 4,
                       BMP_DOWN_DECONFIGURED = 5 };
struct bmp_peer_header {
    uint8_t type, flags;
    uint64_t distinguisher;
    struct addr addr;     /* unset: zeroes (Loc-RIB) */
    uint32_t as, bgp_id;
    int64_t ts_ns;
};
size_t bmp_begin(struct buf *b, enum bmp_type type);
void bmp_end(struct buf *b, size_t at);
void bmp_put_peer_header(struct buf *b, const struct bmp_peer_header *h);
void bmp_put_info(struct buf *b, enum bmp_info_type type, const char *text);

#endif
