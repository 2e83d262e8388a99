/* mrt_source.c — one MRT dump as a stream of frames: its peers become live sessions (mrt_set.c
 * plays the config's dumps side by side as the source, source.h).
 *
 * The source hands out what a capture of those sessions would hold: IPv4/IPv6 TCP frames
 * (LINKTYPE_RAW) of synthesised connections, so that the replay, pcap-proc and every rule
 * of the session engine (reassembly, the BGP peer, BMP's preamble, reconnects, loops, fan-out,
 * clones) apply unchanged, and `pcap-proc` turns a dump into a capture.
 *
 * As BGP (mrt.as: bgp) each selected MRT peer is a connection from the peer's address to the
 * collector's port 179: a SYN, an OPEN synthesised from the peer's AS and BGP ID (4-byte AS
 * and ADD-PATH as its first record says, IPv4/IPv6 unicast and multicast), its RIB entries as
 * UPDATEs, its BGP4MP updates as they are. A STATE_CHANGE out of Established ends the
 * connection (FIN); the next one starts a new connection.
 * As BMP (mrt.as: bmp) one connection from the router's address: INIT, then per peer a
 * PEER_UP (the peer's OPEN received, the router's sent) before its first route, its routes as
 * Route Monitoring, a STATE_CHANGE out of Established as PEER_DOWN and back as PEER_UP.
 *
 * RIB entries are packed by attribute set: each speaker keeps PACKS open UPDATEs keyed by
 * (AFI/SAFI, attributes); an entry joins the one with its attributes, or opens one (the least
 * recently used goes out first). Packs go out when full, when the peer's next BGP4MP record
 * comes, when the records' time moves, and at the end. TABLE_DUMP_V2 carries IPv6 next hops
 * in an abbreviated MP_REACH_NLRI (RFC 6396 section 4.3.4): it is rebuilt whole here.
 *
 * Memory: one record (mrt.c), PACKS UPDATEs per speaker with routes waiting, one frame being
 * filled per connection, and the frames made from one record: bounded by the record, never
 * by the dump. */
#include "source/mrt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "decode.h"
#include "cursor.h"
#include "hash.h"
#include "log.h"
#include "proto/proto.h"
#include "source.h"
#include "source/mrt_int.h"

/* ---- frames ---- */

static uint16_t ip_checksum(const uint8_t *p, size_t n)
{
    uint32_t sum = 0;
    for (size_t i = 0; i + 1 < n; i += 2)
        sum += (uint32_t)p[i] << 8 | p[i + 1];
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

/* One frame of the connection: its IP and TCP headers, then len bytes of payload. */
static int emit(struct mrt_source *s, struct conn *c, int64_t ts, uint8_t flags, const uint8_t *payload, size_t len)
{
    bool v6 = c->src.family == AF_INET6;
    size_t ip_len = v6 ? 40 : 20, total = ip_len + 20 + len;
    struct frame *f = malloc(sizeof *f + total);
    if (!f) {
        snprintf(s->error, sizeof s->error, "out of memory");
        return -1;
    }
    struct buf b = { .p = f->data, .cap = total };
    if (v6) {
        buf_put_u32(&b, 0x60000000u);
        buf_put_u16(&b, (uint16_t)(20 + len));
        buf_put_u8(&b, 6); /* TCP */
        buf_put_u8(&b, 64);
        buf_put_addr(&b, &c->src);
        buf_put_addr(&b, &c->dst);
    } else {
        buf_put_u8(&b, 0x45);
        buf_put_u8(&b, 0);
        buf_put_u16(&b, (uint16_t)total);
        buf_put_u16(&b, 0);      /* identification */
        buf_put_u16(&b, 0x4000); /* don't fragment */
        buf_put_u8(&b, 64);
        buf_put_u8(&b, 6);
        buf_put_u16(&b, 0);      /* checksum, below */
        buf_put_addr(&b, &c->src);
        buf_put_addr(&b, &c->dst);
        buf_put_u16_at(&b, 10, ip_checksum(b.p, 20));
    }
    buf_put_u16(&b, c->sport);
    buf_put_u16(&b, c->dport);
    buf_put_u32(&b, c->seq);
    buf_put_u32(&b, flags & TCP_SYN ? 0 : 1);
    buf_put_u8(&b, 5 << 4);
    buf_put_u8(&b, flags);
    buf_put_u16(&b, 65535);
    buf_put_u32(&b, 0); /* checksum (not computed: nothing checks a synthesised one), urgent pointer */
    buf_put(&b, payload, len);
    f->next = NULL;
    f->ts_ns = ts;
    f->len = total;
    if (s->tail)
        s->tail->next = f;
    else
        s->head = f;
    s->tail = f;
    c->seq += (uint32_t)len + (flags & (TCP_SYN | TCP_FIN) ? 1 : 0);
    return 0;
}

int mrt_conn_flush(struct mrt_source *s, struct conn *c)
{
    if (!c->seg.len)
        return 0;
    int rc = emit(s, c, c->seg_ts, TCP_ACK | TCP_PSH, c->seg.p, c->seg.len);
    c->seg.len = 0;
    return rc;
}

/* A message onto the connection: into the frame being filled, which goes out first when the
 * message would not fit or belongs to another time. */
static int conn_message(struct mrt_source *s, struct conn *c, const uint8_t *msg, size_t len)
{
    if (c->seg.len && (c->seg_ts != s->now_ns || c->seg.len + len > SEGMENT_MAX) && mrt_conn_flush(s, c) < 0)
        return -1;
    if (!c->seg.len)
        c->seg_ts = s->now_ns;
    if (!c->pending) {
        if (s->n_pending == s->cap_pending) {
            size_t n = s->cap_pending ? 2 * s->cap_pending : 64;
            uint32_t *v = realloc(s->pending, n * sizeof *v);
            if (!v) {
                snprintf(s->error, sizeof s->error, "out of memory");
                return -1;
            }
            s->pending = v;
            s->cap_pending = n;
        }
        s->pending[s->n_pending++] = c->owner;
        c->pending = true;
    }
    buf_put(&c->seg, msg, len);
    if (c->seg.failed) {
        snprintf(s->error, sizeof s->error, "out of memory");
        return -1;
    }
    return c->seg.len >= SEGMENT_TARGET ? mrt_conn_flush(s, c) : 0;
}

static int conn_start(struct mrt_source *s, struct conn *c, uint32_t owner, const struct addr *src,
                      const struct addr *dst, uint16_t sport, uint16_t dport)
{
    c->owner = owner;
    c->src = *src;
    c->dst = *dst;
    c->sport = sport;
    c->dport = dport;
    c->seq = ISN;
    c->open = true;
    c->seg.len = 0;
    return emit(s, c, s->now_ns, TCP_SYN, NULL, 0);
}

static int conn_end(struct mrt_source *s, struct conn *c)
{
    if (!c->open)
        return 0;
    c->open = false;
    if (mrt_conn_flush(s, c) < 0)
        return -1;
    return emit(s, c, s->now_ns, TCP_FIN | TCP_ACK, NULL, 0);
}

/* ---- peers ---- */

struct speaker *mrt_speaker(struct mrt_source *s, uint32_t id)
{
    if (id >= s->n_speakers) {
        size_t n = s->n_speakers ? s->n_speakers : 64;
        while (n <= id)
            n *= 2;
        struct speaker *sp = realloc(s->speakers, n * sizeof *sp);
        if (!sp)
            return NULL;
        memset(sp + s->n_speakers, 0, (n - s->n_speakers) * sizeof *sp);
        for (size_t i = s->n_speakers; i < n; i++)
            sp[i].selected = -1;
        s->speakers = sp;
        s->n_speakers = n;
    }
    return &s->speakers[id];
}

bool mrt_selected(struct mrt_source *s, uint32_t id, struct speaker *sp)
{
    if (sp->selected < 0) {
        const struct mrt_options *o = s->o;
        const struct mrt_peer *p = mrt_peer(s->r, id);
        bool any = !o->n_peer_ips && !o->n_peer_ases;
        for (size_t i = 0; !any && i < o->n_peer_ips; i++)
            any = addr_in_prefix(&p->ip, &o->peer_ips[i]);
        for (size_t i = 0; !any && i < o->n_peer_ases; i++)
            any = p->as == o->peer_ases[i];
        sp->selected = any;
    }
    return sp->selected;
}

/* The peer's BGP identifier: the dump's, else its IPv4 address, else one made of its id. */
uint32_t mrt_peer_bgp_id(const struct mrt_peer *p, uint32_t id)
{
    if (p->bgp_id)
        return p->bgp_id;
    if (p->ip.family == AF_INET)
        return (uint32_t)p->ip.bytes[0] << 24 | (uint32_t)p->ip.bytes[1] << 16 | (uint32_t)p->ip.bytes[2] << 8 |
               p->ip.bytes[3];
    return 0x0a000000u | (id + 1);
}

static void open_spec(struct bgp_open_spec *o, uint32_t asn, uint32_t bgp_id, const struct speaker *sp)
{
    static const uint16_t afi[] = { MRT_AFI_IPV4, MRT_AFI_IPV6, MRT_AFI_IPV4, MRT_AFI_IPV6 };
    static const uint8_t safi[] = { MRT_SAFI_UNICAST, MRT_SAFI_UNICAST, MRT_SAFI_MULTICAST, MRT_SAFI_MULTICAST };
    memset(o, 0, sizeof *o);
    o->asn = asn;
    o->bgp_id = bgp_id;
    o->hold_time = HOLD_TIME;
    o->four_byte_as = true; /* 2-byte records are widened (bgp_update_as4) */
    o->extended_nexthop = true; /* an IPv6 session's IPv4 routes have IPv6 next hops */
    o->addpath = sp->addpath;
    o->n_families = 4;
    memcpy(o->afi, afi, sizeof afi);
    memcpy(o->safi, safi, sizeof safi);
}

static uint32_t local_as(const struct mrt_source *s, const struct mrt_peer *p)
{
    return s->o->local_as ? s->o->local_as : p && p->local_as ? p->local_as : LOCAL_AS_DEFAULT;
}

/* the monitored router's BGP identifier: the dump's collector's, else 192.0.2.1 */
static uint32_t router_id(const struct mrt_source *s)
{
    return mrt_collector_id(s->r) ? mrt_collector_id(s->r) : 0xc0000201u;
}

/* The per-peer header of a peer (BMP). */
static void peer_header(struct mrt_source *s, uint32_t id, const struct speaker *sp, int64_t ts,
                        struct bmp_peer_header *h)
{
    if (id == LOC_RIB) { /* RFC 9069 section 4.1: no address, the router's own AS and BGP ID */
        *h = (struct bmp_peer_header){ .type = BMP_PEER_LOC_RIB, .as = local_as(s, NULL), .bgp_id = router_id(s),
                                       .ts_ns = ts };
        return;
    }
    const struct mrt_peer *p = mrt_peer(s->r, id);
    *h = (struct bmp_peer_header){ .type = BMP_PEER_GLOBAL, .addr = p->ip, .as = p->as,
                                   .bgp_id = mrt_peer_bgp_id(p, id), .ts_ns = ts };
    h->flags = p->ip.family == AF_INET6 ? BMP_PEER_FLAG_IPV6 : 0;
    (void)sp;
}

static const struct addr *router_addr(struct mrt_source *s, const struct mrt_event *ev)
{
    static struct addr a;
    if (s->o->router.family)
        return &s->o->router;
    uint32_t id = mrt_collector_id(s->r);
    if (!id && ev->kind != MRT_EV_RIB && ev->kind != MRT_EV_PEER_TABLE) {
        const struct mrt_peer *p = mrt_peer(s->r, ev->bgp.peer);
        if (p && p->local.family)
            return &p->local;
    }
    if (!id)
        id = 0xc0000201u; /* 192.0.2.1 */
    uint8_t b[4] = { (uint8_t)(id >> 24), (uint8_t)(id >> 16), (uint8_t)(id >> 8), (uint8_t)id };
    addr_from_bytes(&a, AF_INET, b);
    return &a;
}

/* where the synthesised connections go (the replay sends to the configured collector) */
static struct addr collector_addr(int family)
{
    struct addr a;
    addr_parse(family == AF_INET6 ? "2001:db8::fe" : "192.0.2.254", &a);
    return a;
}

/* BMP: the router's connection and its INIT, at the first record */
static int router_start(struct mrt_source *s, const struct mrt_event *ev)
{
    if (s->router_open)
        return 0;
    const struct addr *src = router_addr(s, ev);
    struct addr dst = collector_addr(src->family);
    s->router_open = true;
    if (conn_start(s, &s->router, 0, src, &dst, 40000, s->o->port) < 0)
        return -1;
    char name[ADDR_STRLEN];
    struct buf *m = &s->msg;
    m->len = 0;
    size_t at = bmp_begin(m, BMP_INIT);
    bmp_put_info(m, BMP_INFO_SYS_DESCR, s->o->sysdescr ? s->o->sysdescr : "telrep MRT replay");
    bmp_put_info(m, BMP_INFO_SYS_NAME, s->o->sysname ? s->o->sysname : addr_format(src, name));
    bmp_end(m, at);
    return conn_message(s, &s->router, m->p, m->len);
}

/* The peer's session comes up: BGP, a connection and its OPEN; BMP, its PEER_UP. */
/* The Loc-RIB's PEER_UP (RFC 9069 section 5.2): no addresses or ports, the router's OPEN as
 * sent and received, the table's name. */
static int loc_rib_up(struct mrt_source *s, struct speaker *sp)
{
    struct bgp_open_spec o;
    open_spec(&o, local_as(s, NULL), router_id(s), sp);
    struct buf *m = &s->msg;
    m->len = 0;
    sp->up = true;
    struct bmp_peer_header h;
    peer_header(s, LOC_RIB, sp, s->now_ns, &h);
    size_t at = bmp_begin(m, BMP_PEER_UP);
    bmp_put_peer_header(m, &h);
    buf_put_zero(m, 16 + 2 + 2);
    bgp_put_open(m, &o);
    bgp_put_open(m, &o);
    bmp_put_info(m, BMP_INFO_VRF_TABLE, "global");
    bmp_end(m, at);
    return conn_message(s, &s->router, m->p, m->len);
}

static int speaker_up(struct mrt_source *s, uint32_t id, struct speaker *sp)
{
    if (id == LOC_RIB)
        return loc_rib_up(s, sp);
    const struct mrt_peer *p = mrt_peer(s->r, id);
    struct bgp_open_spec peer_open, router_open;
    open_spec(&peer_open, p->as, mrt_peer_bgp_id(p, id), sp);
    struct buf *m = &s->msg;
    m->len = 0;
    sp->up = true;
    if (s->o->as == MRT_AS_BGP) {
        struct addr dst = p->local.family == p->ip.family ? p->local : collector_addr(p->ip.family);
        uint16_t sport = (uint16_t)(32768 + (id * 61 + sp->restarts) % 28000);
        if (conn_start(s, &sp->conn, id + 1, &p->ip, &dst, sport, s->o->port) < 0)
            return -1;
        bgp_put_open(m, &peer_open);
        return conn_message(s, &sp->conn, m->p, m->len);
    }
    const struct addr *router = &s->router.src;
    open_spec(&router_open, local_as(s, p), router_id(s), sp);
    struct bmp_peer_header h;
    peer_header(s, id, sp, s->now_ns, &h);
    size_t at = bmp_begin(m, BMP_PEER_UP);
    bmp_put_peer_header(m, &h);
    struct addr local = p->local.family == p->ip.family ? p->local : *router;
    if (local.family != p->ip.family) /* the router's IPv4 address for an IPv6 peer: IPv4-mapped */
        buf_put_zero(m, 16);
    else
        buf_put_addr16(m, &local);
    buf_put_u16(m, 179);
    buf_put_u16(m, (uint16_t)(32768 + id % 28000));
    bgp_put_open(m, &router_open); /* sent by the monitored router */
    bgp_put_open(m, &peer_open);   /* received from the peer */
    bmp_end(m, at);
    return conn_message(s, &s->router, m->p, m->len);
}

static int speaker_down(struct mrt_source *s, uint32_t id, struct speaker *sp)
{
    sp->up = false;
    sp->restarts++;
    if (s->o->as == MRT_AS_BGP)
        return conn_end(s, &sp->conn);
    struct buf *m = &s->msg;
    m->len = 0;
    struct bmp_peer_header h;
    peer_header(s, id, sp, s->now_ns, &h);
    size_t at = bmp_begin(m, BMP_PEER_DOWN);
    bmp_put_peer_header(m, &h);
    buf_put_u8(m, BMP_DOWN_REMOTE_NO_NOTIFICATION);
    bmp_end(m, at);
    return conn_message(s, &s->router, m->p, m->len);
}

/* A BGP message of the peer (an UPDATE, built or from the dump) onto its session. */
int mrt_speaker_message(struct mrt_source *s, uint32_t id, struct speaker *sp, int64_t ts,
                           const uint8_t *msg, size_t len)
{
    if (s->o->as == MRT_AS_BGP)
        return conn_message(s, &sp->conn, msg, len);
    struct buf *m = &s->rm;
    m->len = 0;
    struct bmp_peer_header h;
    peer_header(s, id, sp, ts, &h);
    size_t at = bmp_begin(m, BMP_ROUTE_MONITORING);
    bmp_put_peer_header(m, &h);
    buf_put(m, msg, len);
    bmp_end(m, at);
    return conn_message(s, &s->router, m->p, m->len);
}

/* The speaker's settings come from its first record; then it comes up. */
int mrt_speaker_ready(struct mrt_source *s, uint32_t id, struct speaker *sp, bool addpath)
{
    if (!sp->started) {
        sp->started = true;
        sp->addpath = addpath;
    }
    return sp->up ? 0 : speaker_up(s, id, sp);
}

/* ---- records to frames ---- */

static int event(struct mrt_source *s, const struct mrt_event *ev)
{
    if (ev->ts_ns != s->now_ns && (mrt_flush_dirty(s) < 0 || mrt_flush_pending(s) < 0)) /* they go out at their time */
        return -1;
    s->now_ns = ev->ts_ns;
    if (s->o->as == MRT_AS_BMP && router_start(s, ev) < 0)
        return -1;
    switch (ev->kind) {
    case MRT_EV_PEER_TABLE:
        return 0;
    case MRT_EV_RIB:
        for (size_t i = 0; i < ev->rib.n_entries; i++)
            if (mrt_rib_entry(s, ev, &ev->rib.entries[i]) < 0)
                return -1;
        return s->o->loc_rib && s->o->as == MRT_AS_BMP ? mrt_loc_rib_record(s, ev) : 0;
    case MRT_EV_MESSAGE:
    case MRT_EV_STATE:
        break;
    }
    uint32_t id = ev->bgp.peer;
    struct speaker *sp = mrt_speaker(s, id);
    if (!sp) {
        snprintf(s->error, sizeof s->error, "out of memory");
        return -1;
    }
    if (!mrt_selected(s, id, sp))
        return 0;
    if (sp->dirty) /* its RIB routes before its updates */
        if (mrt_speaker_flush(s, id, sp) < 0)
            return -1;
    if (ev->kind == MRT_EV_STATE) {
        if (ev->bgp.new_state == MRT_STATE_ESTABLISHED && !sp->up)
            return mrt_speaker_ready(s, id, sp, false);
        if (ev->bgp.old_state == MRT_STATE_ESTABLISHED && ev->bgp.new_state != MRT_STATE_ESTABLISHED && sp->up)
            return speaker_down(s, id, sp);
        return 0;
    }
    if (ev->bgp.msg[BGP_TYPE_OFFSET] != BGP_UPDATE) {
        s->skipped_session_messages++; /* OPEN, KEEPALIVE, NOTIFICATION: the session's own are synthesised */
        return 0;
    }
    if (mrt_speaker_ready(s, id, sp, ev->bgp.addpath) < 0)
        return -1;
    if (sp->addpath != ev->bgp.addpath) {
        s->skipped_mismatch++;
        return 0;
    }
    if (!ev->bgp.as4) {
        if (bgp_update_as4(ev->bgp.msg, ev->bgp.len, &s->wide) < 0) {
            s->skipped_mismatch++;
            return 0;
        }
        return mrt_speaker_message(s, id, sp, ev->ts_ns, s->wide.p, s->wide.len);
    }
    return mrt_speaker_message(s, id, sp, ev->ts_ns, ev->bgp.msg, ev->bgp.len);
}

static int flush_all(struct mrt_source *s)
{
    return mrt_flush_dirty(s) < 0 ? -1 : mrt_flush_pending(s);
}

static int open_next_file(struct mrt_source *s)
{
    char err[300];
    const char *path = s->o->files[s->file];
    /* the files after the first continue its reader: their peers are the same peers */
    if (s->r ? mrt_continue(s->r, path, err, sizeof err) < 0 : !(s->r = mrt_open(path, err, sizeof err))) {
        snprintf(s->error, sizeof s->error, "%s", err);
        return -1;
    }
    s->file++;
    return 0;
}

int mrt_stream_next(struct mrt_source *s, struct capture_packet *out)
{
    if (s->given) {
        free(s->given);
        s->given = NULL;
    }
    while (!s->head && !s->ended) {
        struct mrt_event ev;
        int rc = s->r ? mrt_next(s->r, &ev) : 0;
        uint64_t n;
        const char *w = s->r ? mrt_take_warning(s->r, &n) : NULL;
        if (w)
            log_warn_limited(&s->warned, 10, "%s: %s%s", s->o->files[s->file - 1], w,
                             n > 1 ? " (with the records before it: the summary counts them)" : "");
        if (rc > 0) {
            if (event(s, &ev) < 0)
                return -1;
            continue;
        }
        if (rc < 0) {
            snprintf(s->error, sizeof s->error, "%s: %s", s->o->files[s->file - 1], mrt_error(s->r));
            flush_all(s); /* what was read before it still goes out */
            s->ended = true;
            if (!s->head)
                return -1;
            break;
        }
        if (s->file < s->o->n_files) {
            if (flush_all(s) < 0 || open_next_file(s) < 0)
                return -1;
            continue;
        }
        if (flush_all(s) < 0)
            return -1;
        s->ended = true;
    }
    struct frame *f = s->head;
    if (!f)
        return s->error[0] ? -1 : 0;
    s->head = f->next;
    if (!s->head)
        s->tail = NULL;
    s->given = f;
    memset(out, 0, sizeof *out);
    out->ts_ns = f->ts_ns;
    out->data = f->data;
    out->caplen = out->wirelen = f->len;
    out->dlt = DLT_RAW;
    out->hdr.ts.tv_sec = (time_t)(f->ts_ns / 1000000000);
    out->hdr.ts.tv_usec = (suseconds_t)(f->ts_ns % 1000000000 / 1000);
    out->hdr.caplen = out->hdr.len = (bpf_u_int32)f->len;
    return 1;
}

struct mrt_source *mrt_stream_open(const struct mrt_options *o, char *err, size_t errlen)
{
    struct mrt_source *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->o = o;
    if (open_next_file(s) < 0) {
        snprintf(err, errlen, "%s", s->error);
        mrt_stream_close(s);
        return NULL;
    }
    return s;
}

const char *mrt_stream_error(const struct mrt_source *s) { return s->error; }

/* BMP: the router's address once its connection has started */
const struct addr *mrt_stream_router(const struct mrt_source *s)
{
    return s->router_open ? &s->router.src : NULL;
}

/* the files before the current one, and how far into it: -1 when the file cannot say */
double mrt_stream_progress(const struct mrt_source *s)
{
    double f = s->r ? mrt_progress(s->r) : -1;
    if (f < 0 || !s->file)
        return -1;
    return ((double)(s->file - 1) + f) / (double)s->o->n_files;
}

json_t *mrt_stream_summary(const struct mrt_source *s)
{
    json_t *o = mrt_summary_json(s->r), *files = json_array();
    for (size_t i = 0; i < s->file; i++)
        json_array_append_new(files, json_string(s->o->files[i]));
    json_object_set_new(o, "files", files);
    if (s->router_open) {
        char a[ADDR_STRLEN];
        json_object_set_new(o, "router", json_string(addr_format(&s->router.src, a)));
    }
    json_object_set_new(o, "not_replayed", json_pack("{s:I, s:I}", "mismatched_routes", (json_int_t)s->skipped_mismatch,
                        "session_messages", (json_int_t)s->skipped_session_messages));
    return o;
}

void mrt_stream_close(struct mrt_source *s)
{
    if (!s)
        return;
    mrt_close(s->r);
    for (struct frame *f = s->head, *next; f; f = next) {
        next = f->next;
        free(f);
    }
    free(s->given);
    for (size_t i = 0; i < s->n_speakers; i++) {
        buf_free(&s->speakers[i].conn.seg);
        for (int k = 0; k < PACKS; k++) {
            buf_free(&s->speakers[i].packs[k].attrs);
            buf_free(&s->speakers[i].packs[k].nlri);
        }
    }
    free(s->speakers);
    for (int k = 0; k < PACKS; k++) {
        buf_free(&s->loc_rib.packs[k].attrs);
        buf_free(&s->loc_rib.packs[k].nlri);
    }
    buf_free(&s->router.seg);
    free(s->pending);
    buf_free(&s->msg);
    buf_free(&s->scratch);
    buf_free(&s->rm);
    buf_free(&s->wide);
    free(s);
}

void mrt_options_free(struct mrt_options *o)
{
    for (size_t i = 0; i < o->n_files; i++)
        free(o->files[i]);
    free(o->files);
    free(o->peer_ips);
    free(o->peer_ases);
    free(o->sysname);
    free(o->sysdescr);
    memset(o, 0, sizeof *o);
}
