/* fuzz_flow_config — any bytes as flow-replay's YAML config: refused with a file:line:col
 * message, or read whole; nothing leaks either way. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "flow/flowconfig.h"
#include "log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct flow_config c;
    char err[256];
    log_set_level(LOG_ERROR);
    flow_config_defaults(&c);
    err[0] = 0;
    if (flow_config_parse("fuzz.yml", (const char *)data, size, &c, err, sizeof err) < 0 && strncmp(err, "fuzz.yml:", 9))
        abort();
    flow_config_free(&c);
    return 0;
}
