/* fuzz_model — any bytes as a traffic model (flow-replay --model): read, every value checked,
 * and when accepted, flows drawn from it. Checks that what it draws stays within the bounds the
 * generator promises (rounds, bytes) and that nothing it reads makes it crash or hang. */
#include <stdint.h>
#include <stdlib.h>

#include "flow/model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *j = json_loadb((const char *)data, size, 0, NULL);
    if (!j)
        return 0;
    static struct flow_model m;
    char err[512];
    if (flow_model_read(j, &m, err, sizeof err) == 0) {
        struct model_generate_options o = { .flows = 20, .scale = 1, .port = 80, .seed = 1 };
        addr_parse("10.0.0.1", &o.client);
        addr_parse("10.0.0.2", &o.server);
        struct flow_set set;
        if (flow_model_generate(&m, &o, &set, err, sizeof err) == 0) {
            for (size_t i = 0; i < set.n; i++)
                for (int s = 0; s < 2; s++)
                    for (size_t k = 0; k < set.flows[i].side[s].n; k++)
                        if (set.flows[i].side[s].ev[k].bytes > 1000000000u)
                            abort();
            flow_set_free(&set);
        }
    }
    json_decref(j);
    return 0;
}
