#include "master/master.h"

#include "common/clock.h"

uint32_t master_next_job_id(void) {
    static uint32_t last;
    uint32_t id = (uint32_t)(clock_wall_ms() / 1000);
    if (id <= last) id = last + 1;
    last = id;
    return id;
}
