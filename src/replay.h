/* replay.h — the engine: plays the configured captures to the collectors. */
#ifndef TELREP_REPLAY_H
#define TELREP_REPLAY_H

#include <stdbool.h>

#include "config.h"
#include "shard.h"

struct replay_options {
    bool keep_open, no_sync, ask_for_input; /* flag OR config key */
    const char *stats_json;                 /* final report path, NULL = none */
    double progress_interval;               /* seconds; 0 = no progress line */
    bool skip_address_check;                /* tests and --no-address-check */
    bool check;                             /* --check: read the captures, send nothing */
    struct shard shard;                     /* --shard: this process's routers (count 0: all) */
    int64_t start_at_ns;                    /* --start-at: the first packet's instant (realtime; 0: now) */
    const char *ready_path;                 /* --ready: written once every session is up and the first packet due */
    const char *metrics_path, *metrics_listen; /* --metrics FILE, --metrics-listen [ADDR:]PORT (NULL: none) */
    double metrics_interval;                /* seconds between metrics files */
    const char *user;                       /* --user: who to become once the privileged things are open (privs.h) */
    bool busy_wait;                         /* --busy-wait: spin through the packets' gaps (loop_run_spin) */
};

/* The signal handlers set loop_stop (loop.h); the engine stops at the next packet. */

/* Runs the whole replay (or with check, the dry pass). Returns the exit status:
 * 0 everything delivered (a run that recovered from a collector restart losing nothing
 * too, with a warning); 1 something refused, failed or lost, an unreadable capture, a stop
 * by signal; 2 configuration or environment, and a run or check that would send nothing. */
int replay_run(const struct config *c, const struct replay_options *o);

#endif
