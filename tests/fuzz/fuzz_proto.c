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

static void digest(const struct proto *p, const uint8_t *data, size_t size)
{
    void *g = p->digest_new();
    size_t at = 0;
    while (size - at >= 2) {
        size_t len = (size_t)(data[at] << 8 | data[at + 1]);
        at += 2;
        if (len > size - at)
            len = size - at;
        uint8_t *copy = malloc(len + 1);
        memcpy(copy, data + at, len);
        size_t n = len;
        bool keep = p->digest_message(g, copy, &n);
        struct netflow_header h;
        if (n > len || (keep && p == &proto_netflow && netflow_parse(copy, n, &h) != 0))
            abort();
        free(copy);
        at += len;
    }
    json_t *j = p->digest_json(g);
    free(json_dumps(j, 0));
    json_decref(j);
    p->digest_free(g);
}

/* the replay's rewrites over the same sequence of messages */
static void rewrite(const struct proto *p, const uint8_t *data, size_t size)
{
    void *w = p->rewriter_new();
    const struct rewrite_config cfg = { .export_time_now = true, .sequence_continuous = true,
                                        .templates_prime = true, .template_resend_ns = 1 };
    size_t at = 0;
    while (size - at >= 2) {
        size_t len = (size_t)(data[at] << 8 | data[at + 1]);
        at += 2;
        if (len > size - at)
            len = size - at;
        uint8_t *copy = malloc(len + 1);
        memcpy(copy, data + at, len);
        struct netflow_header h;
        bool parsed = netflow_parse(copy, len, &h) == 0;
        p->learn(w, copy, len);
        uint8_t primed[200]; /* small: templates split over messages, each one whole */
        size_t n, k = 0;
        while ((n = p->prime(w, &cfg, copy, len, primed, sizeof primed, 1800000000123456789LL + (int64_t)at)) > 0)
            if (n > sizeof primed || netflow_parse(primed, n, &h) != 0 || ++k > 4096)
                abort();
        int rc = p->rewrite(w, &cfg, copy, len, 1800000000123456789LL);
        if (parsed && (rc != 0 || netflow_parse(copy, len, &h) != 0))
            abort();
        free(copy);
        at += len;
    }
    p->rewriter_free(w);
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
