/* proto.h — the protocol plugin interface. Everything a protocol knows lives in its one
 * file under src/proto/; the reproducer and pcap-proc use the same plugins. */
#ifndef TELREP_PROTO_H
#define TELREP_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum transport { TRANSPORT_UDP, TRANSPORT_TCP };

/* What a plugin learned from one message, for counters and logs. */
struct msg_info {
    int kind;          /* protocol-specific: NetFlow version, BGP/BMP type; -1 unknown */
    uint32_t records;  /* flow records / prefixes it carries, when known */
    uint32_t sequence; /* NetFlow/IPFIX sequence number, when present */
    uint32_t domain;   /* IPFIX observation domain / v9 source id */
    uint32_t export_time;
};

struct proto {
    const char *name;        /* config key: "ipfix", "bgp", "bmp", "udp_generic", ... */
    enum transport transport;
    uint16_t default_port;
    size_t max_message;      /* TCP: the largest message frame() accepts (bounds buffers) */
    /* Look at one whole message (UDP: the datagram). 0 = well formed, <0 = malformed
     * (replay still sends it: the capture is the truth, the counter tells). */
    int (*inspect)(const uint8_t *msg, size_t len, struct msg_info *info);
    /* TCP: length of the message at the head of the stream; 0 = need more bytes,
     * <0 = not this protocol / corrupt. */
    ssize_t (*frame)(const uint8_t *p, size_t len);
    /* Is this message a session start (BGP OPEN, BMP INIT)? */
    bool (*starts_session)(const uint8_t *msg, size_t len);
    /* Name of a msg_info.kind for reports ("ipfix", "v9", "update", ...). */
    const char *(*kind_name)(int kind);
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

#endif
