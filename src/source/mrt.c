/* mrt.c — reading MRT records (see mrt.h). The data's path: mrt_next() → next_record()
 * (header, then the body into one buffer) → by type: peer_index_table(), rib() (TABLE_DUMP_V2
 * RIB subtypes), table_dump() (legacy), bgp4mp() → one event, or a skip counted. */
#include "source/mrt.h"

#include <stdio.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>

#include "cursor.h"
#include "proto/proto.h"
#include "hash.h"
#include "input.h"

#define READ_BUFFER (1u << 20)

struct mrt_reader {
    struct input *in;              /* NULL: from memory */
    uint8_t *buf;                  /* read buffer (or the memory given) */
    size_t buf_len, buf_pos, buf_cap;
    bool eof;
    off_t file_size;               /* the current file's, uncompressed only (0: unknown) */
    uint64_t file_start;           /* n.bytes when it was opened */
    char error[300], warning[300];
    uint64_t warnings;      /* skips said since the last mrt_take_warning */
    struct mrt_counts n;
    /* peers: a table of every peer named, and a hash index on (address, AS) */
    struct mrt_peer *peers;
    size_t n_peers, cap_peers;
    uint32_t *index;               /* open addressing: id + 1, 0 = empty */
    size_t index_size;
    /* the current PEER_INDEX_TABLE: its position -> peer id */
    uint32_t *table;
    size_t table_len;
    uint32_t collector_id;
    char view[64];
    /* the current RIB record's entries */
    struct mrt_rib_entry *entries;
    size_t cap_entries;
};

static const char *td2_names[] = { NULL, "PEER_INDEX_TABLE", "RIB_IPV4_UNICAST", "RIB_IPV4_MULTICAST",
                                   "RIB_IPV6_UNICAST", "RIB_IPV6_MULTICAST", "RIB_GENERIC", NULL,
                                   "RIB_IPV4_UNICAST_ADDPATH", "RIB_IPV4_MULTICAST_ADDPATH",
                                   "RIB_IPV6_UNICAST_ADDPATH", "RIB_IPV6_MULTICAST_ADDPATH",
                                   "RIB_GENERIC_ADDPATH" };
static const char *bgp4mp_names[] = { "STATE_CHANGE", "MESSAGE", NULL, NULL, "MESSAGE_AS4", "STATE_CHANGE_AS4",
                                      "MESSAGE_LOCAL", "MESSAGE_AS4_LOCAL", "MESSAGE_ADDPATH",
                                      "MESSAGE_AS4_ADDPATH", "MESSAGE_LOCAL_ADDPATH",
                                      "MESSAGE_AS4_LOCAL_ADDPATH" };

const char *mrt_type_name(uint16_t type, uint16_t subtype, char *buf, size_t len)
{
    const char *t = NULL, *s = NULL;
    switch (type) {
    case MRT_TABLE_DUMP:
        t = "TABLE_DUMP";
        s = subtype == MRT_AFI_IPV4 ? "AFI_IPV4" : subtype == MRT_AFI_IPV6 ? "AFI_IPV6" : NULL;
        break;
    case MRT_TABLE_DUMP_V2:
        t = "TABLE_DUMP_V2";
        s = subtype < sizeof td2_names / sizeof *td2_names ? td2_names[subtype] : NULL;
        break;
    case MRT_BGP4MP:
    case MRT_BGP4MP_ET:
        t = type == MRT_BGP4MP ? "BGP4MP" : "BGP4MP_ET";
        s = subtype < sizeof bgp4mp_names / sizeof *bgp4mp_names ? bgp4mp_names[subtype] : NULL;
        break;
    }
    if (t && s)
        snprintf(buf, len, "%s/%s", t, s);
    else if (t)
        snprintf(buf, len, "%s/subtype %u", t, subtype);
    else
        snprintf(buf, len, "type %u/subtype %u", type, subtype);
    return buf;
}

/* ---- peers ---- */

static uint32_t peer_hash(const struct addr *ip, uint32_t as)
{
    return hash_u32(hash_bytes(hash_u32(HASH_START, ip->family), ip->bytes, ip->family == AF_INET6 ? 16 : 4), as);
}

static int index_grow(struct mrt_reader *r)
{
    size_t size = r->index_size ? r->index_size * 2 : 256;
    uint32_t *ix = calloc(size, sizeof *ix);
    if (!ix)
        return -1;
    for (size_t i = 0; i < r->n_peers; i++) {
        size_t at = peer_hash(&r->peers[i].ip, r->peers[i].as) & (size - 1);
        while (ix[at])
            at = (at + 1) & (size - 1);
        ix[at] = (uint32_t)i + 1;
    }
    free(r->index);
    r->index = ix;
    r->index_size = size;
    return 0;
}

/* The id of the peer (ip, as), named now if new: 0.., or -1 when the table is full. */
static int64_t peer_id(struct mrt_reader *r, const struct addr *ip, uint32_t as)
{
    if (r->index_size) {
        size_t at = peer_hash(ip, as) & (r->index_size - 1);
        for (; r->index[at]; at = (at + 1) & (r->index_size - 1)) {
            struct mrt_peer *p = &r->peers[r->index[at] - 1];
            if (p->as == as && addr_equal(&p->ip, ip))
                return r->index[at] - 1;
        }
    }
    if (r->n_peers >= MRT_PEERS_MAX)
        return -1;
    if ((r->n_peers + 1) * 2 > r->index_size && index_grow(r) < 0)
        return -1;
    if (r->n_peers == r->cap_peers) {
        size_t cap = r->cap_peers ? r->cap_peers * 2 : 64;
        struct mrt_peer *p = realloc(r->peers, cap * sizeof *p);
        if (!p)
            return -1;
        r->peers = p;
        r->cap_peers = cap;
    }
    struct mrt_peer *p = &r->peers[r->n_peers];
    memset(p, 0, sizeof *p);
    p->ip = *ip;
    p->ip.prefix = ip->family == AF_INET6 ? 128 : 32;
    p->as = as;
    size_t at = peer_hash(ip, as) & (r->index_size - 1);
    while (r->index[at])
        at = (at + 1) & (r->index_size - 1);
    r->index[at] = (uint32_t)r->n_peers + 1;
    return (int64_t)r->n_peers++;
}

size_t mrt_peer_count(const struct mrt_reader *r) { return r->n_peers; }
const struct mrt_peer *mrt_peer(const struct mrt_reader *r, uint32_t id) { return id < r->n_peers ? &r->peers[id] : NULL; }
const char *mrt_view(const struct mrt_reader *r) { return r->view; }
uint32_t mrt_collector_id(const struct mrt_reader *r) { return r->collector_id; }
const struct mrt_counts *mrt_counts(const struct mrt_reader *r) { return &r->n; }
const char *mrt_error(const struct mrt_reader *r) { return r->error; }
const char *mrt_take_warning(struct mrt_reader *r, uint64_t *n)
{
    *n = r->warnings;
    r->warnings = 0;
    return *n ? r->warning : NULL;
}

static void peer_seen(struct mrt_peer *p, int64_t ts)
{
    if (!p->n.first_ns || ts < p->n.first_ns)
        p->n.first_ns = ts;
    if (ts > p->n.last_ns)
        p->n.last_ns = ts;
}

/* ---- reading records ---- */

/* what mrt_progress measures against: an uncompressed file's size */
static void file_size(struct mrt_reader *r, const char *path)
{
    struct stat st;
    r->file_size = !input_compressed(r->in) && stat(path, &st) == 0 && S_ISREG(st.st_mode) ? st.st_size : 0;
    r->file_start = r->n.bytes;
}

struct mrt_reader *mrt_open(const char *path, char *err, size_t errlen)
{
    struct mrt_reader *r = calloc(1, sizeof *r);
    if (!r) {
        snprintf(err, errlen, "%s: out of memory", path);
        return NULL;
    }
    if (!(r->in = input_open(path, err, errlen)) || !(r->buf = malloc(r->buf_cap = READ_BUFFER))) {
        if (r->in)
            snprintf(err, errlen, "%s: out of memory", path);
        mrt_close(r);
        return NULL;
    }
    file_size(r, path);
    return r;
}

int mrt_continue(struct mrt_reader *r, const char *path, char *err, size_t errlen)
{
    struct input *in = input_open(path, err, errlen);
    if (!in)
        return -1;
    if (!r->in) { /* from memory: a buffer of its own from now on */
        uint8_t *b = malloc(READ_BUFFER);
        if (!b) {
            input_close(in);
            snprintf(err, errlen, "%s: out of memory", path);
            return -1;
        }
        r->buf = b;
        r->buf_cap = READ_BUFFER;
    } else {
        input_close(r->in);
    }
    r->in = in;
    r->buf_len = r->buf_pos = 0;
    r->eof = false;
    r->error[0] = 0;
    file_size(r, path);
    return 0;
}

struct mrt_reader *mrt_open_memory(const uint8_t *data, size_t len)
{
    struct mrt_reader *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->buf = (uint8_t *)data; /* never written: in is NULL */
    r->buf_len = r->buf_cap = len;
    r->eof = true;
    return r;
}

/* The next n bytes: 1 and *p, 0 at a clean end, -1 when the input ends within them or fails. */
static int take(struct mrt_reader *r, size_t n, const uint8_t **p)
{
    if (r->buf_len - r->buf_pos < n && r->in) {
        memmove(r->buf, r->buf + r->buf_pos, r->buf_len - r->buf_pos);
        r->buf_len -= r->buf_pos;
        r->buf_pos = 0;
        if (n > r->buf_cap) {
            uint8_t *b = realloc(r->buf, n);
            if (!b) {
                snprintf(r->error, sizeof r->error, "out of memory");
                return -1;
            }
            r->buf = b;
            r->buf_cap = n;
        }
        while (r->buf_len < n && !r->eof) {
            ssize_t got = input_read(r->in, r->buf + r->buf_len, r->buf_cap - r->buf_len);
            if (got < 0) {
                snprintf(r->error, sizeof r->error, "%s", input_error(r->in));
                return -1;
            }
            if (got == 0)
                r->eof = true;
            r->buf_len += (size_t)got;
        }
    }
    if (r->buf_len - r->buf_pos < n)
        return r->buf_len == r->buf_pos ? 0 : -1;
    *p = r->buf + r->buf_pos;
    r->buf_pos += n;
    r->n.bytes += n;
    return 1;
}

static void warn(struct mrt_reader *r, uint64_t *counter, uint16_t type, uint16_t subtype, const char *why)
{
    char name[64];
    (*counter)++;
    r->warnings++;
    snprintf(r->warning, sizeof r->warning, "record %llu (%s): %s: skipped", (unsigned long long)r->n.records,
             mrt_type_name(type, subtype, name, sizeof name), why);
}

static bool read_addr(struct cursor *c, bool v6, struct addr *a)
{
    const uint8_t *p = cursor_take(c, v6 ? 16 : 4);
    memset(a, 0, sizeof *a);
    if (p)
        addr_from_bytes(a, v6 ? AF_INET6 : AF_INET, p);
    return p != NULL;
}

/* A prefix in NLRI form: its length in bits, then the bytes it needs (at most max_bits). */
static bool read_prefix(struct cursor *c, unsigned max_bits, uint8_t *len, uint8_t out[16])
{
    *len = cursor_u8(c);
    memset(out, 0, 16);
    if (!cursor_ok(c) || *len > max_bits)
        return false;
    return cursor_copy(c, out, (*len + 7u) / 8);
}

static int peer_index_table(struct mrt_reader *r, struct cursor *c, struct mrt_event *ev)
{
    uint32_t collector = cursor_be32(c);
    uint16_t view_len = cursor_be16(c);
    const uint8_t *view = cursor_take(c, view_len);
    uint16_t count = cursor_be16(c);
    if (!cursor_ok(c))
        return -1;
    uint32_t *table = malloc(((size_t)count + 1) * sizeof *table);
    if (!table)
        return -1;
    size_t n = 0;
    for (; n < count; n++) {
        uint8_t type = cursor_u8(c);
        uint32_t bgp_id = cursor_be32(c);
        struct addr ip;
        read_addr(c, type & MRT_PEER_IPV6, &ip);
        uint32_t as = type & MRT_PEER_AS4 ? cursor_be32(c) : cursor_be16(c);
        if (!cursor_ok(c)) {
            free(table);
            return -1;
        }
        int64_t id = peer_id(r, &ip, as);
        if (id < 0) {
            r->n.skipped_peers_full++;
            table[n] = UINT32_MAX;
            continue;
        }
        table[n] = (uint32_t)id;
        if (bgp_id)
            r->peers[id].bgp_id = bgp_id;
    }
    free(r->table);
    r->table = table;
    r->table_len = n;
    r->collector_id = collector;
    snprintf(r->view, sizeof r->view, "%.*s", view_len < 63 ? (int)view_len : 63, (const char *)view);
    r->n.peer_tables++;
    ev->kind = MRT_EV_PEER_TABLE;
    return 0;
}

static struct mrt_rib_entry *entries_for(struct mrt_reader *r, size_t n)
{
    if (n > r->cap_entries) {
        struct mrt_rib_entry *e = realloc(r->entries, n * sizeof *e);
        if (!e)
            return NULL;
        r->entries = e;
        r->cap_entries = n;
    }
    return r->entries;
}

/* A path's attributes counted for the summary (what types, AS_PATH length, communities). */
static void count_attrs(struct mrt_reader *r, const uint8_t *attrs, size_t len, bool as4)
{
    struct cursor c = cursor_make(attrs, len);
    r->n.paths++;
    while (cursor_remaining(&c) >= 3) {
        uint8_t flags = cursor_u8(&c), type = cursor_u8(&c);
        uint16_t l = flags & BGP_ATTR_FLAG_EXTENDED ? cursor_be16(&c) : cursor_u8(&c);
        struct cursor v = cursor_sub(&c, l);
        if (!cursor_ok(&c))
            return;
        r->n.attr_paths[type]++;
        if (type == BGP_ATTR_COMMUNITIES)
            r->n.communities += l / 4;
        if (type != BGP_ATTR_AS_PATH)
            continue;
        uint64_t n = 0;
        while (cursor_remaining(&v) >= 2) {
            uint8_t seg = cursor_u8(&v), count = cursor_u8(&v);
            if (!cursor_skip(&v, (size_t)count * (as4 ? 4 : 2)))
                break;
            n += seg == BGP_AS_SEQUENCE ? count : seg == BGP_AS_SET ? 1 : 0;
        }
        r->n.as_path_len[n < MRT_AS_PATH_BUCKETS - 1 ? n : MRT_AS_PATH_BUCKETS - 1]++;
        r->n.as_path_len_sum += n;
        if (n > r->n.as_path_len_max)
            r->n.as_path_len_max = n;
    }
}

static void count_entry(struct mrt_reader *r, struct mrt_event *ev, const struct mrt_rib_entry *e)
{
    count_attrs(r, e->attrs, e->attrs_len, ev->rib.as4);
    struct mrt_peer *p = &r->peers[e->peer];
    p->n.rib_entries[ev->rib.afi == MRT_AFI_IPV6][ev->rib.safi == MRT_SAFI_MULTICAST]++;
    if (ev->rib.addpath)
        p->n.addpath_entries++;
    peer_seen(p, ev->ts_ns);
    r->n.rib_entries++;
}

/* TABLE_DUMP_V2 RIB subtypes: 0 = an event, 1 = skipped (counted), -1 = malformed */
static int rib(struct mrt_reader *r, struct cursor *c, uint16_t subtype, struct mrt_event *ev)
{
    bool generic = subtype == TD2_RIB_GENERIC || subtype == TD2_RIB_GENERIC_ADDPATH;
    ev->rib.addpath = subtype >= TD2_RIB_IPV4_UNICAST_ADDPATH;
    ev->rib.as4 = true;
    cursor_skip(c, 4); /* sequence number */
    if (generic) {
        ev->rib.afi = cursor_be16(c);
        ev->rib.safi = cursor_u8(c);
        if (cursor_ok(c) && ((ev->rib.afi != MRT_AFI_IPV4 && ev->rib.afi != MRT_AFI_IPV6) ||
                             (ev->rib.safi != MRT_SAFI_UNICAST && ev->rib.safi != MRT_SAFI_MULTICAST))) {
            warn(r, &r->n.skipped_family, MRT_TABLE_DUMP_V2, subtype, "an AFI/SAFI other than IPv4/IPv6 unicast/multicast");
            return 1;
        }
    } else {
        unsigned base = ev->rib.addpath ? subtype - 6 : subtype; /* ADDPATH subtypes are 6 after theirs */
        ev->rib.afi = base <= TD2_RIB_IPV4_MULTICAST ? MRT_AFI_IPV4 : MRT_AFI_IPV6;
        ev->rib.safi = base == TD2_RIB_IPV4_MULTICAST || base == TD2_RIB_IPV6_MULTICAST ? MRT_SAFI_MULTICAST
                                                                                       : MRT_SAFI_UNICAST;
    }
    if (!read_prefix(c, ev->rib.afi == MRT_AFI_IPV6 ? 128 : 32, &ev->rib.prefix_len, ev->rib.prefix))
        return -1;
    uint16_t count = cursor_be16(c);
    if (!cursor_ok(c))
        return -1;
    struct mrt_rib_entry *e = entries_for(r, count ? count : 1);
    if (!e)
        return -1;
    size_t n = 0;
    for (uint16_t i = 0; i < count; i++) {
        uint16_t index = cursor_be16(c);
        uint32_t originated = cursor_be32(c);
        uint32_t path_id = ev->rib.addpath ? cursor_be32(c) : 0;
        uint16_t attrs_len = cursor_be16(c);
        const uint8_t *attrs = cursor_take(c, attrs_len);
        if (!cursor_ok(c))
            return -1;
        if (index >= r->table_len || r->table[index] == UINT32_MAX) {
            r->n.skipped_no_peer++;
            r->warnings++;
            snprintf(r->warning, sizeof r->warning, "record %llu: a RIB entry of peer index %u, which the "
                     "PEER_INDEX_TABLE does not have: skipped", (unsigned long long)r->n.records, index);
            continue;
        }
        e[n] = (struct mrt_rib_entry){ .peer = r->table[index], .originated = originated, .path_id = path_id,
                                       .attrs = attrs, .attrs_len = attrs_len };
        count_entry(r, ev, &e[n]);
        n++;
    }
    ev->kind = MRT_EV_RIB;
    ev->rib.entries = e;
    ev->rib.n_entries = n;
    r->n.rib_records++;
    return 0;
}

/* legacy TABLE_DUMP (RFC 6396 section 4.2): one prefix of one peer per record */
static int table_dump(struct mrt_reader *r, struct cursor *c, uint16_t subtype, struct mrt_event *ev)
{
    if (subtype != MRT_AFI_IPV4 && subtype != MRT_AFI_IPV6) {
        warn(r, &r->n.skipped_unknown_type, MRT_TABLE_DUMP, subtype, "an unknown AFI");
        return 1;
    }
    bool v6 = subtype == MRT_AFI_IPV6;
    cursor_skip(c, 4); /* view, sequence */
    uint8_t prefix[16] = { 0 };
    cursor_copy(c, prefix, v6 ? 16 : 4);
    uint8_t prefix_len = cursor_u8(c);
    cursor_skip(c, 1); /* status */
    uint32_t originated = cursor_be32(c);
    struct addr ip;
    read_addr(c, v6, &ip);
    uint16_t as = cursor_be16(c);
    uint16_t attrs_len = cursor_be16(c);
    const uint8_t *attrs = cursor_take(c, attrs_len);
    if (!cursor_ok(c) || prefix_len > (v6 ? 128 : 32))
        return -1;
    int64_t id = peer_id(r, &ip, as);
    if (id < 0) {
        warn(r, &r->n.skipped_peers_full, MRT_TABLE_DUMP, subtype, "more peers than telrep keeps (65536)");
        return 1;
    }
    struct mrt_rib_entry *e = entries_for(r, 1);
    if (!e)
        return -1;
    /* the bits past the prefix length are not the prefix's */
    for (unsigned b = prefix_len; b < (v6 ? 128u : 32u); b++)
        prefix[b / 8] &= (uint8_t)~(0x80u >> (b % 8));
    ev->kind = MRT_EV_RIB;
    ev->rib.afi = v6 ? MRT_AFI_IPV6 : MRT_AFI_IPV4;
    ev->rib.safi = MRT_SAFI_UNICAST;
    ev->rib.prefix_len = prefix_len;
    memcpy(ev->rib.prefix, prefix, 16);
    ev->rib.addpath = false;
    ev->rib.as4 = false;
    e[0] = (struct mrt_rib_entry){ .peer = (uint32_t)id, .originated = originated, .attrs = attrs, .attrs_len = attrs_len };
    count_entry(r, ev, &e[0]);
    ev->rib.entries = e;
    ev->rib.n_entries = 1;
    r->n.rib_records++;
    return 0;
}

/* Prefixes in an UPDATE's withdrawn routes / NLRI, and in MP_REACH / MP_UNREACH, counted for
 * the summary (the message itself goes on as it is). */
static void count_update(struct mrt_reader *r, struct mrt_peer *p, const uint8_t *msg, size_t len, bool addpath,
                         bool as4)
{
    uint64_t before = p->n.announced[0] + p->n.announced[1];
    struct cursor c = cursor_make(msg, len);
    cursor_skip(&c, 19);
    uint16_t wlen = cursor_be16(&c);
    struct cursor w = cursor_sub(&c, wlen);
    uint16_t alen = cursor_be16(&c);
    struct cursor a = cursor_sub(&c, alen);
    if (!cursor_ok(&c))
        return;
    unsigned plen;
    while (cursor_remaining(&w) && (!addpath || cursor_skip(&w, 4)) && (plen = cursor_u8(&w)) <= 32 &&
           cursor_skip(&w, (plen + 7) / 8))
        p->n.withdrawn[0]++;
    while (cursor_remaining(&c) && (!addpath || cursor_skip(&c, 4)) && (plen = cursor_u8(&c)) <= 32 &&
           cursor_skip(&c, (plen + 7) / 8))
        p->n.announced[0]++;
    while (cursor_remaining(&a) >= 3) {
        uint8_t flags = cursor_u8(&a), type = cursor_u8(&a);
        uint16_t l = flags & BGP_ATTR_FLAG_EXTENDED ? cursor_be16(&a) : cursor_u8(&a);
        struct cursor v = cursor_sub(&a, l);
        if (!cursor_ok(&a) || (type != BGP_ATTR_MP_REACH && type != BGP_ATTR_MP_UNREACH))
            continue;
        uint16_t afi = cursor_be16(&v);
        cursor_skip(&v, 1); /* SAFI */
        if (type == BGP_ATTR_MP_REACH) {
            uint8_t nhl = cursor_u8(&v);
            cursor_skip(&v, nhl + 1u);
        }
        unsigned max = afi == MRT_AFI_IPV6 ? 128 : 32;
        uint64_t *n = type == BGP_ATTR_MP_REACH ? &p->n.announced[afi == MRT_AFI_IPV6] : &p->n.withdrawn[afi == MRT_AFI_IPV6];
        while (cursor_remaining(&v) && (!addpath || cursor_skip(&v, 4)) && (plen = cursor_u8(&v)) <= max &&
               cursor_skip(&v, (plen + 7) / 8))
            (*n)++;
    }
    if (p->n.announced[0] + p->n.announced[1] > before)
        count_attrs(r, msg + 19 + 2 + wlen + 2, alen, as4);
}

static int bgp4mp(struct mrt_reader *r, struct cursor *c, uint16_t type, uint16_t subtype, struct mrt_event *ev)
{
    bool state = subtype == BGP4MP_STATE_CHANGE || subtype == BGP4MP_STATE_CHANGE_AS4;
    bool as4 = subtype == BGP4MP_MESSAGE_AS4 || subtype == BGP4MP_STATE_CHANGE_AS4 ||
               subtype == BGP4MP_MESSAGE_AS4_LOCAL || subtype == BGP4MP_MESSAGE_AS4_ADDPATH ||
               subtype == BGP4MP_MESSAGE_AS4_LOCAL_ADDPATH;
    bool local = subtype == BGP4MP_MESSAGE_LOCAL || subtype == BGP4MP_MESSAGE_AS4_LOCAL ||
                 subtype == BGP4MP_MESSAGE_LOCAL_ADDPATH || subtype == BGP4MP_MESSAGE_AS4_LOCAL_ADDPATH;
    bool addpath = subtype >= BGP4MP_MESSAGE_ADDPATH && subtype <= BGP4MP_MESSAGE_AS4_LOCAL_ADDPATH;
    if (!state && !as4 && !local && !addpath && subtype != BGP4MP_MESSAGE) {
        warn(r, &r->n.skipped_unknown_type, type, subtype, "a subtype telrep does not know");
        return 1;
    }
    uint32_t peer_as = as4 ? cursor_be32(c) : cursor_be16(c);
    uint32_t local_as = as4 ? cursor_be32(c) : cursor_be16(c);
    cursor_skip(c, 2); /* interface index */
    uint16_t afi = cursor_be16(c);
    if (cursor_ok(c) && afi != MRT_AFI_IPV4 && afi != MRT_AFI_IPV6)
        return -1;
    struct addr peer_ip, local_ip;
    read_addr(c, afi == MRT_AFI_IPV6, &peer_ip);
    read_addr(c, afi == MRT_AFI_IPV6, &local_ip);
    if (!cursor_ok(c))
        return -1;
    if (local) {
        warn(r, &r->n.skipped_local, type, subtype, "the collector's own message, not the peer's");
        return 1;
    }
    int64_t id = peer_id(r, &peer_ip, peer_as);
    if (id < 0) {
        warn(r, &r->n.skipped_peers_full, type, subtype, "more peers than telrep keeps (65536)");
        return 1;
    }
    struct mrt_peer *p = &r->peers[id];
    p->local = local_ip;
    p->local_as = local_as;
    peer_seen(p, ev->ts_ns);
    ev->bgp.peer = (uint32_t)id;
    ev->bgp.as4 = as4;
    ev->bgp.addpath = addpath;
    if (state) {
        ev->bgp.old_state = cursor_be16(c);
        ev->bgp.new_state = cursor_be16(c);
        if (!cursor_ok(c))
            return -1;
        ev->kind = MRT_EV_STATE;
        p->n.state_changes++;
        r->n.state_changes++;
        return 0;
    }
    /* a whole BGP message: marker, length (the rest of the record), type */
    size_t len = cursor_remaining(c);
    const uint8_t *msg = cursor_take(c, len);
    struct cursor m = cursor_make(msg, len);
    cursor_skip(&m, 16);
    uint16_t mlen = cursor_be16(&m);
    uint8_t mtype = cursor_u8(&m);
    if (!cursor_ok(&m) || mlen != len || mtype < 1 || mtype > 5)
        return -1;
    for (int i = 0; i < 16; i++)
        if (msg[i] != 0xff)
            return -1;
    ev->kind = MRT_EV_MESSAGE;
    ev->bgp.msg = msg;
    ev->bgp.len = len;
    r->n.messages++;
    if (mtype == 2) {
        p->n.updates++;
        count_update(r, p, msg, len, addpath, as4);
    } else {
        p->n.other_messages++;
    }
    return 0;
}

int mrt_next(struct mrt_reader *r, struct mrt_event *ev)
{
    for (;;) {
        const uint8_t *h, *body;
        int rc = take(r, MRT_HEADER, &h);
        if (rc == 0)
            return 0;
        r->n.records++;
        if (rc < 0) {
            r->n.truncated++;
            if (!r->error[0])
                snprintf(r->error, sizeof r->error, "record %llu: the file ends within its header (a truncated file?)",
                         (unsigned long long)r->n.records);
            return -1;
        }
        struct cursor hc = cursor_make(h, MRT_HEADER);
        uint32_t sec = cursor_be32(&hc);
        uint16_t type = cursor_be16(&hc), subtype = cursor_be16(&hc);
        uint32_t len = cursor_be32(&hc);
        char name[64];
        if (len > MRT_RECORD_MAX) {
            snprintf(r->error, sizeof r->error, "record %llu (%s): length %u over %u: not an MRT record (a corrupt "
                     "file, or not MRT)", (unsigned long long)r->n.records, mrt_type_name(type, subtype, name, sizeof name),
                     len, MRT_RECORD_MAX);
            return -1;
        }
        if (take(r, len, &body) != 1) {
            r->n.truncated++;
            if (!r->error[0])
                snprintf(r->error, sizeof r->error, "record %llu (%s): the file ends within it (%u bytes announced): "
                         "a truncated file?", (unsigned long long)r->n.records,
                         mrt_type_name(type, subtype, name, sizeof name), len);
            return -1;
        }
        struct cursor c = cursor_make(body, len);
        memset(ev, 0, sizeof *ev);
        ev->type = type;
        ev->subtype = subtype;
        ev->ts_ns = (int64_t)sec * 1000000000;
        if (type == MRT_BGP4MP_ET) {
            uint32_t usec = cursor_be32(&c);
            if (usec >= 1000000) {
                warn(r, &r->n.skipped_malformed, type, subtype, "microseconds over 999999");
                continue;
            }
            ev->ts_ns += (int64_t)usec * 1000;
        }
        if (!r->n.first_ns || ev->ts_ns < r->n.first_ns)
            r->n.first_ns = ev->ts_ns;
        if (ev->ts_ns > r->n.last_ns)
            r->n.last_ns = ev->ts_ns;
        rc = 1;
        switch (type) {
        case MRT_TABLE_DUMP_V2:
            if (subtype == TD2_PEER_INDEX_TABLE)
                rc = peer_index_table(r, &c, ev);
            else if (subtype >= TD2_RIB_IPV4_UNICAST && subtype <= TD2_RIB_GENERIC_ADDPATH && subtype != 7)
                rc = rib(r, &c, subtype, ev);
            else
                warn(r, &r->n.skipped_unknown_type, type, subtype, "a subtype telrep does not know");
            break;
        case MRT_TABLE_DUMP:
            rc = table_dump(r, &c, subtype, ev);
            break;
        case MRT_BGP4MP:
        case MRT_BGP4MP_ET:
            rc = bgp4mp(r, &c, type, subtype, ev);
            break;
        default:
            warn(r, &r->n.skipped_unknown_type, type, subtype, "a type telrep does not replay");
        }
        if (rc == 0)
            return 1;
        if (rc < 0)
            warn(r, &r->n.skipped_malformed, type, subtype, "its body contradicts its length");
    }
}

double mrt_progress(const struct mrt_reader *r)
{
    if (!r->file_size)
        return -1;
    double f = (double)(r->n.bytes - r->file_start) / (double)r->file_size;
    return f > 1 ? 1 : f;
}

void mrt_close(struct mrt_reader *r)
{
    if (!r)
        return;
    if (r->in) {
        input_close(r->in);
        free(r->buf);
    }
    free(r->peers);
    free(r->index);
    free(r->table);
    free(r->entries);
    free(r);
}
