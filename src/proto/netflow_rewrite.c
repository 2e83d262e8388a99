/* netflow_rewrite.c — the replay's rewrites of NetFlow v5, v9 and IPFIX messages, so that a
 * looped or hours-long replay looks to a collector like exporters still running:
 *
 * - export time now: the header says the moment the message is sent (v5 unix_secs and
 *   unix_nsecs, v9 unix_secs, IPFIX Export Time). Times relative to sysUptime (v5, v9
 *   FIRST/LAST_SWITCHED) stay relative, so they move with it; absolute times in v9 and IPFIX
 *   records (flowStart/End Seconds, Milliseconds, Microseconds, Nanoseconds,
 *   systemInitTimeMilliseconds, observationTime*) move by the same offset, found through the
 *   templates: every record keeps its captured distance from its export time.
 * - continuous sequence numbers, per exporter and (version, observation domain / source id /
 *   engine): v5 counts flows, v9 export packets, IPFIX data records (options data records
 *   included, as pmacct counts them; RFC 7011 section 3.1), starting from the capture's
 *   first number and going on across loops, repeats and capture lists.
 *
 * - templates primed: before the first data message of each (exporter, domain) in a play of
 *   the captures (a capture that starts mid-stream, each loop pass, after the collector
 *   refused), and again every template_resend, a message of that domain's templates
 *   (options templates included) goes first, from the cache the whole capture list filled
 *   before the replay (netflow_rewriter_learn). Its header is the data message's (export
 *   time and sequence rewritten the same way; in v9 it takes a sequence number of its own).
 *
 * Data sets whose template has not been seen are neither counted nor moved (a collector
 * cannot decode them either). The message keeps its length; it is rewritten in place. */
#include <stdlib.h>
#include <string.h>

#include "cursor.h"
#include "proto/netflow_int.h"

/* IPFIX information elements with absolute times (IANA registry; v9 exporters use the same
 * numbers). */
enum {
    IE_FLOW_START_SECONDS = 150, IE_FLOW_END_SECONDS = 151, IE_FLOW_START_MILLISECONDS = 152,
    IE_FLOW_END_MILLISECONDS = 153, IE_FLOW_START_MICROSECONDS = 154, IE_FLOW_END_MICROSECONDS = 155,
    IE_FLOW_START_NANOSECONDS = 156, IE_FLOW_END_NANOSECONDS = 157, IE_SYSTEM_INIT_TIME_MILLISECONDS = 160,
    IE_OBSERVATION_TIME_SECONDS = 322, IE_OBSERVATION_TIME_MILLISECONDS = 323,
    IE_OBSERVATION_TIME_MICROSECONDS = 324, IE_OBSERVATION_TIME_NANOSECONDS = 325,
};

/* How a field holds its time: dateTimeSeconds (4 bytes), dateTimeMilliseconds (8 bytes),
 * dateTimeMicro/Nanoseconds (8 bytes, NTP: seconds since 1900 in the upper half). Other
 * sizes (reduced-size encodings) are left as they are. */
enum time_kind { TIME_NONE, TIME_SECONDS, TIME_MILLISECONDS, TIME_NTP };

static enum time_kind time_kind(uint16_t ie, uint16_t len)
{
    switch (ie) {
    case IE_FLOW_START_SECONDS:
    case IE_FLOW_END_SECONDS:
    case IE_OBSERVATION_TIME_SECONDS:
        return len == 4 ? TIME_SECONDS : TIME_NONE;
    case IE_FLOW_START_MILLISECONDS:
    case IE_FLOW_END_MILLISECONDS:
    case IE_SYSTEM_INIT_TIME_MILLISECONDS:
    case IE_OBSERVATION_TIME_MILLISECONDS:
        return len == 8 ? TIME_MILLISECONDS : TIME_NONE;
    case IE_FLOW_START_MICROSECONDS:
    case IE_FLOW_END_MICROSECONDS:
    case IE_FLOW_START_NANOSECONDS:
    case IE_FLOW_END_NANOSECONDS:
    case IE_OBSERVATION_TIME_MICROSECONDS:
    case IE_OBSERVATION_TIME_NANOSECONDS:
        return len == 8 ? TIME_NTP : TIME_NONE;
    }
    return TIME_NONE;
}

bool nf_template_has_times(const struct nf_template *t, uint16_t version)
{
    struct cursor f = cursor_make(t->specs, t->specs_len);
    for (unsigned i = 0; i < t->fields && cursor_ok(&f); i++) {
        uint16_t ie = cursor_be16(&f), len = cursor_be16(&f);
        if (version == 10 && (ie & 0x8000)) {
            cursor_skip(&f, 4); /* an enterprise's element: not ours to move */
            continue;
        }
        if (time_kind(ie, len) != TIME_NONE)
            return true;
    }
    return false;
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static void put64(uint8_t *p, uint64_t v)
{
    put32(p, (uint32_t)(v >> 32));
    put32(p + 4, (uint32_t)v);
}

/* One time field at data[at] (its bytes are known to be there) moved by off_s seconds, in
 * the field's own unsigned arithmetic: a hostile value wraps as the field would. */
static void move_time(uint8_t *data, size_t at, enum time_kind k, int64_t off_s)
{
    struct cursor c = cursor_make(data + at, k == TIME_SECONDS ? 4 : 8);
    if (k == TIME_SECONDS)
        put32(data + at, cursor_be32(&c) + (uint32_t)off_s);
    else if (k == TIME_MILLISECONDS)
        put64(data + at, cursor_be64(&c) + (uint64_t)off_s * 1000u);
    else /* NTP: the seconds, the fraction as it was */
        put64(data + at, cursor_be64(&c) + ((uint64_t)(uint32_t)off_s << 32));
}

/* a data set's records being moved */
struct moving {
    uint8_t *data;
    int64_t off_s;
};

static void move_field(void *ctx, uint16_t ie, bool enterprise, size_t at, uint16_t len)
{
    struct moving *mv = ctx;
    enum time_kind k = enterprise ? TIME_NONE : time_kind(ie, len);
    if (k != TIME_NONE)
        move_time(mv->data, at, k, mv->off_s);
}

struct netflow_rewriter {
    struct nf_cache cache;
};

struct netflow_rewriter *netflow_rewriter_new(void) { return calloc(1, sizeof(struct netflow_rewriter)); }

void netflow_rewriter_free(struct netflow_rewriter *w)
{
    if (!w)
        return;
    nf_cache_free(&w->cache);
    free(w);
}

/* the message being rewritten */
struct rewriting {
    struct netflow_rewriter *w;
    const struct netflow_header *h; /* filled by the walker before any set */
    struct nf_domain *d;
    bool looked_up;
    uint8_t *msg;
    bool move;                      /* record times move with the export time */
    uint32_t now_s;
    uint32_t data_records;
};

static struct nf_domain *domain_of(struct rewriting *m)
{
    if (!m->looked_up) {
        m->d = nf_cache_domain(&m->w->cache, m->h->version, m->h->domain);
        m->looked_up = true;
    }
    return m->d;
}

static void rw_template(void *ctx, uint16_t id, bool options, uint16_t fields, uint16_t scopes, const uint8_t *specs,
                        size_t specs_len)
{
    struct rewriting *m = ctx;
    struct nf_domain *d = domain_of(m);
    if (d)
        nf_cache_learn(&m->w->cache, d, id, options, fields, scopes, specs, specs_len);
}

static void rw_set(void *ctx, uint16_t set_id, const uint8_t *set, size_t len)
{
    struct rewriting *m = ctx;
    struct nf_domain *d = set_id >= 256 ? domain_of(m) : NULL;
    struct nf_template *t = d ? nf_domain_template(d, set_id) : NULL;
    if (!t || t->withdrawn)
        return;
    uint8_t *data = m->msg + (set - m->msg) + 4; /* the walker's view of our own buffer */
    /* the header is read before the sets: its export time is known */
    struct moving mv = { data, (int64_t)m->now_s - (int64_t)m->h->export_time };
    bool move = m->move && t->has_times;
    m->data_records += nf_walk_records(t, m->h->version, data, len - 4, move ? move_field : NULL, &mv);
}

/* The sequence number for this message; the domain's next one advances by `advance`. */
static uint32_t next_sequence(struct nf_domain *d, uint32_t captured, uint32_t advance)
{
    if (!d->out_started) { /* the capture's own first number */
        d->out_seq = captured;
        d->out_started = true;
    }
    uint32_t s = d->out_seq;
    d->out_seq += advance;
    return s;
}

int netflow_rewrite(struct netflow_rewriter *w, const struct rewrite_config *cfg, uint8_t *msg, size_t len,
                    int64_t now_ns)
{
    if (!w || (!cfg->export_time_now && !cfg->sequence_continuous))
        return 0;
    struct netflow_header h;
    uint32_t now_s = (uint32_t)(now_ns / 1000000000);
    struct rewriting m = { .w = w, .h = &h, .msg = msg, .move = cfg->export_time_now, .now_s = now_s };
    struct netflow_visitor v = { .ctx = &m, .on_template = rw_template, .on_set = rw_set };
    if (nf_walk(msg, len, &h, &v) < 0)
        return -1; /* sent as captured (what was moved of it stays moved) */
    struct nf_domain *d = cfg->sequence_continuous ? domain_of(&m) : NULL;
    switch (h.version) {
    case 5:
        if (cfg->export_time_now) {
            put32(msg + 8, now_s);
            put32(msg + 12, (uint32_t)(now_ns % 1000000000));
        }
        if (d)
            put32(msg + 16, next_sequence(d, h.sequence, h.count));
        break;
    case 9:
        if (cfg->export_time_now)
            put32(msg + 8, now_s);
        if (d)
            put32(msg + 12, next_sequence(d, h.sequence, 1));
        break;
    default: /* IPFIX */
        if (cfg->export_time_now)
            put32(msg + 4, now_s);
        if (d)
            put32(msg + 8, next_sequence(d, h.sequence, m.data_records));
        break;
    }
    return 0;
}

/* ---- templates: learned before the replay, sent before an exporter's data ---- */

void netflow_rewriter_learn(struct netflow_rewriter *w, const uint8_t *msg, size_t len)
{
    struct netflow_header h;
    struct rewriting m = { .w = w, .h = &h, .msg = (uint8_t *)msg };
    struct netflow_visitor v = { .ctx = &m, .on_template = rw_template }; /* no set is written */
    nf_walk(msg, len, &h, &v);
}

void netflow_rewriter_restart(struct netflow_rewriter *w)
{
    for (size_t i = 0; w && i < w->cache.n_domains; i++)
        w->cache.domains[i].primed = w->cache.domains[i].priming = false;
}

/* Clone k of an exporter (network.clones.domain): its observation domain (IPFIX), source id
 * (v9) or engine type and id (v5, one 16-bit number) + k, so that collectors keying an
 * exporter on it see one per clone; templates and data alike. */
size_t netflow_clone_identity(uint8_t *msg, size_t len, size_t cap, unsigned k, unsigned what)
{
    (void)cap;
    struct netflow_header h;
    if (!(what & CLONE_DOMAIN) || netflow_parse(msg, len, &h) < 0)
        return len;
    if (h.version == 5) {
        uint16_t engine = (uint16_t)(h.domain + k);
        msg[V5_HEADER - 4] = (uint8_t)(engine >> 8);
        msg[V5_HEADER - 3] = (uint8_t)engine;
    } else {
        put32(msg + (h.version == 9 ? V9_HEADER - 4 : IPFIX_HEADER - 4), h.domain + k);
    }
    return len;
}

static void put16(uint8_t *p, size_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

/* A template record as its version writes it: id, field count [, scope field count] (v9
 * options: scope and option lengths in bytes), the field specifiers. Its size, 0 when it
 * does not fit in room. */
static size_t template_record(const struct nf_template *t, uint16_t version, uint8_t *out, size_t room)
{
    size_t head = t->options ? 6 : 4, n = head + t->specs_len;
    if (n > room)
        return 0;
    put16(out, t->id);
    if (version == 9 && t->options) {
        put16(out + 2, (size_t)t->scopes * 4u);
        put16(out + 4, (size_t)(t->fields - t->scopes) * 4u);
    } else {
        put16(out + 2, t->fields);
        if (t->options)
            put16(out + 4, t->scopes);
    }
    memcpy(out + head, t->specs, t->specs_len);
    return n;
}

/* The set that starts at set ends at at: v9 pads it to 4 bytes; its length is written. */
static size_t close_set(uint8_t *out, size_t set, size_t at, uint16_t version)
{
    while (version == 9 && (at - set) % 4)
        out[at++] = 0;
    put16(out + set + 2, at - set);
    return at;
}

/* Its templates go again: template_resend seconds or packets (the domain's messages) after
 * they last went, as routers resend them. */
static bool resend_due(const struct nf_domain *d, const struct rewrite_config *cfg, int64_t now_ns)
{
    return (cfg->template_resend_ns > 0 && now_ns - d->primed_at_ns >= cfg->template_resend_ns) ||
           (cfg->template_resend_packets > 0 && d->since_primed >= cfg->template_resend_packets);
}

/* Most messages come from a domain primed and not due again: its header alone says so, and
 * the message is not walked (it is counted for template_resend packets). */
static bool primed_already(struct netflow_rewriter *w, const struct rewrite_config *cfg, const uint8_t *msg,
                           size_t len, int64_t now_ns)
{
    struct cursor c = cursor_make(msg, len);
    uint16_t version = cursor_be16(&c);
    cursor_skip(&c, version == 9 ? 14 : 10); /* to the source id / observation domain */
    uint32_t id = cursor_be32(&c);
    if (!cursor_ok(&c) || (version != 9 && version != 10))
        return false;
    for (size_t i = 0; i < w->cache.n_domains; i++) {
        struct nf_domain *d = &w->cache.domains[i];
        if (d->version == version && d->id == id) {
            if (!d->primed || d->priming)
                return false;
            d->since_primed++;
            return !resend_due(d, cfg, now_ns);
        }
    }
    return false;
}

size_t netflow_prime(struct netflow_rewriter *w, const struct rewrite_config *cfg, const uint8_t *msg, size_t len,
                     uint8_t *out, size_t max, int64_t now_ns)
{
    struct netflow_header h;
    if (!w || !cfg->templates_prime || primed_already(w, cfg, msg, len, now_ns) || netflow_parse(msg, len, &h) < 0 ||
        h.version == 5 || !h.data_sets)
        return 0;
    struct nf_domain *d = nf_cache_domain(&w->cache, h.version, h.domain);
    if (!d || !d->n_templates)
        return 0;
    if (!d->priming) {
        bool due = !d->primed || resend_due(d, cfg, now_ns);
        if (!due)
            return 0;
        d->priming = true;
        d->prime_next = 0;
    }
    size_t at = h.version == 9 ? V9_HEADER : IPFIX_HEADER, set = 0, records = 0, in_set = 0;
    int set_options = -1; /* the kind of the set being filled (-1: none open) */
    for (; d->prime_next < d->n_templates; d->prime_next++) {
        const struct nf_template *t = &d->templates[d->prime_next];
        if (t->withdrawn || !t->specs_len)
            continue;
        if (set_options != (int)t->options) { /* a set of the other kind */
            if (set_options >= 0)
                at = close_set(out, set, at, h.version);
            if (at + 4 + 4 > max)
                break;
            set = at;
            put16(out + set, h.version == 9 ? (t->options ? 1 : 0) : (t->options ? 3 : 2));
            at += 4;
            in_set = 0;
            set_options = t->options;
        }
        size_t n = template_record(t, h.version, out + at, max > at + 3 ? max - at - 3 : 0); /* 3: padding */
        if (!n)
            break; /* the next message takes it */
        at += n;
        records++;
        in_set++;
    }
    if (!records) { /* all out (or one larger than a message: it never fits) */
        d->priming = false;
        d->primed = true;
        d->primed_at_ns = now_ns;
        d->since_primed = 0;
        return 0;
    }
    at = in_set ? close_set(out, set, at, h.version) : set; /* a set left empty goes */
    uint32_t now_s = (uint32_t)(now_ns / 1000000000);
    uint32_t export_time = cfg->export_time_now ? now_s : h.export_time;
    struct cursor c = cursor_make(msg, len);
    cursor_skip(&c, 4);
    uint32_t uptime = cursor_be32(&c); /* v9 */
    if (h.version == 9) {
        uint32_t seq = cfg->sequence_continuous ? next_sequence(d, h.sequence, 1) : h.sequence;
        put16(out, 9);
        put16(out + 2, records);
        put32(out + 4, uptime);
        put32(out + 8, export_time);
        put32(out + 12, seq);
        put32(out + 16, h.domain);
    } else { /* templates are not data records: the data message's number */
        uint32_t seq = cfg->sequence_continuous ? next_sequence(d, h.sequence, 0) : h.sequence;
        put16(out, 10);
        put16(out + 2, at);
        put32(out + 4, export_time);
        put32(out + 8, seq);
        put32(out + 12, h.domain);
    }
    return at;
}
