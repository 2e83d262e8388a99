/* config_mrt.c — the config's `mrt:` section: MRT archives replayed as BGP or BMP sessions
 * (src/source/mrt.h). `mrt: file` and `mrt: [files]` are short for `mrt: {files: ...}`; a list
 * of mappings is several dumps, each its own BMP router. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <errno.h>

#include "config_int.h"
#include "source/mrt.h"

static int file_item(struct yw *p, yaml_node_t *n, void *t)
{
    struct mrt_options *o = t;
    char *s = NULL;
    if (yw_string(p, n, &s) < 0)
        return -1;
    char **v = yw_grow(o->files, o->n_files, sizeof *v);
    if (!v)
        return free(s), yw_fail(p, n, "out of memory");
    o->files = v;
    o->files[o->n_files++] = s;
    return 0;
}

static int key_files(struct yw *p, yaml_node_t *v, void *t, int arg)
{
    if (yw_is_null(v))
        return yw_fail(p, v, "mrt.files: expected an MRT file or a list of them (RIB dump first, then updates)");
    return yw_each_item(p, v, file_item, t);
}

static int key_as(struct yw *p, yaml_node_t *v, void *t, int arg)
{
    const char *s = yw_scalar(v);
    if (s && !strcmp(s, "bgp"))
        *(int *)t = MRT_AS_BGP;
    else if (s && !strcmp(s, "bmp"))
        *(int *)t = MRT_AS_BMP;
    else
        return yw_fail(p, v, "mrt.as: bgp (a BGP session per MRT peer) or bmp (one BMP router monitoring them), not %s",
                       s ? s : yw_kind(v));
    return 0;
}

static int key_router(struct yw *p, yaml_node_t *v, void *t, int arg)
{
    return config_host_addr(p, v, "mrt.router", t);
}

/* a peer: an address, a prefix, or an AS ("AS65001" or "as65001") */
static int peer_item(struct yw *p, yaml_node_t *n, void *t)
{
    struct mrt_options *o = t;
    const char *s = yw_scalar(n);
    if (s && (s[0] == 'A' || s[0] == 'a') && (s[1] == 'S' || s[1] == 's')) {
        char *end = NULL;
        errno = 0;
        unsigned long as = strtoul(s + 2, &end, 10);
        if (end == s + 2 || *end || errno || as > UINT32_MAX)
            return yw_fail(p, n, "mrt.peers: \"%s\" is not an AS number (AS65001)", s);
        uint32_t *v = yw_grow(o->peer_ases, o->n_peer_ases, sizeof *v);
        if (!v)
            return yw_fail(p, n, "out of memory");
        o->peer_ases = v;
        o->peer_ases[o->n_peer_ases++] = (uint32_t)as;
        return 0;
    }
    struct addr a;
    if (!s || addr_parse(s, &a) < 0)
        return yw_fail(p, n, "mrt.peers: expected a peer's address, a prefix or an AS (AS65001), not %s",
                       s ? s : yw_kind(n));
    struct addr *v = yw_grow(o->peer_ips, o->n_peer_ips, sizeof *v);
    if (!v)
        return yw_fail(p, n, "out of memory");
    o->peer_ips = v;
    o->peer_ips[o->n_peer_ips++] = a;
    return 0;
}

static int key_peers(struct yw *p, yaml_node_t *v, void *t, int arg)
{
    return yw_is_null(v) ? 0 : yw_each_item(p, v, peer_item, t);
}

static int key_local_as(struct yw *p, yaml_node_t *v, void *t, int arg)
{
    unsigned long as;
    if (yw_ulong(p, v, 1, UINT32_MAX, &as) < 0)
        return -1;
    *(uint32_t *)t = (uint32_t)as;
    return 0;
}

/* One dump: a file, a list of files, or a mapping of the keys below. */
static int dump(struct yw *p, yaml_node_t *v, struct mrt_options *o)
{
    o->line = (unsigned)v->start_mark.line + 1;
    o->as = -1;
    if (v->type != YAML_MAPPING_NODE)
        return key_files(p, v, o, 0);
    const struct yw_key keys[] = {
        { "files", key_files, o, 0 },
        { "as", key_as, &o->as, 0 },
        { "router", key_router, &o->router, 0 },
        { "peers", key_peers, o, 0 },
        { "sysname", config_key_string, &o->sysname, 0 },
        { "sysdescr", config_key_string, &o->sysdescr, 0 },
        { "local_as", key_local_as, &o->local_as, 0 },
        { "loc_rib", config_key_bool, &o->loc_rib, 0 },
    };
    if (yw_walk_mapping(p, v, keys, sizeof keys / sizeof *keys, "mrt") < 0)
        return -1;
    if (!o->n_files)
        return yw_fail(p, v, "mrt: name the MRT files (mrt: {files: [rib.bz2, updates.bz2]})");
    return 0;
}

static struct mrt_options *new_dump(struct config *c)
{
    struct mrt_options *v = yw_grow(c->mrt, c->n_mrt, sizeof *v);
    if (!v)
        return NULL;
    c->mrt = v;
    memset(&v[c->n_mrt], 0, sizeof *v);
    return &v[c->n_mrt++];
}

static int dump_item(struct yw *p, yaml_node_t *n, void *t)
{
    struct config *c = t;
    if (n->type != YAML_MAPPING_NODE)
        return yw_fail(p, n, "mrt: a list of dumps is a list of mappings ({files: [...], router: ...}), not %s",
                       yw_kind(n));
    struct mrt_options *o = new_dump(c);
    return o ? dump(p, n, o) : yw_fail(p, n, "out of memory");
}

/* mrt: one dump (a file, a list of files, a mapping), or a list of mappings: several dumps,
 * each its own BMP router */
int config_key_mrt(struct yw *p, yaml_node_t *v, void *t, int arg)
{
    struct config *c = STATE(p)->cfg;
    STATE(p)->mrt_node = v;
    yaml_node_t *first = v->type == YAML_SEQUENCE_NODE && v->data.sequence.items.start < v->data.sequence.items.top
                             ? yw_node(p, *v->data.sequence.items.start) : NULL;
    if (first && first->type == YAML_MAPPING_NODE)
        return yw_each_item(p, v, dump_item, c);
    struct mrt_options *o = new_dump(c);
    return o ? dump(p, v, o) : yw_fail(p, v, "out of memory");
}

/* After the whole config: which protocol each dump becomes, its port, and the one play. */
static int check_dump(struct yw *p, yaml_node_t *at, struct mrt_options *o, size_t n_dumps, bool check_files)
{
    struct config *c = STATE(p)->cfg;
    const struct proto_config *bgp = NULL, *bmp = NULL;
    for (size_t i = 0; i < c->n_protos; i++) {
        if (c->protos[i].id == PROTO_BGP)
            bgp = &c->protos[i];
        if (c->protos[i].id == PROTO_BMP)
            bmp = &c->protos[i];
    }
    if ((int)o->as < 0) {
        if (bgp && bmp && n_dumps == 1)
            return yw_fail(p, at, "mrt: the config has bgp and bmp sections: say which the dump is replayed as "
                           "(mrt: {as: bgp} or {as: bmp})");
        if (!bgp && !bmp)
            return yw_fail(p, at, "mrt: the dump is replayed as BGP or BMP sessions: add a bgp: or bmp: section "
                           "naming the collector");
        o->as = bmp && (n_dumps > 1 || !bgp) ? MRT_AS_BMP : MRT_AS_BGP;
    }
    if (o->as == MRT_AS_BGP && n_dumps > 1)
        return yw_fail(p, at, "mrt: several dumps are several BMP routers (mrt.as: bmp); as BGP a peer is one "
                       "session: list the files in one dump's files: and choose its peers with peers:");
    if (o->loc_rib && o->as == MRT_AS_BGP)
        return yw_fail(p, at, "mrt.loc_rib: a Loc-RIB is BMP's (RFC 9069): set mrt.as: bmp, or drop loc_rib");
    const struct proto_config *pc = o->as == MRT_AS_BGP ? bgp : bmp;
    if (!pc)
        return yw_fail(p, at, "mrt.as: %s: add a %s: section naming the collector", o->as == MRT_AS_BGP ? "bgp" : "bmp",
                       o->as == MRT_AS_BGP ? "bgp" : "bmp");
    /* the synthesised connections go to the port the section selects, so that they are its */
    o->port = pc->select.tcp_dport.n ? pc->select.tcp_dport.v[0] : pc->proto->default_port;
    if (check_files)
        for (size_t i = 0; i < o->n_files; i++)
            if (access(o->files[i], R_OK) != 0)
                return yw_fail(p, at, "mrt: \"%s\" cannot be read: %s", o->files[i], strerror(errno));
    return 0;
}

int config_check_mrt(struct yw *p, bool check_files)
{
    struct config *c = STATE(p)->cfg;
    yaml_node_t *at = STATE(p)->mrt_node;
    if (!c->n_mrt)
        return 0;
    for (size_t i = 0; i < c->n_mrt; i++) {
        if (check_dump(p, at, &c->mrt[i], c->n_mrt, check_files) < 0)
            return -1;
        for (size_t k = 0; k < i; k++)
            if (c->mrt[i].router.family && addr_equal(&c->mrt[i].router, &c->mrt[k].router))
                return yw_fail(p, at, "mrt: dumps %zu and %zu are both router %s: give each dump a router: of its own",
                               k + 1, i + 1, addr_format(&c->mrt[i].router, (char[ADDR_STRLEN]){ 0 }));
    }
    /* one play: a dump's files are one stream (its sessions go on from one file to the
     * next), the dumps are played side by side */
    const char *first = c->mrt[0].files[0];
    size_t len = strlen(first) + 5;
    char *spec = malloc(len);
    char **v = yw_grow(c->pcaps, c->n_pcaps, sizeof *v);
    if (v)
        c->pcaps = v;
    struct config_mark *marks = v ? yw_grow(c->pcap_at, c->n_pcaps, sizeof *marks) : NULL;
    if (!spec || !marks)
        return free(spec), yw_fail(p, at, "out of memory");
    c->pcap_at = marks;
    snprintf(spec, len, "mrt:%s", first);
    c->pcap_at[c->n_pcaps] = config_mark_of(at);
    c->pcaps[c->n_pcaps++] = spec;
    c->sources.mrt = c->mrt;
    c->sources.n_mrt = c->n_mrt;
    if (!STATE(p)->no_sync_set) /* a dump's times are not minute-aligned exports */
        c->no_sync = true;
    return 0;
}
