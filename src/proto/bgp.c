/* bgp.c — BGP-4 (RFC 4271): message framing, OPEN (RFC 5492 capabilities, RFC 6793 4-octet
 * AS), NOTIFICATION names, KEEPALIVE; what the replay needs to be a peer. */
#include <stdio.h>
#include <string.h>

#include "cursor.h"
#include "proto/proto.h"

#define BGP_HEADER 19
#define BGP_MAX 65535 /* RFC 8654 extended messages */

static ssize_t bgp_frame(const uint8_t *p, size_t len)
{
    struct cursor c = cursor_make(p, len);
    const uint8_t *marker = cursor_take(&c, 16);
    uint16_t msg_len = cursor_be16(&c);
    uint8_t type = cursor_u8(&c);
    if (!cursor_ok(&c))
        return 0;
    for (int i = 0; i < 16; i++)
        if (marker[i] != 0xff)
            return -1;
    if (msg_len < BGP_HEADER || type < 1 || type > 5)
        return -1;
    return msg_len <= len ? msg_len : 0;
}

static int bgp_inspect(const uint8_t *msg, size_t len, struct msg_info *info)
{
    ssize_t n = bgp_frame(msg, len);
    info->kind = n > 0 ? msg[18] : -1;
    return n > 0 && n == (ssize_t)len ? 0 : -1;
}

static bool bgp_starts_session(const uint8_t *msg, size_t len)
{
    return bgp_frame(msg, len) > 0 && msg[18] == 1;
}

static const char *bgp_kind_name(int kind)
{
    static const char *names[] = { "?", "open", "update", "notification", "keepalive", "route_refresh" };
    return kind >= 1 && kind <= 5 ? names[kind] : "malformed";
}

const struct proto proto_bgp = {
    .name = "bgp",
    .transport = TRANSPORT_TCP,
    .max_message = BGP_MAX,
    .default_port = 179,
    .inspect = bgp_inspect,
    .frame = bgp_frame,
    .starts_session = bgp_starts_session,
    .kind_name = bgp_kind_name,
};

/* ---- the session side: OPEN, NOTIFICATION, KEEPALIVE ---- */

int bgp_parse_open(const uint8_t *msg, size_t len, struct bgp_open *o)
{
    memset(o, 0, sizeof *o);
    if (len == 0 || bgp_frame(msg, len) != (ssize_t)len || msg[18] != 1)
        return -1;
    struct cursor c = cursor_make(msg + BGP_HEADER, len - BGP_HEADER);
    o->version = cursor_u8(&c);
    o->my_as = cursor_be16(&c);
    o->asn = o->my_as;
    o->hold_time = cursor_be16(&c);
    o->bgp_id = cursor_be32(&c);
    uint8_t opt_len = cursor_u8(&c);
    struct cursor params = cursor_sub(&c, opt_len);
    if (!cursor_ok(&c))
        return -1;
    while (cursor_remaining(&params) >= 2) {
        uint8_t type = cursor_u8(&params), plen = cursor_u8(&params);
        struct cursor p = cursor_sub(&params, plen);
        if (!cursor_ok(&params))
            return -1;
        if (type != 2) /* only capabilities (RFC 5492) are defined */
            continue;
        while (cursor_remaining(&p) >= 2) {
            uint8_t code = cursor_u8(&p), clen = cursor_u8(&p);
            struct cursor v = cursor_sub(&p, clen);
            if (!cursor_ok(&p))
                return -1;
            if (o->n_caps < BGP_MAX_CAPS)
                o->caps[o->n_caps++] = code;
            if (code == 65 && clen == 4) {
                o->as4_offset = (size_t)(cursor_rest(&v) - msg);
                o->asn = cursor_be32(&v);
                o->four_byte_as = true;
            } else if (code == 1 && clen == 4 && o->n_afi_safi < BGP_MAX_CAPS) {
                o->afi[o->n_afi_safi] = cursor_be16(&v);
                cursor_u8(&v);
                o->safi[o->n_afi_safi++] = cursor_u8(&v);
            }
        }
    }
    return o->version == 4 ? 0 : -1;
}

int bgp_rewrite_open(uint8_t *msg, size_t len, const struct bgp_open_rewrite *rw)
{
    struct bgp_open o;
    if (bgp_parse_open(msg, len, &o) < 0)
        return -1;
    uint8_t *body = msg + BGP_HEADER;
    if (rw->asn) {
        uint16_t my = rw->asn > 65535 ? 23456 : (uint16_t)rw->asn;
        body[1] = (uint8_t)(my >> 8);
        body[2] = (uint8_t)my;
        if (o.four_byte_as) {
            uint8_t *v = msg + o.as4_offset;
            v[0] = (uint8_t)(rw->asn >> 24); v[1] = (uint8_t)(rw->asn >> 16);
            v[2] = (uint8_t)(rw->asn >> 8); v[3] = (uint8_t)rw->asn;
        }
    }
    if (rw->set_hold_time) {
        body[3] = (uint8_t)(rw->hold_time >> 8);
        body[4] = (uint8_t)rw->hold_time;
    }
    if (rw->bgp_id) {
        body[5] = (uint8_t)(rw->bgp_id >> 24); body[6] = (uint8_t)(rw->bgp_id >> 16);
        body[7] = (uint8_t)(rw->bgp_id >> 8); body[8] = (uint8_t)rw->bgp_id;
    }
    return 0;
}

int bgp_parse_notification(const uint8_t *msg, size_t len, uint8_t *code, uint8_t *subcode)
{
    if (len < BGP_HEADER + 2 || bgp_frame(msg, len) != (ssize_t)len || msg[18] != 3)
        return -1;
    *code = msg[19];
    *subcode = msg[20];
    return 0;
}

const char *bgp_notification_name(uint8_t code, uint8_t subcode, char *out, size_t outlen)
{
    static const char *codes[] = { "?", "Message Header Error", "OPEN Message Error", "UPDATE Message Error",
                                   "Hold Timer Expired", "Finite State Machine Error", "Cease", "ROUTE-REFRESH Error" };
    static const char *header[] = { "?", "Connection Not Synchronized", "Bad Message Length", "Bad Message Type" };
    static const char *open[] = { "?", "Unsupported Version Number", "Bad Peer AS", "Bad BGP Identifier",
                                  "Unsupported Optional Parameter", "(deprecated)", "Unacceptable Hold Time",
                                  "Unsupported Capability", "(deprecated)", "(deprecated)", "Role Mismatch" };
    static const char *update[] = { "?", "Malformed Attribute List", "Unrecognized Well-known Attribute",
                                    "Missing Well-known Attribute", "Attribute Flags Error", "Attribute Length Error",
                                    "Invalid ORIGIN Attribute", "(deprecated)", "Invalid NEXT_HOP Attribute",
                                    "Optional Attribute Error", "Invalid Network Field", "Malformed AS_PATH" };
    static const char *cease[] = { "?", "Maximum Number of Prefixes Reached", "Administrative Shutdown",
                                   "Peer De-configured", "Administrative Reset", "Connection Rejected",
                                   "Other Configuration Change", "Connection Collision Resolution",
                                   "Out of Resources", "Hard Reset", "BFD Down" };
#define PICK(t) (subcode < sizeof t / sizeof *t ? t[subcode] : NULL)
    const char *c = code < sizeof codes / sizeof *codes ? codes[code] : "unknown code";
    const char *s = code == 1 ? PICK(header) : code == 2 ? PICK(open) : code == 3 ? PICK(update)
                  : code == 6 ? PICK(cease) : NULL;
#undef PICK
    if (s && subcode)
        snprintf(out, outlen, "%s / %s (%u/%u)", c, s, code, subcode);
    else
        snprintf(out, outlen, "%s (%u/%u)", c, code, subcode);
    return out;
}

const char *bgp_capability_name(uint8_t code)
{
    switch (code) {
    case 1: return "multiprotocol";
    case 2: return "route_refresh";
    case 3: return "outbound_route_filtering";
    case 5: return "extended_next_hop";
    case 6: return "extended_message";
    case 9: return "bgp_role";
    case 64: return "graceful_restart";
    case 65: return "four_octet_as";
    case 69: return "add_path";
    case 70: return "enhanced_route_refresh";
    case 71: return "long_lived_graceful_restart";
    case 73: return "fqdn";
    case 128: return "route_refresh_old";
    }
    return "unknown";
}

size_t bgp_keepalive(uint8_t out[19])
{
    memset(out, 0xff, 16);
    out[16] = 0;
    out[17] = 19;
    out[18] = 4;
    return 19;
}

size_t bgp_notification(uint8_t out[21], uint8_t code, uint8_t subcode)
{
    memset(out, 0xff, 16);
    out[16] = 0;
    out[17] = 21;
    out[18] = 3;
    out[19] = code;
    out[20] = subcode;
    return 21;
}
