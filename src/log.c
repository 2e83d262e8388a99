#include "log.h"

#include <stdarg.h>
#include <stdio.h>

const char *log_program = "telrep";
enum log_level log_threshold = LOG_NOTE;

void log_set_level(enum log_level level) { log_threshold = level; }

static void log_vmsg(enum log_level level, const char *fmt, va_list ap)
{
    static const char *names[] = { "error: ", "warning: ", "", "info: ", "debug: " };
    if (level > log_threshold)
        return;
    fprintf(stderr, "%s: %s", log_program, names[level]);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

void log_msg(enum log_level level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_vmsg(level, fmt, ap);
    va_end(ap);
}

void log_warn_limited(unsigned *counter, unsigned limit, const char *fmt, ...)
{
    unsigned n = (*counter)++;
    if (n > limit)
        return;
    if (n == limit) {
        log_warn("(further warnings of this kind suppressed; see the final report)");
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    log_vmsg(LOG_WARN, fmt, ap);
    va_end(ap);
}
