/* config_proto.c — a protocol section of the config (ipfix, bgp, bmp, udp_generic,
 * tcp_generic): select, collector, source_port, the TCP session keys, the rewrites. */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include "config_int.h"

static int addr_item(struct yw *p, yaml_node_t *n, void *t)
{
    struct addr_list *l = t;
    struct addr a;
    const char *s = yw_scalar(n);
    if (!s || addr_parse(s, &a) < 0)
        return yw_fail(p, n, "select.ip: \"%s\" is not an IPv4/IPv6 address or prefix", s ? s : yw_kind(n));
    struct addr *v = yw_grow(l->v, l->n, sizeof *v);
    if (!v)
        return yw_fail(p, n, "out of memory");
    l->v = v;
    l->v[l->n++] = a;
    return 0;
}

static int port_item(struct yw *p, yaml_node_t *n, void *t)
{
    struct u16_list *l = t;
    unsigned long x;
    if (yw_ulong(p, n, 0, 65535, &x) < 0)
        return -1;
    uint16_t *v = yw_grow(l->v, l->n, sizeof *v);
    if (!v)
        return yw_fail(p, n, "out of memory");
    l->v = v;
    l->v[l->n++] = (uint16_t)x;
    return 0;
}

static int key_addr_list(struct yw *p, yaml_node_t *v, void *t, int arg) { return yw_each_item(p, v, addr_item, t); }
static int key_port_list(struct yw *p, yaml_node_t *v, void *t, int arg) { return yw_each_item(p, v, port_item, t); }

static int key_select_ip(struct yw *p, yaml_node_t *v, void *t, int arg)
{
    struct selector *s = t;
    const struct yw_key keys[] = {
        { "src", key_addr_list, &s->ip_src, 0 },
        { "dst", key_addr_list, &s->ip_dst, 0 },
    };
    return yw_walk_mapping(p, v, keys, 2, "select.ip");
}

static int key_select_tcp(struct yw *p, yaml_node_t *v, void *t, int arg)
{
    struct selector *s = t;
    const struct yw_key keys[] = {
        { "sport", key_port_list, &s->tcp_sport, 0 },
        { "dport", key_port_list, &s->tcp_dport, 0 },
    };
    s->has_tcp = true;
    return yw_walk_mapping(p, v, keys, 2, "select.tcp");
}

static int key_select_udp(struct yw *p, yaml_node_t *v, void *t, int arg)
{
    struct selector *s = t;
    const struct yw_key keys[] = {
        { "sport", key_port_list, &s->udp_sport, 0 },
        { "dport", key_port_list, &s->udp_dport, 0 },
    };
    s->has_udp = true;
    return yw_walk_mapping(p, v, keys, 2, "select.udp");
}

/* ipfix_h.version, bgp_h.type, bmp_h.type: read by pcap-proc */
static int key_select_header(struct yw *p, yaml_node_t *v, void *t, int arg)
{
    struct selector *s = t;
    const struct yw_key keys[] = {
        { arg == PROTO_IPFIX ? "version" : "type", key_port_list, &s->header_types, 0 },
    };
    return yw_walk_mapping(p, v, keys, 1, arg == PROTO_IPFIX ? "select.ipfix_h" : "select header");
}

static int key_select_bpf(struct yw *p, yaml_node_t *v, void *t, int arg)
{
    struct selector *s = t;
    char why[PCAP_ERRBUF_SIZE + 64];
    if (yw_string(p, v, &s->bpf) < 0)
        return -1;
    if (selector_check_bpf(s->bpf, why, sizeof why) < 0)
        return yw_fail(p, v, "select.bpf: \"%s\" is not a valid filter: %s", s->bpf, why);
    return 0;
}

static int key_select(struct yw *p, yaml_node_t *v, void *t, int arg)
{
    struct selector *s = t;
    const struct yw_key keys[] = {
        { "ip", key_select_ip, s, 0 },
        { "tcp", key_select_tcp, s, 0 },
        { "udp", key_select_udp, s, 0 },
        { "ipfix_h", key_select_header, s, PROTO_IPFIX },
        { "bgp_h", key_select_header, s, PROTO_BGP },
        { "bmp_h", key_select_header, s, PROTO_BMP },
        { "bpf", key_select_bpf, s, 0 },
    };
    s->present = !yw_is_null(v);
    return yw_walk_mapping(p, v, keys, sizeof keys / sizeof *keys, "select");
}

static int key_collector_port(struct yw *p, yaml_node_t *v, void *t, int arg)
{
    unsigned long x;
    if (yw_ulong(p, v, 1, 65535, &x) < 0)
        return -1;
    *(uint16_t *)t = (uint16_t)x;
    return 0;
}

/* A collector address: a literal that looks like an address must be one (300.1.1.1 is a
 * typo, not a host name to look up); anything else is a host name, resolved at the start. */
static int collector_host_item(struct yw *p, yaml_node_t *n, void *t)
{
    struct collector_config *cc = t;
    char *s = NULL;
    if (yw_string(p, n, &s) < 0)
        return -1;
    bool dotted = s[0] != 0 && strspn(s, "0123456789.") == strlen(s), colon = strchr(s, ':') != NULL;
    struct addr a;
    if ((dotted || colon) && (addr_parse(s, &a) < 0 || strchr(s, '/'))) {
        yw_fail(p, n, "collector ip: \"%s\" is not an %s address", s, colon ? "IPv6" : "IPv4");
        free(s);
        return -1;
    }
    char **v = yw_grow(cc->hosts, cc->n_hosts, sizeof *v);
    if (!v)
        return free(s), yw_fail(p, n, "out of memory");
    cc->hosts = v;
    cc->hosts[cc->n_hosts++] = s;
    return 0;
}

static int key_collector_hosts(struct yw *p, yaml_node_t *v, void *t, int arg)
{
    struct collector_config *cc = t;
    for (size_t i = 0; i < cc->n_hosts; i++)
        free(cc->hosts[i]);
    cc->n_hosts = 0;
    return yw_each_item(p, v, collector_host_item, cc);
}

/* One collector: {ip, port}. */
static int collector_item(struct yw *p, yaml_node_t *v, struct proto_config *pc)
{
    if (pc->n_collectors == COLLECTORS_MAX)
        return yw_fail(p, v, "over %d collectors for %s", COLLECTORS_MAX, proto_names[pc->id]);
    struct collector_config *all = yw_grow(pc->collectors, pc->n_collectors, sizeof *all);
    if (!all)
        return yw_fail(p, v, "out of memory");
    pc->collectors = all;
    struct collector_config *cc = &all[pc->n_collectors++];
    *cc = (struct collector_config){ .at = config_mark_of(v) };
    const struct yw_key keys[] = {
        { "ip", key_collector_hosts, cc, 0 },
        { "port", key_collector_port, &cc->port, 0 },
    };
    if (yw_walk_mapping(p, v, keys, 2, "collector") < 0)
        return -1;
    if (cc->n_hosts && !cc->port)
        cc->port = pc->proto->default_port;
    return 0;
}

/* collector: one {ip, port}, or a list of them (fan-out: each gets every packet) */
static int key_collector(struct yw *p, yaml_node_t *v, void *t, int arg)
{
    struct proto_config *pc = t;
    config_collectors_free(pc);
    if (v->type != YAML_SEQUENCE_NODE)
        return yw_is_null(v) ? 0 : collector_item(p, v, pc);
    for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++)
        if (collector_item(p, yw_node(p, *it), pc) < 0)
            return -1;
    for (size_t i = 0; i < pc->n_collectors; i++) /* the same one twice is a typo, not a fan-out */
        for (size_t j = 0; j < i; j++)
            if (pc->collectors[i].port == pc->collectors[j].port && pc->collectors[i].n_hosts &&
                pc->collectors[j].n_hosts && !strcmp(pc->collectors[i].hosts[0], pc->collectors[j].hosts[0])) {
                yw_fail(p, yw_node(p, v->data.sequence.items.start[i]), "collector %s port %u is listed twice",
                        pc->collectors[i].hosts[0], pc->collectors[i].port);
                return -1;
            }
    return 0;
}

void config_collectors_free(struct proto_config *pc)
{
    for (size_t i = 0; i < pc->n_collectors; i++) {
        for (size_t k = 0; k < pc->collectors[i].n_hosts; k++)
            free(pc->collectors[i].hosts[k]);
        free(pc->collectors[i].hosts);
    }
    free(pc->collectors);
    pc->collectors = NULL;
    pc->n_collectors = 0;
}

/* source_port: keep (the captured exporter's) or a number; absent: the kernel picks one */
static int key_source_port(struct yw *p, yaml_node_t *v, void *t, int arg)
{
    const char *s = yw_scalar(v);
    char *end = NULL;
    unsigned long x = s && *s >= '0' && *s <= '9' ? strtoul(s, &end, 10) : 0;
    if (yw_is_null(v))
        *(int *)t = 0;
    else if (s && !strcmp(s, "keep"))
        *(int *)t = -1;
    else if (end && !*end && x >= 1 && x <= 65535)
        *(int *)t = (int)x;
    else
        return yw_fail(p, v, "source_port: expected keep (the captured exporter's port) or a port 1-65535, found "
                             "%s%s%s", s ? "\"" : yw_kind(v), s ? s : "", s ? "\"" : "");
    return 0;
}

/* A key that takes one of two words: keep (false, the captured bytes) or the other (true). */
static int key_keep_or(struct yw *p, yaml_node_t *v, bool *t, const char *key, const char *other)
{
    const char *s = yw_scalar(v);
    if (s && !strcmp(s, "keep"))
        *t = false;
    else if (s && !strcmp(s, other))
        *t = true;
    else
        return yw_fail(p, v, "%s: expected keep (as captured) or %s, found %s%s%s", key, other, s ? "\"" : yw_kind(v),
                       s ? s : "", s ? "\"" : "");
    return 0;
}

static int key_export_time(struct yw *p, yaml_node_t *v, void *t, int arg)
{
    return key_keep_or(p, v, t, "export_time", "now");
}

static int key_sequence(struct yw *p, yaml_node_t *v, void *t, int arg)
{
    return key_keep_or(p, v, t, "sequence", "continuous");
}

static int key_timestamps(struct yw *p, yaml_node_t *v, void *t, int arg)
{
    return key_keep_or(p, v, t, "timestamps", "now");
}

static int key_templates(struct yw *p, yaml_node_t *v, void *t, int arg)
{
    return key_keep_or(p, v, t, "templates", "prime");
}

/* seconds, kept in nanoseconds */
static int key_resend_seconds(struct yw *p, yaml_node_t *v, void *t, int arg)
{
    double s;
    if (config_key_nonneg_double(p, v, &s, 0) < 0)
        return -1;
    *(int64_t *)t = (int64_t)(s * 1e9);
    return 0;
}

static int key_resend_packets(struct yw *p, yaml_node_t *v, void *t, int arg)
{
    unsigned long n;
    if (yw_ulong(p, v, 0, UINT32_MAX, &n) < 0)
        return -1;
    *(uint32_t *)t = (uint32_t)n;
    return 0;
}

/* template_resend: seconds, or {seconds: S, packets: N} (either or both, as routers do:
 * a template timeout and a refresh rate in packets) */
static int key_resend(struct yw *p, yaml_node_t *v, void *t, int arg)
{
    struct rewrite_config *rc = t;
    if (v->type != YAML_MAPPING_NODE)
        return key_resend_seconds(p, v, &rc->template_resend_ns, 0);
    const struct yw_key keys[] = {
        { "seconds", key_resend_seconds, &rc->template_resend_ns, 0 },
        { "packets", key_resend_packets, &rc->template_resend_packets, 0 },
    };
    return yw_walk_mapping(p, v, keys, 2, "template_resend");
}

static int key_reconnect(struct yw *p, yaml_node_t *v, void *t, int arg)
{
    bool b;
    if (yw_bool(p, v, &b) < 0)
        return -1;
    *(int *)t = b;
    return 0;
}

static int key_my_as(struct yw *p, yaml_node_t *v, void *t, int arg)
{
    unsigned long x;
    if (yw_ulong(p, v, 1, 4294967295ul, &x) < 0)
        return -1;
    *(uint32_t *)t = (uint32_t)x;
    return 0;
}

static int key_hold_time(struct yw *p, yaml_node_t *v, void *t, int arg)
{
    unsigned long x;
    if (yw_ulong(p, v, 0, 65535, &x) < 0)
        return -1;
    if (x == 1 || x == 2)
        return yw_fail(p, v, "bgp.hold_time: 0 or at least 3 seconds (RFC 4271), found %lu", x);
    *(int *)t = (int)x;
    return 0;
}

int config_key_bgp_id(struct yw *p, yaml_node_t *v, void *t, int arg)
{
    struct addr a;
    if (config_host_addr(p, v, "bgp.bgp_id", &a) < 0)
        return -1;
    if (a.family != AF_INET)
        return yw_fail(p, v, "bgp.bgp_id: a BGP identifier is an IPv4 address");
    *(uint32_t *)t = (uint32_t)a.bytes[0] << 24 | (uint32_t)a.bytes[1] << 16 | (uint32_t)a.bytes[2] << 8 | a.bytes[3];
    return 0;
}

int config_key_protocol(struct yw *p, yaml_node_t *v, void *t, int arg)
{
    struct config *c = STATE(p)->cfg;
    for (size_t i = 0; i < c->n_protos; i++)
        if (c->protos[i].id == (enum proto_id)arg)
            return yw_fail(p, v, "protocol section %s given twice", proto_names[arg]);
    struct proto_config *pc = &c->protos[c->n_protos++];
    pc->id = (enum proto_id)arg;
    pc->proto = proto_by_id(pc->id);
    pc->line = (unsigned)v->start_mark.line + 1;
    struct session_config *sc = &pc->session;
    *sc = (struct session_config){ .reconnect = -1, .open_timeout = 10, .drain_timeout = 30, .hold_time = -1 };
    const struct yw_key keys[] = {
        { "select", key_select, &pc->select, 0 },
        { "collector", key_collector, pc, 0 },
        /* TCP sessions */
        { "reconnect", key_reconnect, &sc->reconnect, 0 },
        { "drain_timeout", config_key_nonneg_double, &sc->drain_timeout, 0 },
        /* bgp */
        { "open_timeout", config_key_nonneg_double, &sc->open_timeout, 0 },
        { "my_as", key_my_as, &sc->my_as, 0 },
        { "bgp_id", config_key_bgp_id, &sc->bgp_id, 0 },
        { "hold_time", key_hold_time, &sc->hold_time, 0 },
    };
    const struct yw_key bmp_keys[] = { keys[0], keys[1], keys[2], keys[3], { "send_term", config_key_bool, &sc->send_term, 0 },
                                       { "timestamps", key_timestamps, &pc->rewrite.export_time_now, 0 } };
    const struct yw_key udp_keys[] = {
        keys[0], keys[1], { "source_port", key_source_port, &pc->source_port, 0 },
        /* ipfix (NetFlow v5, v9, IPFIX): the rewrites (netflow_rewrite.c) */
        { "export_time", key_export_time, &pc->rewrite.export_time_now, 0 },
        { "sequence", key_sequence, &pc->rewrite.sequence_continuous, 0 },
        { "templates", key_templates, &pc->rewrite.templates_prime, 0 },
        { "template_resend", key_resend, &pc->rewrite, 0 },
    };
    if (pc->id == PROTO_BMP)
        return yw_walk_mapping(p, v, bmp_keys, 6, proto_names[arg]);
    if (pc->proto->transport == TRANSPORT_UDP)
        return yw_walk_mapping(p, v, udp_keys, pc->proto->rewrite ? 7 : 3, proto_names[arg]);
    size_t n = pc->id == PROTO_BGP ? 8 : 4;
    return yw_walk_mapping(p, v, keys, n, proto_names[arg]);
}

