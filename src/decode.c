/* decode.c — link layer, IP and UDP/TCP headers of a frame, through a cursor. */
#include "decode.h"

#include <netinet/in.h>
#include <pcap/dlt.h>
#include <string.h>
#include <sys/socket.h>

#include "cursor.h"

#define ETH_IPV4 0x0800
#define ETH_IPV6 0x86dd
#define ETH_VLAN 0x8100
#define ETH_QINQ 0x88a8
#define ETH_QINQ_OLD 0x9100
#define ETH_MPLS 0x8847
#define ETH_MPLS_MC 0x8848
#define MAX_LABELS 16
#define MAX_IPV6_EXT 16

static enum decode_result decode_ip(struct cursor *c, struct decoded *out);

const char *decode_result_name(enum decode_result r)
{
    switch (r) {
    case DECODE_OK: return "ok";
    case DECODE_NOT_IP: return "not IP";
    case DECODE_NOT_UDP_TCP: return "not UDP/TCP";
    case DECODE_FRAGMENT: return "IP fragment";
    case DECODE_TRUNCATED: return "truncated";
    case DECODE_MALFORMED: return "malformed";
    case DECODE_UNKNOWN_LINK: return "unknown link type";
    }
    return "?";
}

int decode_link_supported(int dlt)
{
    switch (dlt) {
    case DLT_EN10MB: case DLT_RAW: case 101 /* LINKTYPE_RAW */: case DLT_IPV4: case DLT_IPV6:
    case DLT_NULL: case DLT_LOOP: case DLT_LINUX_SLL: case DLT_LINUX_SLL2:
        return 1;
    }
    return 0;
}

/* MPLS carries no payload type: the label stack ends at the S bit and the first nibble
 * after it says IPv4 or IPv6 (pseudowire control words start with 0 and are not IP). */
static enum decode_result decode_mpls(struct cursor *c, struct decoded *out)
{
    for (int i = 0; i < MAX_LABELS; i++) {
        uint32_t entry = cursor_be32(c);
        if (!cursor_ok(c))
            return DECODE_TRUNCATED;
        if (entry & 0x100)
            return decode_ip(c, out);
    }
    return DECODE_MALFORMED;
}

static enum decode_result decode_ethertype(struct cursor *c, uint16_t type, struct decoded *out)
{
    while (type == ETH_VLAN || type == ETH_QINQ || type == ETH_QINQ_OLD) {
        cursor_skip(c, 2); /* TCI */
        type = cursor_be16(c);
        if (!cursor_ok(c))
            return DECODE_TRUNCATED;
    }
    if (type == ETH_IPV4 || type == ETH_IPV6)
        return decode_ip(c, out);
    if (type == ETH_MPLS || type == ETH_MPLS_MC)
        return decode_mpls(c, out);
    return DECODE_NOT_IP;
}

static enum decode_result decode_udp(struct cursor *c, struct decoded *out)
{
    out->sport = cursor_be16(c);
    out->dport = cursor_be16(c);
    uint16_t len = cursor_be16(c);
    cursor_skip(c, 2);
    if (!cursor_ok(c))
        return DECODE_TRUNCATED;
    if (len < 8)
        return DECODE_MALFORMED;
    if (len - 8u > cursor_remaining(c))
        return DECODE_TRUNCATED;
    out->payload_len = len - 8u;
    out->payload = cursor_take(c, out->payload_len);
    out->payload_wire_len = out->payload_len;
    return DECODE_OK;
}

static enum decode_result decode_tcp(struct cursor *c, struct decoded *out)
{
    out->sport = cursor_be16(c);
    out->dport = cursor_be16(c);
    out->seq = cursor_be32(c);
    out->ack = cursor_be32(c);
    uint8_t offset = cursor_u8(c) >> 4;
    out->tcp_flags = cursor_u8(c);
    out->window = cursor_be16(c);
    cursor_skip(c, 4); /* checksum, urgent pointer */
    if (!cursor_ok(c))
        return DECODE_TRUNCATED;
    if (offset < 5)
        return DECODE_MALFORMED;
    out->tcp_options_len = (offset - 5u) * 4;
    out->tcp_options = cursor_take(c, out->tcp_options_len);
    if (!out->tcp_options)
        return DECODE_TRUNCATED;
    out->payload_len = cursor_remaining(c);
    out->payload = cursor_take(c, out->payload_len);
    out->payload_wire_len = out->payload_len + out->cut_bytes;
    return DECODE_OK;
}

static enum decode_result decode_l4(struct cursor *c, uint8_t proto, struct decoded *out)
{
    out->ip_proto = proto;
    if (proto == IPPROTO_UDP)
        return decode_udp(c, out);
    if (proto == IPPROTO_TCP)
        return decode_tcp(c, out);
    return DECODE_NOT_UDP_TCP;
}

static enum decode_result decode_ipv4(struct cursor *c, struct decoded *out)
{
    uint8_t vihl = cursor_u8(c);
    cursor_skip(c, 1);
    uint16_t total = cursor_be16(c);
    cursor_skip(c, 2);
    uint16_t frag = cursor_be16(c);
    cursor_skip(c, 1);
    uint8_t proto = cursor_u8(c);
    cursor_skip(c, 2);
    const uint8_t *src = cursor_take(c, 4), *dst = cursor_take(c, 4);
    if (!cursor_ok(c))
        return DECODE_TRUNCATED;
    unsigned ihl = (vihl & 0x0f) * 4u;
    if (ihl < 20 || total < ihl)
        return DECODE_MALFORMED;
    if (!cursor_skip(c, ihl - 20)) /* options */
        return DECODE_TRUNCATED;
    addr_from_bytes(&out->src, AF_INET, src);
    addr_from_bytes(&out->dst, AF_INET, dst);
    if (frag & 0x3fff) /* MF or a fragment offset */
        return DECODE_FRAGMENT;
    size_t body = total - ihl;
    if (body > cursor_remaining(c)) {
        if (!out->allow_cut)
            return DECODE_TRUNCATED;
        out->cut_bytes = body - cursor_remaining(c); /* a snap length: the payload's end is missing */
        body = cursor_remaining(c);
    }
    /* Ethernet padding after the IP packet is not payload */
    struct cursor l4 = cursor_sub(c, body);
    return decode_l4(&l4, proto, out);
}

static enum decode_result decode_ipv6(struct cursor *c, struct decoded *out)
{
    cursor_skip(c, 4);
    uint16_t plen = cursor_be16(c);
    uint8_t next = cursor_u8(c);
    cursor_skip(c, 1);
    const uint8_t *src = cursor_take(c, 16), *dst = cursor_take(c, 16);
    if (!cursor_ok(c))
        return DECODE_TRUNCATED;
    addr_from_bytes(&out->src, AF_INET6, src);
    addr_from_bytes(&out->dst, AF_INET6, dst);
    if (plen == 0) /* jumbogram or TSO artefact: length unknown */
        return DECODE_MALFORMED;
    if (plen > cursor_remaining(c)) {
        if (!out->allow_cut)
            return DECODE_TRUNCATED;
        out->cut_bytes = plen - cursor_remaining(c);
        plen = (uint16_t)cursor_remaining(c);
    }
    struct cursor body = cursor_sub(c, plen);
    for (int i = 0; i < MAX_IPV6_EXT; i++) {
        switch (next) {
        case 0: case 43: case 60: { /* hop-by-hop, routing, destination options */
            next = cursor_u8(&body);
            uint8_t len = cursor_u8(&body);
            cursor_skip(&body, 6 + len * 8u);
            break;
        }
        case 51: { /* AH: length in 4-byte units, minus 2 */
            next = cursor_u8(&body);
            uint8_t len = cursor_u8(&body);
            cursor_skip(&body, (len + 2u) * 4 - 2);
            break;
        }
        case 44: { /* fragment header: only an atomic fragment (offset 0, no M) is whole */
            next = cursor_u8(&body);
            cursor_skip(&body, 1);
            uint16_t off = cursor_be16(&body);
            cursor_skip(&body, 4);
            if (cursor_ok(&body) && (off & 0xfff9))
                return DECODE_FRAGMENT;
            break;
        }
        default:
            return decode_l4(&body, next, out);
        }
        if (!cursor_ok(&body))
            return DECODE_TRUNCATED;
    }
    return DECODE_MALFORMED;
}

static enum decode_result decode_ip(struct cursor *c, struct decoded *out)
{
    uint8_t first;
    if (!cursor_peek_u8(c, 0, &first))
        return DECODE_TRUNCATED;
    if (first >> 4 == 4)
        return decode_ipv4(c, out);
    if (first >> 4 == 6)
        return decode_ipv6(c, out);
    return DECODE_NOT_IP;
}

/* BSD loopback: the address family, in the writer's byte order (NULL) or network order (LOOP) */
static enum decode_result decode_null(struct cursor *c, int dlt, struct decoded *out)
{
    uint32_t family = dlt == DLT_LOOP ? cursor_be32(c) : cursor_le32(c);
    if (!cursor_ok(c))
        return DECODE_TRUNCATED;
    if (family > 0xffff) /* written big-endian by the capturing host */
        family = __builtin_bswap32(family);
    /* AF_INET, and AF_INET6 as NetBSD/OpenBSD, FreeBSD and macOS number it */
    enum { BSD_AF_INET = 2, BSD_AF_INET6_NET = 24, BSD_AF_INET6_FREE = 28, BSD_AF_INET6_DARWIN = 30 };
    if (family == BSD_AF_INET || family == BSD_AF_INET6_NET || family == BSD_AF_INET6_FREE ||
        family == BSD_AF_INET6_DARWIN)
        return decode_ip(c, out);
    return DECODE_NOT_IP;
}

static enum decode_result decode(int dlt, const uint8_t *frame, size_t caplen, struct decoded *out);

enum decode_result decode_frame(int dlt, const uint8_t *frame, size_t caplen, struct decoded *out)
{
    memset(out, 0, sizeof *out);
    return decode(dlt, frame, caplen, out);
}

enum decode_result decode_frame_headers(int dlt, const uint8_t *frame, size_t caplen, struct decoded *out)
{
    memset(out, 0, sizeof *out);
    out->allow_cut = true;
    return decode(dlt, frame, caplen, out);
}

static enum decode_result decode(int dlt, const uint8_t *frame, size_t caplen, struct decoded *out)
{
    struct cursor c = cursor_make(frame, caplen);
    switch (dlt) {
    case DLT_EN10MB: {
        cursor_skip(&c, 12);
        uint16_t type = cursor_be16(&c);
        if (!cursor_ok(&c))
            return DECODE_TRUNCATED;
        return decode_ethertype(&c, type, out);
    }
    case DLT_LINUX_SLL: {
        cursor_skip(&c, 14);
        uint16_t type = cursor_be16(&c);
        if (!cursor_ok(&c))
            return DECODE_TRUNCATED;
        return decode_ethertype(&c, type, out);
    }
    case DLT_LINUX_SLL2: {
        uint16_t type = cursor_be16(&c);
        cursor_skip(&c, 18);
        if (!cursor_ok(&c))
            return DECODE_TRUNCATED;
        return decode_ethertype(&c, type, out);
    }
    case DLT_RAW: case 101: case DLT_IPV4: case DLT_IPV6:
        return decode_ip(&c, out);
    case DLT_NULL: case DLT_LOOP:
        return decode_null(&c, dlt, out);
    }
    return DECODE_UNKNOWN_LINK;
}
