/* netflow_int.h — what netflow.c (the walker, pcap-proc's digest) and netflow_rewrite.c
 * (the replay's rewrites) share: the walker's visitor and the template cache.
 *
 * The cache keeps, per exporter, the templates of each (version, observation domain /
 * source id) by template id, options templates included, as their field specifiers were
 * sent. Memory is bounded: beyond MAX_DOMAINS domains, MAX_TEMPLATES templates or
 * MAX_SPEC_BYTES of specifiers new ones are counted (over_limit), not kept. */
#ifndef TELREP_NETFLOW_INT_H
#define TELREP_NETFLOW_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/proto.h"

#define V5_HEADER 24
#define V5_RECORD 48
#define V9_HEADER 20
#define IPFIX_HEADER 16

#define MAX_DOMAINS 256
#define MAX_TEMPLATES 4096
#define MAX_SPEC_BYTES (4u << 20)
#define MAX_UNKNOWN_IDS 16
#define VARLEN 65535 /* IPFIX: a variable-length field */

/* What the walker hands a visitor: each template record and each set. */
struct netflow_visitor {
    void *ctx;
    void (*on_template)(void *ctx, uint16_t id, bool options, uint16_t fields, uint16_t scopes,
                        const uint8_t *specs, size_t specs_len);
    /* the whole set, header included, after its templates were visited */
    void (*on_set)(void *ctx, uint16_t set_id, const uint8_t *set, size_t len);
};
/* One message: its header into h, its templates and sets to v (may be NULL). 0 or -1. */
int nf_walk(const uint8_t *msg, size_t len, struct netflow_header *h, const struct netflow_visitor *v);

struct nf_template {
    uint16_t id, fields, scopes;
    bool options, withdrawn;
    uint8_t *specs;          /* the field specifiers as sent */
    size_t specs_len;
    int32_t min_record;      /* bytes of the fixed fields (+1 per variable-length field) */
    bool variable;
    bool has_times;          /* it carries an absolute time field (netflow_rewrite.c) */
    uint64_t data_sets, data_records, redefined;
};

struct nf_domain {
    uint16_t version;
    uint32_t id;
    struct nf_template *templates;
    size_t n_templates;
    /* pcap-proc's digest */
    uint64_t messages, kept, dropped;
    uint32_t seq_first, seq_last, next_seq;
    bool seq_known, next_known;
    uint64_t seq_gaps, seq_missing;
    uint32_t time_first, time_last;
    uint64_t unknown_sets, unknown_bytes;
    uint16_t unknown_ids[MAX_UNKNOWN_IDS];
    unsigned n_unknown_ids;
    /* the replay's rewrites: the sequence number its next message gets; the templates sent
     * before its data (primed since the last restart, when; the next to send) */
    uint32_t out_seq;
    bool out_started;
    bool primed, priming;
    int64_t primed_at_ns;
    uint64_t since_primed;    /* the domain's messages since (template_resend packets) */
    size_t prime_next;
};

struct nf_cache {
    struct nf_domain *domains;
    size_t n_domains, total_templates, spec_bytes;
    uint64_t over_limit;
};

/* The domain (created when new; NULL over the limit or out of memory). */
struct nf_domain *nf_cache_domain(struct nf_cache *c, uint16_t version, uint32_t id);
struct nf_template *nf_domain_template(struct nf_domain *d, uint16_t id);
/* A template record seen in domain d (a refresh, a new one or a redefinition); NULL when it
 * could not be kept. */
struct nf_template *nf_cache_learn(struct nf_cache *c, struct nf_domain *d, uint16_t id, bool options,
                                   uint16_t fields, uint16_t scopes, const uint8_t *specs, size_t specs_len);
/* The records of a data set of template t (data: after the set header; padding, shorter than
 * a record, ends it): how many, and, when field is given, each field of each (its element,
 * whether an enterprise's, where it is in data, its length; only fields whose bytes are all
 * there). Without field, a template of fixed-length fields costs a division. */
typedef void (*nf_field_fn)(void *ctx, uint16_t ie, bool enterprise, size_t at, uint16_t len);
uint32_t nf_walk_records(const struct nf_template *t, uint16_t version, const uint8_t *data, size_t len,
                         nf_field_fn field, void *ctx);
void nf_cache_free(struct nf_cache *c);
/* netflow_rewrite.c: does t carry an absolute time field the rewrites move? */
bool nf_template_has_times(const struct nf_template *t, uint16_t version);

#endif
