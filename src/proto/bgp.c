/* bgp.c — BGP-4 (RFC 4271) message framing. Session logic arrives with TCP replay. */
#include "cursor.h"
#include "proto/proto.h"

#define BGP_HEADER 19
#define BGP_MAX 65535 /* RFC 8654 extended messages */

static ssize_t bgp_frame(const uint8_t *p, size_t len)
{
    struct cursor c = cursor_make(p, len);
    const uint8_t *marker = cursor_take(&c, 16);
    uint16_t msg_len = cursor_be16(&c);
    uint8_t type = cursor_u8(&c);
    if (!cursor_ok(&c))
        return 0;
    for (int i = 0; i < 16; i++)
        if (marker[i] != 0xff)
            return -1;
    if (msg_len < BGP_HEADER || type < 1 || type > 5)
        return -1;
    return msg_len <= len ? msg_len : 0;
}

static int bgp_inspect(const uint8_t *msg, size_t len, struct msg_info *info)
{
    ssize_t n = bgp_frame(msg, len);
    info->kind = n > 0 ? msg[18] : -1;
    return n == (ssize_t)len ? 0 : -1;
}

static bool bgp_starts_session(const uint8_t *msg, size_t len)
{
    return bgp_frame(msg, len) > 0 && msg[18] == 1;
}

static const char *bgp_kind_name(int kind)
{
    static const char *names[] = { "?", "open", "update", "notification", "keepalive", "route_refresh" };
    return kind >= 1 && kind <= 5 ? names[kind] : "malformed";
}

const struct proto proto_bgp = {
    .name = "bgp",
    .transport = TRANSPORT_TCP,
    .max_message = BGP_MAX,
    .default_port = 179,
    .inspect = bgp_inspect,
    .frame = bgp_frame,
    .starts_session = bgp_starts_session,
    .kind_name = bgp_kind_name,
};
