/* record.c — pcap-proc on a live interface: the frames go to a raw pcap for the duration (or
 * until SIGINT/SIGTERM), then that file is processed as any capture.
 *
 * Why a file between the interface and the processing: pcap-proc reads its input once per
 * protocol section (each pass re-segments one protocol), which an interface cannot replay;
 * the file also bounds memory by disk, not by the recording's length, makes the outputs of a
 * recording exactly those of processing its raw capture (one code path), and is the raw
 * capture the user may keep (live.keep_raw / --keep-raw). */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "pcapproc/pcapproc.h"
#include "pcapproc/proc_int.h"
#include "privs.h"
#include "schedule.h"
#include "source.h"

extern volatile int pcapproc_stop;

#define RECORD_SNAPLEN 262144
#define RECORD_PROGRESS_NS (2 * (int64_t)1000000000)

static void progress(const char *spec, const struct pcapproc_record *r, struct source *src, double secs, bool final)
{
    fprintf(stderr, "pcap-proc: %srecording %s: %.1f s, %llu frames, %.1f MB, dropped by the kernel %llu\n",
            final ? "done " : "", spec, secs, (unsigned long long)r->frames, (double)r->bytes / 1e6,
            (unsigned long long)source_dropped(src));
}

int pcapproc_record(const struct config *c, const struct pcapproc_options *o, struct source *src, const char *spec,
                    const char *raw_path, struct pcapproc_record *r)
{
    memset(r, 0, sizeof *r);
    double duration = o->duration > 0 ? o->duration : c->duration;
    pcap_t *dead = NULL;
    pcap_dumper_t *dump = NULL;
    int status = 0;
    int64_t start = schedule_now_monotonic(), next_progress = start + RECORD_PROGRESS_NS;
    int64_t end = duration > 0 ? start + (int64_t)(duration * 1e9) : INT64_MAX;
    if (o->progress || !o->quiet)
        log_note("recording %s %s; SIGINT or SIGTERM ends it, then the recording is processed", spec,
                 duration > 0 ? "for the duration" : "until a signal");
    struct capture_packet pkt;
    int rc;
    while (!pcapproc_stop && schedule_now_monotonic() < end) {
        rc = source_next(src, &pkt);
        if (rc == SOURCE_AGAIN) {
            int fd = source_wait_fd(src);
            int64_t left = (end - schedule_now_monotonic()) / 1000000;
            int ms = left < 100 ? (int)(left > 0 ? left : 0) : 100;
            if (fd >= 0) {
                struct pollfd pf = { .fd = fd, .events = POLLIN };
                poll(&pf, 1, ms);
            } else {
                usleep((useconds_t)(ms < 5 ? ms : 5) * 1000);
            }
        } else if (rc == 1) {
            if (!dump) { /* the link type is the first frame's */
                if (pkt.dlt < 0) {
                    r->other_link++;
                    continue;
                }
                r->dlt = pkt.dlt;
                if (!(dead = pcap_open_dead_with_tstamp_precision(pkt.dlt, RECORD_SNAPLEN, PCAP_TSTAMP_PRECISION_NANO)) ||
                    !(dump = pcap_dump_open(dead, raw_path))) {
                    log_error("%s: cannot write the recording: %s", raw_path, dead ? pcap_geterr(dead) : "out of memory");
                    status = 2;
                    break;
                }
            }
            if (pkt.dlt != r->dlt) {
                r->other_link++;
                continue;
            }
            struct pcap_pkthdr h = pkt.hdr;
            h.ts.tv_usec = (suseconds_t)(pkt.ts_ns % 1000000000); /* nanosecond file */
            pcap_dump((u_char *)dump, &h, pkt.data);
            r->frames++;
            r->bytes += pkt.caplen;
            if (!r->first_ns)
                r->first_ns = pkt.ts_ns;
            r->last_ns = pkt.ts_ns;
        } else {
            if (rc < 0) {
                log_error("%s: the capture failed: %s (what was recorded before is processed)", spec, source_error(src));
                status = 1;
            }
            break;
        }
        int64_t now = schedule_now_monotonic();
        if (o->progress && now >= next_progress) {
            next_progress = now + RECORD_PROGRESS_NS;
            progress(spec, r, src, (double)(now - start) / 1e9, false);
        }
    }
    r->seconds = (double)(schedule_now_monotonic() - start) / 1e9;
    r->by_signal = pcapproc_stop;
    pcapproc_stop = 0; /* the signal ended the recording; a second one stops the processing */
    r->kernel_dropped = source_dropped(src);
    r->summary = source_summary(src);
    if (o->progress)
        progress(spec, r, src, r->seconds, true);
    if (!dump && status == 0) { /* nothing arrived: an empty capture, so the outputs say so */
        if (!(dead = pcap_open_dead_with_tstamp_precision(DLT_EN10MB, RECORD_SNAPLEN, PCAP_TSTAMP_PRECISION_NANO)) ||
            !(dump = pcap_dump_open(dead, raw_path))) {
            log_error("%s: cannot write the recording: %s", raw_path, dead ? pcap_geterr(dead) : "out of memory");
            status = 2;
        }
    }
    if (dump && (pcap_dump_flush(dump) < 0 || ferror(pcap_dump_file(dump)))) {
        log_error("%s: write error: %s", raw_path, strerror(errno));
        status = status ? status : 1;
    }
    if (dump)
        pcap_dump_close(dump);
    if (dead)
        pcap_close(dead);
    if (r->kernel_dropped)
        log_warn("%s: the kernel dropped %llu frames while recording (a buffer too small or a disk too slow): the "
                 "recording misses them", spec, (unsigned long long)r->kernel_dropped);
    return status;
}

/* ---- the live input of a run (proc_int.h) ---- */

int pcapproc_live_input(const struct config *c, const struct pcapproc_options *o, const char *folder, char *raw,
                      size_t raw_len, bool *raw_is_temp, json_t **recorded)
{
    char err[PATH_MAX + 512];
    struct source *src = source_open(c->pcaps[0], &c->sources, err, sizeof err);
    if (!src) {
        log_error("%s", err);
        return 2;
    }
    const char *keep = o->keep_raw ? o->keep_raw : c->live.keep_raw;
    snprintf(raw, raw_len, keep ? "%s" : "%s/.recording-%ld.pcap", keep ? keep : folder, (long)getpid());
    *raw_is_temp = !keep;
    struct privs_needs none = { 0 };
    char probe[PATH_MAX + 32];
    snprintf(probe, sizeof probe, "%s/traffic.pcap", folder);
    if ((!o->keep_privileges && privs_drop(o->user ? o->user : c->user, &none, err, sizeof err) < 0) ||
        (!o->check_only && (privs_check_writable(probe, "the output folder", err, sizeof err) < 0 ||
                            privs_check_writable(raw, "the recording", err, sizeof err) < 0))) {
        log_error("%s", err);
        source_close(src);
        return 2;
    }
    if (o->check_only) {
        log_info("%s: the interface can be captured (--check: nothing recorded)", c->pcaps[0]);
        source_close(src);
        return 0;
    }
    struct pcapproc_record r;
    int status = pcapproc_record(c, o, src, c->pcaps[0], raw, &r);
    source_close(src);
    *recorded = json_pack("{s:s,s:s?,s:f,s:b,s:I,s:I,s:I,s:I,s:s?,s:o}", "interface", c->pcaps[0], "filter",
                          c->live.filter, "seconds", r.seconds, "ended_by_signal", r.by_signal, "frames",
                          (json_int_t)r.frames, "bytes", (json_int_t)r.bytes, "kernel_dropped",
                          (json_int_t)r.kernel_dropped, "other_link_type", (json_int_t)r.other_link, "raw",
                          keep, "counters", r.summary ? r.summary : json_null());
    return status;
}
