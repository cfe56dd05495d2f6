/* idle policy through its seams: NETCOMPUTE_IDLE_SOURCE, a fake /dev + utmp
 * root, fake power supplies read by sysstat, and load figures. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <utmpx.h>

#include "common/clock.h"
#include "common/config.h"
#include "common/sysstat.h"
#include "worker/idle.h"

typedef struct {
    char dir[128];
    char src[256];
    config_t cfg;
} fx_t;

static void put(const char *path, const char *text) {
    char tmp[1024];
    snprintf(tmp, sizeof tmp, "%s", path);
    for (char *p = tmp + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            mkdir(tmp, 0755);
            *p = '/';
        }
    }
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* Sets a file's atime and mtime to now - ago seconds. */
static void age_file(const char *path, long ago) {
    struct timespec ts[2];
    clock_gettime(CLOCK_REALTIME, &ts[0]);
    ts[0].tv_sec -= ago;
    ts[1] = ts[0];
    assert_int_equal(utimensat(AT_FDCWD, path, ts, 0), 0);
}

static int setup(void **state) {
    fx_t *f = calloc(1, sizeof *f);
    if (!f) return -1;
    snprintf(f->dir, sizeof f->dir, "/tmp/nc-idle-XXXXXX");
    if (!mkdtemp(f->dir)) {
        free(f);
        return -1;
    }
    snprintf(f->src, sizeof f->src, "%s/input-activity", f->dir);
    config_defaults(&f->cfg);
    snprintf(f->cfg.worker.when, sizeof f->cfg.worker.when, "idle");
    f->cfg.worker.idle_minutes = 10;
    f->cfg.worker.max_load = 0.3;
    setenv("NETCOMPUTE_IDLE_SOURCE", f->src, 1);
    *state = f;
    return 0;
}

static int teardown(void **state) {
    fx_t *f = *state;
    unsetenv("NETCOMPUTE_IDLE_SOURCE");
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    if (system(cmd) != 0) return -1;
    free(f);
    return 0;
}

static sysstat_sample_t desktop(double load1) {
    sysstat_sample_t s;
    memset(&s, 0, sizeof s);
    s.cores = 4;
    s.load1 = load1;
    s.on_ac = true;
    return s;
}

static void test_bad_when(void **state) {
    fx_t *f = *state;
    snprintf(f->cfg.worker.when, sizeof f->cfg.worker.when, "sometimes");
    char err[128] = "";
    assert_null(idle_new(&f->cfg, "", err, sizeof err));
    assert_non_null(strstr(err, "sometimes"));
}

static void test_always_never_pauses(void **state) {
    fx_t *f = *state;
    snprintf(f->cfg.worker.when, sizeof f->cfg.worker.when, "always");
    put(f->src, "x");
    age_file(f->src, 0);
    char err[128], why[128];
    idle_t *p = idle_new(&f->cfg, "", err, sizeof err);
    assert_non_null(p);
    sysstat_sample_t s = desktop(9.0);
    s.has_battery = true;
    s.on_ac = false;
    assert_int_equal(idle_check(p, &s, 0, why, sizeof why), IDLE_RUN);
    assert_string_equal(why, "");
    idle_destroy(&p);
    assert_null(p);
}

static void test_owner_activity_and_hysteresis(void **state) {
    fx_t *f = *state;
    char err[128], why[128];
    idle_t *p = idle_new(&f->cfg, "", err, sizeof err);
    assert_non_null(p);
    sysstat_sample_t s = desktop(0.0);

    /* no source file: nobody has ever touched this PC */
    assert_int_equal(idle_check(p, &s, 0, why, sizeof why), IDLE_RUN);
    assert_int_equal(idle_input_age_s(p), -1);

    put(f->src, "x");
    age_file(f->src, 11 * 60);
    assert_int_equal(idle_check(p, &s, 0, why, sizeof why), IDLE_RUN);
    assert_true(idle_input_age_s(p) >= 660 && idle_input_age_s(p) <= 662);

    /* owner is back: pause at once */
    age_file(f->src, 2);
    assert_int_equal(idle_check(p, &s, 1, why, sizeof why), IDLE_PAUSE);
    assert_string_equal(why, "owner active");

    /* owner left 9 minutes ago: BOINC would resume, we wait the full 10 */
    age_file(f->src, 9 * 60);
    assert_int_equal(idle_check(p, &s, 0, why, sizeof why), IDLE_PAUSE);
    assert_string_equal(why, "owner active");
    age_file(f->src, 10 * 60 + 2);
    assert_int_equal(idle_check(p, &s, 0, why, sizeof why), IDLE_RUN);
    assert_string_equal(why, "");

    /* an input time in the future (clock stepped back) is activity */
    age_file(f->src, -3600);
    assert_int_equal(idle_check(p, &s, 0, why, sizeof why), IDLE_PAUSE);
    idle_destroy(&p);
}

static void test_battery_via_sysstat(void **state) {
    fx_t *f = *state;
    char sys[256], path[512], err[128], why[128];
    snprintf(sys, sizeof sys, "%s/sys-root", f->dir);
    snprintf(path, sizeof path, "%s/sys/class/power_supply/BAT0/type", sys);
    put(path, "Battery\n");
    snprintf(path, sizeof path, "%s/sys/class/power_supply/BAT0/capacity", sys);
    put(path, "90\n");
    snprintf(path, sizeof path, "%s/sys/class/power_supply/AC/type", sys);
    put(path, "Mains\n");
    snprintf(path, sizeof path, "%s/sys/class/power_supply/AC/online", sys);
    put(path, "0\n");
    snprintf(path, sizeof path, "%s/proc/stat", sys);
    put(path, "cpu  1 0 1 10 0 0 0 0\n");

    put(f->src, "x");
    age_file(f->src, 3600);
    sysstat_t *ss = sysstat_new(sys);
    idle_t *p = idle_new(&f->cfg, sys, err, sizeof err);
    assert_non_null(ss);
    assert_non_null(p);
    sysstat_sample_t s;
    sysstat_read(ss, &s);
    assert_int_equal(idle_check(p, &s, 0, why, sizeof why), IDLE_PAUSE);
    assert_string_equal(why, "on battery");

    snprintf(path, sizeof path, "%s/sys/class/power_supply/AC/online", sys);
    put(path, "1\n");
    sysstat_read(ss, &s);
    assert_int_equal(idle_check(p, &s, 0, why, sizeof why), IDLE_RUN);

    /* owner comes first in the reason when both hold */
    put(path, "0\n");
    sysstat_read(ss, &s);
    age_file(f->src, 1);
    assert_int_equal(idle_check(p, &s, 0, why, sizeof why), IDLE_PAUSE);
    assert_string_equal(why, "owner active");
    idle_destroy(&p);
    sysstat_destroy(&ss);
}

static void test_load_from_others(void **state) {
    fx_t *f = *state;
    char err[128], why[128];
    put(f->src, "x");
    age_file(f->src, 3600);
    idle_t *p = idle_new(&f->cfg, "", err, sizeof err);
    assert_non_null(p);
    sysstat_sample_t s = desktop(1.7);
    assert_int_equal(idle_check(p, &s, 0, why, sizeof why), IDLE_PAUSE);
    assert_string_equal(why, "load 1.70 from other processes");

    /* our own two busy slots are not somebody else's load */
    s = desktop(2.1);
    assert_int_equal(idle_check(p, &s, 2, why, sizeof why), IDLE_RUN);

    /* hysteresis: pause above 0.3, resume only at or below 0.225 */
    s = desktop(0.35);
    assert_int_equal(idle_check(p, &s, 0, why, sizeof why), IDLE_PAUSE);
    s = desktop(0.28);
    assert_int_equal(idle_check(p, &s, 0, why, sizeof why), IDLE_PAUSE);
    assert_string_equal(why, "load 0.28 from other processes");
    s = desktop(0.2);
    assert_int_equal(idle_check(p, &s, 0, why, sizeof why), IDLE_RUN);
    s = desktop(0.28);
    assert_int_equal(idle_check(p, &s, 0, why, sizeof why), IDLE_RUN);
    idle_destroy(&p);
}

static void test_device_scan(void **state) {
    fx_t *f = *state;
    char root[256], path[512], err[128], why[128];
    unsetenv("NETCOMPUTE_IDLE_SOURCE");
    snprintf(root, sizeof root, "%s/root", f->dir);

    /* nothing to look at: counts as idle */
    snprintf(path, sizeof path, "%s/dev/null-dir/x", root);
    put(path, "");
    idle_t *p = idle_new(&f->cfg, root, err, sizeof err);
    assert_non_null(p);
    sysstat_sample_t s = desktop(0);
    assert_int_equal(idle_check(p, &s, 0, why, sizeof why), IDLE_RUN);

    snprintf(path, sizeof path, "%s/dev/input/event3", root);
    put(path, "");
    age_file(path, 3600);
    snprintf(path, sizeof path, "%s/dev/input/js0", root); /* not keyboard/mouse */
    put(path, "");
    age_file(path, 1);
    assert_int_equal(idle_check(p, &s, 0, why, sizeof why), IDLE_RUN);
    assert_true(idle_input_age_s(p) >= 3600);

    /* a logged-in terminal typed into a minute ago */
    snprintf(path, sizeof path, "%s/dev/pts/7", root);
    put(path, "");
    age_file(path, 60);
    snprintf(path, sizeof path, "%s/etc/passwd", root);
    put(path, "");
    age_file(path, 0);
    snprintf(path, sizeof path, "%s/var/run/utmp", root);
    put(path, "");
    FILE *u = fopen(path, "wb");
    assert_non_null(u);
    struct utmpx rec;
    memset(&rec, 0, sizeof rec);
    rec.ut_type = USER_PROCESS;
    snprintf(rec.ut_line, sizeof rec.ut_line, "pts/../../etc/passwd"); /* hostile: ignored */
    fwrite(&rec, sizeof rec, 1, u);
    fflush(u);
    assert_int_equal(idle_check(p, &s, 0, why, sizeof why), IDLE_RUN);
    memset(&rec, 0, sizeof rec);
    rec.ut_type = DEAD_PROCESS;
    snprintf(rec.ut_line, sizeof rec.ut_line, "pts/7"); /* logged out: ignored */
    fwrite(&rec, sizeof rec, 1, u);
    fflush(u);
    assert_int_equal(idle_check(p, &s, 0, why, sizeof why), IDLE_RUN);
    rec.ut_type = USER_PROCESS;
    fwrite(&rec, sizeof rec, 1, u);
    fclose(u);
    assert_int_equal(idle_check(p, &s, 0, why, sizeof why), IDLE_PAUSE);
    assert_string_equal(why, "owner active");
    assert_true(idle_input_age_s(p) >= 59 && idle_input_age_s(p) <= 62);
    idle_destroy(&p);
}

static void spin_ms(int ms, idle_throttle_t *t) {
    int64_t end = clock_now_ms() + ms;
    volatile double x = 1;
    while (clock_now_ms() < end) {
        for (int i = 0; i < 20000; i++)
            x = x * 1.0000001 + 1e-9;
        idle_throttle_tick(t);
    }
}

static double thread_cpu_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void test_throttle(void **state) {
    (void)state;
    idle_throttle_t t;
    /* What this thread gets uncapped: on a busy shared machine it may already
     * be below the cap, and then the throttle rightly never sleeps. */
    idle_throttle_init(&t, 0);
    double c0 = thread_cpu_s();
    int64_t w0 = clock_now_us();
    spin_ms(100, &t);
    double base = 100.0 * (thread_cpu_s() - c0) / ((double)(clock_now_us() - w0) / 1e6);
    assert_int_equal(t.slept_us, 0);

    idle_throttle_init(&t, 25);
    c0 = thread_cpu_s();
    w0 = clock_now_us();
    spin_ms(500, &t);
    double cpu = thread_cpu_s() - c0;
    double wall = (double)(clock_now_us() - w0) / 1e6;
    double share = 100.0 * cpu / wall;
    print_message("uncapped %.0f %%, capped at 25 %%: %.0f %%, slept %lld ms\n", base, share,
                  (long long)t.slept_us / 1000);
    assert_true(share < 35.0);
    if (base > 60.0) assert_true(t.slept_us > 150000); /* ~375 ms when the CPU is ours */
}

static void *lower(void *arg) {
    int *out = arg;
    out[0] = idle_lower_priority();
    out[1] = getpriority(PRIO_PROCESS, (id_t)gettid());
    out[2] = sched_getscheduler(0);
    return NULL;
}

static void test_lower_priority(void **state) {
    (void)state;
    int out[3] = {-2, -2, -2};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, lower, out), 0);
    pthread_join(th, NULL);
    assert_int_equal(out[0], 0);
    assert_int_equal(out[1], 19);
    assert_int_equal(out[2], SCHED_IDLE);
    /* only the calling thread changed */
    assert_int_not_equal(getpriority(PRIO_PROCESS, (id_t)gettid()), 19);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_bad_when, setup, teardown),
        cmocka_unit_test_setup_teardown(test_always_never_pauses, setup, teardown),
        cmocka_unit_test_setup_teardown(test_owner_activity_and_hysteresis, setup, teardown),
        cmocka_unit_test_setup_teardown(test_battery_via_sysstat, setup, teardown),
        cmocka_unit_test_setup_teardown(test_load_from_others, setup, teardown),
        cmocka_unit_test_setup_teardown(test_device_scan, setup, teardown),
        cmocka_unit_test(test_throttle),
        cmocka_unit_test(test_lower_priority),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
