/* fuzz_tcpstream — segments in any order, overlap and size through tcpstream, and the
 * bytes it delivers through BGP and BMP framing. Input: records of
 * [seq offset: 2 bytes][flags: 1][length: 1][payload: length]. Checks that the stream
 * never delivers more than it was given, nor a message longer than the protocol's bound, and
 * that cutting the deliveries as they come gives the same messages as cutting all the
 * delivered bytes at once (when no hole reset the framing). */
#include <stdint.h>
#include <stdlib.h>
#include <stddef.h>
#include <string.h>

#include "proto/proto.h"
#include "tcpstream.h"

struct cut_log { uint64_t messages, hash; };

struct sink {
    struct msgstream bgp, bmp;
    struct cut_log log;
    size_t delivered;
    bool hole;
    uint8_t all[1 << 16];
};

static void on_message(void *ctx, const uint8_t *msg, size_t len, int64_t ts)
{
    (void)ts;
    if (len == 0 || len > (1u << 20))
        abort();
    if (ctx) { /* the BMP framing: remember what it cut, in order */
        struct cut_log *l = ctx;
        l->messages++;
        for (size_t i = 0; i < len; i++)
            l->hash = (l->hash ^ msg[i]) * 1099511628211u;
        l->hash = (l->hash ^ len) * 1099511628211u;
    }
    (void)proto_bgp.starts_session(msg, len);
    (void)proto_bmp.starts_session(msg, len);
}

static void on_bytes(void *ctx, const uint8_t *data, size_t len, int64_t ts, bool after_hole)
{
    struct sink *s = ctx;
    if (s->delivered + len <= sizeof s->all)
        memcpy(s->all + s->delivered, data, len);
    s->delivered += len;
    s->hole |= after_hole;
    msgstream_add(&s->bgp, data, len, ts, after_hole, on_message, NULL);
    msgstream_add(&s->bmp, data, len, ts, after_hole, on_message, &s->log);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct tcpstream st;
    static struct sink s;
    memset(&s, 0, offsetof(struct sink, all));
    tcpstream_init(&st, 512);
    msgstream_init(&s.bgp, proto_bgp.frame, proto_bgp.max_message);
    msgstream_set_upgrade(&s.bgp, proto_bgp.upgrades, proto_bgp.frame_ext, proto_bgp.max_message_ext);
    msgstream_init(&s.bmp, proto_bmp.frame, 4096);
    size_t given = 0, i = 0;
    uint32_t base = 0xffffff00u; /* wraps early */
    while (i + 4 <= size) {
        uint32_t off = (uint32_t)data[i] << 8 | data[i + 1];
        uint8_t flags = data[i + 2];
        size_t len = data[i + 3];
        i += 4;
        if (len > size - i)
            len = size - i;
        tcpstream_add(&st, base + off, flags, data + i, len, (int64_t)i, on_bytes, &s);
        given += len;
        i += len;
    }
    tcpstream_finish(&st, on_bytes, &s);
    msgstream_finish(&s.bgp);
    if (s.delivered > given || s.bgp.len || s.bgp.incomplete_bytes > s.bgp.max || s.bgp.incomplete_messages > 1)
        abort();
    if (!s.hole && s.delivered <= sizeof s.all) {
        struct msgstream once;
        struct cut_log ref = { 0, 0 };
        msgstream_init(&once, proto_bmp.frame, 4096);
        msgstream_add(&once, s.all, s.delivered, 0, false, on_message, &ref);
        msgstream_free(&once);
        if (ref.messages != s.log.messages || ref.hash != s.log.hash)
            abort();
    }
    tcpstream_free(&st);
    msgstream_free(&s.bgp);
    msgstream_free(&s.bmp);
    return 0;
}
