/* log.h — levelled logging to stderr. */
#ifndef TELREP_LOG_H
#define TELREP_LOG_H

/* LOG_NOTE: what a user at the default level should see although nothing is wrong (a long
 * wait, the summary); -q hides it. LOG_DEBUG in telrep: a line per packet. */
enum log_level { LOG_ERROR, LOG_WARN, LOG_NOTE, LOG_INFO, LOG_DEBUG };

extern enum log_level log_threshold;
extern const char *log_program; /* the prefix of every line: "telrep" unless a tool says otherwise */

void log_set_level(enum log_level level);
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Like log_msg(LOG_WARN...) but a given key is said at most `limit` times, then once more
 * saying further ones are suppressed. */
void log_warn_limited(unsigned *counter, unsigned limit, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_note(...) do { if (log_threshold >= LOG_NOTE) log_msg(LOG_NOTE, __VA_ARGS__); } while (0)
#define log_info(...) do { if (log_threshold >= LOG_INFO) log_msg(LOG_INFO, __VA_ARGS__); } while (0)
#define log_debug(...) do { if (log_threshold >= LOG_DEBUG) log_msg(LOG_DEBUG, __VA_ARGS__); } while (0)

#endif
