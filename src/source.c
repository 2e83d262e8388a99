/* source.c — see source.h. */
#include "source.h"

#include <stdio.h>
#include <stdlib.h>

/* the kinds, tried in order; the fallback (claims == NULL) last */
static const struct source_ops *const sources[] = {
    &source_mrt,
    &source_live,
    &source_capture,
};

struct source *source_open(const char *spec, const struct source_options *o, char *err, size_t errlen)
{
    const struct source_ops *ops = NULL;
    for (size_t i = 0; i < sizeof sources / sizeof *sources && !ops; i++)
        if (!sources[i]->claims || sources[i]->claims(spec))
            ops = sources[i];
    if (!ops) {
        snprintf(err, errlen, "%s: no source reads this", spec);
        return NULL;
    }
    struct source *s = malloc(sizeof *s);
    if (!s) {
        snprintf(err, errlen, "%s: out of memory", spec);
        return NULL;
    }
    s->ops = ops;
    if (!(s->impl = ops->open(spec, o, err, errlen))) {
        free(s);
        return NULL;
    }
    return s;
}

void source_close(struct source *s)
{
    if (!s)
        return;
    s->ops->close(s->impl);
    free(s);
}
