/* fuzz_proto — every protocol plugin's message parsers on any bytes: netflow_parse
 * (v5/v9/IPFIX headers, sets, templates), BGP OPEN / NOTIFICATION parsing and OPEN
 * rewriting, each plugin's inspect(), frame() and starts_session(). A frame length must
 * never exceed the input; a rewritten OPEN must still parse. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/proto.h"

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
    }
    return 0;
}
