/* idle: when a worker may compute on somebody else's desk (HTCondor/BOINC style).
 *
 * worker.when "always" never pauses. worker.when "idle" runs only while all of
 *   (a) nobody touched keyboard or mouse for worker.idle_minutes: the newest
 *       access/modify time of /dev/input/event*, /dev/input/mice and the
 *       access time of the terminals (/dev/pts/N, /dev/ttyN) that utmp lists
 *       as logged in. These need no root: stat() works on devices we cannot
 *       open. A PC with none of these (a server, a container) counts as idle.
 *       Test seam: env NETCOMPUTE_IDLE_SOURCE=FILE replaces all of them with
 *       FILE's mtime (a missing FILE counts as no input ever);
 *   (b) the load from other processes is at most worker.max_load: load1 minus
 *       this worker's own share, as HTCondor subtracts its own load. Our share
 *       is max(busy slots now, a 1-minute decaying average of busy slots), the
 *       same averaging the kernel applies to load1, so the load we leave behind
 *       after stopping is not mistaken for somebody else's;
 *   (c) on AC power when the PC has a battery (BOINC's default).
 *
 * Hysteresis (chosen and documented here):
 *   - owner: resume only after a full idle_minutes without input, the same rule
 *     as the first start. We do not use BOINC's 3 minutes: an owner who steps
 *     away for coffee should find the PC as they left it;
 *   - load: pause above max_load, resume only at or below 0.75 * max_load, so a
 *     load hovering at the threshold does not flap tasks in and out;
 *   - battery: a plain on/off signal, no hysteresis needed.
 *
 * idle_t is not thread-safe: one thread (the worker's heartbeat loop) calls it.
 */
#ifndef NC_IDLE_H
#define NC_IDLE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "common/config.h"
#include "common/sysstat.h"

typedef enum { IDLE_RUN, IDLE_PAUSE } idle_verdict_t;

typedef struct idle idle_t;

/* Reads worker.when, idle_minutes and max_load from cfg (copied; cfg is
 * borrowed). sys_root prefixes /dev and /var/run/utmp (NULL or "" = real
 * system), the same seam sysstat_new() takes. Returns NULL and writes err on a
 * bad worker.when or out of memory. Caller owns the result. */
idle_t *idle_new(const config_t *cfg, const char *sys_root, char *err, size_t errlen);

/* Decides for this moment. now is the latest sysstat sample (battery, AC,
 * load1); busy_slots is how many of our compute slots are running a task.
 * On IDLE_PAUSE, reason says why ("owner active", "on battery",
 * "load 1.70 from other processes"); on IDLE_RUN it is "". Call it about once
 * per heartbeat: the own-load average is updated from the time between calls. */
idle_verdict_t idle_check(idle_t *p, const sysstat_sample_t *now, int busy_slots, char *reason,
                          size_t reasonlen);

/* Seconds since the last keyboard/mouse input that idle_check() saw
 * (-1 before the first check or when no input source exists). */
int64_t idle_input_age_s(const idle_t *p);

/* Frees *p and sets it to NULL; NULL-safe. */
void idle_destroy(idle_t **p);

/* Puts the calling thread at the lowest priority: nice 19 and SCHED_IDLE.
 * Compute threads call it first. Failure is harmless (the thread just runs at
 * normal priority); returns 0 when both took effect, -1 otherwise. */
int idle_lower_priority(void);

/* --max-cpu PCT as a duty cycle for one compute thread.
 * The loop calls idle_throttle_tick() every few milliseconds of work; when the
 * thread's CPU time (CLOCK_THREAD_CPUTIME_ID) in the current window exceeds
 * PCT % of the wall time, tick sleeps the difference. Windows are 100 ms, so
 * the share holds over any 100 ms span to within one tick interval of work;
 * ticking less often than every ~10 ms makes the bursts coarser, not the
 * average wrong. pct <= 0 or >= 100 means no cap (tick returns at once). */
typedef struct idle_throttle {
    int pct;
    int64_t win_wall_us;
    int64_t win_cpu_us;
    int64_t slept_us; /* total, for tests and stats */
} idle_throttle_t;

void idle_throttle_init(idle_throttle_t *t, int pct);
void idle_throttle_tick(idle_throttle_t *t);

#endif
