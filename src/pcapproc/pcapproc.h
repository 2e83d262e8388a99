/* pcapproc.h — pcap-proc: raw captures -> clean, re-segmented, re-timed sessions in
 * traffic.pcap, a config that replays them (traffic-reproducer.yml) and a JSON summary of
 * what the captures hold (traffic-info.json). See docs/pcap-proc.1. */
#ifndef TELREP_PCAPPROC_H
#define TELREP_PCAPPROC_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

#include "config.h"

/* 2023-01-01 00:00:00 UTC: output time starts here + initial_delay (second 5 of a minute
 * with the default delay, for pmacct's per-minute aggregation) */
#define PCAPPROC_EPOCH 1672534800

struct pcapproc_options {
    bool summary_only;          /* write traffic-info.json only */
    const char *output_folder;  /* overrides pcap_processing.output_folder */
    bool progress;              /* a progress line on stderr for long runs */
    bool check_only;            /* check the captures and the output folder; write nothing */
    const char *anon_map;       /* anonymise: where the key holder's table of mappings goes */
    double duration;            /* a live interface: how long to record (s; 0: the config's duration, else until a signal) */
    const char *keep_raw;       /* a live interface: keep the raw recording here (overrides live.keep_raw) */
    const char *user;           /* who to become once the interface is open (privs.h) */
    bool keep_privileges;       /* telrep -p: the replay that follows gives them up, not pcap-proc */
    bool quiet;
};

/* A live interface's recording (record.c): what pcapproc_record read and wrote. */
struct pcapproc_record {
    uint64_t frames, bytes, other_link, kernel_dropped;
    int dlt;
    int64_t first_ns, last_ns;
    double seconds;
    bool by_signal;
    json_t *summary; /* the source's counters (taken by the caller) */
};
struct source;
/* Record the open live source src into raw_path (a nanosecond pcap) for the duration or until a
 * signal (which ends the recording, not the run). 0, 1 (the capture failed part way: what came
 * before is in the file) or 2 (nothing could be written). */
int pcapproc_record(const struct config *c, const struct pcapproc_options *o, struct source *src, const char *spec,
                    const char *raw_path, struct pcapproc_record *r);

/* Process c->pcaps. Returns 0 (done), 1 (done, but a capture ended in an error or an
 * output could not be written: what was readable is in the outputs) or 2 (nothing could
 * be done: bad output folder, unreadable input). The path of the written traffic.pcap
 * goes to out_pcap when not NULL. */
int pcapproc_run(const struct config *c, const struct pcapproc_options *o, char *out_pcap, size_t out_len);

#endif
