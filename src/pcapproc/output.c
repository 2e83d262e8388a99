/* output.c — what pcap-proc writes besides the capture: its directories, the config that
 * replays the processed capture (traffic-reproducer.yml) and the summary's last fields. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "anon.h"
#include "pcapproc/proc_int.h"
#include "version.h"

int make_dirs(const char *path, char *err, size_t errlen)
{
    char buf[PATH_MAX];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf) {
        snprintf(err, errlen, "output folder name too long: %s", path);
        return -1;
    }
    for (char *s = buf + 1; ; s++) {
        bool end = *s == 0;
        if (*s == '/' || end) {
            *s = 0;
            if (mkdir(buf, 0755) < 0 && errno != EEXIST) {
                snprintf(err, errlen, "cannot create the output folder %s: %s", buf, strerror(errno));
                return -1;
            }
            if (end)
                break;
            *s = '/';
        }
    }
    struct stat sb;
    if (stat(path, &sb) < 0 || !S_ISDIR(sb.st_mode)) {
        snprintf(err, errlen, "output folder %s is not a directory", path);
        return -1;
    }
    return 0;
}

/* A temporary file beside `final`; renamed into place only when complete. */
FILE *temp_open(const char *final, char *tmp, size_t tmplen)
{
    snprintf(tmp, tmplen, "%s.tmp-XXXXXX", final);
    int fd = mkstemp(tmp);
    if (fd < 0)
        return NULL;
    fchmod(fd, 0644);
    FILE *f = fdopen(fd, "w");
    if (!f) {
        close(fd);
        unlink(tmp);
    }
    return f;
}

/* an address list; anonymise (a): as the output's addresses are, a prefix as a prefix */
static void yaml_list_addrs(FILE *f, const char *indent, const char *key, const struct addr_list *l, struct anon *an)
{
    if (!l->n)
        return;
    fprintf(f, "%s%s:\n", indent, key);
    for (size_t i = 0; i < l->n; i++) {
        char a[ADDR_STRLEN];
        struct addr x = l->v[i];
        unsigned host = x.family == AF_INET6 ? 128 : 32;
        bool prefix = x.prefix && x.prefix < host;
        if (an)
            anon_prefix(an, x.bytes, prefix ? x.prefix : host, host / 8);
        if (prefix)
            fprintf(f, "%s- %s/%u\n", indent, addr_format(&x, a), x.prefix);
        else
            fprintf(f, "%s- %s\n", indent, addr_format(&x, a));
    }
}

static void yaml_list_ports(FILE *f, const char *indent, const char *key, const struct u16_list *l)
{
    if (!l->n)
        return;
    fprintf(f, "%s%s: [", indent, key);
    for (size_t i = 0; i < l->n; i++)
        fprintf(f, "%s%u", i ? ", " : "", l->v[i]);
    fprintf(f, "]\n");
}

static void yaml_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            fputc('\\', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

/* the config's entry of a router (anonymise: the entry whose src_ip maps to it) */
static const struct map_entry *configured(struct proc *p, const struct addr *src)
{
    const struct config *c = p->c;
    for (size_t i = 0; i < c->n_map; i++) {
        struct addr a = c->map[i].src;
        if (p->anon)
            anon_addr(p->anon, &c->map[i].src, &a);
        if (addr_equal(&a, src))
            return &c->map[i];
    }
    return NULL;
}

void write_config(struct proc *p, FILE *f, const char *pcap_path)
{
    const struct config *c = p->c;
    time_t now = time(NULL);
    char when[32];
    strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S UTC", gmtime(&now));
    fprintf(f, "# Written by pcap-proc from %s on %s: replays the processed capture.\n", c->file, when);
    fprintf(f, "# Set every repro_ip left as %s to a local address first (telrep.yml(5)).\n",
            CONFIG_REPRO_PLACEHOLDER);
    /* absolute, so that the config replays from any working directory */
    char dir[PATH_MAX], abs[PATH_MAX * 2];
    const char *slash = strrchr(pcap_path, '/');
    snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - pcap_path) : 1, slash ? pcap_path : ".");
    if (realpath(dir, abs))
        snprintf(abs + strlen(abs), sizeof abs - strlen(abs), "/%s", slash ? slash + 1 : pcap_path);
    else
        snprintf(abs, sizeof abs, "%s", pcap_path);
    fprintf(f, "pcap: ");
    yaml_string(f, abs);
    fprintf(f, "\ntime_factor: %g\nno_sync: %s\nkeep_open: %s\n", c->time_factor, c->no_sync ? "true" : "false",
            c->keep_open ? "true" : "false");
    if (c->so_sndbuf || c->so_rcvbuf) {
        fprintf(f, "optimize:\n  network:\n");
        if (c->so_sndbuf)
            fprintf(f, "    so_sndbuf: %d\n", c->so_sndbuf);
        if (c->so_rcvbuf)
            fprintf(f, "    so_rcvbuf: %d\n", c->so_rcvbuf);
    }
    fprintf(f, "network:\n  map:%s\n", p->n_routers ? "" : " []  # no router was selected");
    for (size_t i = 0; i < p->n_routers; i++) {
        char a[ADDR_STRLEN], b[ADDR_STRLEN];
        const struct map_entry *m = configured(p, &p->routers[i].addr);
        fprintf(f, "    - src_ip: %s\n", addr_format(&p->routers[i].addr, a));
        if (m) { /* the input's entry, as it was */
            fprintf(f, "      repro_ip: %s\n", addr_format(&m->repro, b));
            if (m->bgp_id) {
                uint8_t id[4] = { (uint8_t)(m->bgp_id >> 24), (uint8_t)(m->bgp_id >> 16), (uint8_t)(m->bgp_id >> 8),
                                  (uint8_t)m->bgp_id };
                if (p->anon)
                    anon_bytes(p->anon, id, 4);
                fprintf(f, "      bgp_id: %u.%u.%u.%u\n", id[0], id[1], id[2], id[3]);
            }
            if (m->clones > 1)
                fprintf(f, "      clones: %u\n", m->clones);
        } else
            fprintf(f, "      repro_ip: %s  # the local address to replay %s from\n", CONFIG_REPRO_PLACEHOLDER, a);
    }
    if (c->interface) {
        fprintf(f, "  interface: ");
        yaml_string(f, c->interface);
        fputc('\n', f);
    }
    for (size_t i = 0; i < c->n_protos; i++) {
        const struct proto_config *pc = &c->protos[i];
        const struct selector *s = &pc->select;
        fprintf(f, "%s:\n", proto_names[pc->id]);
        if (s->present) {
            fprintf(f, "  select:\n");
            if (s->ip_src.n || s->ip_dst.n) {
                fprintf(f, "    ip:\n");
                yaml_list_addrs(f, "      ", "src", &s->ip_src, p->anon);
                yaml_list_addrs(f, "      ", "dst", &s->ip_dst, p->anon);
            }
            const char *l4 = s->has_tcp ? "tcp" : s->has_udp ? "udp" : NULL;
            const struct u16_list *sp = s->has_tcp ? &s->tcp_sport : &s->udp_sport;
            const struct u16_list *dp = s->has_tcp ? &s->tcp_dport : &s->udp_dport;
            if (l4 && (sp->n || dp->n)) {
                fprintf(f, "    %s:\n", l4);
                yaml_list_ports(f, "      ", "sport", sp);
                yaml_list_ports(f, "      ", "dport", dp);
            }
            if (s->bpf && p->anon) { /* a filter's text may name the input's addresses, which the output no longer has */
                fprintf(f, "    # bpf: left out (anonymised output: write one for the mapped addresses)\n");
            } else if (s->bpf) {
                fprintf(f, "    bpf: ");
                yaml_string(f, s->bpf);
                fputc('\n', f);
            }
        }
        char a[ADDR_STRLEN];
        const bool *have = p->have_dst[pc->id];
        if (pc->n_collectors && pc->collectors[0].n_hosts) {
            /* one collector as the traffic-reproducer writes it; several as a list */
            bool list = pc->n_collectors > 1;
            fprintf(f, "  collector:\n");
            for (size_t k = 0; k < pc->n_collectors; k++) {
                const struct collector_config *cc = &pc->collectors[k];
                fprintf(f, list ? "    - ip: [" : "    ip: [");
                for (size_t h = 0; h < cc->n_hosts; h++) {
                    fputs(h ? ", " : "", f);
                    yaml_string(f, cc->hosts[h]);
                }
                fprintf(f, list ? "]\n      port: %u\n" : "]\n    port: %u\n", cc->port);
            }
        } else if (have[0] || have[1]) { /* one address per family the routers sent to */
            fprintf(f, "  collector:  # the captured destination: point it at your collector\n    ip: [");
            for (int fam = 0; fam < 2; fam++)
                if (have[fam])
                    fprintf(f, "%s\"%s\"", fam && have[0] ? ", " : "", addr_format(&p->dst[pc->id][fam], a));
            fprintf(f, "]\n    port: %u\n", p->dport[pc->id]);
        }
        else
            fprintf(f, "  collector:  # nothing was captured for %s: point it at your collector\n"
                       "    ip: 127.0.0.1\n    port: %u\n", proto_names[pc->id],
                    pc->proto->default_port ? pc->proto->default_port : 9999);
    }
}

static json_t *iso_time(int64_t ns)
{
    time_t t = (time_t)(ns / NS);
    char s[40];
    struct tm tm;
    gmtime_r(&t, &tm);
    size_t n = strftime(s, sizeof s, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(s + n, sizeof s - n, ".%06lldZ", (long long)(ns % NS / 1000));
    return json_string(s);
}

void summary_finish(struct proc *p, const char *pcap_name)
{
    const struct pcap_processing *pp = &p->c->pcap_processing;
    json_t *t = p->top;
    json_object_set_new(t, "settings", json_pack("{s:f,s:f,s:f,s:i}", "initial_delay", pp->initial_delay,
                                                 "inter_packet_delay", pp->inter_packet_delay, "inter_protocol_delay",
                                                 pp->inter_protocol_delay, "desired_tcp_payload_size",
                                                 (int)pp->desired_tcp_payload_size));
    json_t *pk = json_object(), *sel = json_object();
    json_object_set_new(pk, "read", json_integer((json_int_t)p->read));
    static const char *skipped[] = { [DECODE_NOT_IP] = "not_ip", [DECODE_NOT_UDP_TCP] = "not_udp_tcp",
                                     [DECODE_FRAGMENT] = "ip_fragment", [DECODE_TRUNCATED] = "truncated",
                                     [DECODE_MALFORMED] = "malformed", [DECODE_UNKNOWN_LINK] = "unknown_link_type" };
    for (int r = DECODE_NOT_IP; r <= DECODE_UNKNOWN_LINK; r++)
        json_object_set_new(pk, skipped[r], json_integer((json_int_t)p->decode[r]));
    json_object_set_new(pk, "unselected", json_integer((json_int_t)p->unselected));
    if (p->collector_side)
        json_object_set_new(pk, "collector_side", json_integer((json_int_t)p->collector_side));
    if (p->oversized)
        json_object_set_new(pk, "oversized", json_integer((json_int_t)p->oversized));
    for (size_t i = 0; i < p->c->n_protos; i++)
        json_object_set_new(sel, proto_names[p->c->protos[i].id],
                            json_integer((json_int_t)p->selected[p->c->protos[i].id]));
    json_object_set_new(pk, "selected", sel);
    if (p->streams_over_limit)
        json_object_set_new(pk, "sessions_over_limit", json_integer((json_int_t)p->streams_over_limit));
    json_object_set_new(t, "packets", pk);
    json_t *out = json_object(), *protos = json_object();
    json_object_set_new(out, "pcap", pcap_name ? json_string(pcap_name) : json_null());
    json_object_set_new(out, "packets", json_integer((json_int_t)p->w.packets));
    json_object_set_new(out, "bytes", json_integer((json_int_t)p->w.bytes));
    json_object_set_new(out, "first_time", p->wrote_any ? iso_time(p->first_ts) : json_null());
    json_object_set_new(out, "last_time", p->wrote_any ? iso_time(p->last_ts) : json_null());
    for (size_t i = 0; i < p->c->n_protos; i++) {
        int id = p->c->protos[i].id;
        json_object_set_new(protos, proto_names[id], json_pack("{s:I,s:I}", "packets",
                            (json_int_t)p->out_packets[id], "messages", (json_int_t)p->out_messages[id]));
    }
    json_object_set_new(out, "protocols", protos);
    json_object_set_new(t, "output", out);
    /* routers last: the big part */
    json_object_del(t, "routers");
    json_object_set(t, "routers", p->routers_json);
}

