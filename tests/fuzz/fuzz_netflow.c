/* fuzz_netflow — every UDP/TCP protocol plugin's message parsers on any bytes:
 * netflow_parse (v5/v9/IPFIX headers, sets, templates), each plugin's inspect(),
 * frame() and starts_session(). A frame length must never exceed the input. */
#include <stdint.h>
#include <stdlib.h>

#include "proto/proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct netflow_header h;
    (void)netflow_parse(data, size, &h);
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
    }
    return 0;
}
