/* replay.h — the engine: plays the configured captures to the collectors. */
#ifndef TELREP_REPLAY_H
#define TELREP_REPLAY_H

#include <stdbool.h>

#include "config.h"

struct replay_options {
    bool keep_open, no_sync, ask_for_input; /* flag OR config key */
    const char *stats_json;                 /* final report path, NULL = none */
    double progress_interval;               /* seconds; 0 = no progress line */
    bool skip_address_check;                /* tests and --no-address-check */
};

/* Set by the signal handlers; the engine stops at the next packet. */
extern volatile int replay_stop;

/* Runs the whole replay. Returns the exit status: 0 all sent, 1 runtime failure
 * (refused or failed sends, unreadable capture), 2 configuration/environment. */
int replay_run(const struct config *c, const struct replay_options *o);

#endif
