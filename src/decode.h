/* decode.h — the L2..L4 view of one captured frame. Never reads past the frame. */
#ifndef TELREP_DECODE_H
#define TELREP_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"

enum decode_result {
    DECODE_OK = 0,
    DECODE_NOT_IP,       /* ARP, LLDP, unknown ethertype or link type: not ours */
    DECODE_NOT_UDP_TCP,  /* IP, but ICMP, GRE, ... */
    DECODE_FRAGMENT,     /* IP fragment: not reassembled, counted */
    DECODE_TRUNCATED,    /* the capture cut the packet short (snaplen) */
    DECODE_MALFORMED,    /* headers that contradict themselves */
    DECODE_UNKNOWN_LINK, /* link type we do not decode */
};

struct decoded {
    struct addr src, dst;
    uint8_t ip_proto; /* IPPROTO_UDP or IPPROTO_TCP */
    uint16_t sport, dport;
    /* TCP only */
    uint32_t seq, ack;
    uint8_t tcp_flags;
    uint16_t window;
    const uint8_t *tcp_options; /* inside the frame (read them with a cursor) */
    size_t tcp_options_len;
    /* the L4 payload, inside the frame */
    const uint8_t *payload;
    size_t payload_len;
    size_t payload_wire_len;  /* as the IP header says: more than payload_len when the capture
                                 cut it (decode_frame_headers only) */
    bool allow_cut;           /* internal: decode_frame_headers */
    size_t cut_bytes;
};

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_PSH 0x08
#define TCP_ACK 0x10

/* dlt: a libpcap DLT_* link type. */
enum decode_result decode_frame(int dlt, const uint8_t *frame, size_t caplen, struct decoded *out);
/* The same for header-only captures (a snap length): a TCP segment whose payload the capture
 * cut is fine, payload_wire_len says how long it was. */
enum decode_result decode_frame_headers(int dlt, const uint8_t *frame, size_t caplen, struct decoded *out);
const char *decode_result_name(enum decode_result r);
/* Does decode_frame() understand this link type? */
int decode_link_supported(int dlt);

#endif
