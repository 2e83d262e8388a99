/* generic.c — udp_generic / tcp_generic: payload passthrough, no framing. */
#include "proto/proto.h"

static int generic_inspect(const uint8_t *msg, size_t len, struct msg_info *info)
{
    info->kind = 0;
    return 0;
}

/* A TCP byte stream without message boundaries: whatever is there is one "message". */
static ssize_t generic_frame(const uint8_t *p, size_t len)
{
    return (ssize_t)len;
}

static const char *generic_kind_name(int kind) { return "payload"; }

const struct proto proto_udp_generic = {
    .name = "udp_generic",
    .transport = TRANSPORT_UDP,
    .inspect = generic_inspect,
    .kind_name = generic_kind_name,
};

const struct proto proto_tcp_generic = {
    .name = "tcp_generic",
    .transport = TRANSPORT_TCP,
    .max_message = 65536,
    .inspect = generic_inspect,
    .frame = generic_frame,
    .kind_name = generic_kind_name,
};
