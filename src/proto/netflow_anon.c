/* netflow_anon.c — a NetFlow v5, v9 or IPFIX message anonymised in place (anon.h), its length
 * unchanged: v5's addresses and ASes at their fixed places; v9 and IPFIX records through the
 * exporter's templates (learnt from the messages as they come, options templates too): every
 * field of an address or AS element. A data set whose template was not seen cannot be read:
 * the message is unmappable (pcap-proc's digest removes such sets first). Fields of an
 * enterprise's elements cannot be known: they are counted (enterprise_fields), not mapped. */
#include <stdlib.h>
#include <string.h>

#include "anon.h"
#include "cursor.h"
#include "proto/netflow_int.h"
#include "proto/proto.h"

/* Information elements (RFC 7012; v9 shares their numbers) that hold an address or an AS */
enum {
    IE_SOURCE_IPV4 = 8, IE_DESTINATION_IPV4 = 12, IE_NEXT_HOP_IPV4 = 15, IE_BGP_NEXT_HOP_IPV4 = 18,
    IE_SOURCE_IPV4_PREFIX = 44, IE_DESTINATION_IPV4_PREFIX = 45, IE_EXPORTER_IPV4 = 130,
    IE_POST_NAT_SOURCE_IPV4 = 225, IE_POST_NAT_DESTINATION_IPV4 = 226,
    IE_SOURCE_IPV6 = 27, IE_DESTINATION_IPV6 = 28, IE_NEXT_HOP_IPV6 = 62, IE_BGP_NEXT_HOP_IPV6 = 63,
    IE_EXPORTER_IPV6 = 131, IE_DESTINATION_IPV6_PREFIX = 169, IE_SOURCE_IPV6_PREFIX = 170,
    IE_POST_NAT_SOURCE_IPV6 = 281, IE_POST_NAT_DESTINATION_IPV6 = 282,
    IE_BGP_SOURCE_AS = 16, IE_BGP_DESTINATION_AS = 17, IE_BGP_NEXT_ADJACENT_AS = 128, IE_BGP_PREV_ADJACENT_AS = 129,
};
/* v5's record (48 bytes): where its addresses and ASes are */
enum { V5_SRCADDR = 0, V5_DSTADDR = 4, V5_NEXTHOP = 8, V5_SRC_AS = 40, V5_DST_AS = 42 };

struct netflow_anon {
    struct anon *a;
    struct nf_cache cache;
    uint64_t enterprise_fields;
};

struct netflow_anon *netflow_anon_new(struct anon *a)
{
    struct netflow_anon *s = calloc(1, sizeof *s);
    if (s)
        s->a = a;
    return s;
}

void netflow_anon_free(struct netflow_anon *s)
{
    if (!s)
        return;
    nf_cache_free(&s->cache);
    free(s);
}

uint64_t netflow_anon_enterprise_fields(const struct netflow_anon *s) { return s ? s->enterprise_fields : 0; }

struct walk {
    struct netflow_anon *s;
    const struct netflow_header *h;
    struct nf_domain *d;
    uint8_t *data;              /* the set's records (writable) */
    enum anon_result r;
    struct bgp_anon_counts *n;
};

static void map_as_field(struct anon *a, uint8_t *p, uint16_t len, struct bgp_anon_counts *n)
{
    if (len == 2) {
        uint16_t v = (uint16_t)anon_as(a, (uint32_t)p[0] << 8 | p[1]);
        p[0] = (uint8_t)(v >> 8), p[1] = (uint8_t)v;
    } else if (len == 4) {
        uint32_t v = anon_as(a, (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]);
        p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8), p[3] = (uint8_t)v;
    }
    n->ases++;
}

static void on_field(void *ctx, uint16_t ie, bool enterprise, size_t at, uint16_t len)
{
    struct walk *w = ctx;
    uint8_t *p = w->data + at;
    if (enterprise) {
        w->s->enterprise_fields++;
        return;
    }
    switch (ie) {
    case IE_SOURCE_IPV4: case IE_DESTINATION_IPV4: case IE_NEXT_HOP_IPV4: case IE_BGP_NEXT_HOP_IPV4:
    case IE_SOURCE_IPV4_PREFIX: case IE_DESTINATION_IPV4_PREFIX: case IE_EXPORTER_IPV4:
    case IE_POST_NAT_SOURCE_IPV4: case IE_POST_NAT_DESTINATION_IPV4:
        if (len == 4) {
            anon_bytes(w->s->a, p, 4);
            w->n->addresses++;
        } else
            w->r = ANON_UNMAPPABLE; /* an address element of another length: reduced-size encoding */
        return;
    case IE_SOURCE_IPV6: case IE_DESTINATION_IPV6: case IE_NEXT_HOP_IPV6: case IE_BGP_NEXT_HOP_IPV6:
    case IE_EXPORTER_IPV6: case IE_DESTINATION_IPV6_PREFIX: case IE_SOURCE_IPV6_PREFIX:
    case IE_POST_NAT_SOURCE_IPV6: case IE_POST_NAT_DESTINATION_IPV6:
        if (len == 16) {
            anon_bytes(w->s->a, p, 16);
            w->n->addresses++;
        } else
            w->r = ANON_UNMAPPABLE;
        return;
    case IE_BGP_SOURCE_AS: case IE_BGP_DESTINATION_AS: case IE_BGP_NEXT_ADJACENT_AS: case IE_BGP_PREV_ADJACENT_AS:
        if (len == 2 || len == 4)
            map_as_field(w->s->a, p, len, w->n);
        else
            w->r = ANON_UNMAPPABLE;
        return;
    default:
        return;
    }
}

static void on_template(void *ctx, uint16_t id, bool options, uint16_t fields, uint16_t scopes, const uint8_t *specs,
                        size_t specs_len)
{
    struct walk *w = ctx;
    if (w->d)
        nf_cache_learn(&w->s->cache, w->d, id, options, fields, scopes, specs, specs_len);
}

static void on_set(void *ctx, uint16_t set_id, const uint8_t *set, size_t len)
{
    struct walk *w = ctx;
    if (set_id < 256 || len < 4) /* templates and options templates: no values */
        return;
    const struct nf_template *t = w->d ? nf_domain_template(w->d, set_id) : NULL;
    if (!t || t->withdrawn) {
        w->r = ANON_UNMAPPABLE; /* records that cannot be read cannot be mapped */
        return;
    }
    w->data = (uint8_t *)(uintptr_t)(set + 4); /* the caller's message, writable */
    nf_walk_records(t, w->h->version, set + 4, len - 4, on_field, w);
}

static enum anon_result v5(struct netflow_anon *s, uint8_t *msg, size_t len, const struct netflow_header *h,
                           struct bgp_anon_counts *n)
{
    if (len < V5_HEADER + (size_t)h->count * V5_RECORD)
        return ANON_MALFORMED;
    for (unsigned i = 0; i < h->count; i++) {
        uint8_t *r = msg + V5_HEADER + (size_t)i * V5_RECORD;
        anon_bytes(s->a, r + V5_SRCADDR, 4);
        anon_bytes(s->a, r + V5_DSTADDR, 4);
        anon_bytes(s->a, r + V5_NEXTHOP, 4);
        map_as_field(s->a, r + V5_SRC_AS, 2, n);
        map_as_field(s->a, r + V5_DST_AS, 2, n);
        n->addresses += 3;
    }
    return ANON_OK;
}

enum anon_result netflow_anonymise(struct netflow_anon *s, uint8_t *msg, size_t len, struct bgp_anon_counts *n)
{
    struct netflow_header h;
    if (netflow_parse(msg, len, &h) < 0)
        return ANON_MALFORMED;
    if (h.version == 5)
        return v5(s, msg, len, &h, n);
    struct walk w = { .s = s, .h = &h, .d = nf_cache_domain(&s->cache, h.version, h.domain), .r = ANON_OK, .n = n };
    struct netflow_visitor v = { .ctx = &w, .on_template = on_template, .on_set = on_set };
    if (nf_walk(msg, len, &h, &v) < 0)
        return ANON_MALFORMED;
    return w.r;
}
