/* source.h — where the replay's frames come from. A source hands out timestamped frames
 * (a link type and its bytes) in time order; the replay and pcap-proc do not know whether
 * they come from a capture file (capture.c), an MRT archive or a live interface.
 *
 * A new kind of source is one file filling struct source_ops and one line in sources[]
 * (source.c). source_open() gives a spec to the first kind that claims it; the capture file
 * claims what no other kind does, so a path is always a capture. */
#ifndef TELREP_SOURCE_H
#define TELREP_SOURCE_H

#include <stdbool.h>
#include <jansson.h>
#include <stddef.h>

#include "capture.h" /* struct capture_packet: what every source hands out */

struct mrt_options;
/* what a kind of source may need from the config (each kind takes its own) */
struct source_options {
    const struct mrt_options *mrt;
};

struct source_ops {
    const char *name;
    /* Does this spec name a source of this kind? (NULL: the fallback, capture files) */
    bool (*claims)(const char *spec);
    void *(*open)(const char *spec, const struct source_options *o, char *err, size_t errlen);
    /* 1 = a frame, 0 = the end, -1 = an error (error() says what; the frames before it were good) */
    int (*next)(void *impl, struct capture_packet *out);
    const char *(*format)(const void *impl);
    const char *(*error)(const void *impl);
    /* how far the frames handed out reach, 0..1, or -1 when it cannot be known */
    double (*progress)(const void *impl);
    /* optional: what the source read, for the summaries (a new JSON object), or NULL */
    json_t *(*summary)(const void *impl);
    void (*close)(void *impl);
};

struct source {
    const struct source_ops *ops;
    void *impl;
};

extern const struct source_ops source_capture, source_mrt;

/* NULL with err when the spec cannot be opened. */
struct source *source_open(const char *spec, const struct source_options *o, char *err, size_t errlen);
static inline int source_next(struct source *s, struct capture_packet *out) { return s->ops->next(s->impl, out); }
static inline const char *source_format(const struct source *s) { return s->ops->format(s->impl); }
static inline const char *source_error(const struct source *s) { return s->ops->error(s->impl); }
static inline double source_progress(const struct source *s) { return s->ops->progress(s->impl); }
static inline json_t *source_summary(const struct source *s) { return s->ops->summary ? s->ops->summary(s->impl) : NULL; }
void source_close(struct source *s);

#endif
