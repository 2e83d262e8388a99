/* pcapproc.h — pcap-proc: raw captures -> clean, re-segmented, re-timed sessions in
 * traffic.pcap, a config that replays them (traffic-reproducer.yml) and a JSON summary of
 * what the captures hold (traffic-info.json). See docs/pcap-proc.1. */
#ifndef TELREP_PCAPPROC_H
#define TELREP_PCAPPROC_H

#include <stdbool.h>
#include <stddef.h>

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
};

/* Process c->pcaps. Returns 0 (done), 1 (done, but a capture ended in an error or an
 * output could not be written: what was readable is in the outputs) or 2 (nothing could
 * be done: bad output folder, unreadable input). The path of the written traffic.pcap
 * goes to out_pcap when not NULL. */
int pcapproc_run(const struct config *c, const struct pcapproc_options *o, char *out_pcap, size_t out_len);

#endif
