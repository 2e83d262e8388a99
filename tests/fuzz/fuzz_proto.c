/* fuzz_proto — every protocol plugin's message parsers on any bytes: netflow_parse
 * (v5/v9/IPFIX headers, sets, templates), BGP OPEN / NOTIFICATION parsing and OPEN
 * rewriting, each plugin's inspect(), frame() and starts_session(), and pcap-proc's
 * digests over a sequence of messages (the input cut at 2-byte length prefixes, so
 * templates learned from one message apply to the next). A frame length must never exceed
 * the input; a rewritten OPEN must still parse; a cleaned NetFlow message must still parse
 * and never grow; the replay's NetFlow rewrites (export time, sequence numbers, record times
 * through the templates learned so far) leave a message that parsed parseable. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/proto.h"

/* The input cut at 2-byte length prefixes (the last message takes what is left): each
 * message, as a copy of its own so that a read past it is caught, to fn with its offset. */
static void each_message(const uint8_t *data, size_t size, void (*fn)(void *ctx, uint8_t *m, size_t len, size_t at),
                         void *ctx)
{
    size_t at = 0;
    while (size - at >= 2) {
        size_t len = (size_t)(data[at] << 8 | data[at + 1]);
        at += 2;
        if (len > size - at)
            len = size - at;
        uint8_t *copy = malloc(len + 1);
        memcpy(copy, data + at, len);
        fn(ctx, copy, len, at);
        free(copy);
        at += len;
    }
}

struct run {
    const struct proto *p;
    void *state; /* the digest, or the rewriter */
};

/* pcap-proc's digest: a cleaned NetFlow message still parses and never grows */
static void digest_one(void *ctx, uint8_t *m, size_t len, size_t at)
{
    struct run *r = ctx;
    size_t n = len;
    bool keep = r->p->digest_message(r->state, m, &n);
    struct netflow_header h;
    if (n > len || (keep && r->p == &proto_netflow && netflow_parse(m, n, &h) != 0))
        abort();
}

static void digest(const struct proto *p, const uint8_t *data, size_t size)
{
    struct run r = { p, p->digest_new() };
    each_message(data, size, digest_one, &r);
    json_t *j = p->digest_json(r.state);
    free(json_dumps(j, 0));
    json_decref(j);
    p->digest_free(r.state);
}

/* the replay's rewrites: what primes a message and the message rewritten still parse */
static void rewrite_one(void *ctx, uint8_t *m, size_t len, size_t at)
{
    static const struct rewrite_config cfg = { .export_time_now = true, .sequence_continuous = true,
                                               .templates_prime = true, .template_resend_ns = 1 };
    struct run *r = ctx;
    struct netflow_header h;
    bool parsed = netflow_parse(m, len, &h) == 0;
    r->p->learn(r->state, m, len);
    uint8_t primed[200]; /* small: templates split over messages, each one whole */
    size_t n, k = 0;
    while ((n = r->p->prime(r->state, &cfg, m, len, primed, sizeof primed, 1800000000123456789LL + (int64_t)at)) > 0)
        if (n > sizeof primed || netflow_parse(primed, n, &h) != 0 || ++k > 4096)
            abort();
    int rc = r->p->rewrite(r->state, &cfg, m, len, 1800000000123456789LL);
    if (parsed && (rc != 0 || netflow_parse(m, len, &h) != 0))
        abort();
}

static void rewrite(const struct proto *p, const uint8_t *data, size_t size)
{
    struct run r = { p, p->rewriter_new() };
    each_message(data, size, rewrite_one, &r);
    p->rewriter_free(r.state);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct netflow_header h;
    (void)netflow_parse(data, size, &h);
    struct bgp_open o;
    if (bgp_parse_open(data, size, &o) == 0) {
        uint8_t *copy = malloc(size);
        memcpy(copy, data, size);
        struct bgp_open_rewrite rw = { .asn = 4200000001u, .bgp_id = 0x0a000001, .set_hold_time = true, .hold_time = 9 };
        if (bgp_rewrite_open(copy, size, &rw) != 0 || bgp_parse_open(copy, size, &o) != 0 || o.hold_time != 9)
            abort();
        free(copy);
    }
    uint8_t code, sub;
    char name[128];
    if (bgp_parse_notification(data, size, &code, &sub) == 0)
        (void)bgp_notification_name(code, sub, name, sizeof name);
    for (int id = 0; id < PROTO_COUNT; id++) {
        const struct proto *p = proto_by_id(id);
        struct msg_info info;
        if (p->inspect)
            (void)p->inspect(data, size, &info);
        if (p->frame) {
            ssize_t n = p->frame(data, size);
            if (n > (ssize_t)size)
                abort();
            if (n > 0 && p->starts_session)
                (void)p->starts_session(data, (size_t)n);
        }
        if (p->kind_name)
            (void)p->kind_name(size ? data[0] : -1);
        if (p->digest_new)
            digest(p, data, size);
        if (p->rewriter_new)
            rewrite(p, data, size);
    }
    return 0;
}
