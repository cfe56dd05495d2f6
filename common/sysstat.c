#include "common/sysstat.h"

#include <ctype.h>
#include <dirent.h>
#include <inttypes.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SYS_PATH 4096

struct sysstat {
    char root[SYS_PATH / 2];
    bool have_prev;
    uint64_t prev_total;
    uint64_t prev_idle;
};

sysstat_t *sysstat_new(const char *root) {
    if (!root) root = "";
    if (strlen(root) >= sizeof(((sysstat_t *)0)->root)) return NULL;
    sysstat_t *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    snprintf(s->root, sizeof s->root, "%s", root);
    return s;
}

void sysstat_destroy(sysstat_t **s) {
    if (!s || !*s) return;
    free(*s);
    *s = NULL;
}

const char *sysstat_root(const sysstat_t *s) {
    return s->root;
}

/* Reads at most bufsz-1 bytes of root+path into buf; -1 when it cannot be
 * opened. Files under /proc and /sys report size 0, so read until EOF. */
static int read_small(const sysstat_t *s, const char *path, char *buf, size_t bufsz) {
    char full[SYS_PATH];
    int n = snprintf(full, sizeof full, "%s%s", s->root, path);
    if (n < 0 || (size_t)n >= sizeof full) return -1;
    FILE *f = fopen(full, "r");
    if (!f) return -1;
    size_t got = fread(buf, 1, bufsz - 1, f);
    buf[got] = '\0';
    fclose(f);
    return 0;
}

/* Parses a kernel CPU list such as "0-3,6,8-9"; 0 when malformed. */
static int count_cpu_list(const char *p) {
    int count = 0;
    while (*p && *p != '\n') {
        char *end;
        long a = strtol(p, &end, 10);
        if (end == p || a < 0) return 0;
        long b = a;
        p = end;
        if (*p == '-') {
            b = strtol(p + 1, &end, 10);
            if (end == p + 1 || b < a) return 0;
            p = end;
        }
        if (b - a + 1 > 1 << 20) return 0;
        count += (int)(b - a + 1);
        if (*p == ',')
            p++;
        else if (*p && *p != '\n')
            return 0;
    }
    return count;
}

static int read_cores(const sysstat_t *s, const char *procstat) {
    char buf[1024];
    if (read_small(s, "/sys/devices/system/cpu/online", buf, sizeof buf) == 0) {
        int n = count_cpu_list(buf);
        if (n > 0) return n;
    }
    int n = 0;
    for (const char *p = procstat; p && *p;) {
        if (strncmp(p, "cpu", 3) == 0 && isdigit((unsigned char)p[3])) n++;
        p = strchr(p, '\n');
        if (p) p++;
    }
    if (n > 0) return n;
    if (s->root[0] == '\0') {
        long c = sysconf(_SC_NPROCESSORS_ONLN);
        if (c > 0 && c < INT_MAX) return (int)c;
    }
    return 1;
}

/* The aggregate "cpu" line: user nice system idle iowait irq softirq steal
 * [guest guest_nice]. guest time is already counted in user, so it is left out
 * of the total; idle includes iowait (a CPU waiting for disk is free to run). */
static int parse_cpu_line(const char *procstat, uint64_t *total, uint64_t *idle) {
    if (strncmp(procstat, "cpu ", 4) != 0) return -1;
    const char *p = procstat + 4;
    uint64_t v[8] = {0};
    int got = 0;
    for (; got < 8; got++) {
        char *end;
        unsigned long long x = strtoull(p, &end, 10);
        if (end == p) break;
        v[got] = x;
        p = end;
    }
    if (got < 4) return -1;
    *total = 0;
    for (int i = 0; i < 8; i++)
        *total += v[i];
    *idle = v[3] + v[4];
    return 0;
}

static double read_mem_pct(const sysstat_t *s) {
    char buf[8192];
    if (read_small(s, "/proc/meminfo", buf, sizeof buf) != 0) return 0;
    long long total = -1, avail = -1, freemem = -1, buffers = 0, cached = 0;
    for (char *line = buf; line && *line;) {
        long long v;
        if (sscanf(line, "MemTotal: %lld", &v) == 1)
            total = v;
        else if (sscanf(line, "MemAvailable: %lld", &v) == 1)
            avail = v;
        else if (sscanf(line, "MemFree: %lld", &v) == 1)
            freemem = v;
        else if (sscanf(line, "Buffers: %lld", &v) == 1)
            buffers = v;
        else if (sscanf(line, "Cached: %lld", &v) == 1)
            cached = v;
        line = strchr(line, '\n');
        if (line) line++;
    }
    /* Kernels before 3.14 have no MemAvailable; free + page cache is the
     * usual estimate there. */
    if (avail < 0 && freemem >= 0) avail = freemem + buffers + cached;
    if (total <= 0 || avail < 0) return 0;
    if (avail > total) avail = total;
    return 100.0 * (double)(total - avail) / (double)total;
}

static double read_load1(const sysstat_t *s) {
    char buf[256];
    if (read_small(s, "/proc/loadavg", buf, sizeof buf) != 0) return 0;
    char *end;
    double v = strtod(buf, &end);
    if (end == buf || v < 0 || v != v) return 0;
    return v;
}

static void strip(char *b) {
    size_t n = strlen(b);
    while (n > 0 && isspace((unsigned char)b[n - 1]))
        b[--n] = '\0';
}

static void read_power(const sysstat_t *s, sysstat_sample_t *out) {
    char dirpath[SYS_PATH];
    snprintf(dirpath, sizeof dirpath, "%s/sys/class/power_supply", s->root);
    out->has_battery = false;
    out->battery_pct = 0;
    out->on_ac = true;
    DIR *d = opendir(dirpath);
    if (!d) return;
    int batteries = 0, mains = 0, mains_online = 0, discharging = 0;
    double capacity_sum = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' || strlen(e->d_name) > 255) continue;
        char path[SYS_PATH], buf[64];
        snprintf(path, sizeof path, "/sys/class/power_supply/%s/type", e->d_name);
        if (read_small(s, path, buf, sizeof buf) != 0) continue;
        strip(buf);
        if (strcmp(buf, "Battery") == 0) {
            /* Laptops keep a supply entry for an empty battery bay. */
            snprintf(path, sizeof path, "/sys/class/power_supply/%s/present", e->d_name);
            if (read_small(s, path, buf, sizeof buf) == 0 && atoi(buf) == 0) continue;
            /* Peripheral batteries (a wireless mouse) have scope Device and
             * say nothing about what powers this PC. */
            snprintf(path, sizeof path, "/sys/class/power_supply/%s/scope", e->d_name);
            if (read_small(s, path, buf, sizeof buf) == 0) {
                strip(buf);
                if (strcmp(buf, "Device") == 0) continue;
            }
            snprintf(path, sizeof path, "/sys/class/power_supply/%s/capacity", e->d_name);
            if (read_small(s, path, buf, sizeof buf) != 0) continue;
            char *end;
            double cap = strtod(buf, &end);
            if (end == buf || cap != cap) continue;
            cap = cap < 0 ? 0 : cap > 100 ? 100 : cap;
            capacity_sum += cap;
            batteries++;
            snprintf(path, sizeof path, "/sys/class/power_supply/%s/status", e->d_name);
            if (read_small(s, path, buf, sizeof buf) == 0) {
                strip(buf);
                if (strcmp(buf, "Discharging") == 0) discharging++;
            }
        } else if (strcmp(buf, "Mains") == 0 || strncmp(buf, "USB", 3) == 0) {
            snprintf(path, sizeof path, "/sys/class/power_supply/%s/online", e->d_name);
            if (read_small(s, path, buf, sizeof buf) != 0) continue;
            mains++;
            if (atoi(buf) > 0) mains_online++;
        }
    }
    closedir(d);
    if (batteries == 0) return;
    out->has_battery = true;
    out->battery_pct = capacity_sum / batteries;
    /* The adapter's own "online" is the direct answer; without one, a battery
     * that is not discharging is being fed by something. */
    if (mains > 0)
        out->on_ac = mains_online > 0;
    else
        out->on_ac = discharging == 0;
}

static void read_hostname(const sysstat_t *s, char *out, size_t outlen) {
    char buf[256] = "";
    if (read_small(s, "/proc/sys/kernel/hostname", buf, sizeof buf) != 0 || buf[0] == '\0') {
        if (s->root[0] != '\0' || gethostname(buf, sizeof buf - 1) != 0)
            snprintf(buf, sizeof buf, "unknown");
        buf[sizeof buf - 1] = '\0';
    }
    size_t j = 0;
    for (size_t i = 0; buf[i] && j + 1 < outlen; i++) {
        unsigned char c = (unsigned char)buf[i];
        if (c == '\n') break;
        if (isalnum(c) || c == '-' || c == '.' || c == '_') out[j++] = (char)c;
    }
    out[j] = '\0';
    if (j == 0) snprintf(out, outlen, "unknown");
}

int sysstat_read(sysstat_t *s, sysstat_sample_t *out) {
    int rc = 0;
    memset(out, 0, sizeof *out);
    char *procstat = malloc(65536);
    if (procstat && read_small(s, "/proc/stat", procstat, 65536) != 0) {
        free(procstat);
        procstat = NULL;
    }
    out->cores = read_cores(s, procstat);
    uint64_t total, idle;
    if (procstat && parse_cpu_line(procstat, &total, &idle) == 0) {
        /* Counters only grow; a smaller value means the tree was swapped
         * (tests) or a CPU went offline: start over instead of reporting
         * nonsense. */
        if (s->have_prev && total > s->prev_total && idle >= s->prev_idle) {
            uint64_t dt = total - s->prev_total, di = idle - s->prev_idle;
            out->cpu_pct = di >= dt ? 0 : 100.0 * (double)(dt - di) / (double)dt;
        }
        s->have_prev = true;
        s->prev_total = total;
        s->prev_idle = idle;
    } else {
        rc = -1;
    }
    free(procstat);
    out->mem_pct = read_mem_pct(s);
    out->load1 = read_load1(s);
    read_power(s, out);
    read_hostname(s, out->hostname, sizeof out->hostname);
    return rc;
}
