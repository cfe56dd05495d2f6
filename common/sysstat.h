/* sysstat: the figures a worker reports in its heartbeats, read from /proc and /sys.
 *
 * A sysstat_t remembers the previous /proc/stat sample so that cpu_pct is the
 * busy share of all CPUs between two sysstat_read() calls (the first read
 * reports 0). Everything else is an instantaneous reading:
 *   cores       online CPUs (/sys/devices/system/cpu/online, else /proc/stat)
 *   mem_pct     (MemTotal - MemAvailable) / MemTotal from /proc/meminfo
 *   load1       first field of /proc/loadavg
 *   battery     every supply under /sys/class/power_supply of type Battery (mean capacity);
 *               on_ac from a supply of type Mains/USB that is online, else from
 *               the battery status (Discharging = on battery). A PC without a
 *               battery reports has_battery false and on_ac true.
 *   hostname    /proc/sys/kernel/hostname, else gethostname(); only printable
 *               ASCII is kept so a strange name cannot break a heartbeat.
 *
 * Test seam: root prefixes every /proc and /sys path ("" = the real system),
 * so tests build a fake tree in a temporary directory.
 */
#ifndef NC_SYSSTAT_H
#define NC_SYSSTAT_H

#include <stdbool.h>

#define SYSSTAT_HOST 65 /* HOST_NAME_MAX + NUL */

typedef struct sysstat_sample {
    int cores;
    double cpu_pct; /* 0..100, all CPUs together */
    double mem_pct; /* 0..100 */
    double load1;
    bool has_battery;
    double battery_pct; /* 0..100; 0 when !has_battery */
    bool on_ac;         /* true when there is no battery information */
    char hostname[SYSSTAT_HOST];
} sysstat_sample_t;

typedef struct sysstat sysstat_t;

/* Returns a reader for the tree under root (NULL or "" = real system); NULL when
 * out of memory or root is too long. Caller owns it. */
sysstat_t *sysstat_new(const char *root);

/* Fills out. Missing files leave their figure at a neutral value (cores 1,
 * percentages 0, no battery); returns -1 only when /proc/stat cannot be read,
 * and then out still holds everything else. */
int sysstat_read(sysstat_t *s, sysstat_sample_t *out);

/* Frees *s and sets it to NULL; NULL-safe. */
void sysstat_destroy(sysstat_t **s);

/* The root this reader was made with ("" = real system); borrowed. */
const char *sysstat_root(const sysstat_t *s);

#endif
