/* yamlwalk.c — see yamlwalk.h. */
#include "yamlwalk.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

/* Nesting depth and size, from libyaml's events, before the document is built: the scanner
 * is stopped at the first level past YW_MAX_DEPTH, so a hostile file costs no more than a
 * config YW_MAX_DEPTH deep. 0, or -1 with the message in err. */
static int yw_bounds(const char *name, const char *text, size_t len, char *err, size_t errlen)
{
    if (len > YW_MAX_BYTES) {
        snprintf(err, errlen, "%s: %zu bytes: a config may have at most %u MiB (a config is kilobytes; is this "
                 "the right file?)", name, len, YW_MAX_BYTES >> 20);
        return -1;
    }
    yaml_parser_t parser;
    yaml_parser_initialize(&parser);
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    int depth = 0, rc = 0;
    for (;;) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&parser, &ev))
            break; /* yaml_parser_load says what is wrong, with its mark */
        yaml_event_type_t t = ev.type;
        if (t == YAML_SEQUENCE_START_EVENT || t == YAML_MAPPING_START_EVENT) {
            if (++depth > YW_MAX_DEPTH) {
                snprintf(err, errlen, "%s:%zu:%zu: nested more than %d levels deep: a config needs a few", name,
                         ev.start_mark.line + 1, ev.start_mark.column + 1, YW_MAX_DEPTH);
                rc = -1;
            }
        } else if (t == YAML_SEQUENCE_END_EVENT || t == YAML_MAPPING_END_EVENT) {
            depth--;
        }
        yaml_event_delete(&ev);
        if (rc < 0 || t == YAML_STREAM_END_EVENT)
            break;
    }
    yaml_parser_delete(&parser);
    return rc;
}

int yw_load(struct yw *p, const char *name, const char *text, size_t len, char *err, size_t errlen)
{
    memset(p, 0, sizeof *p);
    p->name = name;
    p->err = err;
    p->errlen = errlen;
    if (yw_bounds(name, text, len, err, errlen) < 0)
        return -1;
    yaml_parser_t parser;
    yaml_parser_initialize(&parser);
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    int rc = 0;
    if (!yaml_parser_load(&parser, &p->doc)) {
        snprintf(err, errlen, "%s:%zu:%zu: not valid YAML: %s%s%s", name, parser.problem_mark.line + 1,
                 parser.problem_mark.column + 1, parser.problem ? parser.problem : "syntax error",
                 parser.context ? " " : "", parser.context ? parser.context : "");
        memset(&p->doc, 0, sizeof p->doc); /* libyaml freed what it had: yw_free must not again */
        rc = -1;
    }
    yaml_parser_delete(&parser);
    return rc;
}

void yw_free(struct yw *p)
{
    yaml_document_delete(&p->doc);
}

int yw_fail(struct yw *p, const yaml_node_t *n, const char *fmt, ...)
{
    if (p->failed)
        return -1; /* the first error is the one worth reading */
    p->failed = true;
    int off = snprintf(p->err, p->errlen, "%s:%zu:%zu: ", p->name,
                       n ? n->start_mark.line + 1 : 1, n ? n->start_mark.column + 1 : 1);
    if (off < 0 || (size_t)off >= p->errlen)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->err + off, p->errlen - off, fmt, ap);
    va_end(ap);
    return -1;
}

const char *yw_scalar(const yaml_node_t *n)
{
    return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

bool yw_is_null(const yaml_node_t *n)
{
    const char *s = yw_scalar(n);
    if (!n)
        return true;
    if (!s || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return false;
    return !*s || !strcmp(s, "null") || !strcmp(s, "Null") || !strcmp(s, "NULL") || !strcmp(s, "~");
}

yaml_node_t *yw_node(struct yw *p, int index) { return yaml_document_get_node(&p->doc, index); }

const char *yw_kind(const yaml_node_t *n)
{
    if (!n) return "nothing";
    if (n->type == YAML_MAPPING_NODE) return "a mapping";
    if (n->type == YAML_SEQUENCE_NODE) return "a list";
    return yw_is_null(n) ? "null" : "a scalar";
}

/* ---- scalars ---- */

int yw_bool(struct yw *p, yaml_node_t *n, bool *out)
{
    const char *yes[] = { "true", "True", "TRUE", "yes", "Yes", "on", "On" };
    const char *no[] = { "false", "False", "FALSE", "no", "No", "off", "Off" };
    const char *s = yw_scalar(n);
    if (yw_is_null(n)) {
        *out = false;
        return 0;
    }
    for (size_t i = 0; s && i < sizeof yes / sizeof *yes; i++) {
        if (!strcmp(s, yes[i]))
            return *out = true, 0;
        if (!strcmp(s, no[i]))
            return *out = false, 0;
    }
    return yw_fail(p, n, "expected true or false, found %s%s%s", s ? "\"" : yw_kind(n), s ? s : "",
                s ? "\"" : "");
}

int yw_double(struct yw *p, yaml_node_t *n, double min, double *out)
{
    const char *s = yw_scalar(n);
    char *end;
    errno = 0;
    double v = s ? strtod(s, &end) : 0;
    if (!s || !*s || *end || errno || !isfinite(v))
        return yw_fail(p, n, "expected a number, found %s%s%s", s ? "\"" : yw_kind(n), s ? s : "",
                    s ? "\"" : "");
    if (v < min)
        return yw_fail(p, n, "expected a number >= %g, found %s", min, s);
    *out = v;
    return 0;
}

int yw_ulong(struct yw *p, yaml_node_t *n, unsigned long min, unsigned long max,
                     unsigned long *out)
{
    const char *s = yw_scalar(n);
    char *end;
    errno = 0;
    unsigned long v = s && *s != '-' ? strtoul(s, &end, 10) : 0;
    if (!s || !*s || *s == '-' || *end || errno || v < min || v > max)
        return yw_fail(p, n, "expected an integer from %lu to %lu, found %s%s%s", min, max,
                    s ? "\"" : yw_kind(n), s ? s : "", s ? "\"" : "");
    *out = v;
    return 0;
}

int yw_string(struct yw *p, yaml_node_t *n, char **out)
{
    const char *s = yw_scalar(n);
    if (!s || yw_is_null(n))
        return yw_fail(p, n, "expected a string, found %s", yw_kind(n));
    free(*out);
    *out = strdup(s);
    return *out ? 0 : yw_fail(p, n, "out of memory");
}

/* ---- structure ---- */

/* word without case, '_' and '-', at most 64 characters; its length, or -1 if longer */
static int fold(const char *word, char *out)
{
    int n = 0;
    for (; *word; word++) {
        if (*word == '_' || *word == '-')
            continue;
        if (n == 64)
            return -1;
        out[n++] = (char)(*word >= 'A' && *word <= 'Z' ? *word - 'A' + 'a' : *word);
    }
    out[n] = 0;
    return n;
}

static size_t distance(const char *a, size_t al, const char *b, size_t bl)
{
    size_t row[65];
    for (size_t j = 0; j <= bl; j++)
        row[j] = j;
    for (size_t i = 1; i <= al; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= bl; j++) {
            size_t up = row[j], v = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < v) v = up + 1;
            if (row[j - 1] + 1 < v) v = row[j - 1] + 1;
            row[j] = v;
            diag = up;
        }
    }
    return row[bl];
}

/* the score of candidate c for word (both folded): lower is closer */
static size_t score(const char *w, size_t wl, const char *c, size_t cl)
{
    return distance(w, wl, c, cl) + (wl && cl && w[0] != c[0]);
}

const char *yw_closest(const char *word, const char *const *candidates, size_t n)
{
    char w[65], c[65];
    int wl = fold(word, w);
    if (wl < 0)
        return NULL;
    const char *best = NULL;
    size_t best_d = 4;
    for (size_t k = 0; k < n; k++) {
        int cl = fold(candidates[k], c);
        if (cl < 0)
            continue;
        size_t d = score(w, (size_t)wl, c, (size_t)cl);
        if (d < best_d && d * 2 <= (size_t)(cl > wl ? cl : wl)) {
            best_d = d;
            best = candidates[k];
        }
    }
    return best;
}

/* word and candidate differ only in case, '_' or '-' */
static bool same_folded(const char *word, const char *candidate)
{
    char a[65], b[65];
    return fold(word, a) >= 0 && fold(candidate, b) >= 0 && !strcmp(a, b);
}

int yw_walk_mapping(struct yw *p, yaml_node_t *map, const struct yw_key *keys, size_t n_keys,
                        const char *where)
{
    if (yw_is_null(map))
        return 0;
    if (map->type != YAML_MAPPING_NODE)
        return yw_fail(p, map, "%s: expected a mapping of keys, found %s", where, yw_kind(map));
    for (yaml_node_pair_t *pair = map->data.mapping.pairs.start; pair < map->data.mapping.pairs.top; pair++) {
        yaml_node_t *k = yw_node(p, pair->key), *v = yw_node(p, pair->value);
        const char *name = yw_scalar(k);
        if (!name)
            return yw_fail(p, k, "%s: expected a key name, found %s", where, yw_kind(k));
        const struct yw_key *found = NULL;
        for (size_t i = 0; i < n_keys; i++)
            if (!strcmp(keys[i].name, name))
                found = &keys[i];
        if (!found) {
            const char *names[32];
            size_t nn = n_keys < 32 ? n_keys : 32;
            for (size_t i = 0; i < nn; i++)
                names[i] = keys[i].name;
            const char *close = yw_closest(name, names, nn);
            if (p->strict || (close && same_folded(name, close)))
                return yw_fail(p, k, "unknown key \"%s\" in %s%s%s%s%s", name, where,
                               close ? ": did you mean \"" : "", close ? close : "", close ? "\"?" : "",
                               p->strict && !(close && same_folded(name, close)) ? " (--strict)" : "");
            log_warn("%s:%zu:%zu: unknown key \"%s\" in %s ignored%s%s%s", p->name, k->start_mark.line + 1,
                     k->start_mark.column + 1, name, where, close ? "; did you mean \"" : "",
                     close ? close : "", close ? "\"?" : "");
            continue;
        }
        if (found->handle(p, v, found->target, found->arg) < 0)
            return -1;
    }
    return 0;
}

/* A scalar or a list of scalars: call `item` for each. */
int yw_each_item(struct yw *p, yaml_node_t *n, int (*item)(struct yw *, yaml_node_t *, void *),
                     void *target)
{
    if (yw_is_null(n))
        return 0;
    if (n->type == YAML_SCALAR_NODE)
        return item(p, n, target);
    if (n->type != YAML_SEQUENCE_NODE)
        return yw_fail(p, n, "expected a value or a list of values, found %s", yw_kind(n));
    for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++)
        if (item(p, yw_node(p, *it), target) < 0)
            return -1;
    return 0;
}

void *yw_grow(void *v, size_t n, size_t size)
{
    /* grow by one element; n is the current count */
    return realloc(v, (n + 1) * size);
}

