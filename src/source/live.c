/* live.c — a live interface as a source, through libtrace (see live.h).
 *
 * A frame's path: trace_event() reads it from the kernel's packet socket (or ring, or
 * libpcap) without blocking; trace_get_layer2() skips libtrace's own framing; the frame goes
 * out as a capture_packet with its kernel timestamp and libpcap link type, valid until the
 * next call. When the kernel has nothing, trace_event() says which descriptor to wait on,
 * and the caller's event loop waits on it (source.h). */
#include "source/live.h"

#include <errno.h>
#include <libtrace.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "source.h"

#define LIVE_SNAPLEN_DEFAULT 65535 /* whole frames: a message cut short cannot be replayed */

struct live {
    libtrace_t *trace;
    libtrace_packet_t *packet;
    /* The filter runs here, compiled by libpcap for the frames' link type: libtrace 3.0.22's
     * own (in the kernel) loses its compiled program at every start, a leak per run. */
    char *filter;
    struct bpf_program prog;
    int prog_dlt;        /* the link type prog was compiled for; -1: none */
    uint64_t filtered;   /* frames the filter rejected */
    char *uri;
    int fd;              /* the last IOWAIT descriptor, -1 before */
    bool ended;
    char error[256];
    char format[32];
};

static const char *const prefixes[] = { "int:", "ring:", "pcapint:" };

bool live_spec(const char *spec)
{
    for (size_t i = 0; i < sizeof prefixes / sizeof *prefixes; i++)
        if (!strncmp(spec, prefixes[i], strlen(prefixes[i])) && spec[strlen(prefixes[i])])
            return true;
    return false;
}

int live_check_filter(const char *filter, char *err, size_t errlen)
{
    pcap_t *dead = pcap_open_dead(DLT_EN10MB, LIVE_SNAPLEN_DEFAULT);
    struct bpf_program prog;
    if (!dead) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    int rc = pcap_compile(dead, &prog, filter, 1, PCAP_NETMASK_UNKNOWN);
    if (rc < 0)
        snprintf(err, errlen, "filter \"%s\": %s", filter, pcap_geterr(dead));
    else
        pcap_freecode(&prog);
    pcap_close(dead);
    return rc < 0 ? -1 : 0;
}

void live_options_free(struct live_options *o)
{
    free(o->uri);
    free(o->filter);
    free(o->keep_raw);
    memset(o, 0, sizeof *o);
}

/* libtrace's link types as libpcap's (the decoder speaks DLT_*) */
static int dlt_of(libtrace_linktype_t t)
{
    switch (t) {
    case TRACE_TYPE_ETH: return DLT_EN10MB;
    case TRACE_TYPE_NONE: return DLT_RAW;
    case TRACE_TYPE_LINUX_SLL: return DLT_LINUX_SLL;
    default: return -1;
    }
}

/* what a failure to open says, with how to fix the common causes */
static void open_error(struct live *l, const char *uri, char *err, size_t errlen)
{
    libtrace_err_t e = trace_get_err(l->trace);
    const char *why = e.problem[0] ? e.problem : "libtrace gave no reason";
    const char *hint = "";
    if (e.err_num == EPERM || e.err_num == EACCES || strstr(why, "ermission") || strstr(why, "not permitted"))
        hint = " (a live capture needs CAP_NET_RAW: run as root, or give the binary the capability once: "
               "setcap cap_net_raw,cap_net_admin+ep $(command -v telrep); see telrep(1) PRIVILEGES)";
    else if (e.err_num == ENODEV || e.err_num == ENXIO || strstr(why, "o such device") || strstr(why, "find interface"))
        hint = " (no such interface here: `ip link` lists them; in a network namespace, run inside it)";
    snprintf(err, errlen, "%s: cannot capture: %s%s", uri, why, hint);
}

static void *source_live_open(const char *spec, const struct source_options *so, char *err, size_t errlen)
{
    const struct live_options *o = so ? so->live : NULL;
    struct live *l = calloc(1, sizeof *l);
    if (!l || !(l->uri = strdup(spec))) {
        free(l);
        snprintf(err, errlen, "%s: out of memory", spec);
        return NULL;
    }
    l->fd = -1;
    snprintf(l->format, sizeof l->format, "live %.*s", (int)(strchr(spec, ':') - spec), spec);
    l->trace = trace_create(spec);
    if (!l->trace || trace_is_err(l->trace)) {
        open_error(l, spec, err, errlen);
        goto fail;
    }
    int snaplen = o && o->snaplen ? (int)o->snaplen : LIVE_SNAPLEN_DEFAULT;
    int promisc = o && o->promisc;
    /* not every format takes every option; a refusal is not an error */
    trace_config(l->trace, TRACE_OPTION_SNAPLEN, &snaplen);
    trace_config(l->trace, TRACE_OPTION_PROMISC, &promisc);
    l->prog_dlt = -1;
    if (o && o->filter) {
        if (live_check_filter(o->filter, err, errlen) < 0)
            goto fail;
        if (!(l->filter = strdup(o->filter))) {
            snprintf(err, errlen, "%s: out of memory", spec);
            goto fail;
        }
    }
    (void)trace_get_err(l->trace); /* a refused option above left an error: cleared */
    if (trace_start(l->trace) < 0 || trace_is_err(l->trace)) {
        open_error(l, spec, err, errlen);
        goto fail;
    }
    if (!(l->packet = trace_create_packet())) {
        snprintf(err, errlen, "%s: out of memory", spec);
        goto fail;
    }
    return l;
fail:
    if (l->trace)
        trace_destroy(l->trace);
    free(l->filter);
    free(l->uri);
    free(l);
    return NULL;
}

/* Does the filter take this frame? (compiled for its link type on first sight of it) */
static bool filter_takes(struct live *l, const struct capture_packet *p)
{
    if (!l->filter)
        return true;
    if (p->dlt != l->prog_dlt) {
        if (l->prog_dlt >= 0)
            pcap_freecode(&l->prog);
        l->prog_dlt = -1;
        pcap_t *dead = p->dlt >= 0 ? pcap_open_dead(p->dlt, LIVE_SNAPLEN_DEFAULT) : NULL;
        if (!dead)
            return false;
        if (pcap_compile(dead, &l->prog, l->filter, 1, PCAP_NETMASK_UNKNOWN) == 0)
            l->prog_dlt = p->dlt;
        pcap_close(dead);
        if (l->prog_dlt < 0)
            return false; /* not expressible on this link type: nothing of it is taken */
    }
    return pcap_offline_filter(&l->prog, &p->hdr, p->data) != 0;
}

static int source_live_next(void *impl, struct capture_packet *out)
{
    struct live *l = impl;
    if (l->ended)
        return l->error[0] ? -1 : 0;
    for (;;) {
        libtrace_eventobj_t ev = trace_event(l->trace, l->packet);
        switch (ev.type) {
        case TRACE_EVENT_IOWAIT:
            l->fd = ev.fd;
            return SOURCE_AGAIN;
        case TRACE_EVENT_SLEEP:
            l->fd = -1;
            return SOURCE_AGAIN;
        case TRACE_EVENT_TERMINATE: {
            libtrace_err_t e = trace_get_err(l->trace);
            l->ended = true;
            if (e.err_num) {
                snprintf(l->error, sizeof l->error, "%s", e.problem[0] ? e.problem : "the capture failed");
                return -1;
            }
            return 0;
        }
        case TRACE_EVENT_PACKET:
            if (ev.size < 0) {
                libtrace_err_t e = trace_get_err(l->trace);
                snprintf(l->error, sizeof l->error, "%s", e.problem[0] ? e.problem : "a read failed");
                l->ended = true;
                return -1;
            }
            break;
        }
        libtrace_linktype_t type;
        uint32_t remaining = 0;
        const uint8_t *l2 = trace_get_layer2(l->packet, &type, &remaining);
        if (!l2) /* libtrace's metadata, not a frame */
            continue;
        struct timespec ts = trace_get_timespec(l->packet);
        size_t wire = trace_get_wire_length(l->packet);
        out->ts_ns = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
        out->data = l2;
        out->caplen = remaining;
        out->wirelen = wire >= remaining ? wire : remaining;
        out->dlt = dlt_of(type);
        out->hdr.ts.tv_sec = ts.tv_sec;
        out->hdr.ts.tv_usec = (suseconds_t)(ts.tv_nsec / 1000);
        out->hdr.caplen = (bpf_u_int32)out->caplen;
        out->hdr.len = (bpf_u_int32)out->wirelen;
        if (!filter_takes(l, out)) {
            l->filtered++;
            continue;
        }
        return 1;
    }
}

static const char *source_live_format(const void *impl) { return ((const struct live *)impl)->format; }
static const char *source_live_error(const void *impl) { return ((const struct live *)impl)->error; }
static double source_live_progress(const void *impl) { return -1; }
static int source_live_wait_fd(const void *impl) { return ((const struct live *)impl)->fd; }

static uint64_t source_live_dropped(const void *impl)
{
    uint64_t n = trace_get_dropped_packets(((const struct live *)impl)->trace);
    return n == UINT64_MAX ? 0 : n; /* not known */
}

/* a counter libtrace may not know (UINT64_MAX): null in the JSON */
static json_t *counter(uint64_t v) { return v == UINT64_MAX ? json_null() : json_integer((json_int_t)v); }

static json_t *source_live_summary(const void *impl)
{
    const struct live *l = impl;
    return json_pack("{s:s, s:o, s:o, s:o, s:o}", "interface", l->uri,
                     "received", counter(trace_get_received_packets(l->trace)),
                     "filtered", json_integer((json_int_t)l->filtered),
                     "dropped", counter(trace_get_dropped_packets(l->trace)),
                     "accepted", counter(trace_get_accepted_packets(l->trace)));
}

static void source_live_close(void *impl)
{
    struct live *l = impl;
    if (!l)
        return;
    trace_destroy_packet(l->packet);
    trace_destroy(l->trace);
    if (l->prog_dlt >= 0)
        pcap_freecode(&l->prog);
    free(l->filter);
    free(l->uri);
    free(l);
}

const struct source_ops source_live = {
    .name = "live",
    .claims = live_spec,
    .open = source_live_open,
    .next = source_live_next,
    .format = source_live_format,
    .error = source_live_error,
    .progress = source_live_progress,
    .summary = source_live_summary,
    .close = source_live_close,
    .live = true,
    .wait_fd = source_live_wait_fd,
    .dropped = source_live_dropped,
};
