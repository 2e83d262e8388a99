/* flowconfig.c — see flowconfig.h. */
#include "flow/flowconfig.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "yamlwalk.h"

#define CFG(p) ((struct flow_config *)(p)->user)

void flow_config_defaults(struct flow_config *c)
{
    memset(c, 0, sizeof *c);
    c->o = (struct flow_replay_options){ .time_scale = 1, .stall_timeout = 30, .ecn = -1, .sock = { .nodelay = -1 } };
    c->syn = (struct flow_synthetic_options){ .flows = 100, .rate = 100, .rounds = FLOW_DIST_FIXED(1),
                                              .request = FLOW_DIST_FIXED(100), .response = FLOW_DIST_FIXED(1000),
                                              .think = FLOW_DIST_FIXED(0), .clients = 1, .port = 18080 };
    addr_parse("127.0.0.1", &c->syn.client);
    addr_parse("127.0.0.2", &c->syn.server);
}

/* a string kept for as long as the config */
static int keep(struct yw *p, yaml_node_t *v, const char **out)
{
    struct flow_config *c = CFG(p);
    char *s = NULL;
    if (yw_string(p, v, &s) < 0)
        return -1;
    char **all = yw_grow(c->strings, c->n_strings, sizeof *all);
    if (!all) {
        free(s);
        return yw_fail(p, v, "out of memory");
    }
    c->strings = all;
    all[c->n_strings++] = s;
    *out = s;
    return 0;
}

static int get_addr(struct yw *p, yaml_node_t *v, struct addr *out)
{
    const char *s = yw_scalar(v);
    if (!s || addr_parse(s, out) < 0 || strchr(s, '/'))
        return yw_fail(p, v, "expected an IPv4 or IPv6 address, found %s%s%s", s ? "\"" : yw_kind(v), s ? s : "",
                       s ? "\"" : "");
    return 0;
}

static int get_port(struct yw *p, yaml_node_t *v, uint16_t *out)
{
    unsigned long x;
    if (yw_ulong(p, v, 1, 65535, &x) < 0)
        return -1;
    *out = (uint16_t)x;
    return 0;
}

static int key_role(struct yw *p, yaml_node_t *v, void *t, int arg)
{
    const char *s = yw_scalar(v);
    enum flow_role *r = t;
    if (s && !strcmp(s, "both"))
        *r = FLOW_ROLE_BOTH;
    else if (s && !strcmp(s, "client"))
        *r = FLOW_ROLE_CLIENT;
    else if (s && !strcmp(s, "server"))
        *r = FLOW_ROLE_SERVER;
    else
        return yw_fail(p, v, "role: expected both, client or server, found %s%s%s", s ? "\"" : yw_kind(v),
                       s ? s : "", s ? "\"" : "");
    return 0;
}

static int key_double(struct yw *p, yaml_node_t *v, void *t, int arg) { return yw_double(p, v, arg, t); }
static int key_bool(struct yw *p, yaml_node_t *v, void *t, int arg) { return yw_bool(p, v, t); }
static int key_kept(struct yw *p, yaml_node_t *v, void *t, int arg) { return keep(p, v, t); }
static int key_addr(struct yw *p, yaml_node_t *v, void *t, int arg) { return get_addr(p, v, t); }
static int key_port(struct yw *p, yaml_node_t *v, void *t, int arg) { return get_port(p, v, t); }

static int key_tristate(struct yw *p, yaml_node_t *v, void *t, int arg)
{
    bool b;
    if (yw_bool(p, v, &b) < 0)
        return -1;
    *(int *)t = b;
    return 0;
}

static int key_bytes(struct yw *p, yaml_node_t *v, void *t, int arg)
{
    unsigned long x;
    if (yw_ulong(p, v, 1, 1ul << 30, &x) < 0)
        return -1;
    *(int *)t = (int)x;
    return 0;
}

static int key_size(struct yw *p, yaml_node_t *v, void *t, int arg)
{
    unsigned long x;
    if (yw_ulong(p, v, 1, 100000000, &x) < 0)
        return -1;
    *(size_t *)t = x;
    return 0;
}

static int key_seed(struct yw *p, yaml_node_t *v, void *t, int arg)
{
    unsigned long x;
    if (yw_ulong(p, v, 0, ~0ul, &x) < 0)
        return -1;
    *(uint64_t *)t = x;
    return 0;
}

static int key_dist(struct yw *p, yaml_node_t *v, void *t, int arg)
{
    const char *s = yw_scalar(v);
    char err[256];
    if (!s)
        return yw_fail(p, v, "expected a distribution (N, uniform:A:B, exp:MEAN, normal:MEAN:SD, lognormal:MU:SIGMA "
                             "or a mixture W*D+W*D), found %s", yw_kind(v));
    if (flow_dist_parse(s, t, err, sizeof err) < 0)
        return yw_fail(p, v, "%s", err);
    return 0;
}

/* The socket option keys (socket: and each flows: rule), then one more: `extra`. */
static void sockopt_keys(struct yw_key keys[5], struct flow_sockopts *s, struct yw_key extra)
{
    keys[0] = (struct yw_key){ "congestion", key_kept, &s->congestion, 0 };
    keys[1] = (struct yw_key){ "nodelay", key_tristate, &s->nodelay, 0 };
    keys[2] = (struct yw_key){ "sndbuf", key_bytes, &s->sndbuf, 0 };
    keys[3] = (struct yw_key){ "rcvbuf", key_bytes, &s->rcvbuf, 0 };
    keys[4] = extra;
}

static int key_socket(struct yw *p, yaml_node_t *v, void *t, int arg)
{
    struct yw_key keys[5];
    sockopt_keys(keys, &CFG(p)->o.sock, (struct yw_key){ "ecn", key_tristate, &CFG(p)->o.ecn, 0 });
    return yw_walk_mapping(p, v, keys, 5, "socket");
}

/* a list of {from, to}: addresses (arg 0) or ports (arg 1) */
static int key_maps(struct yw *p, yaml_node_t *v, void *t, int arg)
{
    struct flow_config *c = CFG(p);
    if (yw_is_null(v))
        return 0;
    if (v->type != YAML_SEQUENCE_NODE)
        return yw_fail(p, v, "%s: expected a list of {from: ..., to: ...}, found %s", arg ? "port_map" : "map",
                       yw_kind(v));
    for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
        yaml_node_t *n = yw_node(p, *it);
        if (arg) {
            struct flow_port_map m = { 0, 0 };
            const struct yw_key keys[] = { { "from", key_port, &m.from, 0 }, { "to", key_port, &m.to, 0 } };
            if (yw_walk_mapping(p, n, keys, 2, "port_map") < 0)
                return -1;
            if (!m.from || !m.to)
                return yw_fail(p, n, "port_map: each entry needs from and to");
            struct flow_port_map *all = yw_grow(c->port_map, c->o.n_port_map, sizeof *all);
            if (!all)
                return yw_fail(p, n, "out of memory");
            all[c->o.n_port_map++] = m;
            c->port_map = all;
            c->o.port_map = all;
        } else {
            struct flow_addr_map m = { { 0 }, { 0 } };
            const struct yw_key keys[] = { { "from", key_addr, &m.from, 0 }, { "to", key_addr, &m.to, 0 } };
            if (yw_walk_mapping(p, n, keys, 2, "map") < 0)
                return -1;
            if (!m.from.family || !m.to.family)
                return yw_fail(p, n, "map: each entry needs from and to");
            if (m.from.family != m.to.family)
                return yw_fail(p, n, "map: from and to must be of one address family");
            struct flow_addr_map *all = yw_grow(c->map, c->o.n_map, sizeof *all);
            if (!all)
                return yw_fail(p, n, "out of memory");
            all[c->o.n_map++] = m;
            c->map = all;
            c->o.map = all;
        }
    }
    return 0;
}

static int key_match(struct yw *p, yaml_node_t *v, void *t, int arg)
{
    struct flow_rule *r = t;
    unsigned long fid = 0;
    uint16_t port = 0;
    r->server_port = -1;
    for (yaml_node_pair_t *pair = v && v->type == YAML_MAPPING_NODE ? v->data.mapping.pairs.start : NULL;
         pair && pair < v->data.mapping.pairs.top; pair++) {
        const char *k = yw_scalar(yw_node(p, pair->key));
        yaml_node_t *val = yw_node(p, pair->value);
        if (k && !strcmp(k, "fid")) {
            if (yw_ulong(p, val, 0, ~0ul, &fid) < 0)
                return -1;
            r->has_fid = true;
            r->fid = fid;
        } else if (k && !strcmp(k, "client")) {
            if (get_addr(p, val, &r->client) < 0)
                return -1;
            r->has_client = true;
        } else if (k && !strcmp(k, "server")) {
            if (get_addr(p, val, &r->server) < 0)
                return -1;
            r->has_server = true;
        } else if (k && !strcmp(k, "server_port")) {
            if (get_port(p, val, &port) < 0)
                return -1;
            r->server_port = port;
        } else {
            return yw_fail(p, yw_node(p, pair->key), "match: the keys are fid, client, server and server_port");
        }
    }
    if (!v || v->type != YAML_MAPPING_NODE)
        return yw_fail(p, v, "match: expected a mapping like {server_port: 443}, found %s", yw_kind(v));
    return 0;
}

static int key_flows(struct yw *p, yaml_node_t *v, void *t, int arg)
{
    struct flow_config *c = CFG(p);
    if (yw_is_null(v))
        return 0;
    if (v->type != YAML_SEQUENCE_NODE)
        return yw_fail(p, v, "flows: expected a list of {match: {...}, congestion: ...}, found %s", yw_kind(v));
    for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
        yaml_node_t *n = yw_node(p, *it);
        struct flow_rule r = { .server_port = -1, .opts = { .nodelay = -1 } };
        struct yw_key keys[5];
        sockopt_keys(keys, &r.opts, (struct yw_key){ "match", key_match, &r, 0 });
        if (yw_walk_mapping(p, n, keys, 5, "flows") < 0)
            return -1;
        struct flow_rule *all = yw_grow(c->rules, c->o.n_rules, sizeof *all);
        if (!all)
            return yw_fail(p, n, "out of memory");
        all[c->o.n_rules++] = r;
        c->rules = all;
        c->o.rules = all;
    }
    return 0;
}

static int key_synthetic(struct yw *p, yaml_node_t *v, void *t, int arg)
{
    struct flow_synthetic_options *s = &CFG(p)->syn;
    bool poisson = s->poisson;
    const struct yw_key keys[] = {
        { "flows", key_size, &s->flows, 0 },
        { "rate", key_double, &s->rate, 0 },
        { "poisson", key_bool, &poisson, 0 },
        { "rounds", key_dist, &s->rounds, 0 },
        { "arrival", key_dist, &s->arrival, 0 },
        { "request", key_dist, &s->request, 0 },
        { "response", key_dist, &s->response, 0 },
        { "think", key_dist, &s->think, 0 },
        { "client", key_addr, &s->client, 0 },
        { "clients", key_size, &s->clients, 0 },
        { "server", key_addr, &s->server, 0 },
        { "port", key_port, &s->port, 0 },
        { "seed", key_seed, &s->seed, 0 },
    };
    CFG(p)->synthetic = true;
    int rc = yw_walk_mapping(p, v, keys, sizeof keys / sizeof *keys, "synthetic");
    s->poisson = poisson;
    if (rc == 0 && s->rate <= 0)
        return yw_fail(p, v, "synthetic: rate must be > 0");
    return rc;
}

int flow_config_parse(const char *name, const char *text, size_t len, struct flow_config *c, char *err, size_t errlen)
{
    struct yw p;
    if (yw_load(&p, name, text, len, err, errlen) < 0) {
        yw_free(&p);
        return -1;
    }
    p.user = c;
    struct flow_replay_options *o = &c->o;
    const struct yw_key keys[] = {
        { "role", key_role, &o->role, 0 },
        { "time_scale", key_double, &o->time_scale, 0 },
        { "asap", key_bool, &o->asap, 0 },
        { "client_netns", key_kept, &o->client_netns, 0 },
        { "server_netns", key_kept, &o->server_netns, 0 },
        { "stall_timeout", key_double, &o->stall_timeout, 0 },
        { "timeout", key_double, &o->timeout, 0 },
        { "tcpinfo_interval", key_double, &o->tcpinfo_interval, 0 },
        { "results", key_kept, &c->results, 0 },
        { "summary", key_kept, &c->summary, 0 },
        { "map", key_maps, NULL, 0 },
        { "port_map", key_maps, NULL, 1 },
        { "socket", key_socket, NULL, 0 },
        { "flows", key_flows, NULL, 0 },
        { "synthetic", key_synthetic, NULL, 0 },
    };
    yaml_node_t *root = yaml_document_get_root_node(&p.doc);
    int rc = 0;
    if (root && root->type != YAML_MAPPING_NODE)
        rc = yw_fail(&p, root, "expected a mapping of settings at the top level, found %s", yw_kind(root));
    else if (root)
        rc = yw_walk_mapping(&p, root, keys, sizeof keys / sizeof *keys, "the top level");
    if (rc == 0 && o->stall_timeout <= 0)
        rc = yw_fail(&p, root, "stall_timeout must be > 0");
    yw_free(&p);
    return rc;
}

int flow_config_load(const char *path, struct flow_config *c, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    static char text[1 << 20];
    size_t n = fread(text, 1, sizeof text, f);
    bool too_big = n == sizeof text, bad = ferror(f);
    fclose(f);
    if (too_big || bad) {
        snprintf(err, errlen, "%s: %s", path, too_big ? "larger than 1 MB: not a config" : "read error");
        return -1;
    }
    return flow_config_parse(path, text, n, c, err, errlen);
}

void flow_config_free(struct flow_config *c)
{
    for (size_t i = 0; i < c->n_strings; i++)
        free(c->strings[i]);
    free(c->strings);
    free(c->map);
    free(c->port_map);
    free(c->rules);
    memset(c, 0, sizeof *c);
}
