#include "worker/idle.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <utmpx.h>

#include "common/clock.h"

#define IDLE_PATH 4096
#define LOAD_TAU_MS 60000.0 /* the kernel's load1 time constant */
#define LOAD_RESUME_FACTOR 0.75
#define UTMP_MAX_RECORDS 4096 /* bounds the scan of a corrupt or huge utmp */

struct idle {
    bool always;
    int64_t idle_ms;
    double max_load;
    char root[IDLE_PATH / 2];
    char source[IDLE_PATH / 2]; /* NETCOMPUTE_IDLE_SOURCE, "" when unset */
    bool load_paused;
    double own_load; /* decaying average of busy slots */
    int64_t last_check_ms;
    int64_t input_age_s;
};

idle_t *idle_new(const config_t *cfg, const char *sys_root, char *err, size_t errlen) {
    if (!sys_root) sys_root = "";
    bool always = strcmp(cfg->worker.when, "always") == 0;
    if (!always && strcmp(cfg->worker.when, "idle") != 0) {
        snprintf(err, errlen, "worker.when: '%s' is not always or idle", cfg->worker.when);
        return NULL;
    }
    const char *src = getenv("NETCOMPUTE_IDLE_SOURCE");
    idle_t *p = calloc(1, sizeof *p);
    if (!p) {
        snprintf(err, errlen, "idle: out of memory");
        return NULL;
    }
    if (strlen(sys_root) >= sizeof p->root || (src && strlen(src) >= sizeof p->source)) {
        snprintf(err, errlen, "idle: system root or NETCOMPUTE_IDLE_SOURCE path too long");
        free(p);
        return NULL;
    }
    p->always = always;
    p->idle_ms = (int64_t)(cfg->worker.idle_minutes > 0 ? cfg->worker.idle_minutes : 0) * 60000;
    p->max_load = cfg->worker.max_load;
    snprintf(p->root, sizeof p->root, "%s", sys_root);
    snprintf(p->source, sizeof p->source, "%s", src ? src : "");
    p->last_check_ms = -1;
    p->input_age_s = -1;
    return p;
}

void idle_destroy(idle_t **p) {
    if (!p || !*p) return;
    free(*p);
    *p = NULL;
}

int64_t idle_input_age_s(const idle_t *p) {
    return p->input_age_s;
}

static int64_t ts_ms(const struct timespec *t) {
    return (int64_t)t->tv_sec * 1000 + t->tv_nsec / 1000000;
}

static void consider(int64_t *newest, bool *found, int64_t t) {
    if (!*found || t > *newest) *newest = t;
    *found = true;
}

/* Input devices: either time may move depending on the driver, so take both. */
static void scan_input_dir(const idle_t *p, int64_t *newest, bool *found) {
    char dir[IDLE_PATH];
    snprintf(dir, sizeof dir, "%s/dev/input", p->root);
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strncmp(e->d_name, "event", 5) != 0 && strcmp(e->d_name, "mice") != 0 &&
            strncmp(e->d_name, "mouse", 5) != 0)
            continue;
        char path[IDLE_PATH];
        int n = snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        struct stat st;
        if (n < 0 || (size_t)n >= sizeof path || stat(path, &st) != 0) continue;
        int64_t a = ts_ms(&st.st_atim), m = ts_ms(&st.st_mtim);
        consider(newest, found, a > m ? a : m);
    }
    closedir(d);
}

/* A terminal line from utmp is untrusted text: accept only "pts/N" and
 * "ttyX" shapes so it cannot point stat() anywhere else. */
static bool safe_tty_line(const char *line) {
    if (strncmp(line, "pts/", 4) != 0 && strncmp(line, "tty", 3) != 0) return false;
    if (strstr(line, "..")) return false;
    for (const char *c = line; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
              *c == '/'))
            return false;
    return true;
}

/* Terminals of logged-in users: the tty layer sets atime when the user types
 * (mtime moves with output too, which is not the owner's doing). */
static void scan_utmp(const idle_t *p, int64_t *newest, bool *found) {
    char path[IDLE_PATH];
    snprintf(path, sizeof path, "%s/var/run/utmp", p->root);
    FILE *f = fopen(path, "rb");
    if (!f) return;
    struct utmpx u;
    for (int i = 0; i < UTMP_MAX_RECORDS && fread(&u, sizeof u, 1, f) == 1; i++) {
        if (u.ut_type != USER_PROCESS) continue;
        char line[sizeof u.ut_line + 1];
        memcpy(line, u.ut_line, sizeof u.ut_line);
        line[sizeof u.ut_line] = '\0';
        if (!safe_tty_line(line)) continue;
        char dev[IDLE_PATH];
        int n = snprintf(dev, sizeof dev, "%s/dev/%s", p->root, line);
        struct stat st;
        if (n < 0 || (size_t)n >= sizeof dev || stat(dev, &st) != 0) continue;
        consider(newest, found, ts_ms(&st.st_atim));
    }
    fclose(f);
}

/* Newest input time in wall-clock ms; found false when no source exists. */
static int64_t newest_input(const idle_t *p, bool *found) {
    int64_t newest = 0;
    *found = false;
    if (p->source[0]) {
        struct stat st;
        if (stat(p->source, &st) == 0) consider(&newest, found, ts_ms(&st.st_mtim));
        return newest;
    }
    scan_input_dir(p, &newest, found);
    scan_utmp(p, &newest, found);
    return newest;
}

idle_verdict_t idle_check(idle_t *p, const sysstat_sample_t *now, int busy_slots, char *reason,
                          size_t reasonlen) {
    if (reasonlen > 0) reason[0] = '\0';
    if (busy_slots < 0) busy_slots = 0;

    /* The own-load average decays like load1 itself, whatever the policy,
     * so switching policy at run time would start from a true figure. */
    int64_t mono = clock_now_ms();
    if (p->last_check_ms >= 0 && mono > p->last_check_ms) {
        double a = exp(-(double)(mono - p->last_check_ms) / LOAD_TAU_MS);
        p->own_load = p->own_load * a + busy_slots * (1.0 - a);
    }
    p->last_check_ms = mono;

    bool found;
    int64_t last_input = newest_input(p, &found);
    if (found) {
        int64_t age = clock_wall_ms() - last_input;
        p->input_age_s = age < 0 ? 0 : age / 1000;
    } else {
        p->input_age_s = -1;
    }
    if (p->always) return IDLE_RUN;

    /* An input time in the future (clock stepped back) counts as just now. */
    bool owner = found && clock_wall_ms() - last_input < p->idle_ms;
    bool battery = now && now->has_battery && !now->on_ac;

    double own = busy_slots > p->own_load ? busy_slots : p->own_load;
    double other = now ? now->load1 - own : 0;
    if (other < 0) other = 0;
    double limit = p->load_paused ? p->max_load * LOAD_RESUME_FACTOR : p->max_load;
    p->load_paused = other > limit;

    if (owner) {
        snprintf(reason, reasonlen, "owner active");
        return IDLE_PAUSE;
    }
    if (battery) {
        snprintf(reason, reasonlen, "on battery");
        return IDLE_PAUSE;
    }
    if (p->load_paused) {
        snprintf(reason, reasonlen, "load %.2f from other processes", other);
        return IDLE_PAUSE;
    }
    return IDLE_RUN;
}

int idle_lower_priority(void) {
    int rc = 0;
    /* On Linux the nice value belongs to the thread when addressed by tid. */
    if (setpriority(PRIO_PROCESS, (id_t)gettid(), 19) != 0) rc = -1;
#ifdef SCHED_IDLE
    struct sched_param sp = {0};
    if (pthread_setschedparam(pthread_self(), SCHED_IDLE, &sp) != 0) rc = -1;
#else
    rc = -1;
#endif
    return rc;
}

#define THROTTLE_WINDOW_US 100000

static int64_t thread_cpu_us(void) {
    struct timespec t;
    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t) != 0) return 0;
    return (int64_t)t.tv_sec * 1000000 + t.tv_nsec / 1000;
}

void idle_throttle_init(idle_throttle_t *t, int pct) {
    memset(t, 0, sizeof *t);
    t->pct = pct;
    t->win_wall_us = clock_now_us();
    t->win_cpu_us = thread_cpu_us();
}

void idle_throttle_tick(idle_throttle_t *t) {
    if (t->pct <= 0 || t->pct >= 100) return;
    int64_t wall = clock_now_us() - t->win_wall_us;
    int64_t used = thread_cpu_us() - t->win_cpu_us;
    if (wall < THROTTLE_WINDOW_US && used * 100 < (int64_t)t->pct * THROTTLE_WINDOW_US) return;
    int64_t need = used * 100 / t->pct; /* wall time that makes used exactly pct % */
    if (need > wall) {
        int64_t us = need - wall;
        struct timespec ts = {.tv_sec = us / 1000000, .tv_nsec = (us % 1000000) * 1000};
        while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
            ;
        t->slept_us += us;
    }
    t->win_wall_us = clock_now_us();
    t->win_cpu_us = thread_cpu_us();
}
