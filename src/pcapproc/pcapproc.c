/* pcapproc.c — pcap-proc's engine. The front half is the replay's (capture -> decode ->
 * select -> tcpstream -> the protocol's frame()); it ends in the protocols' digests and a
 * pcap writer instead of sockets.
 *
 * Output time is made up, not copied: packets follow each other by inter_packet_delay from
 * PCAPPROC_EPOCH + initial_delay, 1 s after a segment that carries a BGP OPEN (the peer
 * answers before the session goes on), and the protocols come one after another (config
 * order) with inter_protocol_delay between them. So the input is read once per protocol:
 * streaming, memory grows with the sessions and exporters, not with the captures. */
#define _GNU_SOURCE
#include "anon.h"
#include "hash.h"
#include "pcapproc/pcapproc.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "capture.h"
#include "source.h"
#include "decode.h"
#include "log.h"
#include "privs.h"
#include "source/live.h"
#include "pcapproc/pktwrite.h"
#include "schedule.h"
#include "tcpstream.h"
#include "version.h"

volatile int pcapproc_stop;

#include "anon.h"
#include "pcapproc/proc_int.h"

/* ---- output time ---- */

static int64_t take_time(struct proc *p)
{
    if (!p->pass_wrote) {
        p->pass_wrote = true;
        if (p->wrote_any)
            p->next_ts = p->last_ts + (int64_t)(p->c->pcap_processing.inter_protocol_delay * NS);
    }
    int64_t t = p->next_ts;
    p->last_ts = t;
    p->wrote_any = true;
    p->next_ts = t + (int64_t)(p->c->pcap_processing.inter_packet_delay * NS);
    return t;
}

static void write_packet(struct proc *p, struct pktwrite_flow *fl, const uint8_t *data, size_t len, bool open)
{
    int64_t t = take_time(p);
    if (open)
        p->next_ts = t + NS;
    pktwrite_packet(&p->w, fl, t, data, len);
    p->out_packets[p->pc->id]++;
}

/* ---- routers ---- */

static struct proc_router *router_get(struct proc *p, const struct addr *a)
{
    size_t slot = addr_hash(a) % (sizeof p->router_slots / sizeof *p->router_slots);
    for (size_t i = p->router_slots[slot]; i; i = p->routers[i - 1].next)
        if (addr_equal(&p->routers[i - 1].addr, a))
            return &p->routers[i - 1];
    if (p->n_routers == p->cap_routers) {
        size_t cap = p->cap_routers ? p->cap_routers * 2 : 16;
        struct proc_router *r = realloc(p->routers, cap * sizeof *r);
        if (!r)
            return NULL;
        p->routers = r;
        p->cap_routers = cap;
    }
    struct proc_router *r = &p->routers[p->n_routers++];
    memset(r, 0, sizeof *r);
    r->addr = *a;
    r->next = p->router_slots[slot];
    p->router_slots[slot] = p->n_routers;
    char s[ADDR_STRLEN];
    r->json = json_object();
    json_object_set_new(p->routers_json, addr_format(a, s), r->json);
    return r;
}

/* ---- what to keep ---- */

static bool type_selected(const struct proto_config *pc, const uint8_t *msg, size_t len)
{
    const struct u16_list *types = &pc->select.header_types;
    if (!types->n)
        return true;
    struct msg_info info = { .kind = -1 };
    pc->proto->inspect(msg, len, &info);
    for (size_t i = 0; i < types->n; i++)
        if (info.kind == types->v[i])
            return true;
    return false;
}

/* ---- TCP: sessions, messages, segments ---- */

static void segment_flush(struct stream *st)
{
    if (!st->seg_len)
        return;
    write_packet(st->p, &st->flow, st->seg, st->seg_len, st->seg_open);
    st->segments++;
    st->seg_len = 0;
    st->seg_open = false;
}

static bool segment_reserve(struct stream *st, size_t len)
{
    if (st->seg_len + len <= st->seg_cap)
        return true;
    size_t cap = st->seg_len + len;
    uint8_t *b = realloc(st->seg, cap);
    if (!b)
        return false;
    st->seg = b;
    st->seg_cap = cap;
    return true;
}

/* Pack whole messages into segments of at most desired_tcp_payload_size bytes; a larger
 * message goes alone (split only where one frame cannot carry it). A BGP OPEN ends its
 * segment: the pause after it must fall before the next message. tcp_generic has no
 * messages: its bytes are cut at the desired size. */
static void segment_add(struct stream *st, const uint8_t *msg, size_t len, bool open)
{
    size_t desired = st->p->c->pcap_processing.desired_tcp_payload_size;
    if (desired > PKTWRITE_MAX_PAYLOAD)
        desired = PKTWRITE_MAX_PAYLOAD;
    bool generic = st->p->pc->id == PROTO_TCP_GENERIC;
    if (st->seg_len && (open || st->seg_len + len > desired) && !generic)
        segment_flush(st);
    while (len) {
        size_t room = (generic ? desired : PKTWRITE_MAX_PAYLOAD) - st->seg_len;
        size_t take = len < room ? len : room;
        if (!segment_reserve(st, take))
            return;
        memcpy(st->seg + st->seg_len, msg, take);
        st->seg_len += take;
        msg += take;
        len -= take;
        if (len)
            segment_flush(st);
    }
    st->seg_open |= open;
    if (st->seg_len >= desired || open)
        segment_flush(st);
}

static void on_message(void *ctx, const uint8_t *msg, size_t len, int64_t ts_ns)
{
    struct stream *st = ctx;
    struct proc *p = st->p;
    const struct proto *pr = p->pc->proto;
    st->messages++;
    memcpy(p->scratch, msg, len);
    if (p->anon && !proc_anonymise(p, st, NULL, p->scratch, len))
        return; /* before the digest: the summary names only what the outputs hold */
    size_t n = len;
    bool keep = pr->digest_message ? pr->digest_message(st->digest, p->scratch, &n) : true;
    if (!st->started) {
        if (pr->starts_session && !pr->starts_session(p->scratch, n)) {
            st->before_start++;
            return;
        }
        st->started = true;
    }
    if (!type_selected(p->pc, p->scratch, n)) {
        st->filtered++;
        return;
    }
    if (!keep)
        return; /* the digest counts it */
    st->kept++;
    p->out_messages[p->pc->id]++;
    bool open = p->pc->id == PROTO_BGP && pr->starts_session(p->scratch, n);
    segment_add(st, p->scratch, n, open);
}

static void on_run(void *ctx, const uint8_t *m, const uint32_t *lens, size_t n, int64_t ts)
{
    for (size_t i = 0; i < n; m += lens[i++])
        on_message(ctx, m, lens[i], ts);
}

static struct stream *stream_new(struct proc *p, struct proc_router *r, const struct decoded *d)
{
    if (p->n_streams == MAX_STREAMS) {
        p->streams_over_limit++;
        return NULL;
    }
    struct stream *st = calloc(1, sizeof *st);
    if (!st)
        return NULL;
    st->p = p;
    st->router = (size_t)(r - p->routers);
    st->flow = (struct pktwrite_flow){ .src = d->src, .dst = d->dst, .sport = d->sport, .dport = d->dport,
                                       .tcp = true, .seq = 1, .ack = 1 };
    conversation_init(&st->conv, p->pc->proto, d, NULL, on_run);
    st->conv.owner = st;
    if (conversation_insert(&p->convs, &st->conv) < 0) {
        free(st);
        return NULL;
    }
    st->digest = p->pc->proto->digest_new ? p->pc->proto->digest_new() : NULL;
    st->started = !p->pc->proto->starts_session;
    *p->streams_tail = st;
    p->streams_tail = &st->next_all;
    p->n_streams++;
    return st;
}

/* The session ends (capture over, or a new connection on the same addresses and ports):
 * its summary joins its router's. */
static void stream_end(struct stream *st)
{
    struct proc *p = st->p;
    struct conversation_counts n = { 0 };
    conversation_remove(&p->convs, &st->conv);
    conversation_finish(&st->conv, &n, st);
    st->ended = true;
    segment_flush(st);
    struct proc_router *r = &p->routers[st->router];
    json_t *j = json_object(), *proto_json = json_object_get(r->json, proto_names[p->pc->id]);
    char a[ADDR_STRLEN], b[ADDR_STRLEN], conn[2 * ADDR_STRLEN + 32];
    bool v6 = st->flow.src.family == AF_INET6;
    snprintf(conn, sizeof conn, v6 ? "[%s]:%u -> [%s]:%u" : "%s:%u -> %s:%u", addr_format(&st->flow.src, a),
             st->flow.sport, addr_format(&st->flow.dst, b), st->flow.dport);
    json_object_set_new(j, "connection", json_string(conn));
    json_object_set_new(j, "messages_seen", json_integer((json_int_t)st->messages));
    json_object_set_new(j, "messages_written", json_integer((json_int_t)st->kept));
    if (p->pc->proto->starts_session)
        json_object_set_new(j, "before_session_start", json_integer((json_int_t)st->before_start));
    json_object_set_new(j, "filtered_by_type", json_integer((json_int_t)st->filtered));
    json_object_set_new(j, "segments_written", json_integer((json_int_t)st->segments));
    json_object_set_new(j, "stream", conversation_counts_json(&n));
    if (st->digest) {
        json_t *dj = p->pc->proto->digest_json(st->digest);
        json_object_update(j, dj);
        json_decref(dj);
    }
    if (!proto_json) {
        proto_json = json_pack("{s:[]}", "sessions");
        json_object_set_new(r->json, proto_names[p->pc->id], proto_json);
    }
    json_array_append_new(json_object_get(proto_json, "sessions"), j);
    if (st->digest)
        p->pc->proto->digest_free(st->digest);
    bmp_anon_free(st->bmp_anon);
    free(st->seg);
    st->digest = NULL;
    st->seg = NULL;
}

/* No select key that picks a direction: the side sending from the protocol's well-known
 * port is the collector (BGP 179, BMP 1790), not a router to replay. */
static bool collector_side(const struct proto_config *pc, const struct decoded *d)
{
    const struct selector *s = &pc->select;
    if (s->ip_src.n || s->ip_dst.n || s->tcp_sport.n || s->tcp_dport.n || s->bpf || !pc->proto->default_port)
        return false;
    return d->sport == pc->proto->default_port && d->dport != pc->proto->default_port;
}

static void tcp_packet(struct proc *p, struct proc_router *r, const struct decoded *d)
{
    if (!d->payload_len && !(d->tcp_flags & TCP_SYN))
        return;
    struct conversation *c = conversation_find(&p->convs, d, NULL);
    struct stream *st = c ? c->owner : NULL;
    if (st && conversation_restarted(c, d)) { /* a new connection on the same addresses and ports */
        stream_end(st);
        st = NULL;
    }
    if (!st && !(st = stream_new(p, r, d)))
        return;
    conversation_segment(&st->conv, d, 0, st);
}

/* ---- UDP ---- */

static void udp_packet(struct proc *p, struct proc_router *r, const struct decoded *d)
{
    const struct proto *pr = p->pc->proto;
    if (d->payload_len > PKTWRITE_MAX_PAYLOAD) { /* only IPv4 jumbo datagrams: no frame carries them */
        p->oversized++;
        return;
    }
    if (!r->digest && pr->digest_new)
        r->digest = pr->digest_new();
    r->packets++;
    size_t n = d->payload_len;
    memcpy(p->scratch, d->payload, n);
    bool keep = pr->digest_message && r->digest ? pr->digest_message(r->digest, p->scratch, &n) : true;
    if (!type_selected(p->pc, p->scratch, n)) {
        r->filtered++;
        return;
    }
    if (!keep)
        return; /* the digest counts it */
    /* after the digest, which drops the data sets whose template was not seen (and keeps no
     * field's value): what remains can be read through the templates */
    if (p->anon && !proc_anonymise(p, NULL, r, p->scratch, n))
        return;
    r->kept++;
    p->out_messages[p->pc->id]++;
    struct pktwrite_flow fl = { .src = d->src, .dst = d->dst, .sport = d->sport, .dport = d->dport };
    write_packet(p, &fl, p->scratch, n, false);
}

static void udp_pass_end(struct proc *p)
{
    for (size_t i = 0; i < p->n_routers; i++) {
        struct proc_router *r = &p->routers[i];
        if (!r->packets)
            continue;
        json_t *j = r->digest ? p->pc->proto->digest_json(r->digest) : json_object();
        json_t *counts = json_pack("{s:I,s:I,s:I}", "packets", (json_int_t)r->packets, "written",
                                   (json_int_t)r->kept, "filtered_by_version", (json_int_t)r->filtered);
        json_object_update(counts, j); /* the counters first, then the protocol's view */
        json_decref(j);
        json_object_set_new(r->json, proto_names[p->pc->id], counts);
        if (r->digest)
            p->pc->proto->digest_free(r->digest);
        r->digest = NULL;
        p->anon_enterprise_fields += netflow_anon_enterprise_fields(r->nf_anon);
        netflow_anon_free(r->nf_anon);
        r->nf_anon = NULL;
        r->packets = r->kept = r->filtered = 0;
    }
}

/* ---- one pass: every capture, this pass's protocol ---- */

static void progress(struct proc *p, const char *path, struct source *cap, bool force)
{
    if (!p->o->progress)
        return;
    int64_t now = schedule_now_monotonic();
    if (!force && now < p->next_progress)
        return;
    p->next_progress = now + 2 * NS;
    double f = source_progress(cap);
    char pct[16] = "";
    if (f >= 0)
        snprintf(pct, sizeof pct, " %.0f%%", f * 100);
    fprintf(stderr, "pcap-proc: [%zu/%zu %s] %s%s, %llu packets written\n", p->pass + 1, p->passes,
            proto_names[p->pc->id], path, pct, (unsigned long long)p->w.packets);
}

/* summary: what the source says it read (an MRT dump's peers, records, attributes), or NULL */
static void count_input(struct proc *p, size_t file, uint64_t packets, const char *format, const char *error,
                        json_t *summary)
{
    if (p->pass) {
        json_decref(summary);
        return;
    }
    json_t *in = json_pack("{s:s,s:s,s:I}", "file", p->c->pcaps[file], "format", format, "packets",
                           (json_int_t)packets);
    if (error)
        json_object_set_new(in, "error", json_string(error));
    if (summary)
        json_object_set_new(in, "summary", summary);
    json_array_append_new(p->inputs, in);
}

static void run_pass(struct proc *p)
{
    p->pass_wrote = false;
    p->streams = NULL;
    p->streams_tail = &p->streams;
    bool tcp = p->pc->proto->transport == TRANSPORT_TCP;
    for (size_t f = 0; f < p->c->n_pcaps && !pcapproc_stop; f++) {
        char err[512];
        const char *path = p->paths[f];
        struct source *cap = source_open(path, &p->c->sources, err, sizeof err);
        if (!cap) {
            log_error("%s", err);
            count_input(p, f, 0, "unreadable", err, NULL);
            p->status = 1;
            continue;
        }
        struct capture_packet pkt;
        uint64_t n = 0;
        int rc = 0;
        while (!pcapproc_stop && (rc = source_next(cap, &pkt)) == 1) {
            n++;
            if ((n & 4095) == 0)
                progress(p, path, cap, false);
            bool first = p->pass == 0;
            p->read += first;
            if (pkt.dlt < 0 || !decode_link_supported(pkt.dlt)) {
                p->decode[DECODE_UNKNOWN_LINK] += first;
                continue;
            }
            struct decoded d;
            enum decode_result dr = decode_frame(pkt.dlt, pkt.data, pkt.caplen, &d);
            if (dr != DECODE_OK) {
                p->decode[dr] += first;
                continue;
            }
            const struct proto_config *pc = select_protocol(p->c, &d, pkt.dlt, &pkt.hdr, pkt.data);
            if (!pc) {
                p->unselected += first;
                continue;
            }
            if (pc != p->pc)
                continue;
            if (tcp && collector_side(pc, &d)) {
                p->collector_side++;
                continue;
            }
            if (p->anon) { /* from here on only the mapped addresses exist: routers, sessions, summary */
                anon_addr(p->anon, &d.src, &d.src);
                anon_addr(p->anon, &d.dst, &d.dst);
            }
            p->selected[pc->id]++;
            int fam = d.dst.family == AF_INET6;
            if (!p->have_dst[pc->id][fam]) {
                p->have_dst[pc->id][fam] = true;
                p->dst[pc->id][fam] = d.dst;
                p->dport[pc->id] = d.dport;
            }
            struct proc_router *r = router_get(p, &d.src);
            if (!r)
                continue;
            if (tcp)
                tcp_packet(p, r, &d);
            else
                udp_packet(p, r, &d);
        }
        if (rc < 0 && !pcapproc_stop) {
            log_error("%s: the input ends in an error after %llu packets: %s (the packets before it were "
                      "processed)", path, (unsigned long long)n, source_error(cap));
            p->status = 1;
        }
        count_input(p, f, n, source_format(cap), rc < 0 ? source_error(cap) : NULL, source_summary(cap));
        source_close(cap);
    }
    /* the sessions end with the captures, in the order they began */
    while (p->streams) {
        struct stream *st = p->streams;
        p->streams = st->next_all;
        if (!st->ended)
            stream_end(st);
        free(st);
    }
    p->n_streams = 0;
    if (!tcp)
        udp_pass_end(p);
}

static bool same_file(const char *a, const char *b)
{
    struct stat sa, sb;
    return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

static int process(const struct config *c, const struct pcapproc_options *o, const char *folder,
                   const char *const *paths, json_t *recorded, char *out_pcap, size_t out_len);

int pcapproc_run(const struct config *c, const struct pcapproc_options *o, char *out_pcap, size_t out_len)
{
    const struct pcap_processing *pp = &c->pcap_processing;
    char folder[PATH_MAX], err[PATH_MAX + 256];
    bool live = c->n_pcaps == 1 && live_spec(c->pcaps[0]);
    if (o->output_folder || pp->output_folder) {
        snprintf(folder, sizeof folder, "%s", o->output_folder ? o->output_folder : pp->output_folder);
    } else if (live) { /* live-eth0 */
        snprintf(folder, sizeof folder, "live-%s", strchr(c->pcaps[0], ':') + 1);
    } else { /* the first pcap's path without its extension (an MRT play's: its first file's) */
        const char *first = c->pcaps[0];
        snprintf(folder, sizeof folder, "%s", strncmp(first, "mrt:", 4) ? first : first + 4);
        char *slash = strrchr(folder, '/'), *dot = strrchr(folder, '.');
        if (dot && (!slash || dot > slash + 1))
            *dot = 0;
        else
            strncat(folder, ".out", sizeof folder - strlen(folder) - 1);
    }
    if (!o->check_only && make_dirs(folder, err, sizeof err) < 0) {
        log_error("%s", err);
        return 2;
    }
    const char *const *paths = (const char *const *)c->pcaps;
    char raw[PATH_MAX + 64] = "";
    const char *raw_paths[1] = { raw };
    bool raw_is_temp = false;
    json_t *recorded = NULL;
    if (live) {
        int st = pcapproc_live_input(c, o, folder, raw, sizeof raw, &raw_is_temp, &recorded);
        if (st || o->check_only) {
            if (raw_is_temp && raw[0])
                unlink(raw);
            json_decref(recorded);
            return st;
        }
        paths = raw_paths;
    } else {
        struct privs_needs none = { 0 }; /* reading files needs nothing */
        if (!o->keep_privileges && privs_drop(o->user ? o->user : c->user, &none, err, sizeof err) < 0) {
            log_error("%s", err);
            return 2;
        }
    }
    int status = process(c, o, folder, paths, recorded, out_pcap, out_len);
    if (raw_is_temp)
        unlink(raw);
    return status;
}

/* The inputs (paths: the config's captures or a live recording) into the three outputs of
 * folder. recorded: a live recording's summary, taken. */
static int process(const struct config *c, const struct pcapproc_options *o, const char *folder,
                   const char *const *paths, json_t *recorded, char *out_pcap, size_t out_len)
{
    const struct pcap_processing *pp = &c->pcap_processing;
    char err[PATH_MAX + 256];
    char pcap_path[PATH_MAX + 32], yml_path[PATH_MAX + 32], json_path[PATH_MAX + 32];
    snprintf(pcap_path, sizeof pcap_path, "%s/traffic.pcap", folder);
    snprintf(yml_path, sizeof yml_path, "%s/traffic-reproducer.yml", folder);
    snprintf(json_path, sizeof json_path, "%s/traffic-info.json", folder);
    for (size_t i = 0; i < c->n_pcaps; i++) {
        if (same_file(paths[i], pcap_path) || same_file(paths[i], yml_path) || same_file(paths[i], json_path)) {
            log_error("%s: the output would overwrite the input %s: choose another pcap_processing.output_folder",
                      folder, paths[i]);
            json_decref(recorded);
            return 2;
        }
        struct source *cap = source_open(paths[i], &c->sources, err, sizeof err);
        if (!cap) {
            log_error("%s", err);
            json_decref(recorded);
            return 2;
        }
        source_close(cap);
    }
    if (o->check_only) { /* the folder must exist and be writable, or be creatable */
        char parent[PATH_MAX + 8];
        const char *slash = strrchr(folder, '/');
        snprintf(parent, sizeof parent, "%.*s", slash ? (int)(slash - folder) + !(slash - folder) : 1, slash ? folder : ".");
        const char *dir = access(folder, F_OK) == 0 ? folder : parent;
        if (access(dir, W_OK) != 0) {
            log_error("%s: cannot write the outputs there: %s", dir, strerror(errno));
            json_decref(recorded);
            return 2;
        }
        log_info("%s: the captures read and the outputs can be written (--check: nothing written)", folder);
        json_decref(recorded);
        return 0;
    }

    struct proc *p = calloc(1, sizeof *p);
    char pcap_tmp[PATH_MAX + 64] = "", yml_tmp[PATH_MAX + 64] = "", json_tmp[PATH_MAX + 64] = "";
    FILE *pf = NULL;
    if (!p || !(p->scratch = malloc(1u << 20 | 65536))) {
        free(p);
        json_decref(recorded);
        log_error("out of memory");
        return 1;
    }
    p->c = c;
    p->o = o;
    p->paths = paths;
    p->top = json_object();
    p->routers_json = json_object();
    p->inputs = json_array();
    json_object_set_new(p->top, "pcap_proc", json_pack("{s:s,s:s}", "version", TELREP_VERSION, "config", c->file));
    json_object_set(p->top, "inputs", p->inputs);
    if (recorded)
        json_object_set_new(p->top, "recorded", recorded);
    recorded = NULL;
    if (!o->summary_only && !(pf = temp_open(pcap_path, pcap_tmp, sizeof pcap_tmp))) {
        log_error("cannot write in %s: %s", folder, strerror(errno));
        p->status = 2;
        goto out;
    }
    if (pktwrite_open(&p->w, pf, err, sizeof err) < 0) {
        log_error("%s", err);
        p->status = 1;
        goto out;
    }
    p->first_ts = p->next_ts = PCAPPROC_EPOCH * NS + (int64_t)(pp->initial_delay * NS);
    p->passes = c->n_protos;
    p->next_progress = schedule_now_monotonic() + 2 * NS;
    if (o->anon_map && !pp->anonymise.key_file) {
        log_error("--anon-map %s: nothing is anonymised: add pcap_processing.anonymise (key_file: ...) to the config",
                  o->anon_map);
        p->status = 2;
        goto out;
    }
    if (pp->anonymise.key_file) {
        uint8_t key[ANON_KEY_LEN];
        if (anon_key_load(pp->anonymise.key_file, key, err, sizeof err) < 0 || !(p->anon = anon_new(key, err, sizeof err))) {
            log_error("pcap_processing.anonymise: %s", err);
            p->status = 2;
            goto out;
        }
        memset(key, 0, sizeof key);
        anon_set_as(p->anon, pp->anonymise.as);
        if (o->anon_map) {
            p->anon_map = json_pack("{s:o, s:o, s:o}", "addresses", json_object(), "as_numbers", json_object(),
                                    "names", json_object());
            anon_set_recorder(p->anon, proc_record_mapping, p);
        }
        for (size_t i = 0; i < pp->anonymise.n_keep; i++)
            anon_keep(p->anon, &pp->anonymise.keep[i]);
    }
    for (p->pass = 0; p->pass < c->n_protos && !pcapproc_stop && !p->anon_failed; p->pass++) {
        p->pc = &c->protos[p->pass];
        run_pass(p);
    }
    if (pktwrite_close(&p->w) < 0) {
        log_error("%s: write error: %s", pcap_tmp, strerror(errno));
        p->status = 1;
        goto out;
    }
    if (pcapproc_stop || p->anon_failed) {
        if (pcapproc_stop)
            log_error("interrupted: no output written");
        p->status = 1;
        goto out;
    }
    if (p->anon) {
        json_t *un = json_object(), *bad = json_object();
        for (size_t i = 0; i < c->n_protos; i++) {
            enum proto_id id = c->protos[i].id;
            json_object_set_new(un, proto_names[id], json_integer((json_int_t)p->anon_unmappable[id]));
            json_object_set_new(bad, proto_names[id], json_integer((json_int_t)p->anon_malformed[id]));
        }
        json_object_set_new(p->top, "anonymised", json_pack("{s:s, s:b, s:I, s:I, s:I, s:I, s:{s:o, s:o}}",
            "scheme", "Crypto-PAn (prefix-preserving), keyed AS permutation, names of the same shape",
            "as_numbers", pp->anonymise.as, "addresses", (json_int_t)p->anon_n.addresses,
            "prefixes", (json_int_t)p->anon_n.prefixes, "as_fields", (json_int_t)p->anon_n.ases,
            "enterprise_fields_kept", (json_int_t)p->anon_enterprise_fields,
            "dropped_messages", "unmappable", un, "malformed", bad));
    }
    summary_finish(p, o->summary_only ? NULL : pcap_path);
    if (!o->summary_only) {
        FILE *yf = temp_open(yml_path, yml_tmp, sizeof yml_tmp);
        if (yf)
            write_config(p, yf, pcap_path);
        if (!yf || fclose(yf) != 0) {
            log_error("cannot write %s: %s", yml_path, strerror(errno));
            p->status = 1;
            goto out;
        }
    }
    FILE *jf = temp_open(json_path, json_tmp, sizeof json_tmp);
    if (!jf || json_dumpf(p->top, jf, JSON_INDENT(2) | JSON_PRESERVE_ORDER) < 0 || fputc('\n', jf) == EOF ||
        fclose(jf) != 0) {
        log_error("cannot write %s: %s", json_path, strerror(errno));
        p->status = 1;
        goto out;
    }
    /* all three complete: into place together */
    if ((!o->summary_only && (rename(pcap_tmp, pcap_path) < 0 || rename(yml_tmp, yml_path) < 0)) ||
        rename(json_tmp, json_path) < 0) {
        log_error("cannot rename the outputs into %s: %s", folder, strerror(errno));
        p->status = 1;
        goto out;
    }
    pcap_tmp[0] = yml_tmp[0] = json_tmp[0] = 0;
    if (p->anon_map) { /* the key holder's table: who is who (it undoes the anonymisation: keep it with the key) */
        json_object_set_new(p->anon_map, "unlisted", json_integer((json_int_t)p->anon_map_unlisted));
        char map_tmp[PATH_MAX + 64];
        FILE *mf = temp_open(o->anon_map, map_tmp, sizeof map_tmp);
        if (!mf || json_dumpf(p->anon_map, mf, JSON_INDENT(1) | JSON_SORT_KEYS) < 0 || fputc('\n', mf) == EOF ||
            fclose(mf) != 0 || rename(map_tmp, o->anon_map) < 0) {
            log_error("cannot write the anonymisation map %s: %s", o->anon_map, strerror(errno));
            if (mf)
                unlink(map_tmp);
            p->status = 1;
        } else {
            chmod(o->anon_map, 0600);
        }
    }
    if (out_pcap)
        snprintf(out_pcap, out_len, "%s", pcap_path);
    if (!p->wrote_any)
        log_warn("nothing was selected: %llu packets read, %llu not selected by any protocol section; the outputs "
                 "are empty (check the select: keys)", (unsigned long long)p->read,
                 (unsigned long long)p->unselected);
    log_info("%s: %llu packets, %llu routers (traffic.pcap, traffic-reproducer.yml, traffic-info.json)", folder,
             (unsigned long long)p->w.packets, (unsigned long long)p->n_routers);
out:
    if (p->w.dumper || p->w.dead)
        pktwrite_close(&p->w);
    if (pcap_tmp[0])
        unlink(pcap_tmp);
    if (yml_tmp[0])
        unlink(yml_tmp);
    if (json_tmp[0])
        unlink(json_tmp);
    int status = p->status;
    for (size_t i = 0; i < p->n_routers; i++) {
        if (p->routers[i].digest)
            p->pc->proto->digest_free(p->routers[i].digest);
        netflow_anon_free(p->routers[i].nf_anon);
    }
    free(p->routers);
    free(p->scratch);
    anon_free(p->anon);
    json_decref(p->anon_map);
    conversation_table_free(&p->convs);
    json_decref(p->routers_json);
    json_decref(p->inputs);
    json_decref(p->top);
    free(p);
    return status;
}
