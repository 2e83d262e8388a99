/* fuzz_config — the YAML config parser on any text: errors, never crashes or leaks. */
#include <stdint.h>
#include <stdlib.h>

#include "config.h"
#include "log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int quiet;
    if (!quiet) {
        log_set_level(LOG_ERROR); /* warnings are expected on junk */
        quiet = 1;
    }
    char err[512];
    struct config *c = config_parse("fuzz.yml", (const char *)data, size, false, err, sizeof err);
    config_free(c);
    return 0;
}
