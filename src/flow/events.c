/* events.c — see events.h. */
#include "flow/events.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_FIELDS 9

struct parse {
    const char *name;
    unsigned line;
    char *err;
    size_t errlen;
    struct flow_set *set;
    size_t cap;
    /* fid -> index + 1, open addressing */
    uint32_t *slots;
    size_t n_slots;
};

static int fail(struct parse *p, const char *fmt, ...)
{
    int n = snprintf(p->err, p->errlen, "%s:%u: ", p->name, p->line);
    va_list ap;
    va_start(ap, fmt);
    if (n >= 0 && (size_t)n < p->errlen)
        vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
    va_end(ap);
    return -1;
}

/* A growing array with room for one more element: the array (maybe moved), or NULL when
 * out of memory (the old one is still there). */
static void *grow(void *v, size_t *cap, size_t n, size_t elem, size_t first)
{
    if (n < *cap)
        return v;
    size_t c = *cap ? *cap * 2 : first;
    void *p = realloc(v, c * elem);
    if (p)
        *cap = c;
    return p;
}

int flow_side_add(struct flow_side *sd, enum flow_event_type t, uint64_t bytes, double stime)
{
    struct flow_event *ev = grow(sd->ev, &sd->cap, sd->n, sizeof *ev, 4);
    if (!ev)
        return -1;
    sd->ev = ev;
    sd->ev[sd->n++] = (struct flow_event){ .type = t, .bytes = bytes, .stime = stime };
    if (t == FLOW_SEND)
        sd->send_bytes += bytes;
    else if (t == FLOW_WAIT)
        sd->wait_bytes += bytes;
    return 0;
}

static size_t slot_of(const struct parse *p, uint64_t fid)
{
    return (size_t)(fid * 11400714819323198485ull >> 20) & (p->n_slots - 1);
}

static struct flow_spec *find(struct parse *p, uint64_t fid)
{
    if (!p->n_slots)
        return NULL;
    for (size_t at = slot_of(p, fid); p->slots[at]; at = (at + 1) & (p->n_slots - 1))
        if (p->set->flows[p->slots[at] - 1].fid == fid)
            return &p->set->flows[p->slots[at] - 1];
    return NULL;
}

static int index_flow(struct parse *p, size_t i)
{
    if ((i + 1) * 2 > p->n_slots) {
        size_t n = p->n_slots ? p->n_slots * 2 : 1024;
        uint32_t *s = calloc(n, sizeof *s);
        if (!s)
            return -1;
        free(p->slots);
        p->slots = s;
        p->n_slots = n;
        for (size_t k = 0; k < i; k++) {
            size_t at = slot_of(p, p->set->flows[k].fid);
            while (p->slots[at])
                at = (at + 1) & (n - 1);
            p->slots[at] = (uint32_t)k + 1;
        }
    }
    size_t at = slot_of(p, p->set->flows[i].fid);
    while (p->slots[at])
        at = (at + 1) & (p->n_slots - 1);
    p->slots[at] = (uint32_t)i + 1;
    return 0;
}

static int number(struct parse *p, const char *field, const char *what, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(field, &end);
    if (end == field || *end || errno || v < 0 || v != v)
        return fail(p, "%s: expected a number >= 0, found \"%s\"", what, field);
    *out = v;
    return 0;
}

static int integer(struct parse *p, const char *field, const char *what, uint64_t max, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(field, &end, 10);
    if (end == field || *end || errno || field[0] == '-' || v > max)
        return fail(p, "%s: expected a whole number 0..%llu, found \"%s\"", what, (unsigned long long)max, field);
    *out = v;
    return 0;
}

static int conn(struct parse *p, char **f)
{
    uint64_t fid, sport, dport;
    double stime;
    struct addr a, b;
    if (integer(p, f[1], "CONN fid", UINT64_MAX, &fid) < 0 || integer(p, f[3], "CONN source port", 65535, &sport) < 0 ||
        integer(p, f[6], "CONN destination port", 65535, &dport) < 0 || number(p, f[7], "CONN stime", &stime) < 0)
        return -1;
    if (strcmp(f[4], "->") != 0)
        return fail(p, "CONN: the fifth field must be \"->\", found \"%s\"", f[4]);
    if (addr_parse(f[2], &a) < 0 || strchr(f[2], '/'))
        return fail(p, "CONN: \"%s\" is not an IPv4 or IPv6 address", f[2]);
    if (addr_parse(f[5], &b) < 0 || strchr(f[5], '/'))
        return fail(p, "CONN: \"%s\" is not an IPv4 or IPv6 address", f[5]);
    if (a.family != b.family)
        return fail(p, "CONN: %s and %s are not of one address family", f[2], f[5]);
    if (find(p, fid))
        return fail(p, "CONN: flow %llu is defined twice", (unsigned long long)fid);
    struct flow_set *s = p->set;
    struct flow_spec *flows = grow(s->flows, &p->cap, s->n, sizeof *flows, 256);
    if (!flows)
        return fail(p, "out of memory");
    s->flows = flows;
    struct flow_spec *fl = &s->flows[s->n];
    memset(fl, 0, sizeof *fl);
    fl->fid = fid;
    fl->stime = stime;
    fl->side[0].ip = a;
    fl->side[0].port = (uint16_t)sport;
    fl->side[1].ip = b;
    fl->side[1].port = (uint16_t)dport;
    fl->line = p->line;
    if (index_flow(p, s->n) < 0)
        return fail(p, "out of memory");
    s->n++;
    return 0;
}

static int event(struct parse *p, char **f)
{
    uint64_t fid, eid, bytes;
    double rtime, stime;
    struct addr ip;
    if (integer(p, f[1], "EVENT fid", UINT64_MAX, &fid) < 0 || integer(p, f[2], "EVENT eid", UINT64_MAX, &eid) < 0 ||
        integer(p, f[5], "EVENT bytes", UINT64_MAX / 4, &bytes) < 0 || number(p, f[6], "EVENT rtime", &rtime) < 0 ||
        number(p, f[7], "EVENT stime", &stime) < 0)
        return -1;
    struct flow_spec *fl = find(p, fid);
    if (!fl)
        return fail(p, "EVENT: flow %llu has no CONN line before it", (unsigned long long)fid);
    if (addr_parse(f[3], &ip) < 0)
        return fail(p, "EVENT: \"%s\" is not an IPv4 or IPv6 address", f[3]);
    int i = addr_equal(&ip, &fl->side[0].ip) ? 0 : addr_equal(&ip, &fl->side[1].ip) ? 1 : -1;
    if (i < 0)
        return fail(p, "EVENT: %s is neither end of flow %llu (line %u)", f[3], (unsigned long long)fid, fl->line);
    enum flow_event_type t;
    if (strcmp(f[4], "SEND") == 0)
        t = FLOW_SEND;
    else if (strcmp(f[4], "WAIT") == 0)
        t = FLOW_WAIT;
    else if (strcmp(f[4], "CLOSE") == 0)
        t = FLOW_CLOSE;
    else if (strcmp(f[4], "BULK") == 0)
        t = FLOW_BULK;
    else
        return fail(p, "EVENT: the type is SEND, WAIT, CLOSE or BULK, not \"%s\"", f[4]);
    struct flow_side *sd = &fl->side[i];
    if (sd->n && sd->ev[sd->n - 1].type == FLOW_CLOSE)
        return fail(p, "EVENT: %s of flow %llu after its CLOSE", f[3], (unsigned long long)fid);
    if (flow_side_add(sd, t, bytes, stime) < 0)
        return fail(p, "out of memory");
    p->set->events++;
    (void)eid; /* events are taken in file order per side */
    return 0;
}

static int line(struct parse *p, char *s)
{
    size_t n = strlen(s);
    while (n && (s[n - 1] == '\r' || s[n - 1] == ' '))
        s[--n] = 0;
    if (!n || s[0] == '#')
        return 0;
    char *f[MAX_FIELDS];
    int k = 0;
    for (char *c = s; k < MAX_FIELDS; k++) {
        f[k] = c;
        c = strchr(c, ',');
        if (!c) {
            k++;
            break;
        }
        *c++ = 0;
    }
    if (k != 8)
        return fail(p, "expected 8 comma-separated fields (CONN,fid,srcIP,srcport,->,dstIP,dstport,stime or "
                       "EVENT,fid,eid,IP,etype,bytes,rtime,stime), found %d", k > 8 ? 9 : k);
    if (strcmp(f[0], "CONN") == 0)
        return conn(p, f);
    if (strcmp(f[0], "EVENT") == 0)
        return event(p, f);
    return fail(p, "a line starts with CONN or EVENT, not \"%s\"", f[0]);
}

static int by_start(const void *a, const void *b)
{
    const struct flow_spec *x = a, *y = b;
    return x->stime < y->stime ? -1 : x->stime > y->stime ? 1 : x->fid < y->fid ? -1 : x->fid > y->fid;
}

int flow_events_parse(const char *name, const char *text, size_t len, struct flow_set *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    struct parse p = { .name = name, .err = err, .errlen = errlen, .set = out };
    int rc = 0;
    const char *at = text, *end = text + len;
    char buf[1024];
    while (rc == 0 && at < end) {
        const char *nl = memchr(at, '\n', (size_t)(end - at));
        size_t n = (size_t)((nl ? nl : end) - at);
        p.line++;
        if (n >= sizeof buf)
            rc = fail(&p, "line too long (%zu bytes)", n);
        else {
            memcpy(buf, at, n);
            buf[n] = 0;
            if (memchr(buf, 0, n))
                rc = fail(&p, "a NUL byte: not a text events file");
            else
                rc = line(&p, buf);
        }
        at = nl ? nl + 1 : end;
    }
    for (size_t i = 0; rc == 0 && i < out->n; i++) {
        struct flow_spec *f = &out->flows[i];
        for (int s = 0; s < 2 && rc == 0; s++)
            if (f->side[s].send_bytes != f->side[1 - s].wait_bytes) {
                p.line = f->line;
                char a[ADDR_STRLEN], b[ADDR_STRLEN];
                rc = fail(&p, "flow %llu: %s SENDs %llu bytes but %s WAITs for %llu: it would never end",
                          (unsigned long long)f->fid, addr_format(&f->side[s].ip, a),
                          (unsigned long long)f->side[s].send_bytes, addr_format(&f->side[1 - s].ip, b),
                          (unsigned long long)f->side[1 - s].wait_bytes);
            }
        out->send_bytes += f->side[0].send_bytes + f->side[1].send_bytes;
    }
    free(p.slots);
    if (rc < 0) {
        flow_set_free(out);
        return -1;
    }
    if (out->n) /* no flow, no array */
        qsort(out->flows, out->n, sizeof *out->flows, by_start);
    return 0;
}

int flow_events_load(const char *path, struct flow_set *out, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    char *text = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len == cap) {
            cap = cap ? cap * 2 : 1 << 16;
            char *t = realloc(text, cap);
            if (!t) {
                free(text);
                fclose(f);
                snprintf(err, errlen, "%s: out of memory", path);
                return -1;
            }
            text = t;
        }
        size_t r = fread(text + len, 1, cap - len, f);
        len += r;
        if (r == 0)
            break;
    }
    bool bad = ferror(f);
    fclose(f);
    int rc = bad ? (snprintf(err, errlen, "%s: read error", path), -1) : flow_events_parse(path, text, len, out, err, errlen);
    free(text);
    return rc;
}

void flow_set_free(struct flow_set *s)
{
    for (size_t i = 0; i < s->n; i++)
        for (int k = 0; k < 2; k++)
            free(s->flows[i].side[k].ev);
    free(s->flows);
    memset(s, 0, sizeof *s);
}

int flow_events_writable(const struct flow_set *s, char *err, size_t errlen)
{
    for (size_t k = 0; k < s->n; k++) {
        const struct flow_spec *f = &s->flows[k];
        if (addr_equal(&f->side[0].ip, &f->side[1].ip)) {
            char a[ADDR_STRLEN];
            snprintf(err, errlen, "flow %llu: client and server are both %s, and an events file tells the sides apart "
                     "by address: give client and server addresses that do not overlap (--client, --clients, --server)",
                     (unsigned long long)f->fid, addr_format(&f->side[0].ip, a));
            return -1;
        }
    }
    return 0;
}

int flow_events_write(FILE *out, const struct flow_set *s)
{
    char err[8];
    if (flow_events_writable(s, err, sizeof err) < 0) {
        errno = EINVAL;
        return -1;
    }
    for (size_t k = 0; k < s->n; k++) {
        const struct flow_spec *f = &s->flows[k];
        char a[ADDR_STRLEN], b[ADDR_STRLEN];
        fprintf(out, "CONN,%llu,%s,%u,->,%s,%u,%.6f\n", (unsigned long long)f->fid, addr_format(&f->side[0].ip, a),
                f->side[0].port, addr_format(&f->side[1].ip, b), f->side[1].port, f->stime);
        size_t at[2] = { 0, 0 };
        uint64_t eid = 0;
        double last = f->stime;
        while (at[0] < f->side[0].n || at[1] < f->side[1].n) {
            /* the earlier of the two sides' next events; the client's first on a tie */
            int i = at[0] == f->side[0].n ? 1
                    : at[1] == f->side[1].n ? 0
                    : f->side[1].ev[at[1]].stime < f->side[0].ev[at[0]].stime;
            const struct flow_event *e = &f->side[i].ev[at[i]++];
            static const char *const names[] = { [FLOW_SEND] = "SEND", [FLOW_WAIT] = "WAIT", [FLOW_CLOSE] = "CLOSE",
                                                 [FLOW_BULK] = "BULK" };
            double rtime = e->stime > last ? e->stime - last : 0;
            fprintf(out, "EVENT,%llu,%llu,%s,%s,%llu,%.6f,%.6f\n", (unsigned long long)f->fid,
                    (unsigned long long)eid++, addr_format(&f->side[i].ip, a), names[e->type],
                    (unsigned long long)e->bytes, rtime, e->stime);
            if (e->stime > last)
                last = e->stime;
        }
    }
    return ferror(out) ? -1 : 0;
}
