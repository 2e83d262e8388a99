/* select.h — which packets belong to which protocol: the traffic-reproducer selectors
 * (ip src/dst, tcp/udp sport/dport) and an optional BPF expression. */
#ifndef TELREP_SELECT_H
#define TELREP_SELECT_H

#include <pcap/pcap.h>
#include <stdbool.h>

#include "addr.h"
#include "decode.h"

struct u16_list { uint16_t *v; size_t n; };
struct addr_list { struct addr *v; size_t n; };

#define SELECT_BPF_LINKS 4

struct selector {
    bool present;              /* a `select:` key was given; absent = take every packet */
    struct addr_list ip_src, ip_dst; /* entries may be prefixes */
    bool has_tcp, has_udp;     /* a `tcp:` / `udp:` key was given: the packet must be that */
    struct u16_list tcp_sport, tcp_dport, udp_sport, udp_dport;
    struct u16_list header_types; /* ipfix_h.version / bgp_h.type / bmp_h.type (pcap-proc) */
    char *bpf;                 /* extension: a pcap filter expression */
    struct { int dlt; bool ok; struct bpf_program prog; } compiled[SELECT_BPF_LINKS];
    int n_compiled;
};

/* Does the packet match? frame/hdr are only used by a BPF selector. */
bool selector_matches(struct selector *s, const struct decoded *d, int dlt,
                      const struct pcap_pkthdr *hdr, const uint8_t *frame);
/* Check a BPF expression compiles; 0 or -1 with the reason in err. */
int selector_check_bpf(const char *expr, char *err, size_t errlen);
void selector_free(struct selector *s);

/* The protocol a packet belongs to: the first configured protocol (config order) of the
 * packet's transport whose selector matches; NULL = none. Replay and pcap-proc share it. */
struct config;
struct proto_config;
const struct proto_config *select_protocol(const struct config *c, const struct decoded *d, int dlt,
                                           const struct pcap_pkthdr *hdr, const uint8_t *frame);

#endif
