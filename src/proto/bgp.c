/* bgp.c — BGP-4 (RFC 4271): message framing, OPEN (RFC 5492 capabilities, RFC 6793 4-octet
 * AS), NOTIFICATION names, KEEPALIVE; what the replay needs to be a peer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "cursor.h"
#include "proto/proto.h"
#include "buf.h"

#define BGP_HEADER 19
#define BGP_MAX 4096        /* RFC 4271 section 4.1 */
#define BGP_MAX_EXT 65535   /* RFC 8654 extended messages */

/* The length of the message at p (0: incomplete, -1: not a BGP header or longer than max). */
static ssize_t frame_upto(const uint8_t *p, size_t len, size_t max)
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
    if (msg_len < BGP_HEADER || msg_len > max || type < 1 || type > 5)
        return -1;
    return msg_len <= len ? msg_len : 0;
}

/* Until a speaker's OPEN announces extended messages, a length over 4096 is a corrupt
 * header, never a reason to wait for 64 KB that would swallow the messages after it. */
static ssize_t bgp_frame(const uint8_t *p, size_t len)
{
    return frame_upto(p, len, BGP_MAX);
}

static ssize_t bgp_frame_ext(const uint8_t *p, size_t len)
{
    return frame_upto(p, len, BGP_MAX_EXT);
}

/* Does this OPEN announce the extended message capability? */
static bool bgp_upgrades(const uint8_t *msg, size_t len)
{
    struct bgp_open o;
    if (len <= BGP_HEADER || msg[BGP_TYPE_OFFSET] != BGP_OPEN || bgp_parse_open(msg, len, &o) < 0)
        return false;
    for (unsigned i = 0; i < o.n_caps; i++)
        if (o.caps[i] == BGP_CAP_EXTENDED_MESSAGE) /* RFC 8654 section 3 */
            return true;
    return false;
}

static int bgp_inspect(const uint8_t *msg, size_t len, struct msg_info *info)
{
    ssize_t n = bgp_frame_ext(msg, len); /* already framed: its stream decided the limit */
    info->kind = n > 0 ? msg[BGP_TYPE_OFFSET] : -1;
    return n > 0 && n == (ssize_t)len ? 0 : -1;
}

static bool bgp_starts_session(const uint8_t *msg, size_t len)
{
    return bgp_frame(msg, len) > 0 && msg[BGP_TYPE_OFFSET] == BGP_OPEN;
}

static enum msg_role bgp_msg_role(int kind)
{
    switch (kind) {
    case BGP_OPEN: return ROLE_START;
    case BGP_NOTIFICATION: return ROLE_END;
    case BGP_KEEPALIVE: return ROLE_CONFIRM;
    default: return ROLE_NONE;
    }
}

static const char *bgp_kind_name(int kind)
{
    static const char *names[] = { "?", "open", "update", "notification", "keepalive", "route_refresh" };
    return kind >= 1 && kind <= 5 ? names[kind] : "malformed";
}


/* ---- the session side: OPEN, NOTIFICATION, KEEPALIVE ---- */

int bgp_parse_open(const uint8_t *msg, size_t len, struct bgp_open *o)
{
    memset(o, 0, sizeof *o);
    if (len == 0 || bgp_frame(msg, len) != (ssize_t)len || msg[BGP_TYPE_OFFSET] != BGP_OPEN)
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
        if (type != BGP_OPEN_PARAM_CAPABILITIES) /* the only one defined (RFC 5492) */
            continue;
        while (cursor_remaining(&p) >= 2) {
            uint8_t code = cursor_u8(&p), clen = cursor_u8(&p);
            struct cursor v = cursor_sub(&p, clen);
            if (!cursor_ok(&p))
                return -1;
            if (o->n_caps < BGP_MAX_CAPS)
                o->caps[o->n_caps++] = code;
            if (code == BGP_CAP_FOUR_OCTET_AS && clen == 4) {
                o->as4_offset = (size_t)(cursor_rest(&v) - msg);
                o->asn = cursor_be32(&v);
                o->four_byte_as = true;
            } else if (code == BGP_CAP_MULTIPROTOCOL && clen == 4 && o->n_afi_safi < BGP_MAX_CAPS) {
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
    if (len < BGP_HEADER + 2 || bgp_frame_ext(msg, len) != (ssize_t)len || msg[BGP_TYPE_OFFSET] != BGP_NOTIFICATION)
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
    case BGP_CAP_MULTIPROTOCOL: return "multiprotocol";
    case BGP_CAP_ROUTE_REFRESH: return "route_refresh";
    case BGP_CAP_ORF: return "outbound_route_filtering";
    case BGP_CAP_EXTENDED_NEXTHOP: return "extended_next_hop";
    case BGP_CAP_EXTENDED_MESSAGE: return "extended_message";
    case BGP_CAP_ROLE: return "bgp_role";
    case BGP_CAP_GRACEFUL_RESTART: return "graceful_restart";
    case BGP_CAP_FOUR_OCTET_AS: return "four_octet_as";
    case BGP_CAP_ADD_PATH: return "add_path";
    case BGP_CAP_ENHANCED_ROUTE_REFRESH: return "enhanced_route_refresh";
    case BGP_CAP_LLGR: return "long_lived_graceful_restart";
    case BGP_CAP_FQDN: return "fqdn";
    case BGP_CAP_ROUTE_REFRESH_OLD: return "route_refresh_old";
    }
    return "unknown";
}

/* the header of a message of len bytes in all */
static size_t bgp_put_header(uint8_t *out, uint16_t len, enum bgp_type type)
{
    memset(out, 0xff, 16); /* the marker */
    out[16] = (uint8_t)(len >> 8);
    out[17] = (uint8_t)len;
    out[BGP_TYPE_OFFSET] = (uint8_t)type;
    return BGP_HEADER;
}

size_t bgp_keepalive(uint8_t out[BGP_KEEPALIVE_LEN])
{
    return bgp_put_header(out, BGP_HEADER, BGP_KEEPALIVE);
}

size_t bgp_notification(uint8_t out[BGP_NOTIFICATION_LEN], uint8_t code, uint8_t subcode)
{
    size_t n = bgp_put_header(out, BGP_HEADER + 2, BGP_NOTIFICATION);
    out[n++] = code;
    out[n++] = subcode;
    return n;
}

static size_t bgp_goodbye(uint8_t *out, size_t max)
{
    return max >= BGP_HEADER + 2 ? bgp_notification(out, BGP_ERR_CEASE, BGP_CEASE_ADMIN_SHUTDOWN) : 0;
}

/* ---- pcap-proc: the summary of one captured session ---- */

#define MAX_NOTIFICATIONS 16

struct bgp_digest {
    struct bgp_open open;
    bool has_open;
    uint64_t types[6], opens;
    struct { uint8_t code, subcode; } notifications[MAX_NOTIFICATIONS];
    unsigned n_notifications;
    uint64_t more_notifications;
};

static const char *afi_safi_name(uint16_t afi, uint8_t safi)
{
    static const struct { uint16_t afi; uint8_t safi; const char *name; } names[] = {
        { 1, 1, "ipv4_unicast" }, { 1, 2, "ipv4_multicast" }, { 1, 4, "ipv4_labeled_unicast" },
        { 1, 5, "ipv4_mvpn" }, { 1, 128, "ipv4_vpn" }, { 1, 133, "ipv4_flowspec" }, { 1, 73, "ipv4_sr_policy" },
        { 2, 1, "ipv6_unicast" }, { 2, 2, "ipv6_multicast" }, { 2, 4, "ipv6_labeled_unicast" },
        { 2, 5, "ipv6_mvpn" }, { 2, 128, "ipv6_vpn" }, { 2, 133, "ipv6_flowspec" }, { 2, 73, "ipv6_sr_policy" },
        { 25, 65, "l2vpn_vpls" }, { 25, 70, "l2vpn_evpn" }, { 16388, 71, "bgp_ls" }, { 16388, 72, "bgp_ls_vpn" },
        { 1, 132, "ipv4_rtc" },
    };
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        if (names[i].afi == afi && names[i].safi == safi)
            return names[i].name;
    return NULL;
}

static void *bgp_digest_new(void) { return calloc(1, sizeof(struct bgp_digest)); }
static void bgp_digest_free(void *g) { free(g); }

static bool bgp_digest_message(void *digest, uint8_t *msg, size_t *len)
{
    struct bgp_digest *g = digest;
    struct msg_info info = { .kind = -1 };
    bgp_inspect(msg, *len, &info);
    g->types[info.kind >= 1 && info.kind <= 5 ? info.kind : 0]++;
    uint8_t code, subcode;
    if (info.kind == 1 && !g->has_open && bgp_parse_open(msg, *len, &g->open) == 0)
        g->has_open = true;
    if (info.kind == BGP_NOTIFICATION && bgp_parse_notification(msg, *len, &code, &subcode) == 0) {
        if (g->n_notifications < MAX_NOTIFICATIONS) {
            g->notifications[g->n_notifications].code = code;
            g->notifications[g->n_notifications++].subcode = subcode;
        } else {
            g->more_notifications++;
        }
    }
    return true;
}

static json_t *open_json(const struct bgp_open *o)
{
    char id[ADDR_STRLEN];
    addr_format_ipv4(o->bgp_id, id);
    json_t *j = json_object(), *caps = json_array(), *fams = json_array();
    json_object_set_new(j, "version", json_integer(o->version));
    json_object_set_new(j, "as", json_integer(o->asn));
    json_object_set_new(j, "my_as_field", json_integer(o->my_as));
    json_object_set_new(j, "hold_time", json_integer(o->hold_time));
    json_object_set_new(j, "bgp_id", json_string(id));
    for (unsigned i = 0; i < o->n_caps; i++) {
        const char *name = bgp_capability_name(o->caps[i]);
        bool seen = false; /* multiprotocol comes once per family: name it once */
        for (unsigned k = 0; k < i; k++)
            seen |= o->caps[k] == o->caps[i];
        if (!seen)
            json_array_append_new(caps, strcmp(name, "unknown") ? json_string(name)
                                                                 : json_sprintf("unknown_%u", o->caps[i]));
    }
    for (unsigned i = 0; i < o->n_afi_safi; i++) {
        const char *name = afi_safi_name(o->afi[i], o->safi[i]);
        json_t *f = json_pack("{s:i,s:i}", "afi", o->afi[i], "safi", o->safi[i]);
        if (name)
            json_object_set_new(f, "name", json_string(name));
        json_array_append_new(fams, f);
    }
    json_object_set_new(j, "capabilities", caps);
    json_object_set_new(j, "afi_safi", fams);
    return j;
}

static json_t *bgp_digest_json(const void *digest)
{
    const struct bgp_digest *g = digest;
    json_t *j = json_object(), *types = json_object(), *notes = json_array();
    if (g->has_open)
        json_object_set_new(j, "open", open_json(&g->open));
    for (int t = 1; t <= 5; t++)
        json_object_set_new(types, bgp_kind_name(t), json_integer((json_int_t)g->types[t]));
    if (g->types[0])
        json_object_set_new(types, "malformed", json_integer((json_int_t)g->types[0]));
    json_object_set_new(j, "messages", types);
    for (unsigned i = 0; i < g->n_notifications; i++) {
        char name[160];
        bgp_notification_name(g->notifications[i].code, g->notifications[i].subcode, name, sizeof name);
        json_array_append_new(notes, json_string(name));
    }
    json_object_set_new(j, "notifications", notes);
    if (g->more_notifications)
        json_object_set_new(j, "notifications_not_listed", json_integer((json_int_t)g->more_notifications));
    return j;
}

const struct proto proto_bgp = {
    .name = "bgp",
    .transport = TRANSPORT_TCP,
    .kind_offset = 18,
    .max_message = BGP_MAX,
    .max_message_ext = BGP_MAX_EXT,
    .default_port = 179,
    .inspect = bgp_inspect,
    .frame = bgp_frame,
    .frame_ext = bgp_frame_ext,
    .upgrades = bgp_upgrades,
    .starts_session = bgp_starts_session,
    .kind_name = bgp_kind_name,
    .msg_role = bgp_msg_role,
    .goodbye = bgp_goodbye,
    .digest_new = bgp_digest_new,
    .digest_message = bgp_digest_message,
    .digest_json = bgp_digest_json,
    .digest_free = bgp_digest_free,
};

/* ---- building messages (proto.h) ---- */

size_t bgp_begin(struct buf *b, enum bgp_type type)
{
    static const uint8_t marker[16] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
    size_t at = b->len;
    buf_put(b, marker, sizeof marker);
    buf_put_u16(b, 0); /* length: bgp_end */
    buf_put_u8(b, (uint8_t)type);
    return at;
}

const char *bgp_attr_name(uint8_t type)
{
    switch (type) { /* RFC 4271, 1997, 4456, 4760, 4360, 6793, 8092, 9234 */
    case 1: return "ORIGIN";
    case 2: return "AS_PATH";
    case 3: return "NEXT_HOP";
    case 4: return "MULTI_EXIT_DISC";
    case 5: return "LOCAL_PREF";
    case 6: return "ATOMIC_AGGREGATE";
    case 7: return "AGGREGATOR";
    case 8: return "COMMUNITIES";
    case 9: return "ORIGINATOR_ID";
    case 10: return "CLUSTER_LIST";
    case 14: return "MP_REACH_NLRI";
    case 15: return "MP_UNREACH_NLRI";
    case 16: return "EXTENDED_COMMUNITIES";
    case 17: return "AS4_PATH";
    case 18: return "AS4_AGGREGATOR";
    case 32: return "LARGE_COMMUNITY";
    case 35: return "OTC";
    default: return NULL;
    }
}

/* ---- 2-byte AS attributes widened (RFC 6793 section 4.2.3) ---- */

struct attr_view {
    uint8_t flags, type;
    struct cursor value;
};

static bool next_attr(struct cursor *c, struct attr_view *a)
{
    a->flags = cursor_u8(c);
    a->type = cursor_u8(c);
    uint16_t len = a->flags & BGP_ATTR_FLAG_EXTENDED ? cursor_be16(c) : cursor_u8(c);
    a->value = cursor_sub(c, len);
    return cursor_ok(c);
}

/* how many ASes a path counts for: a set one, confederation segments none */
static int path_length(struct cursor c, unsigned width)
{
    int n = 0;
    while (cursor_remaining(&c)) {
        uint8_t type = cursor_u8(&c), count = cursor_u8(&c);
        if (!cursor_skip(&c, (size_t)count * width) || type < BGP_AS_SET || type > BGP_AS_CONFED_SET)
            return -1;
        n += type == BGP_AS_SEQUENCE ? count : type == BGP_AS_SET ? 1 : 0;
    }
    return cursor_ok(&c) ? n : -1;
}

static void put_attr_header(struct buf *b, uint8_t flags, uint8_t type, size_t len)
{
    flags = (uint8_t)(len > 255 ? flags | BGP_ATTR_FLAG_EXTENDED : flags & ~BGP_ATTR_FLAG_EXTENDED);
    buf_put_u8(b, flags);
    buf_put_u8(b, type);
    if (len > 255)
        buf_put_u16(b, (uint16_t)len);
    else
        buf_put_u8(b, (uint8_t)len);
}

/* The widened AS_PATH: its first `keep` ASes (all when keep < 0) as 4-byte numbers, then AS4_PATH. */
static int put_as_path(struct buf *b, uint8_t flags, struct cursor path, int keep, struct cursor as4)
{
    struct buf v = { 0 };
    while (cursor_remaining(&path) && keep != 0) {
        uint8_t type = cursor_u8(&path), count = cursor_u8(&path);
        uint8_t take = type == BGP_AS_SEQUENCE && keep > 0 && keep < count ? (uint8_t)keep : count;
        buf_put_u8(&v, type);
        buf_put_u8(&v, take);
        for (unsigned i = 0; i < count; i++) {
            uint16_t as = cursor_be16(&path);
            if (i < take)
                buf_put_u32(&v, as);
        }
        if (keep > 0)
            keep -= type == BGP_AS_SEQUENCE ? take : type == BGP_AS_SET ? 1 : 0;
    }
    if (keep >= 0)
        buf_put(&v, cursor_rest(&as4), cursor_remaining(&as4));
    int rc = cursor_ok(&path) && !v.failed && v.len <= 0xffff ? 0 : -1;
    if (rc == 0) {
        put_attr_header(b, flags, BGP_ATTR_AS_PATH, v.len);
        buf_put(b, v.p, v.len);
    }
    buf_free(&v);
    return rc;
}

int bgp_attrs_as4(const uint8_t *attrs, size_t len, struct buf *out)
{
    struct cursor c = cursor_make(attrs, len), as4_path = cursor_make(NULL, 0), as4_aggregator = as4_path;
    bool have_as4_path = false, have_as4_aggregator = false, aggregator_trans = true;
    struct attr_view a;
    while (cursor_remaining(&c)) { /* what the merge needs, wherever it sits */
        if (!next_attr(&c, &a))
            return -1;
        if (a.type == BGP_ATTR_AS4_PATH) {
            as4_path = a.value;
            have_as4_path = path_length(a.value, 4) >= 0;
        } else if (a.type == BGP_ATTR_AS4_AGGREGATOR && cursor_remaining(&a.value) == 8) {
            as4_aggregator = a.value;
            have_as4_aggregator = true;
        } else if (a.type == BGP_ATTR_AGGREGATOR) {
            struct cursor v = a.value;
            aggregator_trans = cursor_be16(&v) == BGP_AS_TRANS;
        }
    }
    /* an AGGREGATOR of a real 2-byte AS says the AS4_ attributes are stale: they are ignored */
    if (!aggregator_trans)
        have_as4_path = have_as4_aggregator = false;
    c = cursor_make(attrs, len);
    while (cursor_remaining(&c)) {
        next_attr(&c, &a);
        size_t vlen = cursor_remaining(&a.value);
        if (a.type == BGP_ATTR_AS_PATH) {
            int n2 = path_length(a.value, 2), n4 = have_as4_path ? path_length(as4_path, 4) : -1;
            if (n2 < 0)
                return -1;
            if (put_as_path(out, a.flags, a.value, n4 >= 0 && n4 <= n2 ? n2 - n4 : -1,
                            n4 >= 0 && n4 <= n2 ? as4_path : cursor_make(NULL, 0)) < 0)
                return -1;
        } else if (a.type == BGP_ATTR_AGGREGATOR) {
            if (vlen != 6)
                return -1;
            uint16_t as = cursor_be16(&a.value);
            put_attr_header(out, a.flags, BGP_ATTR_AGGREGATOR, 8);
            if (have_as4_aggregator)
                buf_put(out, cursor_rest(&as4_aggregator), 8);
            else {
                buf_put_u32(out, as);
                buf_put(out, cursor_rest(&a.value), 4);
            }
        } else if (a.type != BGP_ATTR_AS4_PATH && a.type != BGP_ATTR_AS4_AGGREGATOR) {
            put_attr_header(out, a.flags, a.type, vlen);
            buf_put(out, cursor_rest(&a.value), vlen);
        }
    }
    return out->failed ? -1 : 0;
}

int bgp_update_as4(const uint8_t *msg, size_t len, struct buf *out)
{
    struct cursor c = cursor_make(msg, len);
    cursor_skip(&c, BGP_TYPE_OFFSET + 1);
    uint16_t wlen = cursor_be16(&c);
    const uint8_t *withdrawn = cursor_take(&c, wlen);
    uint16_t alen = cursor_be16(&c);
    const uint8_t *attrs = cursor_take(&c, alen);
    if (!cursor_ok(&c) || msg[BGP_TYPE_OFFSET] != BGP_UPDATE)
        return -1;
    out->len = 0;
    size_t at = bgp_begin(out, BGP_UPDATE);
    buf_put_u16(out, wlen);
    buf_put(out, withdrawn, wlen);
    size_t attrs_at = out->len;
    buf_put_u16(out, 0);
    if (bgp_attrs_as4(attrs, alen, out) < 0 || out->len - attrs_at - 2 > 0xffff)
        return -1;
    buf_put_u16_at(out, attrs_at, (uint16_t)(out->len - attrs_at - 2));
    buf_put(out, cursor_rest(&c), cursor_remaining(&c));
    bgp_end(out, at);
    return out->failed || out->len > BGP_MAX_MESSAGE ? -1 : 0;
}

void bgp_end(struct buf *b, size_t at) { buf_put_u16_at(b, at + 16, (uint16_t)(b->len - at)); }

/* An OPEN (RFC 4271 section 4.2) with its capabilities in one optional parameter. */
void bgp_put_open(struct buf *b, const struct bgp_open_spec *o)
{
    size_t at = bgp_begin(b, BGP_OPEN);
    buf_put_u8(b, 4);
    buf_put_u16(b, o->asn > 0xffff ? BGP_AS_TRANS : (uint16_t)o->asn);
    buf_put_u16(b, o->hold_time);
    buf_put_u32(b, o->bgp_id);
    size_t opt_at = b->len;
    buf_put_u8(b, 0);                      /* optional parameters length */
    buf_put_u8(b, BGP_OPEN_PARAM_CAPABILITIES);
    size_t param_at = b->len;
    buf_put_u8(b, 0);                      /* parameter length */
    for (unsigned i = 0; i < o->n_families; i++) {
        buf_put_u8(b, BGP_CAP_MULTIPROTOCOL);
        buf_put_u8(b, 4);
        buf_put_u16(b, o->afi[i]);
        buf_put_u8(b, 0);
        buf_put_u8(b, o->safi[i]);
    }
    buf_put_u8(b, BGP_CAP_ROUTE_REFRESH);
    buf_put_u8(b, 0);
    if (o->extended_nexthop) { /* IPv4 unicast and multicast routes with IPv6 next hops (RFC 8950) */
        buf_put_u8(b, BGP_CAP_EXTENDED_NEXTHOP);
        buf_put_u8(b, 12);
        for (uint16_t safi = 1; safi <= 2; safi++) {
            buf_put_u16(b, 1);
            buf_put_u16(b, safi);
            buf_put_u16(b, 2);
        }
    }
    if (o->four_byte_as) {
        buf_put_u8(b, BGP_CAP_FOUR_OCTET_AS);
        buf_put_u8(b, 4);
        buf_put_u32(b, o->asn);
    }
    if (o->addpath && o->n_families) {
        buf_put_u8(b, BGP_CAP_ADD_PATH);
        buf_put_u8(b, (uint8_t)(4 * o->n_families));
        for (unsigned i = 0; i < o->n_families; i++) {
            buf_put_u16(b, o->afi[i]);
            buf_put_u8(b, o->safi[i]);
            buf_put_u8(b, BGP_ADD_PATH_SEND_RECEIVE);
        }
    }
    if (!b->failed) {
        b->p[param_at] = (uint8_t)(b->len - param_at - 1);
        b->p[opt_at] = (uint8_t)(b->len - opt_at - 1);
    }
    bgp_end(b, at);
}
