/* log: leveled logging to stderr.
 *
 * One line per message: "2026-11-24T01:02:03.456Z master warn: text".
 * The level is the only process-wide mutable state in NetCompute; set it once
 * from main() (-v / -q). log_every() rate-limits a message by its key so that a
 * flood (malformed network input, say) logs at most once a second.
 */
#ifndef NC_LOG_H
#define NC_LOG_H

#include <stdarg.h>
#include <stdio.h>

typedef enum {
    LOG_DEBUG = 0,
    LOG_INFO = 1,
    LOG_WARN = 2,
    LOG_ERROR = 3,
    LOG_SILENT = 4
} log_level_t;

/* Sets the name printed on each line ("master", "worker") and the level. */
void log_init(const char *program, log_level_t level);
log_level_t log_get_level(void);

void log_msg(log_level_t level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)

/* Also writes every line from info up (whatever the level) to f, flushed
 * line by line, until log_tee(NULL): a run's job.log. f stays the caller's. */
void log_tee(FILE *f);

/* A job's error line as the exit status contract has it: "PROGRAM: text" on
 * stderr whatever the level (no time stamp), and a stamped error line in the
 * tee. */
void log_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A status line (a progress bar) kept on stderr under the log lines: each
 * line logged meanwhile first erases it and then draws it again. NULL or ""
 * erases it. For a terminal only: the caller checks isatty(). */
void log_status(const char *line);

/* Logs at most once per second for each distinct slot (0..LOG_SLOTS-1);
 * suppressed messages are counted and reported with the next one printed. */
#define LOG_SLOTS 16
void log_every(int slot, log_level_t level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
