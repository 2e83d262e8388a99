/* yamlwalk.h — reading a YAML document with messages that name file:line:col: typed scalars,
 * mappings walked against a table of known keys (an unknown key is warned about with the
 * closest known one), lists. telrep's config and flow-replay's use it. */
#ifndef TELREP_YAMLWALK_H
#define TELREP_YAMLWALK_H

#include <stdbool.h>
#include <stddef.h>
#include <yaml.h>

struct yw {
    yaml_document_t doc;
    const char *name;  /* the file, for messages */
    char *err;
    size_t errlen;
    bool failed;       /* the first error is kept: the one worth reading */
    bool strict;       /* an unknown key is an error, not a warning (set after yw_load) */
    void *user;        /* the caller's state, for its key handlers */
};

struct yw_key {
    const char *name;
    int (*handle)(struct yw *p, yaml_node_t *value, void *target, int arg);
    void *target; /* NULL: the handler finds its own */
    int arg;
};

/* Configs are kilobytes; libyaml's time grows with the square of the nesting depth and its
 * memory ~30 times the text, so both are bounded before the document is built. */
#define YW_MAX_BYTES (4u << 20)
#define YW_MAX_DEPTH 64

/* Parse text into p->doc; 0, or -1 with "name:line:col: not valid YAML: ..." (or what limit
 * was passed, and where) in err. */
int yw_load(struct yw *p, const char *name, const char *text, size_t len, char *err, size_t errlen);
void yw_free(struct yw *p);

int yw_fail(struct yw *p, const yaml_node_t *n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
const char *yw_scalar(const yaml_node_t *n);
bool yw_is_null(const yaml_node_t *n);
yaml_node_t *yw_node(struct yw *p, int index);
const char *yw_kind(const yaml_node_t *n);   /* "a mapping", "a list", "null", "a scalar" */
int yw_bool(struct yw *p, yaml_node_t *n, bool *out);
int yw_double(struct yw *p, yaml_node_t *n, double min, double *out);
int yw_ulong(struct yw *p, yaml_node_t *n, unsigned long min, unsigned long max, unsigned long *out);
int yw_string(struct yw *p, yaml_node_t *n, char **out);
/* The candidate closest to word, or NULL if none is close: edit distance between the two
 * with case, '_' and '-' ignored, one more when the first letters differ ("dst_port" is
 * closer to "dport" than to "sport"). */
const char *yw_closest(const char *word, const char *const *candidates, size_t n);
/* Walk a mapping against keys. An unknown key is warned about with the closest known one; it
 * is an error when p->strict is set or when it differs from a known key only in case, '_'
 * or '-' ("IPFIX", "time-factor": ignoring those would silently change the run). */
int yw_walk_mapping(struct yw *p, yaml_node_t *map, const struct yw_key *keys, size_t n_keys, const char *where);
/* A scalar or a list of scalars: item() for each. */
int yw_each_item(struct yw *p, yaml_node_t *n, int (*item)(struct yw *, yaml_node_t *, void *), void *target);
/* realloc to n + 1 elements of size */
void *yw_grow(void *v, size_t n, size_t size);

#endif
