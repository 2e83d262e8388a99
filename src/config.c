/* config.c — YAML (libyaml document API) -> struct config. Every message names
 * file:line:col and what was expected there. */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <yaml.h>

#include "yamlwalk.h"

#include "log.h"

#include "config_int.h"

/* ---- leaves ---- */

int config_key_bool(struct yw *p, yaml_node_t *v, void *t, int arg) { return yw_bool(p, v, t); }

static int key_int_or_null(struct yw *p, yaml_node_t *v, void *t, int arg)
{
    unsigned long x = 0;
    if (!yw_is_null(v) && yw_ulong(p, v, 1, 1u << 30, &x) < 0)
        return -1;
    *(int *)t = (int)x;
    return 0;
}

int config_key_nonneg_double(struct yw *p, yaml_node_t *v, void *t, int arg) { return yw_double(p, v, 0, t); }

int config_key_string(struct yw *p, yaml_node_t *v, void *t, int arg)
{
    free(*(char **)t);
    *(char **)t = NULL;
    return yw_string(p, v, t);
}

static int key_string_or_null(struct yw *p, yaml_node_t *v, void *t, int arg)
{
    if (yw_is_null(v)) {
        free(*(char **)t);
        *(char **)t = NULL;
        return 0;
    }
    return yw_string(p, v, t);
}

static int key_accepted_ignored(struct yw *p, yaml_node_t *v, void *t, int arg)
{
    bool on;
    if (yw_bool(p, v, &on) < 0)
        return -1;
    *(bool *)t = on;
    if (on)
        log_info("%s:%zu: optimize option accepted and ignored: telrep streams captures in one "
                 "thread and is faster without it", p->name, v->start_mark.line + 1);
    return 0;
}

struct config_mark config_mark_of(const yaml_node_t *n)
{
    return (struct config_mark){ (unsigned)n->start_mark.line + 1, (unsigned)n->start_mark.column + 1 };
}

static int pcap_item(struct yw *p, yaml_node_t *n, void *t)
{
    struct config *c = STATE(p)->cfg;
    char *s = NULL;
    if (yw_string(p, n, &s) < 0)
        return -1;
    char **v = yw_grow(c->pcaps, c->n_pcaps, sizeof *v);
    if (v)
        c->pcaps = v;
    struct config_mark *at = v ? yw_grow(c->pcap_at, c->n_pcaps, sizeof *at) : NULL;
    if (!at)
        return free(s), yw_fail(p, n, "out of memory");
    c->pcap_at = at;
    c->pcap_at[c->n_pcaps] = config_mark_of(n);
    c->pcaps[c->n_pcaps++] = s;
    return 0;
}

static int key_pcap(struct yw *p, yaml_node_t *v, void *t, int arg)
{
    if (yw_is_null(v))
        return yw_fail(p, v, "pcap: expected a capture path or a list of paths");
    return yw_each_item(p, v, pcap_item, NULL);
}

struct count_list { unsigned *v; size_t n; };

static int count_item(struct yw *p, yaml_node_t *n, void *t)
{
    struct count_list *l = t;
    unsigned long x;
    if (yw_ulong(p, n, 0, 1000000, &x) < 0)
        return -1;
    unsigned *v = yw_grow(l->v, l->n, sizeof *v);
    if (!v)
        return yw_fail(p, n, "out of memory");
    l->v = v;
    l->v[l->n++] = (unsigned)x;
    return 0;
}

static int key_repeat_count(struct yw *p, yaml_node_t *v, void *t, int arg)
{
    struct count_list l = { 0 };
    if (yw_each_item(p, v, count_item, &l) < 0)
        return free(l.v), -1;
    free(STATE(p)->cfg->repeat_counts);
    STATE(p)->cfg->repeat_counts = l.v;
    STATE(p)->n_repeat_counts = l.n;
    STATE(p)->repeat_count_node = v;
    return 0;
}

static int key_repeat_pattern(struct yw *p, yaml_node_t *v, void *t, int arg)
{
    const char *s = yw_scalar(v);
    if (s && !strcmp(s, "round-robin"))
        STATE(p)->cfg->repeat_pattern = REPEAT_ROUND_ROBIN;
    else if (s && !strcmp(s, "bulk"))
        STATE(p)->cfg->repeat_pattern = REPEAT_BULK;
    else
        return yw_fail(p, v, "repeat.pattern: expected round-robin or bulk, found %s%s%s", s ? "\"" : yw_kind(v),
                    s ? s : "", s ? "\"" : "");
    return 0;
}

static int key_repeat(struct yw *p, yaml_node_t *v, void *t, int arg)
{
    const struct yw_key keys[] = {
        { "count", key_repeat_count, NULL, 0 },
        { "pattern", key_repeat_pattern, NULL, 0 },
    };
    return yw_walk_mapping(p, v, keys, 2, "repeat");
}

static int key_time_factor(struct yw *p, yaml_node_t *v, void *t, int arg)
{
    return yw_double(p, v, 0, &STATE(p)->cfg->time_factor);
}

static int key_optimize_network(struct yw *p, yaml_node_t *v, void *t, int arg)
{
    const struct yw_key keys[] = {
        { "so_sndbuf", key_int_or_null, &STATE(p)->cfg->so_sndbuf, 0 },
        { "so_rcvbuf", key_int_or_null, &STATE(p)->cfg->so_rcvbuf, 0 },
    };
    return yw_walk_mapping(p, v, keys, 2, "optimize.network");
}

static int key_rate(struct yw *p, yaml_node_t *v, void *t, int arg)
{
    struct config *c = STATE(p)->cfg;
    const struct yw_key keys[] = {
        { "pps", config_key_nonneg_double, &c->rate.pps, 0 },
        { "bps", config_key_nonneg_double, &c->rate.bps, 0 },
        { "router_pps", config_key_nonneg_double, &c->rate.router_pps, 0 },
        { "router_bps", config_key_nonneg_double, &c->rate.router_bps, 0 },
    };
    return yw_walk_mapping(p, v, keys, 4, "rate");
}

static int key_loop_count(struct yw *p, yaml_node_t *v, void *t, int arg)
{
    return yw_ulong(p, v, 0, 1000000000ul, t);
}

static int key_loop(struct yw *p, yaml_node_t *v, void *t, int arg)
{
    struct config *c = STATE(p)->cfg;
    c->loop.on = true;
    c->loop.count = 1;
    const struct yw_key keys[] = {
        { "count", key_loop_count, &c->loop.count, 0 },
        { "gap", config_key_nonneg_double, &c->loop.gap, 0 },
    };
    if (yw_walk_mapping(p, v, keys, 2, "loop") < 0)
        return -1;
    STATE(p)->loop_node = v;
    return 0;
}

static int key_optimize(struct yw *p, yaml_node_t *v, void *t, int arg)
{
    const struct yw_key keys[] = {
        { "threading", key_accepted_ignored, &STATE(p)->cfg->threading, 0 },
        { "preload", key_accepted_ignored, &STATE(p)->cfg->preload, 0 },
        { "network", key_optimize_network, NULL, 0 },
    };
    return yw_walk_mapping(p, v, keys, 3, "optimize");
}

int config_host_addr(struct yw *p, yaml_node_t *v, const char *what, struct addr *out)
{
    const char *s = yw_scalar(v);
    if (!s || yw_is_null(v))
        return yw_fail(p, v, "%s: expected an IPv4 or IPv6 address, found %s", what, yw_kind(v));
    if (addr_parse(s, out) < 0 || strchr(s, '/'))
        return yw_fail(p, v, "%s: \"%s\" is not an IPv4 or IPv6 address", what, s);
    return 0;
}

static int key_map_src(struct yw *p, yaml_node_t *v, void *t, int arg)
{
    return config_host_addr(p, v, "network.map src_ip", t);
}

static int key_map_repro(struct yw *p, yaml_node_t *v, void *t, int arg)
{
    const char *s = yw_scalar(v);
    if (s && strcmp(s, CONFIG_REPRO_PLACEHOLDER) == 0)
        return yw_fail(p, v, "network.map repro_ip: still pcap-proc's placeholder: set the local address this "
                          "router is replayed from (one of `ip -brief addr`, or add one with `ip addr add`)");
    return config_host_addr(p, v, "network.map repro_ip", t);
}


static int key_clones(struct yw *p, yaml_node_t *v, void *t, int arg)
{
    const char *s = yw_scalar(v);
    char *end = NULL;
    unsigned long n = s ? strtoul(s, &end, 10) : 0;
    if (!s || end == s || *end || *s == '-' || n < 1 || n > CLONES_MAX)
        return yw_fail(p, v, "network.map clones: the number of routers this one is replayed as, 1 to %d (1: "
                       "itself), not \"%s\"", CLONES_MAX, s ? s : yw_kind(v));
    *(unsigned long *)t = n;
    return 0;
}

static int map_item(struct yw *p, yaml_node_t *n, void *t)
{
    struct config *c = STATE(p)->cfg;
    struct config_mark at = config_mark_of(n);
    struct map_entry e = { .line = at.line, .col = at.col, .clones = 1 };
    unsigned long clones = 1;
    const struct yw_key keys[] = {
        { "src_ip", key_map_src, &e.src, 0 },
        { "repro_ip", key_map_repro, &e.repro, 0 },
        { "bgp_id", config_key_bgp_id, &e.bgp_id, 0 },
        { "clones", key_clones, &clones, 0 },
    };
    if (n->type != YAML_MAPPING_NODE)
        return yw_fail(p, n, "network.map: expected entries {src_ip: ..., repro_ip: ...}, found %s", yw_kind(n));
    if (yw_walk_mapping(p, n, keys, 4, "network.map entry") < 0)
        return -1;
    if (!e.src.family || !e.repro.family)
        return yw_fail(p, n, "network.map: each entry needs both src_ip and repro_ip");
    struct addr last;
    e.clones = (unsigned)clones;
    if (addr_add(&e.repro, e.clones - 1, &last) < 0) {
        char b[ADDR_STRLEN];
        return yw_fail(p, n, "network.map: %u clones from repro_ip %s would run past the last address", e.clones,
                       addr_format(&e.repro, b));
    }
    for (size_t i = 0; i < c->n_map; i++)
        if (addr_equal(&c->map[i].src, &e.src)) {
            char b[ADDR_STRLEN];
            return yw_fail(p, n, "network.map: src_ip %s is mapped twice (first on line %u)",
                        addr_format(&e.src, b), c->map[i].line);
        }
    struct map_entry *m = yw_grow(c->map, c->n_map, sizeof *m);
    if (!m)
        return yw_fail(p, n, "out of memory");
    c->map = m;
    c->map[c->n_map++] = e;
    return 0;
}

static int key_map(struct yw *p, yaml_node_t *v, void *t, int arg)
{
    if (!yw_is_null(v) && v->type != YAML_SEQUENCE_NODE)
        return yw_fail(p, v, "network.map: expected a list of {src_ip, repro_ip}, found %s", yw_kind(v));
    return yw_each_item(p, v, map_item, NULL);
}

/* network.clones: how a router's clones differ (config.h) */
static int key_network_clones(struct yw *p, yaml_node_t *v, void *t, int arg)
{
    struct config *c = STATE(p)->cfg;
    const struct yw_key keys[] = {
        { "stagger", config_key_nonneg_double, &c->clones.stagger, 0 },
        { "bgp_id", config_key_bool, &c->clones.bgp_id, 0 },
        { "sysname", config_key_bool, &c->clones.sysname, 0 },
        { "domain", config_key_bool, &c->clones.domain, 0 },
    };
    return yw_walk_mapping(p, v, keys, 4, "network.clones");
}

static int key_network(struct yw *p, yaml_node_t *v, void *t, int arg)
{
    const struct yw_key keys[] = {
        { "map", key_map, NULL, 0 },
        { "interface", key_string_or_null, &STATE(p)->cfg->interface, 0 },
        { "clones", key_network_clones, NULL, 0 },
    };
    return yw_walk_mapping(p, v, keys, 3, "network");
}

uint64_t config_routers(const struct config *c)
{
    uint64_t n = 0;
    for (size_t i = 0; i < c->n_map; i++)
        n += c->map[i].clones ? c->map[i].clones : 1;
    return n;
}

/* ---- selectors ---- */

static int key_payload_size(struct yw *p, yaml_node_t *v, void *t, int arg)
{
    unsigned long x;
    if (yw_ulong(p, v, 1, 65535, &x) < 0)
        return -1;
    *(unsigned *)t = (unsigned)x;
    return 0;
}

static int keep_item(struct yw *p, yaml_node_t *n, void *t)
{
    struct pcap_anonymise *an = t;
    const char *s = yw_scalar(n);
    struct addr a;
    if (!s || addr_parse(s, &a) < 0)
        return yw_fail(p, n, "pcap_processing.anonymise.keep: expected an address or a prefix (192.0.2.0/24), not %s",
                       s ? s : yw_kind(n));
    struct addr *v = yw_grow(an->keep, an->n_keep, sizeof *v);
    if (!v)
        return yw_fail(p, n, "out of memory");
    an->keep = v;
    an->keep[an->n_keep++] = a;
    return 0;
}

static int key_keep(struct yw *p, yaml_node_t *v, void *t, int arg)
{
    return yw_is_null(v) ? 0 : yw_each_item(p, v, keep_item, t);
}

static int key_unmappable(struct yw *p, yaml_node_t *v, void *t, int arg)
{
    const char *s = yw_scalar(v);
    if (s && (!strcmp(s, "drop") || !strcmp(s, "fail"))) {
        *(bool *)t = !strcmp(s, "fail");
        return 0;
    }
    return yw_fail(p, v, "pcap_processing.anonymise.unmappable: drop (counted in the summary) or fail, not %s",
                   s ? s : yw_kind(v));
}

static int key_anonymise(struct yw *p, yaml_node_t *v, void *t, int arg)
{
    struct pcap_anonymise *an = t;
    an->as = true;
    const struct yw_key keys[] = {
        { "key_file", key_string_or_null, &an->key_file, 0 },
        { "keep", key_keep, an, 0 },
        { "as", config_key_bool, &an->as, 0 },
        { "unmappable", key_unmappable, &an->fail, 0 },
    };
    if (yw_walk_mapping(p, v, keys, sizeof keys / sizeof *keys, "pcap_processing.anonymise") < 0)
        return -1;
    if (!an->key_file)
        return yw_fail(p, v, "pcap_processing.anonymise: name the key (key_file: lab.key; make one with "
                       "head -c 32 /dev/urandom > lab.key)");
    return 0;
}

static int key_pcap_processing(struct yw *p, yaml_node_t *v, void *t, int arg)
{
    struct pcap_processing *pp = &STATE(p)->cfg->pcap_processing;
    const struct yw_key keys[] = {
        { "initial_delay", config_key_nonneg_double, &pp->initial_delay, 0 },
        { "inter_packet_delay", config_key_nonneg_double, &pp->inter_packet_delay, 0 },
        { "inter_protocol_delay", config_key_nonneg_double, &pp->inter_protocol_delay, 0 },
        { "desired_tcp_payload_size", key_payload_size, &pp->desired_tcp_payload_size, 0 },
        { "output_folder", key_string_or_null, &pp->output_folder, 0 },
        { "exit", config_key_bool, &pp->exit, 0 },
        { "anonymise", key_anonymise, &pp->anonymise, 0 },
    };
    pp->present = true;
    return yw_walk_mapping(p, v, keys, sizeof keys / sizeof *keys, "pcap_processing");
}

/* ---- checks once everything is read ---- */

static int key_no_sync(struct yw *p, yaml_node_t *v, void *t, int arg)
{
    STATE(p)->no_sync_set = true;
    return yw_bool(p, v, t);
}

static int check_config(struct yw *p, yaml_node_t *root, bool check_files)
{
    struct config *c = STATE(p)->cfg;
    if (config_check_mrt(p, check_files) < 0 || config_check_live(p) < 0)
        return -1;
    if (c->n_pcaps == 0)
        return yw_fail(p, root, "no pcap: key: name the capture to replay (pcap: file.pcap or a list, mrt: for "
                       "an MRT dump, or live: for an interface)");
    if (c->loop.on && c->loop.count == 0 && c->duration <= 0)
        return yw_fail(p, STATE(p)->loop_node, "loop.count 0 loops until duration: set duration: (seconds) too");
    if (c->repeat_counts) {
        if (STATE(p)->n_repeat_counts != c->n_pcaps)
            return yw_fail(p, STATE(p)->repeat_count_node, "repeat.count has %zu entries but pcap lists %zu capture%s: "
                        "give one count per pcap", STATE(p)->n_repeat_counts, c->n_pcaps, c->n_pcaps == 1 ? "" : "s");
    } else {
        c->repeat_counts = calloc(c->n_pcaps, sizeof *c->repeat_counts);
        if (!c->repeat_counts)
            return yw_fail(p, root, "out of memory");
        for (size_t i = 0; i < c->n_pcaps; i++)
            c->repeat_counts[i] = 1;
    }
    if (c->n_protos == 0)
        return yw_fail(p, root, "no protocol section: add at least one of ipfix, bgp, bmp, udp_generic, tcp_generic");
    if (check_files) { /* every capture that cannot be read, each where it is named */
        size_t off = 0, bad = 0;
        for (size_t i = 0; i < c->n_pcaps; i++) {
            if (access(c->pcaps[i], R_OK) == 0 || (c->sources.mrt && !strncmp(c->pcaps[i], "mrt:", 4)) ||
                live_spec(c->pcaps[i]))
                continue;
            int n = snprintf(p->err + off, off < p->errlen ? p->errlen - off : 0, "%s%s:%u:%u: pcap \"%s\" cannot be read: %s",
                             bad ? "\n  " : "", c->file, c->pcap_at[i].line, c->pcap_at[i].col, c->pcaps[i],
                             strerror(errno));
            off += n > 0 ? (size_t)n : 0;
            bad++;
        }
        if (bad) {
            p->failed = true;
            return -1;
        }
    }
    return 0;
}

struct config *config_parse(const char *name, const char *text, size_t len, bool check_files,
                            char *err, size_t errlen)
{
    return config_parse_flags(name, text, len, check_files, 0, err, errlen);
}

struct config *config_parse_flags(const char *name, const char *text, size_t len, bool check_files,
                                  unsigned flags, char *err, size_t errlen)
{
    struct yw p;
    struct config_state st = { 0 };
    struct config *c = calloc(1, sizeof *c);
    if (!c) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    c->file = strdup(name);
    c->time_factor = 1;
    c->clones.bgp_id = c->clones.sysname = true; /* clones are routers of their own */
    c->pcap_processing = (struct pcap_processing){ .initial_delay = 5, .inter_packet_delay = 0.001,
                                                   .inter_protocol_delay = 1, .desired_tcp_payload_size = 1424,
                                                   .exit = true };
    st.cfg = c;
    if (yw_load(&p, name, text, len, err, errlen) < 0) {
        yw_free(&p);
        config_free(c);
        return NULL;
    }
    p.user = &st;
    p.strict = flags & CONFIG_STRICT;
    yaml_node_t *root = yaml_document_get_root_node(&p.doc);
    const struct yw_key keys[] = {
        { "pcap", key_pcap, NULL, 0 },
        { "repeat", key_repeat, NULL, 0 },
        { "time_factor", key_time_factor, NULL, 0 },
        { "rate", key_rate, NULL, 0 },
        { "duration", config_key_nonneg_double, &c->duration, 0 },
        { "loop", key_loop, NULL, 0 },
        { "keep_open", config_key_bool, &c->keep_open, 0 },
        { "no_sync", key_no_sync, &c->no_sync, 0 },
        { "ask_for_input", config_key_bool, &c->ask_for_input, 0 },
        { "optimize", key_optimize, NULL, 0 },
        { "network", key_network, NULL, 0 },
        { "ipfix", config_key_protocol, NULL, PROTO_IPFIX },
        { "bgp", config_key_protocol, NULL, PROTO_BGP },
        { "bmp", config_key_protocol, NULL, PROTO_BMP },
        { "udp_generic", config_key_protocol, NULL, PROTO_UDP_GENERIC },
        { "tcp_generic", config_key_protocol, NULL, PROTO_TCP_GENERIC },
        { "pcap_processing", key_pcap_processing, NULL, 0 },
        { "mrt", config_key_mrt, NULL, 0 },
        { "live", config_key_live, NULL, 0 },
        { "user", key_string_or_null, &c->user, 0 },
    };
    int rc;
    if (!root)
        rc = yw_fail(&p, NULL, "the file is empty: a config needs at least pcap: and a protocol section");
    else if (root->type != YAML_MAPPING_NODE)
        rc = yw_fail(&p, root, "expected a mapping of settings at the top level, found %s", yw_kind(root));
    else
        rc = yw_walk_mapping(&p, root, keys, sizeof keys / sizeof *keys, "the top level");
    if (rc == 0)
        rc = check_config(&p, root, check_files);
    yw_free(&p);
    if (rc < 0) {
        config_free(c);
        return NULL;
    }
    return c;
}

struct config *config_load(const char *path, char *err, size_t errlen)
{
    return config_load_flags(path, 0, err, errlen);
}

struct config *config_load_flags(const char *path, unsigned flags, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: cannot open config: %s", path, strerror(errno));
        return NULL;
    }
    /* read one byte past the limit, so that a file over it is said to be so */
    size_t cap = YW_MAX_BYTES + 1, len = 0;
    char *buf = malloc(cap);
    if (buf)
        while (len < cap) {
            size_t n = fread(buf + len, 1, cap - len, f);
            if (n == 0)
                break;
            len += n;
        }
    bool read_error = ferror(f);
    fclose(f);
    if (!buf || read_error) {
        snprintf(err, errlen, "%s: cannot read config (%s)", path, !buf ? "out of memory" : "read error");
        free(buf);
        return NULL;
    }
    struct config *c = config_parse_flags(path, buf, len, true, flags, err, errlen);
    free(buf);
    return c;
}

void config_free(struct config *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n_pcaps; i++)
        free(c->pcaps[i]);
    free(c->pcaps);
    free(c->pcap_at);
    free(c->repeat_counts);
    free(c->map);
    free(c->interface);
    for (size_t i = 0; i < c->n_protos; i++) {
        selector_free(&c->protos[i].select);
        config_collectors_free(&c->protos[i]);
    }
    free(c->pcap_processing.output_folder);
    free(c->pcap_processing.anonymise.key_file);
    free(c->pcap_processing.anonymise.keep);
    for (size_t i = 0; i < c->n_mrt; i++)
        mrt_options_free(&c->mrt[i]);
    free(c->mrt);
    live_options_free(&c->live);
    free(c->user);
    free(c->file);
    free(c);
}

uint64_t config_plays(const struct config *c)
{
    uint64_t total = 0;
    for (size_t i = 0; i < c->n_pcaps; i++)
        total += c->repeat_counts[i];
    return total;
}

/* Computed, never stored: repeat counts of a billion cost no memory. Round robin: play k
 * is in the first round r where the plays of rounds 0..r (each capture whose count exceeds
 * the round plays once in it) pass k. */
size_t config_play_pcap(const struct config *c, uint64_t k)
{
    if (c->repeat_pattern == REPEAT_BULK) {
        for (size_t i = 0; i < c->n_pcaps; i++) {
            if (k < c->repeat_counts[i])
                return i;
            k -= c->repeat_counts[i];
        }
        return 0;
    }
    uint64_t round = 0;
    for (;;) {
        /* the rounds up to the next count boundary all have the same captures */
        uint64_t in_round = 0, next = UINT64_MAX;
        for (size_t i = 0; i < c->n_pcaps; i++)
            if (c->repeat_counts[i] > round) {
                in_round++;
                if (c->repeat_counts[i] < next)
                    next = c->repeat_counts[i];
            }
        if (!in_round)
            return 0;
        uint64_t span = next - round; /* rounds alike */
        if (k < span * in_round) {
            uint64_t at = k % in_round;
            for (size_t i = 0; i < c->n_pcaps; i++)
                if (c->repeat_counts[i] > round && at-- == 0)
                    return i;
        }
        k -= span * in_round;
        round = next;
    }
}

int config_replace_pcaps(struct config *c, const char *path)
{
    char *copy = strdup(path);
    if (!copy)
        return -1;
    for (size_t i = 0; i < c->n_pcaps; i++)
        free(c->pcaps[i]);
    c->pcaps[0] = copy;
    c->n_pcaps = 1;
    c->repeat_counts[0] = 1;
    return 0;
}

const char *config_closest(const char *word, const char *const *candidates, size_t n)
{
    return yw_closest(word, candidates, n);
}
