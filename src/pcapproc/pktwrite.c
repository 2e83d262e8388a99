/* pktwrite.c — see pktwrite.h. Frames are built in one buffer: Ethernet with locally
 * administered MACs, IPv4 (DF, TTL 64) or IPv6 (hop limit 64), then UDP or TCP (PSH|ACK,
 * no SYN: a clean stream that starts with data, as replay expects). */
#include "pcapproc/pktwrite.h"

#include <stddef.h>
#include <string.h>

#define ETH_HEADER 14
#define TCP_HEADER 20
#define UDP_HEADER 8

static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static void put32(uint8_t *p, uint32_t v) { put16(p, (uint16_t)(v >> 16)); put16(p + 2, (uint16_t)v); }

static uint32_t sum_add(const uint8_t *p, size_t len, uint32_t sum)
{
    for (size_t i = 0; i + 1 < len; i += 2)
        sum += (uint32_t)(p[i] << 8 | p[i + 1]);
    if (len & 1)
        sum += (uint32_t)p[len - 1] << 8;
    return sum;
}

static uint16_t sum_fold(uint32_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

uint16_t pktwrite_checksum(const uint8_t *p, size_t len, uint32_t initial)
{
    return sum_fold(sum_add(p, len, initial));
}

int pktwrite_open(struct pktwrite *w, FILE *f, char *err, size_t errlen)
{
    memset(w, 0, offsetof(struct pktwrite, frame));
    if (!f)
        return 0;
    w->dead = pcap_open_dead(DLT_EN10MB, (int)sizeof w->frame);
    if (w->dead)
        w->dumper = pcap_dump_fopen(w->dead, f);
    if (!w->dumper) {
        snprintf(err, errlen, "cannot start the output pcap: %s", w->dead ? pcap_geterr(w->dead) : "out of memory");
        if (w->dead)
            pcap_close(w->dead);
        w->dead = NULL;
        fclose(f);
        return -1;
    }
    return 0;
}

int pktwrite_packet(struct pktwrite *w, struct pktwrite_flow *fl, int64_t ts_ns, const uint8_t *payload, size_t len)
{
    if (len > PKTWRITE_MAX_PAYLOAD)
        return -1;
    uint8_t *f = w->frame;
    static const uint8_t macs[12] = { 0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01 }; /* dst, src */
    memcpy(f, macs, 12);
    bool v6 = fl->src.family == AF_INET6;
    put16(f + 12, v6 ? 0x86dd : 0x0800);
    uint8_t *ip = f + ETH_HEADER;
    size_t ip_len = v6 ? 40 : 20, l4_len = (fl->tcp ? TCP_HEADER : UDP_HEADER) + len;
    uint8_t proto = fl->tcp ? 6 : 17;
    uint32_t pseudo = 0;
    if (v6) {
        memset(ip, 0, 40);
        ip[0] = 0x60;
        put16(ip + 4, (uint16_t)l4_len);
        ip[6] = proto;
        ip[7] = 64;
        memcpy(ip + 8, fl->src.bytes, 16);
        memcpy(ip + 24, fl->dst.bytes, 16);
        pseudo = sum_add(ip + 8, 32, 0);
    } else {
        memset(ip, 0, 20);
        ip[0] = 0x45;
        put16(ip + 2, (uint16_t)(20 + l4_len));
        put16(ip + 4, w->ip_id++);
        put16(ip + 6, 0x4000); /* DF */
        ip[8] = 64;
        ip[9] = proto;
        memcpy(ip + 12, fl->src.bytes, 4);
        memcpy(ip + 16, fl->dst.bytes, 4);
        put16(ip + 10, pktwrite_checksum(ip, 20, 0));
        pseudo = sum_add(ip + 12, 8, 0);
    }
    pseudo += proto + (uint32_t)l4_len;
    uint8_t *l4 = ip + ip_len;
    put16(l4, fl->sport);
    put16(l4 + 2, fl->dport);
    size_t hdr;
    if (fl->tcp) {
        put32(l4 + 4, fl->seq);
        put32(l4 + 8, fl->ack);
        l4[12] = 5 << 4;
        l4[13] = fl->flags ? fl->flags : 0x18; /* PSH, ACK */
        put16(l4 + 14, 65535);
        put32(l4 + 16, 0); /* checksum, urgent */
        hdr = TCP_HEADER;
        fl->seq += (uint32_t)len + ((fl->flags & 0x03) != 0); /* SYN and FIN take a sequence number */
    } else {
        put16(l4 + 4, (uint16_t)l4_len);
        put16(l4 + 6, 0);
        hdr = UDP_HEADER;
    }
    memcpy(l4 + hdr, payload, len);
    uint16_t ck = pktwrite_checksum(l4, l4_len, pseudo);
    if (!fl->tcp && ck == 0)
        ck = 0xffff; /* UDP: 0 means "no checksum" */
    put16(l4 + (fl->tcp ? 16 : 6), ck);
    size_t total = ETH_HEADER + ip_len + l4_len;
    w->packets++;
    w->bytes += total;
    if (!w->dumper)
        return 0;
    struct pcap_pkthdr h = { .caplen = (bpf_u_int32)total, .len = (bpf_u_int32)total };
    h.ts.tv_sec = (time_t)(ts_ns / 1000000000);
    h.ts.tv_usec = (suseconds_t)(ts_ns % 1000000000 / 1000);
    pcap_dump((u_char *)w->dumper, &h, f);
    return 0;
}

int pktwrite_close(struct pktwrite *w)
{
    int rc = 0;
    if (w->dumper) {
        FILE *f = pcap_dump_file(w->dumper);
        if (fflush(f) != 0 || ferror(f))
            rc = -1;
        pcap_dump_close(w->dumper); /* closes f */
    }
    if (w->dead)
        pcap_close(w->dead);
    w->dumper = NULL;
    w->dead = NULL;
    return rc;
}
