/* netflow.c — NetFlow v5, NetFlow v9 (RFC 3954) and IPFIX (RFC 7011) messages.
 * One walker reads headers, sets, templates and option templates; the replay's counters
 * and pcap-proc's cleaning and summary (the second half of this file) build on it. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "cursor.h"
#include "proto/netflow_int.h"
#include "proto/proto.h"


static int parse_v5(struct cursor *c, size_t len, struct netflow_header *h)
{
    h->count = cursor_be16(c);
    cursor_skip(c, 4);                 /* sysUpTime */
    h->export_time = cursor_be32(c);   /* unix_secs */
    cursor_skip(c, 4);                 /* unix_nsecs */
    h->sequence = cursor_be32(c);
    h->domain = (uint32_t)cursor_be16(c); /* engine type and id */
    cursor_skip(c, 2);                 /* sampling */
    if (!cursor_ok(c))
        return -1;
    h->length = (uint16_t)(V5_HEADER + V5_RECORD * h->count);
    if (h->count == 0 || h->count > 30 || len < h->length)
        return -1;
    h->data_sets = 1;
    return 0;
}

/* A template record: id, field count, [scope count,] fields. IPFIX fields may carry an
 * enterprise number (high bit of the IE id). v9 options templates count scope and option
 * fields in bytes. A field count of 0 withdraws the template (IPFIX). Returns 0 or -1. */
static int parse_template(struct cursor *set, uint16_t version, bool options, struct netflow_header *h,
                          const struct netflow_visitor *v)
{
    uint16_t id = cursor_be16(set);
    uint32_t fields, scopes = 0;
    if (version == 9 && options) {
        uint16_t scope_bytes = cursor_be16(set), option_bytes = cursor_be16(set);
        if (scope_bytes % 4 || option_bytes % 4)
            return -1;
        scopes = scope_bytes / 4u;
        fields = scopes + option_bytes / 4u;
    } else {
        fields = cursor_be16(set);
        if (options && fields > 0) {
            scopes = cursor_be16(set);
            if (scopes == 0 || scopes > fields)
                return -1;
        }
    }
    /* every field takes at least 4 bytes: a count the set cannot hold is a lie, and
     * walking it would cost 65,535 steps per 8-byte hostile template */
    if (!cursor_ok(set) || id < 256 || fields > cursor_remaining(set) / 4)
        return -1;
    const uint8_t *specs = cursor_rest(set);
    size_t before = cursor_remaining(set);
    for (uint32_t i = 0; i < fields && cursor_ok(set); i++) {
        uint16_t ie = cursor_be16(set);
        cursor_skip(set, 2);
        if (version == 10 && (ie & 0x8000))
            cursor_skip(set, 4);
    }
    if (!cursor_ok(set))
        return -1;
    if (options)
        h->option_templates++;
    else
        h->templates++;
    if (v && v->on_template)
        v->on_template(v->ctx, id, options, (uint16_t)fields, (uint16_t)scopes, specs,
                       before - cursor_remaining(set));
    return 0;
}

static int parse_sets(struct cursor *c, uint16_t version, struct netflow_header *h, const struct netflow_visitor *v)
{
    uint16_t template_set = version == 9 ? 0 : 2, options_set = version == 9 ? 1 : 3;
    while (cursor_remaining(c) >= 4) {
        const uint8_t *start = cursor_rest(c);
        uint16_t set_id = cursor_be16(c), set_len = cursor_be16(c);
        if (set_len < 4)
            return -1;
        struct cursor set = cursor_sub(c, set_len - 4u);
        if (!cursor_ok(c))
            return -1;
        h->sets++;
        if (set_id == template_set || set_id == options_set) {
            /* records until only padding (< 4 bytes) is left */
            while (cursor_remaining(&set) >= 4)
                if (parse_template(&set, version, set_id == options_set, h, v) < 0)
                    return -1;
        } else if (set_id >= 256) {
            h->data_sets++;
        } else {
            return -1; /* reserved set id */
        }
        if (v && v->on_set)
            v->on_set(v->ctx, set_id, start, set_len);
    }
    /* v9 allows trailing padding; IPFIX sets must fill the message exactly */
    return version == 10 && cursor_remaining(c) != 0 ? -1 : 0;
}

int nf_walk(const uint8_t *msg, size_t len, struct netflow_header *h, const struct netflow_visitor *v)
{
    memset(h, 0, sizeof *h);
    struct cursor c = cursor_make(msg, len);
    h->version = cursor_be16(&c);
    if (!cursor_ok(&c))
        return -1;
    if (h->version == 5)
        return parse_v5(&c, len, h);
    if (h->version == 9) {
        h->count = cursor_be16(&c);
        cursor_skip(&c, 4); /* sysUpTime */
        h->export_time = cursor_be32(&c);
        h->sequence = cursor_be32(&c);
        h->domain = cursor_be32(&c);
        if (!cursor_ok(&c))
            return -1;
        return parse_sets(&c, 9, h, v);
    }
    if (h->version == 10) {
        h->length = cursor_be16(&c);
        h->export_time = cursor_be32(&c);
        h->sequence = cursor_be32(&c);
        h->domain = cursor_be32(&c);
        if (!cursor_ok(&c) || h->length < IPFIX_HEADER || h->length > len)
            return -1;
        struct cursor body = cursor_make(msg + IPFIX_HEADER, h->length - IPFIX_HEADER);
        return parse_sets(&body, 10, h, v);
    }
    return -1;
}

int netflow_parse(const uint8_t *msg, size_t len, struct netflow_header *h)
{
    return nf_walk(msg, len, h, NULL);
}

static int netflow_inspect(const uint8_t *msg, size_t len, struct msg_info *info)
{
    struct netflow_header h;
    int rc = netflow_parse(msg, len, &h);
    info->kind = rc == 0 ? h.version : -1;
    info->sequence = h.sequence;
    info->domain = h.domain;
    info->export_time = h.export_time;
    info->records = h.version == 5 ? h.count : 0;
    return rc;
}

static const char *netflow_kind_name(int kind)
{
    switch (kind) {
    case 5: return "netflow_v5";
    case 9: return "netflow_v9";
    case 10: return "ipfix";
    }
    return "malformed";
}

/* ---- pcap-proc: template gating and the exporter summary ----
 *
 * One digest per exporter address. Templates are scoped by (version, observation domain /
 * source id, template id). A data set is kept only when its template was seen before it;
 * the other sets of the message stay, and the header (IPFIX length, v9 count) is fixed.
 * Memory is bounded per exporter: beyond the limits new domains/templates are counted,
 * not stored (their data sets are then dropped as "before template"). */

struct netflow_digest {
    uint64_t messages, kept, dropped, malformed, versions[3];
    struct nf_cache cache;
    /* the message being cleaned */
    struct nf_domain *cur;
    uint8_t *msg, *out;
    uint16_t version;
    uint32_t template_records, data_records; /* in the kept sets */
    bool countable;          /* every data set's records could be counted */
    unsigned kept_sets, dropped_sets;
};

static int32_t template_min_record(const struct nf_template *t, uint16_t version, bool *variable)
{
    struct cursor c = cursor_make(t->specs, t->specs_len);
    int32_t n = 0;
    *variable = false;
    for (unsigned i = 0; i < t->fields; i++) {
        uint16_t ie = cursor_be16(&c), len = cursor_be16(&c);
        if (version == 10 && (ie & 0x8000))
            cursor_skip(&c, 4);
        if (version == 10 && len == VARLEN) {
            *variable = true;
            n += 1;
        } else {
            n += len;
        }
    }
    return n;
}

struct nf_template *nf_domain_template(struct nf_domain *d, uint16_t id)
{
    for (size_t i = 0; i < d->n_templates; i++)
        if (d->templates[i].id == id)
            return &d->templates[i];
    return NULL;
}

struct nf_domain *nf_cache_domain(struct nf_cache *c, uint16_t version, uint32_t id)
{
    for (size_t i = 0; i < c->n_domains; i++)
        if (c->domains[i].version == version && c->domains[i].id == id)
            return &c->domains[i];
    if (c->n_domains == MAX_DOMAINS) {
        c->over_limit++;
        return NULL;
    }
    struct nf_domain *d = realloc(c->domains, (c->n_domains + 1) * sizeof *d);
    if (!d)
        return NULL;
    c->domains = d;
    d = &c->domains[c->n_domains++];
    memset(d, 0, sizeof *d);
    d->version = version;
    d->id = id;
    return d;
}

struct nf_template *nf_cache_learn(struct nf_cache *c, struct nf_domain *d, uint16_t id, bool options,
                                   uint16_t fields, uint16_t scopes, const uint8_t *specs, size_t specs_len)
{
    struct nf_template *t = nf_domain_template(d, id);
    if (t && t->specs_len == specs_len && t->fields == fields && t->options == options &&
        (specs_len == 0 || memcmp(t->specs, specs, specs_len) == 0)) { /* a withdrawal keeps no specs */
        t->withdrawn = fields == 0;
        return t; /* a refresh */
    }
    if (!t) {
        if (c->total_templates == MAX_TEMPLATES || c->spec_bytes + specs_len > MAX_SPEC_BYTES) {
            c->over_limit++;
            return NULL;
        }
        t = realloc(d->templates, (d->n_templates + 1) * sizeof *t);
        if (!t)
            return NULL;
        d->templates = t;
        t = &d->templates[d->n_templates++];
        memset(t, 0, sizeof *t);
        t->id = id;
        c->total_templates++;
    } else {
        t->redefined++;
        c->spec_bytes -= t->specs_len;
        free(t->specs);
        t->specs = NULL;
        t->specs_len = 0;
    }
    t->options = options;
    t->fields = fields;
    t->scopes = scopes;
    t->withdrawn = fields == 0;
    if (specs_len && (t->specs = malloc(specs_len))) {
        memcpy(t->specs, specs, specs_len);
        t->specs_len = specs_len;
        c->spec_bytes += specs_len;
    }
    t->min_record = template_min_record(t, d->version, &t->variable);
    t->has_times = nf_template_has_times(t, d->version);
    return t;
}

void nf_cache_free(struct nf_cache *c)
{
    for (size_t i = 0; i < c->n_domains; i++) {
        for (size_t k = 0; k < c->domains[i].n_templates; k++)
            free(c->domains[i].templates[k].specs);
        free(c->domains[i].templates);
    }
    free(c->domains);
    memset(c, 0, sizeof *c);
}

static void on_template(void *ctx, uint16_t id, bool options, uint16_t fields, uint16_t scopes,
                        const uint8_t *specs, size_t specs_len)
{
    struct netflow_digest *g = ctx;
    g->template_records++;
    if (g->cur)
        nf_cache_learn(&g->cache, g->cur, id, options, fields, scopes, specs, specs_len);
}

uint32_t nf_walk_records(const struct nf_template *t, uint16_t version, const uint8_t *data, size_t len,
                         nf_field_fn field, void *ctx)
{
    if (t->min_record <= 0)
        return 0;
    if (!t->variable && !field)
        return (uint32_t)(len / (size_t)t->min_record);
    struct cursor c = cursor_make(data, len);
    uint32_t n = 0;
    while (cursor_remaining(&c) >= (size_t)t->min_record) {
        struct cursor f = cursor_make(t->specs, t->specs_len);
        for (unsigned i = 0; i < t->fields && cursor_ok(&c); i++) {
            uint16_t ie = cursor_be16(&f), flen = cursor_be16(&f);
            bool enterprise = version == 10 && (ie & 0x8000);
            if (enterprise)
                cursor_skip(&f, 4);
            if (version == 10 && flen == VARLEN) {
                flen = cursor_u8(&c);
                if (flen == 255)
                    flen = cursor_be16(&c);
            }
            size_t at = c.pos;
            if (cursor_skip(&c, flen) && field)
                field(ctx, ie, enterprise, at, flen);
        }
        if (!cursor_ok(&c))
            break;
        n++;
    }
    return n;
}

static void on_set(void *ctx, uint16_t set_id, const uint8_t *set, size_t len)
{
    struct netflow_digest *g = ctx;
    bool data = set_id >= 256;
    struct nf_template *t = data && g->cur ? nf_domain_template(g->cur, set_id) : NULL;
    if (data && (!t || t->withdrawn)) {
        if (g->cur) {
            g->cur->unknown_sets++;
            g->cur->unknown_bytes += len;
            bool listed = false;
            for (unsigned i = 0; i < g->cur->n_unknown_ids; i++)
                listed |= g->cur->unknown_ids[i] == set_id;
            if (!listed && g->cur->n_unknown_ids < MAX_UNKNOWN_IDS)
                g->cur->unknown_ids[g->cur->n_unknown_ids++] = set_id;
        }
        g->countable = false;
        g->dropped_sets++;
        return; /* dropped: the next kept set moves over it */
    }
    if (data) {
        uint32_t n = nf_walk_records(t, g->version, set + 4, len - 4, NULL, NULL);
        t->data_sets++;
        t->data_records += n;
        g->data_records += n;
    }
    /* the writer never passes the reader: out <= set, and set was read already */
    memmove(g->out, set, len);
    g->out += len;
    g->kept_sets++;
}

static void put16(uint8_t *p, size_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }

/* Sequence numbers (RFC 7011 10.2: IPFIX counts data records; RFC 3954: v9 counts
 * packets; v5 counts flows): a message that does not continue the previous one is a gap. */
static void note_sequence(struct nf_domain *d, uint32_t seq, uint32_t advance, bool advance_known)
{
    if (!d->seq_known) {
        d->seq_first = seq;
        d->seq_known = true;
    } else if (d->next_known && seq != d->next_seq) {
        d->seq_gaps++;
        uint32_t missing = seq - d->next_seq;
        if (missing < 0x80000000u)
            d->seq_missing += missing;
    }
    d->seq_last = seq;
    d->next_seq = seq + advance;
    d->next_known = advance_known;
}

struct netflow_digest *netflow_digest_new(void)
{
    return calloc(1, sizeof(struct netflow_digest));
}

void netflow_digest_free(struct netflow_digest *g)
{
    if (!g)
        return;
    nf_cache_free(&g->cache);
    free(g);
}

bool netflow_digest_message(struct netflow_digest *g, uint8_t *msg, size_t *len)
{
    struct netflow_header h;
    g->messages++;
    if (netflow_parse(msg, *len, &h) < 0) {
        g->malformed++;
        g->dropped++;
        return false;
    }
    g->versions[h.version == 5 ? 0 : h.version == 9 ? 1 : 2]++;
    g->version = h.version;
    g->cur = nf_cache_domain(&g->cache, h.version, h.domain);
    if (g->cur) {
        struct nf_domain *d = g->cur;
        if (!d->messages || h.export_time < d->time_first)
            d->time_first = h.export_time;
        if (!d->messages || h.export_time > d->time_last)
            d->time_last = h.export_time;
        d->messages++;
    }
    if (h.version == 5) {
        if (g->cur) {
            note_sequence(g->cur, h.sequence, h.count, true);
            g->cur->kept++;
        }
        g->kept++;
        return true;
    }
    size_t header = h.version == 9 ? V9_HEADER : IPFIX_HEADER;
    g->msg = msg;
    g->out = msg + header;
    g->template_records = g->data_records = 0;
    g->countable = true;
    g->kept_sets = g->dropped_sets = 0;
    struct netflow_visitor v = { .ctx = g, .on_template = on_template, .on_set = on_set };
    nf_walk(msg, *len, &h, &v); /* parsed once already: it cannot fail now */
    g->version = h.version; /* nf_walk() cleared the header, not the digest */
    if (g->cur)
        note_sequence(g->cur, h.sequence, h.version == 9 ? 1 : g->data_records, h.version == 9 || g->countable);
    if (g->kept_sets == 0) {
        if (g->cur)
            g->cur->dropped++;
        g->dropped++;
        return false;
    }
    if (g->cur)
        g->cur->kept++;
    g->kept++;
    if (g->dropped_sets) {
        size_t new_len = (size_t)(g->out - msg);
        put16(msg + 2, h.version == 10 ? new_len : g->template_records + g->data_records);
        *len = new_len;
    }
    return true;
}

/* IEs that describe sampling (RFC 7270, RFC 5477 and the v9 field types of the same number) */
static const char *sampling_name(uint16_t ie)
{
    switch (ie) {
    case 34: return "samplingInterval";
    case 35: return "samplingAlgorithm";
    case 48: return "samplerId";
    case 49: return "samplerMode";
    case 50: return "samplerRandomInterval";
    case 84: return "samplerName";
    case 302: return "selectorId";
    case 304: return "selectorAlgorithm";
    case 305: return "samplingPacketInterval";
    case 306: return "samplingPacketSpace";
    case 307: return "samplingTimeInterval";
    case 308: return "samplingTimeSpace";
    case 309: return "samplingSize";
    case 310: return "samplingPopulation";
    case 311: return "samplingProbability";
    }
    return NULL;
}

static json_t *template_json(const struct nf_template *t, uint16_t version)
{
    json_t *o = json_object(), *fields = json_array(), *sampling = json_array();
    json_object_set_new(o, "id", json_integer(t->id));
    json_object_set_new(o, "kind", json_string(t->options ? "options_template" : "template"));
    json_object_set_new(o, "field_count", json_integer(t->fields));
    json_object_set_new(o, "scope_count", json_integer(t->scopes));
    json_object_set_new(o, "record_length", t->variable ? json_null() : json_integer(t->min_record));
    struct cursor c = cursor_make(t->specs, t->specs_len);
    for (unsigned i = 0; i < t->fields && cursor_ok(&c); i++) {
        uint16_t ie = cursor_be16(&c), len = cursor_be16(&c);
        json_t *f = json_object();
        json_object_set_new(f, "ie", json_integer(version == 10 ? ie & 0x7fff : ie));
        if (version == 10 && (ie & 0x8000))
            json_object_set_new(f, "enterprise", json_integer(cursor_be32(&c)));
        json_object_set_new(f, "length", json_integer(len));
        if (t->options && i < t->scopes)
            json_object_set_new(f, "scope", json_true());
        json_array_append_new(fields, f);
        const char *name = version == 10 && (ie & 0x8000) ? NULL : sampling_name(ie);
        if (name && t->options)
            json_array_append_new(sampling, json_string(name));
    }
    json_object_set_new(o, "fields", fields);
    json_object_set_new(o, "data_sets", json_integer((json_int_t)t->data_sets));
    json_object_set_new(o, "data_records", json_integer((json_int_t)t->data_records));
    if (json_array_size(sampling))
        json_object_set_new(o, "sampling", sampling);
    else
        json_decref(sampling);
    if (t->redefined)
        json_object_set_new(o, "redefined", json_integer((json_int_t)t->redefined));
    if (t->withdrawn)
        json_object_set_new(o, "withdrawn", json_true());
    return o;
}

static json_t *domain_json(const struct nf_domain *d)
{
    json_t *o = json_object();
    json_object_set_new(o, "version", json_integer(d->version));
    json_object_set_new(o, d->version == 10 ? "observation_domain" : d->version == 9 ? "source_id" : "engine",
                        json_integer(d->id));
    json_object_set_new(o, "messages", json_integer((json_int_t)d->messages));
    json_object_set_new(o, "kept", json_integer((json_int_t)d->kept));
    json_object_set_new(o, "dropped", json_integer((json_int_t)d->dropped));
    json_object_set_new(o, "export_time", json_pack("{s:I,s:I}", "first", (json_int_t)d->time_first,
                                                    "last", (json_int_t)d->time_last));
    json_object_set_new(o, "sequence", json_pack("{s:I,s:I,s:I,s:I}", "first", (json_int_t)d->seq_first,
                                                 "last", (json_int_t)d->seq_last, "gaps", (json_int_t)d->seq_gaps,
                                                 "missing", (json_int_t)d->seq_missing));
    if (d->version != 5) {
        json_t *ids = json_array();
        for (unsigned i = 0; i < d->n_unknown_ids; i++)
            json_array_append_new(ids, json_integer(d->unknown_ids[i]));
        json_object_set_new(o, "data_sets_before_template",
                            json_pack("{s:I,s:I,s:o}", "sets", (json_int_t)d->unknown_sets, "bytes",
                                      (json_int_t)d->unknown_bytes, "template_ids", ids));
        json_t *ts = json_array();
        for (size_t i = 0; i < d->n_templates; i++)
            json_array_append_new(ts, template_json(&d->templates[i], d->version));
        json_object_set_new(o, "templates", ts);
    }
    return o;
}

json_t *netflow_digest_json(const struct netflow_digest *g)
{
    json_t *o = json_object(), *v = json_object(), *ds = json_array();
    json_object_set_new(o, "messages", json_integer((json_int_t)g->messages));
    json_object_set_new(o, "kept", json_integer((json_int_t)g->kept));
    json_object_set_new(o, "dropped", json_integer((json_int_t)g->dropped));
    json_object_set_new(o, "malformed", json_integer((json_int_t)g->malformed));
    static const char *names[3] = { "netflow_v5", "netflow_v9", "ipfix" };
    for (int i = 0; i < 3; i++)
        if (g->versions[i])
            json_object_set_new(v, names[i], json_integer((json_int_t)g->versions[i]));
    json_object_set_new(o, "versions", v);
    for (size_t i = 0; i < g->cache.n_domains; i++)
        json_array_append_new(ds, domain_json(&g->cache.domains[i]));
    json_object_set_new(o, "domains", ds);
    if (g->cache.over_limit)
        json_object_set_new(o, "not_tracked_over_limits", json_integer((json_int_t)g->cache.over_limit));
    return o;
}

static void *digest_new(void) { return netflow_digest_new(); }
static bool digest_message(void *g, uint8_t *msg, size_t *len) { return netflow_digest_message(g, msg, len); }
static json_t *digest_json(const void *g) { return netflow_digest_json(g); }
static void digest_free(void *g) { netflow_digest_free(g); }
static void *rewriter_new(void) { return netflow_rewriter_new(); }
static void rewriter_free(void *w) { netflow_rewriter_free(w); }
static int rewrite(void *w, const struct rewrite_config *cfg, uint8_t *msg, size_t len, int64_t now_ns)
{
    return netflow_rewrite(w, cfg, msg, len, now_ns);
}
static void learn(void *w, const uint8_t *msg, size_t len) { netflow_rewriter_learn(w, msg, len); }
static void restart(void *w) { netflow_rewriter_restart(w); }
static size_t prime(void *w, const struct rewrite_config *cfg, const uint8_t *msg, size_t len, uint8_t *out,
                    size_t max, int64_t now_ns)
{
    return netflow_prime(w, cfg, msg, len, out, max, now_ns);
}

const struct proto proto_netflow = {
    .name = "ipfix",
    .transport = TRANSPORT_UDP,
    .default_port = 4739,
    .inspect = netflow_inspect,
    .kind_name = netflow_kind_name,
    .digest_new = digest_new,
    .digest_message = digest_message,
    .digest_json = digest_json,
    .digest_free = digest_free,
    .rewriter_new = rewriter_new,
    .rewriter_free = rewriter_free,
    .rewrite = rewrite,
    .learn = learn,
    .restart = restart,
    .prime = prime,
    .clone_identity = netflow_clone_identity,
};
