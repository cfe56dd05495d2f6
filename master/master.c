#include "master/master.h"

#include "common/clock.h"
#include "common/log.h"

uint32_t master_next_job_id(void) {
    static uint32_t last;
    uint32_t id = (uint32_t)(clock_wall_ms() / 1000);
    if (id <= last) id = last + 1;
    last = id;
    return id;
}

uint32_t master_new_run(master_ctx_t *ctx, const config_t *cfg, const master_opts_t *o,
                        const char *state) {
    char err[512];
    uint32_t id;
    if (ctx->runs &&
        runs_new(ctx->runs, cfg, o, state, ctx->sched ? sched_live_workers(ctx->sched) : 0, &id,
                 err, sizeof err) == 0)
        return id;
    if (ctx->runs) log_warn("this job is not kept as a run: %s", err);
    return master_next_job_id();
}

int master_run_job(master_ctx_t *ctx, int (*driver)(master_ctx_t *)) {
    json_object_put(events_take_done(ctx->ev)); /* an earlier job's */
    sched_cancel(ctx->sched, false);
    bool run = ctx->runs && runs_start(ctx->runs, ctx->job_id, ctx->cfg, ctx->opts->cmd) == 0;
    int status = driver(ctx);
    if (*ctx->stop && status != EXIT_OK)
        status = 128 + *ctx->stop;
    else if (sched_cancelled(ctx->sched) && status != EXIT_OK)
        status = EXIT_CANCELLED;
    sched_cancel(ctx->sched, false);
    if (run) runs_finish(ctx->runs, ctx->job_id, status, events_take_done(ctx->ev));
    return status;
}

const char *master_end_state(const master_ctx_t *ctx, int status) {
    if (status == EXIT_OK) return "done";
    return ctx->sched && sched_cancelled(ctx->sched) && !*ctx->stop ? "cancelled" : "failed";
}
