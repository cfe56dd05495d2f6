#include "common/log.h"

#include "common/clock.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>

static const char *program_name = "netcompute";
static log_level_t current_level = LOG_INFO;

static pthread_mutex_t every_lock = PTHREAD_MUTEX_INITIALIZER;
static int64_t every_last_ms[LOG_SLOTS];
static long every_suppressed[LOG_SLOTS];

/* The status line (log_status), erased and redrawn around every line. */
static pthread_mutex_t status_lock = PTHREAD_MUTEX_INITIALIZER;
static char status_line[512];

static const char *level_names[] = {"debug", "info", "warn", "error", "silent"};

/* The current job's log file (log_tee), written beside stderr under its lock. */
static pthread_mutex_t tee_lock = PTHREAD_MUTEX_INITIALIZER;
static FILE *tee_file;
static atomic_bool tee_on; /* tee_file != NULL, read without the lock on every call */

void log_init(const char *program, log_level_t level) {
    program_name = program;
    current_level = level;
}

log_level_t log_get_level(void) {
    return current_level;
}

/* A line to stderr, with the status line erased before it and drawn again
 * below it. */
static void to_terminal(const char *text) {
    pthread_mutex_lock(&status_lock);
    if (status_line[0]) fputs("\r\033[K", stderr);
    fputs(text, stderr);
    if (status_line[0]) fputs(status_line, stderr);
    fflush(stderr);
    pthread_mutex_unlock(&status_lock);
}

/* "STAMP.mmmZ program level: line more" into out, STAMP the UTC time now. */
static void stamped(char *out, size_t outlen, const char *level, const char *line,
                    const char *more) {
    char stamp[32];
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, outlen, "%s.%03ldZ %s %s: %s%s\n", stamp, ts.tv_nsec / 1000000, program_name,
             level, line, more);
}

/* A stamped line to the job's log, when there is one. */
static void to_tee(const char *text) {
    pthread_mutex_lock(&tee_lock);
    if (tee_file) {
        fputs(text, tee_file);
        fflush(tee_file);
    }
    pthread_mutex_unlock(&tee_lock);
}

static void vlog(log_level_t level, long suppressed, const char *fmt, va_list ap) {
    char line[1024], text[1200];
    vsnprintf(line, sizeof line, fmt, ap);
    char more[48] = "";
    if (suppressed > 0) snprintf(more, sizeof more, " (and %ld more like it)", suppressed);
    stamped(text, sizeof text, level_names[level], line, more);
    if (level >= current_level) to_terminal(text);
    if (level != LOG_DEBUG) to_tee(text); /* a job's log: info and up, -v or not */
}

/* The level below which nothing is written anywhere: the tee keeps info
 * lines even under -q. */
static log_level_t floor_level(void) {
    log_level_t f = current_level;
    if (atomic_load_explicit(&tee_on, memory_order_relaxed) && f > LOG_INFO) f = LOG_INFO;
    return f;
}

void log_tee(FILE *f) {
    pthread_mutex_lock(&tee_lock);
    tee_file = f;
    atomic_store(&tee_on, f != NULL);
    pthread_mutex_unlock(&tee_lock);
}

void log_msg(log_level_t level, const char *fmt, ...) {
    if (level < floor_level()) return;
    va_list ap;
    va_start(ap, fmt);
    vlog(level, 0, fmt, ap);
    va_end(ap);
}

void log_every(int slot, log_level_t level, const char *fmt, ...) {
    if (level < floor_level() || slot < 0 || slot >= LOG_SLOTS) return;
    int64_t now = clock_now_ms();
    long suppressed;
    pthread_mutex_lock(&every_lock);
    if (every_last_ms[slot] != 0 && now - every_last_ms[slot] < 1000) {
        every_suppressed[slot]++;
        pthread_mutex_unlock(&every_lock);
        return;
    }
    every_last_ms[slot] = now;
    suppressed = every_suppressed[slot];
    every_suppressed[slot] = 0;
    pthread_mutex_unlock(&every_lock);
    va_list ap;
    va_start(ap, fmt);
    vlog(level, suppressed, fmt, ap);
    va_end(ap);
}

void log_fail(const char *fmt, ...) {
    char line[1024], text[1200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    snprintf(text, sizeof text, "%s: %s\n", program_name, line);
    to_terminal(text);
    stamped(text, sizeof text, "error", line, "");
    to_tee(text);
}

void log_status(const char *line) {
    pthread_mutex_lock(&status_lock);
    snprintf(status_line, sizeof status_line, "%s", line ? line : "");
    fprintf(stderr, "\r%s\033[K", status_line);
    fflush(stderr);
    pthread_mutex_unlock(&status_lock);
}
