/* fuzz_tcpstream — segments in any order, overlap and size through tcpstream, and the
 * bytes it delivers through BGP and BMP framing. Input: records of
 * [seq offset: 2 bytes][flags: 1][length: 1][payload: length]. Checks that the stream
 * never delivers more than it was given, nor a message longer than the protocol's bound. */
#include <stdint.h>
#include <stdlib.h>

#include "proto/proto.h"
#include "tcpstream.h"

struct sink {
    struct msgstream bgp, bmp;
    size_t delivered;
};

static void on_message(void *ctx, const uint8_t *msg, size_t len, int64_t ts)
{
    (void)ctx; (void)ts;
    if (len == 0 || len > (1u << 20))
        abort();
    (void)proto_bgp.starts_session(msg, len);
    (void)proto_bmp.starts_session(msg, len);
}

static void on_bytes(void *ctx, const uint8_t *data, size_t len, int64_t ts, bool after_hole)
{
    struct sink *s = ctx;
    s->delivered += len;
    msgstream_add(&s->bgp, data, len, ts, after_hole, on_message, NULL);
    msgstream_add(&s->bmp, data, len, ts, after_hole, on_message, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct tcpstream st;
    struct sink s = { .delivered = 0 };
    tcpstream_init(&st, 512);
    msgstream_init(&s.bgp, proto_bgp.frame, proto_bgp.max_message);
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
    if (s.delivered > given)
        abort();
    tcpstream_free(&st);
    msgstream_free(&s.bgp);
    msgstream_free(&s.bmp);
    return 0;
}
