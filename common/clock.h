/* clock: the one source of time.
 *
 * clock_now_ms() is monotonic (CLOCK_MONOTONIC) and is what every timeout and
 * deadline is computed from; clock_wall_ms() is wall time for timestamps shown
 * to people or stored in history. */
#ifndef NC_CLOCK_H
#define NC_CLOCK_H

#include <stdint.h>

int64_t clock_now_ms(void);
int64_t clock_now_us(void);
int64_t clock_wall_ms(void);

/* Milliseconds from now until deadline, never negative; -1 stays -1 (no deadline). */
int64_t clock_until(int64_t deadline_ms);

#endif
