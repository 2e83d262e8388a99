/* fuzz_flow_events — any bytes as an events file: refused with a message, or read into flows
 * whose sides' SENDs and WAITs balance. */
#include <stdint.h>
#include <stdlib.h>

#include "flow/events.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct flow_set s;
    char err[256];
    if (flow_events_parse("fuzz", (const char *)data, size, &s, err, sizeof err) < 0) {
        if (!err[0])
            abort();
        return 0;
    }
    for (size_t i = 0; i < s.n; i++)
        if (s.flows[i].side[0].send_bytes != s.flows[i].side[1].wait_bytes ||
            s.flows[i].side[1].send_bytes != s.flows[i].side[0].wait_bytes)
            abort();
    flow_set_free(&s);
    return 0;
}
