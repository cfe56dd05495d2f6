/* sysstat against fake /proc and /sys trees in a temporary directory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/sysstat.h"

typedef struct {
    char root[256];
} tree_t;

static void put(const tree_t *t, const char *rel, const char *text) {
    char path[1024];
    snprintf(path, sizeof path, "%s%s", t->root, rel);
    /* mkdir -p of the parent */
    for (char *p = path + strlen(t->root) + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            mkdir(path, 0755);
            *p = '/';
        }
    }
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static int setup(void **state) {
    tree_t *t = calloc(1, sizeof *t);
    if (!t) return -1;
    snprintf(t->root, sizeof t->root, "/tmp/nc-sysstat-XXXXXX");
    if (!mkdtemp(t->root)) {
        free(t);
        return -1;
    }
    put(t, "/proc/stat",
        "cpu  100 0 100 800 0 0 0 0 0 0\ncpu0 50 0 50 400 0 0 0 0 0 0\n"
        "cpu1 50 0 50 400 0 0 0 0 0 0\nintr 1\n");
    put(t, "/proc/meminfo",
        "MemTotal:       1000000 kB\nMemFree:         100000 kB\n"
        "MemAvailable:    250000 kB\nBuffers: 1 kB\n");
    put(t, "/proc/loadavg", "1.75 0.50 0.25 2/300 4242\n");
    put(t, "/proc/sys/kernel/hostname", "lab-pc-07\n");
    *state = t;
    return 0;
}

static int teardown(void **state) {
    tree_t *t = *state;
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", t->root);
    if (system(cmd) != 0) return -1;
    free(t);
    return 0;
}

static void test_basic_figures(void **state) {
    tree_t *t = *state;
    sysstat_t *s = sysstat_new(t->root);
    assert_non_null(s);
    sysstat_sample_t x;
    assert_int_equal(sysstat_read(s, &x), 0);
    assert_int_equal(x.cores, 2);  /* counted from cpuN lines: no /sys cpu list */
    assert_true(x.cpu_pct == 0.0); /* first sample */
    assert_true(x.mem_pct > 74.99 && x.mem_pct < 75.01);
    assert_true(x.load1 > 1.749 && x.load1 < 1.751);
    assert_false(x.has_battery);
    assert_true(x.on_ac);
    assert_string_equal(x.hostname, "lab-pc-07");

    put(t, "/sys/devices/system/cpu/online", "0-3,6,8-9\n");
    assert_int_equal(sysstat_read(s, &x), 0);
    assert_int_equal(x.cores, 7);
    sysstat_destroy(&s);
    assert_null(s);
}

static void test_cpu_delta(void **state) {
    tree_t *t = *state;
    sysstat_t *s = sysstat_new(t->root);
    assert_non_null(s);
    sysstat_sample_t x;
    assert_int_equal(sysstat_read(s, &x), 0);
    /* +300 busy (user 200, system 50, irq 50), +100 idle, +100 iowait:
     * total +500, idle +200 -> 60 % busy. guest (+40) is inside user already. */
    put(t, "/proc/stat", "cpu  300 0 150 900 100 50 0 0 40 0\n");
    assert_int_equal(sysstat_read(s, &x), 0);
    assert_true(x.cpu_pct > 59.99 && x.cpu_pct < 60.01);
    /* no time passed: 0, not a division by zero */
    assert_int_equal(sysstat_read(s, &x), 0);
    assert_true(x.cpu_pct == 0.0);
    /* counters going backwards (new tree): 0 and a fresh baseline */
    put(t, "/proc/stat", "cpu  10 0 10 10 0 0 0 0 0 0\n");
    assert_int_equal(sysstat_read(s, &x), 0);
    assert_true(x.cpu_pct == 0.0);
    put(t, "/proc/stat", "cpu  110 0 10 10 0 0 0 0 0 0\n");
    assert_int_equal(sysstat_read(s, &x), 0);
    assert_true(x.cpu_pct > 99.99);
    sysstat_destroy(&s);
}

static void test_missing_proc(void **state) {
    (void)state;
    sysstat_t *s = sysstat_new("/nonexistent-nc-root");
    assert_non_null(s);
    sysstat_sample_t x;
    assert_int_equal(sysstat_read(s, &x), -1);
    assert_int_equal(x.cores, 1);
    assert_true(x.mem_pct == 0.0);
    assert_false(x.has_battery);
    assert_true(x.on_ac);
    assert_string_equal(x.hostname, "unknown");
    sysstat_destroy(&s);
    sysstat_destroy(&s); /* NULL-safe */
}

static void test_mem_without_memavailable(void **state) {
    tree_t *t = *state;
    put(t, "/proc/meminfo",
        "MemTotal: 1000 kB\nMemFree: 100 kB\nBuffers: 100 kB\nCached: 300 kB\n");
    sysstat_t *s = sysstat_new(t->root);
    assert_non_null(s);
    sysstat_sample_t x;
    sysstat_read(s, &x);
    assert_true(x.mem_pct > 49.99 && x.mem_pct < 50.01);
    sysstat_destroy(&s);
}

static void test_battery_and_ac(void **state) {
    tree_t *t = *state;
    sysstat_t *s = sysstat_new(t->root);
    assert_non_null(s);
    sysstat_sample_t x;

    /* A mouse battery (scope Device) is not the PC's battery. */
    put(t, "/sys/class/power_supply/hidpp_battery_0/type", "Battery\n");
    put(t, "/sys/class/power_supply/hidpp_battery_0/scope", "Device\n");
    put(t, "/sys/class/power_supply/hidpp_battery_0/capacity", "5\n");
    sysstat_read(s, &x);
    assert_false(x.has_battery);
    assert_true(x.on_ac);

    put(t, "/sys/class/power_supply/BAT0/type", "Battery\n");
    put(t, "/sys/class/power_supply/BAT0/capacity", "80\n");
    put(t, "/sys/class/power_supply/BAT0/status", "Discharging\n");
    sysstat_read(s, &x);
    assert_true(x.has_battery);
    assert_true(x.battery_pct > 79.99 && x.battery_pct < 80.01);
    assert_false(x.on_ac); /* no adapter entry: status decides */

    put(t, "/sys/class/power_supply/BAT0/status", "Charging\n");
    sysstat_read(s, &x);
    assert_true(x.on_ac);

    put(t, "/sys/class/power_supply/AC/type", "Mains\n");
    put(t, "/sys/class/power_supply/AC/online", "0\n");
    sysstat_read(s, &x);
    assert_false(x.on_ac); /* the adapter's word wins over the status */

    put(t, "/sys/class/power_supply/AC/online", "1\n");
    put(t, "/sys/class/power_supply/BAT1/type", "Battery\n");
    put(t, "/sys/class/power_supply/BAT1/capacity", "40\n");
    sysstat_read(s, &x);
    assert_true(x.on_ac);
    assert_true(x.battery_pct > 59.99 && x.battery_pct < 60.01);

    /* empty second bay */
    put(t, "/sys/class/power_supply/BAT1/present", "0\n");
    sysstat_read(s, &x);
    assert_true(x.battery_pct > 79.99 && x.battery_pct < 80.01);
    sysstat_destroy(&s);
}

static void test_hostile_hostname(void **state) {
    tree_t *t = *state;
    char big[1000];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    big[3] = '\033';
    big[4] = '"';
    put(t, "/proc/sys/kernel/hostname", big);
    sysstat_t *s = sysstat_new(t->root);
    assert_non_null(s);
    sysstat_sample_t x;
    sysstat_read(s, &x);
    assert_true(strlen(x.hostname) < SYSSTAT_HOST);
    assert_null(strchr(x.hostname, '"'));
    assert_null(strchr(x.hostname, '\033'));
    sysstat_destroy(&s);
}

static void test_real_system(void **state) {
    (void)state;
    sysstat_t *s = sysstat_new("");
    assert_non_null(s);
    sysstat_sample_t x;
    assert_int_equal(sysstat_read(s, &x), 0);
    assert_true(x.cores >= 1);
    assert_true(x.mem_pct > 0 && x.mem_pct <= 100);
    assert_true(x.hostname[0] != '\0');
    assert_int_equal(sysstat_read(s, &x), 0);
    assert_true(x.cpu_pct >= 0 && x.cpu_pct <= 100);
    sysstat_destroy(&s);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_basic_figures, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cpu_delta, setup, teardown),
        cmocka_unit_test(test_missing_proc),
        cmocka_unit_test_setup_teardown(test_mem_without_memavailable, setup, teardown),
        cmocka_unit_test_setup_teardown(test_battery_and_ac, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hostile_hostname, setup, teardown),
        cmocka_unit_test(test_real_system),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
