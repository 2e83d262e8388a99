/* events.c — see events.h. */
#define _GNU_SOURCE
#include "events.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"

static FILE *out;
static bool failed;

int events_open(const char *path, char *err, size_t errlen)
{
    out = strcmp(path, "-") == 0 ? stdout : fopen(path, "w");
    if (!out) {
        snprintf(err, errlen, "--events %s: %s", path, strerror(errno));
        return -1;
    }
    failed = false;
    return 0;
}

void events_close(void)
{
    if (out && out != stdout)
        fclose(out);
    out = NULL;
}

bool events_on(void) { return out != NULL; }

void events_emit(const char *name, json_t *fields)
{
    if (!out) {
        json_decref(fields);
        return;
    }
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char when[40];
    size_t n = strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(when + n, sizeof when - n, ".%06ldZ", ts.tv_nsec / 1000);
    json_t *line = json_pack("{s:s,s:s}", "time", when, "event", name);
    if (line && fields)
        json_object_update(line, fields);
    char *text = line ? json_dumps(line, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    if (!text || fprintf(out, "%s\n", text) < 0 || fflush(out) != 0) {
        if (!failed)
            log_error("cannot write the event %s to the --events file (the run goes on without it)", name);
        failed = true;
    }
    free(text);
    json_decref(fields);
    json_decref(line);
}
