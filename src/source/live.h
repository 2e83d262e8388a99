/* live.h — a live interface as a source (source.h), through libtrace.
 *
 * The spec is a libtrace live URI: int:DEV (a Linux packet socket), ring:DEV (the same with
 * a memory-mapped ring), pcapint:DEV (through libpcap). The config's `live:` section names it
 * and its options; `pcap: int:DEV` works too, with the defaults.
 *
 * What the rules are:
 * - Frames are handed out as the kernel timestamped them, layer 2 first (Ethernet for int:
 *   and ring:, whatever libpcap says for pcapint:), never blocking: next() answers
 *   SOURCE_AGAIN when nothing is there, and wait_fd() is the descriptor to wait on.
 * - The filter is BPF, checked with libpcap's compiler when the source opens (a typo is an
 *   error that names it, not a silent capture of nothing), then run on each frame as it is
 *   read (compiled for the frame's link type; libtrace's own filter leaks its program).
 * - Privileges: opening needs CAP_NET_RAW (root, or `setcap cap_net_raw+ep`); once open the
 *   descriptor works without them, so the process may drop them (privs.h).
 * - Counters: libtrace's received / dropped / accepted and the frames the filter rejected, in the summary and in
 *   dropped() (frames the kernel could not hand over: a reader too slow or a buffer too small).
 * - Frames are hostile as any capture's: the decoder reads them through cursor.h.
 * - Files never come here: libtrace 3.0.22 aborts on hostile ERF, so capture files have
 *   their own reader (capture.c). Only live URIs are claimed. */
#ifndef TELREP_SOURCE_LIVE_H
#define TELREP_SOURCE_LIVE_H

#include <stdbool.h>
#include <stddef.h>

struct live_options {
    char *uri;          /* int:eth0, ring:eth0, pcapint:eth0 */
    char *filter;       /* BPF, or NULL for every frame */
    unsigned snaplen;   /* 0: whole frames */
    bool promisc;       /* also frames not addressed to the interface (a mirror port) */
    double max_delay;   /* telrep: a frame older than this when it could be sent is dropped (s) */
    char *keep_raw;     /* pcap-proc: what was recorded is also kept in this pcap */
    unsigned line;      /* where the config says live: */
};

#define LIVE_MAX_DELAY_DEFAULT 1.0

/* Is this spec a live URI (int:, ring:, pcapint:)? */
bool live_spec(const char *spec);
/* Check a BPF filter (libpcap's compiler, on Ethernet frames): 0, or -1 with err. */
int live_check_filter(const char *filter, char *err, size_t errlen);
void live_options_free(struct live_options *o);

#endif
