/* bmp.c — BMP v3 (RFC 7854, RFC 9069 Loc-RIB): message framing and session start for the
 * replay; INIT information, per-peer headers and peer down reasons for pcap-proc's summary. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "addr.h"
#include "cursor.h"
#include "proto/proto.h"
#include "buf.h"

#define BMP_HEADER 6
#define BMP_MAX (1u << 20) /* a route monitoring message carries one BGP message (<= 64 KiB): 1 MiB bounds what a session buffers */

static ssize_t bmp_frame(const uint8_t *p, size_t len)
{
    struct cursor c = cursor_make(p, len);
    struct cursor h = cursor_sub(&c, BMP_HEADER); /* checked once: the reads below are all there */
    if (!cursor_ok(&h))
        return len > 0 && p[0] != 3 ? -1 : 0;
    uint8_t version = cursor_u8(&h);
    uint32_t msg_len = cursor_be32(&h);
    if (version != 3 || msg_len < BMP_HEADER || msg_len > BMP_MAX)
        return -1;
    return msg_len <= len ? (ssize_t)msg_len : 0;
}

static int bmp_inspect(const uint8_t *msg, size_t len, struct msg_info *info)
{
    ssize_t n = bmp_frame(msg, len);
    info->kind = n > 0 ? msg[5] : -1;
    return n > 0 && n == (ssize_t)len ? 0 : -1;
}

static bool bmp_starts_session(const uint8_t *msg, size_t len)
{
    return bmp_frame(msg, len) > 0 && msg[5] == BMP_INIT;
}

static enum msg_role bmp_msg_role(int kind)
{
    switch (kind) {
    case BMP_INIT: return ROLE_START;
    case BMP_PEER_UP: return ROLE_PEER_UP;
    case BMP_PEER_DOWN: return ROLE_PEER_DOWN;
    case BMP_TERM: return ROLE_END;
    default: return ROLE_NONE;
    }
}

static void bmp_put_u16(uint8_t *p, size_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void bmp_put_u32(uint8_t *p, size_t v)
{
    bmp_put_u16(p, v >> 16);
    bmp_put_u16(p + 2, v);
}

/* Clone k of a router (network.clones.sysname): its INIT's sysName gets "-k" appended, so
 * that collectors keying routers by name see one per clone. In place, the rest of the
 * message moved up; the TLV's and the message's lengths follow. */
static size_t bmp_clone_identity(uint8_t *msg, size_t len, size_t cap, unsigned k, unsigned what)
{
    if (!(what & CLONE_SYSNAME) || bmp_frame(msg, len) != (ssize_t)len || msg[5] != BMP_INIT)
        return len;
    char suffix[16];
    size_t sl = (size_t)snprintf(suffix, sizeof suffix, "-%u", k);
    struct cursor c = cursor_make(msg, len);
    cursor_skip(&c, BMP_HEADER);
    while (cursor_remaining(&c) >= 4) {
        size_t at = len - cursor_remaining(&c);
        uint16_t type = cursor_be16(&c), tlv_len = cursor_be16(&c);
        if (!cursor_skip(&c, tlv_len))
            return len;
        if (type != BMP_INFO_SYS_NAME)
            continue;
        if (len + sl > cap || tlv_len + sl > 0xffff)
            return len;
        size_t end = at + 4 + tlv_len;
        memmove(msg + end + sl, msg + end, len - end);
        memcpy(msg + end, suffix, sl);
        bmp_put_u16(msg + at + 2, tlv_len + sl);
        bmp_put_u32(msg + 1, len + sl);
        return len + sl;
    }
    return len;
}

/* A TERM, reason 1 (administratively closed: RFC 7854 section 4.5) */
static size_t bmp_goodbye(uint8_t *out, size_t max)
{
    enum { TERM_LEN = BMP_HEADER + 6, TLV_REASON = 1, REASON_ADMIN_CLOSED = 0 };
    if (max < TERM_LEN)
        return 0;
    size_t n = 0;
    out[n++] = 3; /* version */
    out[n++] = 0; out[n++] = 0; out[n++] = 0; out[n++] = TERM_LEN;
    out[n++] = BMP_TERM;
    out[n++] = 0; out[n++] = TLV_REASON;
    out[n++] = 0; out[n++] = 2;
    out[n++] = 0; out[n++] = REASON_ADMIN_CLOSED;
    return n;
}

/* A peer is its per-peer header's type, distinguisher and address (RFC 7854 section 4.2):
 * its AS and BGP ID may change between a PEER_DOWN and the next PEER_UP. */
#define PEER_ID_LEN 25
static size_t bmp_peer_key(const uint8_t *msg, size_t len, uint8_t *key, size_t max)
{
    struct cursor c = cursor_make(msg, len);
    cursor_skip(&c, BMP_HEADER);
    uint8_t type = cursor_u8(&c);
    cursor_skip(&c, 1); /* flags */
    const uint8_t *rd_addr = cursor_take(&c, 8 + 16);
    if (!cursor_ok(&c) || max < PEER_ID_LEN)
        return 0;
    key[0] = type;
    memcpy(key + 1, rd_addr, 8 + 16);
    return PEER_ID_LEN;
}

/* export_time: now (config bmp.timestamps: now): the per-peer header's timestamp (seconds and
 * microseconds, RFC 7854 section 4.2) of a message that has one becomes the moment it is
 * queued; 0 (not available) stays 0. In place; no state. */
#define PEER_TIMESTAMP_OFFSET (BMP_HEADER + 1 + 1 + 8 + 16 + 4 + 4)
static int bmp_rewrite(void *rewriter, const struct rewrite_config *cfg, uint8_t *msg, size_t len, int64_t now_ns)
{
    (void)rewriter;
    struct cursor c = cursor_make(msg, len);
    struct cursor h = cursor_sub(&c, BMP_HEADER);
    cursor_skip(&h, 5);
    uint8_t type = cursor_u8(&h);
    if (!cursor_ok(&h) || bmp_frame(msg, len) != (ssize_t)len)
        return -1;
    bool per_peer = type == BMP_ROUTE_MONITORING || type == BMP_STATS || type == BMP_PEER_DOWN ||
                    type == BMP_PEER_UP || type == BMP_ROUTE_MIRRORING;
    cursor_skip(&c, PEER_TIMESTAMP_OFFSET - BMP_HEADER);
    uint32_t secs = cursor_be32(&c), usecs = cursor_be32(&c);
    if (!cfg->export_time_now || !per_peer || !cursor_ok(&c) || (secs == 0 && usecs == 0))
        return 0;
    uint32_t now_s = (uint32_t)(now_ns / 1000000000), now_us = (uint32_t)(now_ns % 1000000000 / 1000);
    uint8_t *ts = msg + PEER_TIMESTAMP_OFFSET; /* the cursor read these 8 bytes */
    for (int i = 0; i < 4; i++) {
        ts[i] = (uint8_t)(now_s >> (24 - 8 * i));
        ts[4 + i] = (uint8_t)(now_us >> (24 - 8 * i));
    }
    return 0;
}

static const char *bmp_kind_name(int kind)
{
    static const char *names[] = { "route_monitoring", "stats", "peer_down", "peer_up",
                                   "init", "term", "route_mirroring" };
    if (kind >= 0 && kind <= 6)
        return names[kind];
    return kind == 100 ? "rpat" : "other";
}

/* ---- pcap-proc: the summary of one captured session ---- */

#define PEER_HEADER 42
#define PEER_KEY 33          /* type, RD, address, AS, BGP ID */
#define MAX_PEERS 65536
#define MAX_STRING 256

struct bmp_peer {
    uint8_t key[PEER_KEY];
    bool ipv6;
    uint64_t peer_up, peer_down, route_monitoring, stats, route_mirroring, other;
    uint64_t down_reasons[8];  /* 0 = unknown reason code */
};

struct bmp_digest {
    uint64_t types[8], rpat, other_types, malformed;
    char sys_name[MAX_STRING], sys_descr[MAX_STRING];
    struct bmp_peer *peers;
    uint32_t *slots;           /* open addressing: index + 1 */
    size_t n_peers, n_slots;
    uint64_t peers_over_limit;
};

static uint32_t key_hash(const uint8_t *k)
{
    return hash_bytes(HASH_START, k, PEER_KEY);
}

static bool grow_slots(struct bmp_digest *g)
{
    size_t n = g->n_slots ? g->n_slots * 2 : 64;
    uint32_t *slots = calloc(n, sizeof *slots);
    if (!slots)
        return false;
    for (size_t i = 0; i < g->n_peers; i++) {
        size_t at = key_hash(g->peers[i].key) & (n - 1);
        while (slots[at])
            at = (at + 1) & (n - 1);
        slots[at] = (uint32_t)i + 1;
    }
    free(g->slots);
    g->slots = slots;
    g->n_slots = n;
    return true;
}

static struct bmp_peer *find_peer(struct bmp_digest *g, const uint8_t *key, bool ipv6)
{
    if (g->n_slots) {
        for (size_t at = key_hash(key) & (g->n_slots - 1); g->slots[at]; at = (at + 1) & (g->n_slots - 1))
            if (memcmp(g->peers[g->slots[at] - 1].key, key, PEER_KEY) == 0)
                return &g->peers[g->slots[at] - 1];
    }
    if (g->n_peers == MAX_PEERS) {
        g->peers_over_limit++;
        return NULL;
    }
    if ((g->n_peers + 1) * 2 > g->n_slots && !grow_slots(g))
        return NULL;
    struct bmp_peer *p = realloc(g->peers, (g->n_peers + 1) * sizeof *p);
    if (!p)
        return NULL;
    g->peers = p;
    p = &g->peers[g->n_peers];
    memset(p, 0, sizeof *p);
    memcpy(p->key, key, PEER_KEY);
    p->ipv6 = ipv6;
    size_t at = key_hash(key) & (g->n_slots - 1);
    while (g->slots[at])
        at = (at + 1) & (g->n_slots - 1);
    g->slots[at] = (uint32_t)++g->n_peers;
    return p;
}

static void *bmp_digest_new(void) { return calloc(1, sizeof(struct bmp_digest)); }

static void bmp_digest_free(void *digest)
{
    struct bmp_digest *g = digest;
    if (!g)
        return;
    free(g->peers);
    free(g->slots);
    free(g);
}

/* INIT information TLVs (RFC 7854 4.4): 0 string, 1 sysDescr, 2 sysName */
static void read_init(struct bmp_digest *g, struct cursor *c)
{
    while (cursor_remaining(c) >= 4) {
        uint16_t type = cursor_be16(c), len = cursor_be16(c);
        const uint8_t *v = cursor_take(c, len);
        if (!v)
            return;
        char *out = type == BMP_INFO_SYS_DESCR ? g->sys_descr : type == BMP_INFO_SYS_NAME ? g->sys_name : NULL;
        if (!out)
            continue;
        size_t n = len < MAX_STRING - 1 ? len : MAX_STRING - 1;
        for (size_t i = 0; i < n; i++) /* printable ASCII only: the summary is for people */
            out[i] = v[i] >= 0x20 && v[i] < 0x7f ? (char)v[i] : '?';
        out[n] = 0;
    }
}

static bool bmp_digest_message(void *digest, uint8_t *msg, size_t *len)
{
    struct bmp_digest *g = digest;
    ssize_t framed = bmp_frame(msg, *len);
    if (framed <= 0 || framed != (ssize_t)*len) {
        g->malformed++;
        return true;
    }
    uint8_t type = msg[5];
    if (type < 8)
        g->types[type]++;
    else if (type == BMP_RPAT)
        g->rpat++;
    else
        g->other_types++;
    struct cursor c = cursor_make(msg + BMP_HEADER, *len - BMP_HEADER);
    if (type == BMP_INIT) {
        read_init(g, &c);
        return true;
    }
    if (!(type <= BMP_PEER_UP || type == BMP_ROUTE_MIRRORING || type == BMP_RPAT))
        return true; /* TERM and unknown types have no per-peer header */
    uint8_t key[PEER_KEY];
    uint8_t peer_type = cursor_u8(&c), flags = cursor_u8(&c);
    key[0] = peer_type;
    cursor_copy(&c, key + 1, 8);   /* RD */
    cursor_copy(&c, key + 9, 16);  /* address */
    cursor_copy(&c, key + 25, 8);  /* AS, BGP ID */
    cursor_skip(&c, 8);            /* timestamp */
    if (!cursor_ok(&c)) {
        g->malformed++;
        return true;
    }
    struct bmp_peer *p = find_peer(g, key, flags & 0x80);
    if (!p)
        return true;
    switch (type) {
    case BMP_ROUTE_MONITORING: p->route_monitoring++; break;
    case BMP_STATS: p->stats++; break;
    case BMP_PEER_DOWN: {
        uint8_t reason = cursor_u8(&c);
        p->peer_down++;
        p->down_reasons[reason >= 1 && reason <= 6 ? reason : 0]++;
        break;
    }
    case BMP_PEER_UP: p->peer_up++; break;
    case 6: p->route_mirroring++; break;
    default: p->other++;
    }
    return true;
}

static void format_rd(const uint8_t *rd, char *out, size_t len)
{
    struct cursor c = cursor_make(rd, 8);
    uint16_t type = cursor_be16(&c);
    if (type == 0) {
        uint16_t as = cursor_be16(&c);
        snprintf(out, len, "%u:%u", as, cursor_be32(&c));
    } else if (type == 1) {
        char ip[ADDR_STRLEN];
        addr_format_ipv4(cursor_be32(&c), ip);
        snprintf(out, len, "%s:%u", ip, cursor_be16(&c));
    } else if (type == 2) {
        uint32_t as = cursor_be32(&c);
        snprintf(out, len, "%u:%u", as, cursor_be16(&c));
    } else {
        snprintf(out, len, "type%u:%02x%02x%02x%02x%02x%02x", type, rd[2], rd[3], rd[4], rd[5], rd[6], rd[7]);
    }
}

static json_t *peer_json(const struct bmp_peer *p)
{
    static const char *types[] = { "global", "rd", "local", "loc_rib" };
    static const char *reasons[] = { "unknown", "local_notification", "local_no_notification",
                                     "remote_notification", "remote_no_notification", "peer_deconfigured",
                                     "local_system_closed" };
    struct cursor c = cursor_make(p->key + 25, 8);
    uint32_t as = cursor_be32(&c), id = cursor_be32(&c);
    char rd[64], a[ADDR_STRLEN], bgp_id[ADDR_STRLEN];
    struct addr addr;
    if (p->ipv6)
        addr_from_bytes(&addr, AF_INET6, p->key + 9);
    else
        addr_from_bytes(&addr, AF_INET, p->key + 9 + 12);
    format_rd(p->key + 1, rd, sizeof rd);
    addr_format_ipv4(id, bgp_id);
    json_t *j = json_object();
    json_object_set_new(j, "type", p->key[0] < 4 ? json_string(types[p->key[0]]) : json_integer(p->key[0]));
    json_object_set_new(j, "rd", json_string(rd));
    json_object_set_new(j, "address", json_string(addr_format(&addr, a)));
    json_object_set_new(j, "as", json_integer(as));
    json_object_set_new(j, "bgp_id", json_string(bgp_id));
    json_object_set_new(j, "peer_up", json_integer((json_int_t)p->peer_up));
    json_object_set_new(j, "peer_down", json_integer((json_int_t)p->peer_down));
    if (p->peer_down) {
        json_t *r = json_object();
        for (int i = 0; i < 7; i++)
            if (p->down_reasons[i])
                json_object_set_new(r, reasons[i], json_integer((json_int_t)p->down_reasons[i]));
        json_object_set_new(j, "down_reasons", r);
    }
    json_object_set_new(j, "route_monitoring", json_integer((json_int_t)p->route_monitoring));
    json_object_set_new(j, "stats", json_integer((json_int_t)p->stats));
    if (p->route_mirroring)
        json_object_set_new(j, "route_mirroring", json_integer((json_int_t)p->route_mirroring));
    if (p->other)
        json_object_set_new(j, "other", json_integer((json_int_t)p->other));
    return j;
}

static json_t *bmp_digest_json(const void *digest)
{
    const struct bmp_digest *g = digest;
    json_t *j = json_object(), *types = json_object(), *peers = json_array();
    if (g->types[4])
        json_object_set_new(j, "init", json_pack("{s:s,s:s}", "sys_name", g->sys_name, "sys_descr", g->sys_descr));
    for (int t = 0; t < 8; t++)
        if (g->types[t] || t <= 5)
            json_object_set_new(types, t == 7 ? "type_7" : bmp_kind_name(t), json_integer((json_int_t)g->types[t]));
    if (g->rpat)
        json_object_set_new(types, "rpat", json_integer((json_int_t)g->rpat));
    if (g->other_types)
        json_object_set_new(types, "other", json_integer((json_int_t)g->other_types));
    if (g->malformed)
        json_object_set_new(types, "malformed", json_integer((json_int_t)g->malformed));
    json_object_set_new(j, "messages", types);
    for (size_t i = 0; i < g->n_peers; i++)
        json_array_append_new(peers, peer_json(&g->peers[i]));
    json_object_set_new(j, "peers", peers);
    if (g->peers_over_limit)
        json_object_set_new(j, "messages_of_peers_over_limit", json_integer((json_int_t)g->peers_over_limit));
    return j;
}

const struct proto proto_bmp = {
    .name = "bmp",
    .transport = TRANSPORT_TCP,
    .kind_offset = 5,
    .max_message = BMP_MAX,
    .default_port = 1790,
    .inspect = bmp_inspect,
    .frame = bmp_frame,
    .starts_session = bmp_starts_session,
    .kind_name = bmp_kind_name,
    .msg_role = bmp_msg_role,
    .peer_key = bmp_peer_key,
    .goodbye = bmp_goodbye,
    .rewrite = bmp_rewrite,
    .clone_identity = bmp_clone_identity,
    .digest_new = bmp_digest_new,
    .digest_message = bmp_digest_message,
    .digest_json = bmp_digest_json,
    .digest_free = bmp_digest_free,
};

/* ---- building messages (proto.h) ---- */

size_t bmp_begin(struct buf *b, enum bmp_type type)
{
    size_t at = b->len;
    buf_put_u8(b, 3); /* version */
    buf_put_u32(b, 0); /* length: bmp_end */
    buf_put_u8(b, (uint8_t)type);
    return at;
}

void bmp_end(struct buf *b, size_t at) { buf_put_u32_at(b, at + 1, (uint32_t)(b->len - at)); }

/* RFC 7854 section 4.2 (Loc-RIB: RFC 9069 section 4.1, the address zero) */
void bmp_put_peer_header(struct buf *b, const struct bmp_peer_header *h)
{
    buf_put_u8(b, h->type);
    buf_put_u8(b, h->flags);
    buf_put_u32(b, (uint32_t)(h->distinguisher >> 32));
    buf_put_u32(b, (uint32_t)h->distinguisher);
    if (h->addr.family)
        buf_put_addr16(b, &h->addr);
    else
        buf_put_zero(b, 16);
    buf_put_u32(b, h->as);
    buf_put_u32(b, h->bgp_id);
    buf_put_u32(b, (uint32_t)(h->ts_ns / 1000000000));
    buf_put_u32(b, (uint32_t)(h->ts_ns % 1000000000 / 1000));
}

void bmp_put_info(struct buf *b, enum bmp_info_type type, const char *text)
{
    size_t n = strlen(text);
    if (n > MAX_STRING)
        n = MAX_STRING;
    buf_put_u16(b, (uint16_t)type);
    buf_put_u16(b, (uint16_t)n);
    buf_put(b, text, n);
}
