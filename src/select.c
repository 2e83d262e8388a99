#include "select.h"

#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>

#include "config.h"
#include "log.h"

static bool port_in(const struct u16_list *l, uint16_t port)
{
    if (l->n == 0)
        return true; /* no list = any port */
    for (size_t i = 0; i < l->n; i++)
        if (l->v[i] == port)
            return true;
    return false;
}

static bool addr_in(const struct addr_list *l, const struct addr *a)
{
    if (l->n == 0)
        return true;
    for (size_t i = 0; i < l->n; i++)
        if (addr_in_prefix(a, &l->v[i]))
            return true;
    return false;
}

int selector_check_bpf(const char *expr, char *err, size_t errlen)
{
    pcap_t *p = pcap_open_dead(DLT_EN10MB, 65535);
    struct bpf_program prog;
    int rc = pcap_compile(p, &prog, expr, 1, PCAP_NETMASK_UNKNOWN);
    if (rc < 0)
        snprintf(err, errlen, "%s", pcap_geterr(p));
    else
        pcap_freecode(&prog);
    pcap_close(p);
    return rc < 0 ? -1 : 0;
}

/* BPF programs depend on the link type: compile once per link type seen. */
static struct bpf_program *selector_bpf_for(struct selector *s, int dlt)
{
    for (int i = 0; i < s->n_compiled; i++)
        if (s->compiled[i].dlt == dlt)
            return s->compiled[i].ok ? &s->compiled[i].prog : NULL;
    if (s->n_compiled == SELECT_BPF_LINKS)
        return NULL;
    int i = s->n_compiled++;
    s->compiled[i].dlt = dlt;
    pcap_t *p = pcap_open_dead(dlt, 262144);
    s->compiled[i].ok = pcap_compile(p, &s->compiled[i].prog, s->bpf, 1, PCAP_NETMASK_UNKNOWN) == 0;
    if (!s->compiled[i].ok)
        log_warn("bpf selector \"%s\" does not compile for link type %d: %s; it matches nothing there",
                 s->bpf, dlt, pcap_geterr(p));
    pcap_close(p);
    return s->compiled[i].ok ? &s->compiled[i].prog : NULL;
}

bool selector_matches(struct selector *s, const struct decoded *d, int dlt,
                      const struct pcap_pkthdr *hdr, const uint8_t *frame)
{
    if (!s->present)
        return true;
    if (!addr_in(&s->ip_src, &d->src) || !addr_in(&s->ip_dst, &d->dst))
        return false;
    if (s->has_tcp && (d->ip_proto != IPPROTO_TCP || !port_in(&s->tcp_sport, d->sport) ||
                       !port_in(&s->tcp_dport, d->dport)))
        return false;
    if (s->has_udp && (d->ip_proto != IPPROTO_UDP || !port_in(&s->udp_sport, d->sport) ||
                       !port_in(&s->udp_dport, d->dport)))
        return false;
    if (s->bpf) {
        struct bpf_program *prog = selector_bpf_for(s, dlt);
        if (!prog || !hdr || !pcap_offline_filter(prog, hdr, frame))
            return false;
    }
    return true;
}

void selector_free(struct selector *s)
{
    free(s->ip_src.v);
    free(s->ip_dst.v);
    free(s->tcp_sport.v);
    free(s->tcp_dport.v);
    free(s->udp_sport.v);
    free(s->udp_dport.v);
    free(s->header_types.v);
    for (int i = 0; i < s->n_compiled; i++)
        if (s->compiled[i].ok)
            pcap_freecode(&s->compiled[i].prog);
    free(s->bpf);
}

const struct proto_config *select_protocol(const struct config *c, const struct decoded *d, int dlt,
                                           const struct pcap_pkthdr *hdr, const uint8_t *frame)
{
    bool tcp = d->ip_proto == IPPROTO_TCP;
    for (size_t i = 0; i < c->n_protos; i++) {
        struct proto_config *pc = (struct proto_config *)&c->protos[i];
        if ((pc->proto->transport == TRANSPORT_TCP) != tcp)
            continue;
        if (selector_matches(&pc->select, d, dlt, hdr, frame))
            return pc;
    }
    return NULL;
}
