/* netflow.c — NetFlow v5, NetFlow v9 (RFC 3954) and IPFIX (RFC 7011) messages.
 * One walker reads headers, sets, templates and option templates; everything else
 * (replay counters, pcap-proc) builds on netflow_parse(). */
#include <stdbool.h>
#include <string.h>

#include "cursor.h"
#include "proto/proto.h"

#define V5_HEADER 24
#define V5_RECORD 48
#define V9_HEADER 20
#define IPFIX_HEADER 16

static int parse_v5(struct cursor *c, size_t len, struct netflow_header *h)
{
    h->count = cursor_be16(c);
    cursor_skip(c, 4);                 /* sysUpTime */
    h->export_time = cursor_be32(c);   /* unix_secs */
    cursor_skip(c, 4);                 /* unix_nsecs */
    h->sequence = cursor_be32(c);
    h->domain = (uint32_t)cursor_be16(c); /* engine type and id */
    cursor_skip(c, 2);                 /* sampling */
    if (!cursor_ok(c))
        return -1;
    h->length = (uint16_t)(V5_HEADER + V5_RECORD * h->count);
    if (h->count == 0 || h->count > 30 || len < h->length)
        return -1;
    h->data_sets = 1;
    return 0;
}

/* A template record: id, field count, [scope count,] fields. IPFIX fields may carry an
 * enterprise number (high bit of the IE id). v9 options templates count scope and option
 * fields in bytes. Returns 0 or -1. */
static int parse_template(struct cursor *set, uint16_t version, bool options, struct netflow_header *h)
{
    uint16_t id = cursor_be16(set);
    uint32_t fields, scopes = 0;
    if (version == 9 && options) {
        uint16_t scope_bytes = cursor_be16(set), option_bytes = cursor_be16(set);
        if (scope_bytes % 4 || option_bytes % 4)
            return -1;
        scopes = scope_bytes / 4u;
        fields = scopes + option_bytes / 4u;
    } else {
        fields = cursor_be16(set);
        if (options && fields > 0) {
            scopes = cursor_be16(set);
            if (scopes == 0 || scopes > fields)
                return -1;
        }
    }
    /* every field takes at least 4 bytes: a count the set cannot hold is a lie, and
     * walking it would cost 65,535 steps per 8-byte hostile template */
    if (!cursor_ok(set) || id < 256 || fields > cursor_remaining(set) / 4)
        return -1;
    for (uint32_t i = 0; i < fields && cursor_ok(set); i++) {
        uint16_t ie = cursor_be16(set);
        cursor_skip(set, 2);
        if (version == 10 && (ie & 0x8000))
            cursor_skip(set, 4);
    }
    if (!cursor_ok(set))
        return -1;
    if (options)
        h->option_templates++;
    else
        h->templates++;
    return 0;
}

static int parse_sets(struct cursor *c, uint16_t version, struct netflow_header *h)
{
    uint16_t template_set = version == 9 ? 0 : 2, options_set = version == 9 ? 1 : 3;
    while (cursor_remaining(c) >= 4) {
        uint16_t set_id = cursor_be16(c), set_len = cursor_be16(c);
        if (set_len < 4)
            return -1;
        struct cursor set = cursor_sub(c, set_len - 4u);
        if (!cursor_ok(c))
            return -1;
        h->sets++;
        if (set_id == template_set || set_id == options_set) {
            /* records until only padding (< 4 bytes) is left */
            while (cursor_remaining(&set) >= 4)
                if (parse_template(&set, version, set_id == options_set, h) < 0)
                    return -1;
        } else if (set_id >= 256) {
            h->data_sets++;
        } else {
            return -1; /* reserved set id */
        }
    }
    /* v9 allows trailing padding; IPFIX sets must fill the message exactly */
    return version == 10 && cursor_remaining(c) != 0 ? -1 : 0;
}

int netflow_parse(const uint8_t *msg, size_t len, struct netflow_header *h)
{
    memset(h, 0, sizeof *h);
    struct cursor c = cursor_make(msg, len);
    h->version = cursor_be16(&c);
    if (!cursor_ok(&c))
        return -1;
    if (h->version == 5)
        return parse_v5(&c, len, h);
    if (h->version == 9) {
        h->count = cursor_be16(&c);
        cursor_skip(&c, 4); /* sysUpTime */
        h->export_time = cursor_be32(&c);
        h->sequence = cursor_be32(&c);
        h->domain = cursor_be32(&c);
        if (!cursor_ok(&c))
            return -1;
        return parse_sets(&c, 9, h);
    }
    if (h->version == 10) {
        h->length = cursor_be16(&c);
        h->export_time = cursor_be32(&c);
        h->sequence = cursor_be32(&c);
        h->domain = cursor_be32(&c);
        if (!cursor_ok(&c) || h->length < IPFIX_HEADER || h->length > len)
            return -1;
        struct cursor body = cursor_make(msg + IPFIX_HEADER, h->length - IPFIX_HEADER);
        return parse_sets(&body, 10, h);
    }
    return -1;
}

static int netflow_inspect(const uint8_t *msg, size_t len, struct msg_info *info)
{
    struct netflow_header h;
    int rc = netflow_parse(msg, len, &h);
    info->kind = rc == 0 ? h.version : -1;
    info->sequence = h.sequence;
    info->domain = h.domain;
    info->export_time = h.export_time;
    info->records = h.version == 5 ? h.count : 0;
    return rc;
}

static const char *netflow_kind_name(int kind)
{
    switch (kind) {
    case 5: return "netflow_v5";
    case 9: return "netflow_v9";
    case 10: return "ipfix";
    }
    return "malformed";
}

const struct proto proto_netflow = {
    .name = "ipfix",
    .transport = TRANSPORT_UDP,
    .default_port = 4739,
    .inspect = netflow_inspect,
    .kind_name = netflow_kind_name,
};
