#include "proto/proto.h"

#include <string.h>

/* Order matters: enum proto_id indexes this table. Adding a protocol = one file + one line. */
static const struct proto *const table[PROTO_COUNT] = {
    [PROTO_IPFIX] = &proto_netflow,
    [PROTO_BGP] = &proto_bgp,
    [PROTO_BMP] = &proto_bmp,
    [PROTO_UDP_GENERIC] = &proto_udp_generic,
    [PROTO_TCP_GENERIC] = &proto_tcp_generic,
};

const char *const proto_names[PROTO_COUNT] = { "ipfix", "bgp", "bmp", "udp_generic", "tcp_generic" };

const struct proto *proto_by_name(const char *name)
{
    for (int i = 0; i < PROTO_COUNT; i++)
        if (strcmp(table[i]->name, name) == 0)
            return table[i];
    return NULL;
}

const struct proto *proto_by_id(enum proto_id id)
{
    return (unsigned)id < PROTO_COUNT ? table[id] : NULL;
}
