/* bmp.c — BMP v3 (RFC 7854) message framing. Session logic arrives with TCP replay. */
#include "cursor.h"
#include "proto/proto.h"

#define BMP_HEADER 6
#define BMP_MAX (1u << 20) /* a route monitoring message carries one BGP message (<= 64 KiB): 1 MiB bounds what a session buffers */

static ssize_t bmp_frame(const uint8_t *p, size_t len)
{
    struct cursor c = cursor_make(p, len);
    uint8_t version = cursor_u8(&c);
    uint32_t msg_len = cursor_be32(&c);
    cursor_u8(&c); /* type */
    if (!cursor_ok(&c))
        return len > 0 && p[0] != 3 ? -1 : 0;
    if (version != 3 || msg_len < BMP_HEADER || msg_len > BMP_MAX)
        return -1;
    return msg_len <= len ? (ssize_t)msg_len : 0;
}

static int bmp_inspect(const uint8_t *msg, size_t len, struct msg_info *info)
{
    ssize_t n = bmp_frame(msg, len);
    info->kind = n > 0 ? msg[5] : -1;
    return n > 0 && n == (ssize_t)len ? 0 : -1;
}

static bool bmp_starts_session(const uint8_t *msg, size_t len)
{
    return bmp_frame(msg, len) > 0 && msg[5] == 4;
}

static const char *bmp_kind_name(int kind)
{
    static const char *names[] = { "route_monitoring", "stats", "peer_down", "peer_up",
                                   "init", "term", "route_mirroring" };
    if (kind >= 0 && kind <= 6)
        return names[kind];
    return kind == 100 ? "rpat" : "other";
}

const struct proto proto_bmp = {
    .name = "bmp",
    .transport = TRANSPORT_TCP,
    .max_message = BMP_MAX,
    .default_port = 1790,
    .inspect = bmp_inspect,
    .frame = bmp_frame,
    .starts_session = bmp_starts_session,
    .kind_name = bmp_kind_name,
};
