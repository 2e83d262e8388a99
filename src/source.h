/* source.h — where the replay's frames come from. A source hands out timestamped frames
 * (a link type and its bytes) in time order; the replay and pcap-proc do not know whether
 * they come from a capture file (capture.c), an MRT archive or a live interface.
 *
 * A new kind of source is one file filling struct source_ops and one line in sources[]
 * (source.c). source_open() gives a spec to the first kind that claims it; the capture file
 * claims what no other kind does, so a path is always a capture.
 *
 * A live source (a libtrace URI: int:eth0, ring:eth0, pcapint:eth0; source/live.c) never
 * ends by itself and must not block the caller's event loop: its next() answers
 * SOURCE_AGAIN when no frame is there yet, and wait_fd() names the descriptor that becomes
 * readable when one is (-1: try again shortly). A signal or a duration ends it, normally. */
#ifndef TELREP_SOURCE_H
#define TELREP_SOURCE_H

#include <stdbool.h>
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "capture.h" /* struct capture_packet: what every source hands out */

struct mrt_options;
struct live_options;
/* what a kind of source may need from the config (each kind takes its own) */
struct source_options {
    const struct mrt_options *mrt; /* n_mrt dumps, played side by side (each its own BMP router) */
    size_t n_mrt;
    const struct live_options *live;
};

#define SOURCE_AGAIN 2 /* next(): no frame yet, more will come (live sources only) */

struct source_ops {
    const char *name;
    /* Does this spec name a source of this kind? (NULL: the fallback, capture files) */
    bool (*claims)(const char *spec);
    void *(*open)(const char *spec, const struct source_options *o, char *err, size_t errlen);
    /* 1 = a frame, 0 = the end, -1 = an error (error() says what; the frames before it were good),
     * SOURCE_AGAIN = none yet (live sources) */
    int (*next)(void *impl, struct capture_packet *out);
    const char *(*format)(const void *impl);
    const char *(*error)(const void *impl);
    /* how far the frames handed out reach, 0..1, or -1 when it cannot be known */
    double (*progress)(const void *impl);
    /* optional: what the source read, for the summaries (a new JSON object), or NULL */
    json_t *(*summary)(const void *impl);
    void (*close)(void *impl);
    /* live sources only: frames arrive as they happen (no minute sync; a signal or a duration
     * is their normal end); the descriptor to wait on after SOURCE_AGAIN (-1: poll); the
     * frames the kernel or the card dropped so far (0 when not known; the summary says null) */
    bool live;
    int (*wait_fd)(const void *impl);
    uint64_t (*dropped)(const void *impl);
};

struct source {
    const struct source_ops *ops;
    void *impl;
};

extern const struct source_ops source_capture, source_mrt, source_live;

/* NULL with err when the spec cannot be opened. */
struct source *source_open(const char *spec, const struct source_options *o, char *err, size_t errlen);
static inline int source_next(struct source *s, struct capture_packet *out) { return s->ops->next(s->impl, out); }
static inline const char *source_format(const struct source *s) { return s->ops->format(s->impl); }
static inline const char *source_error(const struct source *s) { return s->ops->error(s->impl); }
static inline double source_progress(const struct source *s) { return s->ops->progress(s->impl); }
static inline json_t *source_summary(const struct source *s) { return s->ops->summary ? s->ops->summary(s->impl) : NULL; }
static inline bool source_is_live(const struct source *s) { return s->ops->live; }
static inline int source_wait_fd(const struct source *s) { return s->ops->wait_fd ? s->ops->wait_fd(s->impl) : -1; }
static inline uint64_t source_dropped(const struct source *s) { return s->ops->dropped ? s->ops->dropped(s->impl) : 0; }
void source_close(struct source *s);

#endif
