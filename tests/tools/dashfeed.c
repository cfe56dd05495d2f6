/* dashfeed: runs the dashboard alone and plays a scripted cluster into it, so
 * the page and the Socket.IO stream can be tested without a master.
 *
 *   dashfeed --config FILE [--tasks N] [--task-ms MS]
 *
 * Prints "ready PORT" once the dashboard listens. Two workers (w1, w2) join at
 * once and send heartbeats every cluster.heartbeat_ms. Reading "go" on stdin
 * plays one training job: N tasks split over both workers, one task failing
 * on w2 and retried on w1, Newton iterations, progress, counters, then
 * job_done (accuracy 0.8765). "quit" or end of input stops it cleanly. */
#include "common/clock.h"
#include "common/config.h"
#include "common/log.h"
#include "dashboard/dashboard.h"

#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#define EP "inproc://events"

static volatile sig_atomic_t stop_flag;
static void on_signal(int sig)
{
    (void)sig;
    stop_flag = 1;
}

static void publish(void *pub, const char *event, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void publish(void *pub, const char *event, const char *fmt, ...)
{
    char data[2048], msg[2300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(data, sizeof(data), fmt, ap);
    va_end(ap);
    int n = snprintf(msg, sizeof(msg), "{\"event\":\"%s\",\"ts\":%lld,\"data\":%s}", event,
                     (long long)clock_wall_ms(), data);
    zmq_send(pub, msg, (size_t)n, 0);
}

typedef struct {
    int tasks, task_ms;
    int next;          /* next task to start */
    int done;
    int running[2];    /* task id per worker, -1 idle */
    int attempt[2];
    int64_t started[2];
    int64_t job_start;
    int failed_once;
    int retry; /* task waiting for its second attempt, -1 for none */
    int iter;
    bool active, finished;
} job_t;

static void heartbeat(void *pub, int w, const job_t *j, int tasks_done)
{
    bool busy = j->active && j->running[w] >= 0;
    double t = (double)clock_now_ms() / 1000.0;
    char cur[32] = "null";
    if (busy)
        snprintf(cur, sizeof(cur), "%d", j->running[w]);
    publish(pub, "worker_stats",
            "{\"id\":%d,\"name\":\"w%d\",\"host\":\"host%d\",\"cores\":%d,\"cpu\":%.1f,"
            "\"mem\":%.1f,\"battery\":%s,\"ac\":%s,\"load\":%.2f,\"state\":\"%s\",\"reason\":\"\","
            "\"tasks_done\":%d,\"current_task\":%s,\"rows_per_s\":%.0f,\"last_seen_ms\":5}",
            w + 1, w + 1, w + 1, 4 - 2 * w, busy ? 80 + 10 * sin(t + w) : 3 + w, 35 + 5 * w + 3 * sin(t),
            w ? "76" : "null", w ? "true" : "null", busy ? 1.8 : 0.1, busy ? "busy" : "idle",
            tasks_done, cur,
            busy ? 2500.0 + 300 * w : 0.0);
}

int main(int argc, char **argv)
{
    char err[512];
    const char *cfgpath = "config.json";
    job_t j = {.tasks = 12, .task_ms = 400, .running = {-1, -1}, .retry = -1};
    int done_by[2] = {0, 0};
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--config") && i + 1 < argc)
            cfgpath = argv[++i];
        else if (!strcmp(argv[i], "--tasks") && i + 1 < argc)
            j.tasks = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--task-ms") && i + 1 < argc)
            j.task_ms = atoi(argv[++i]);
        else {
            fprintf(stderr, "usage: dashfeed --config FILE [--tasks N] [--task-ms MS]\n");
            return 2;
        }
    }
    log_init("dashfeed", LOG_WARN);
    config_t cfg;
    config_defaults(&cfg);
    if (config_load(&cfg, cfgpath, false, err, sizeof(err)) != 0) {
        fprintf(stderr, "dashfeed: %s\n", err);
        return 2;
    }
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    void *ctx = zmq_ctx_new();
    void *pub = zmq_socket(ctx, ZMQ_PUB);
    int linger = 0;
    zmq_setsockopt(pub, ZMQ_LINGER, &linger, sizeof(linger));
    if (zmq_bind(pub, EP) != 0) {
        fprintf(stderr, "dashfeed: bind: %s\n", zmq_strerror(zmq_errno()));
        return 1;
    }
    dashboard_t *d = dashboard_start(ctx, &cfg, EP, NULL, err, sizeof(err));
    if (!d) {
        fprintf(stderr, "dashfeed: %s\n", err);
        zmq_close(pub);
        zmq_ctx_term(ctx);
        return 1;
    }
    usleep(200 * 1000); /* the SUB connects asynchronously */
    for (int w = 0; w < 2; w++)
        publish(pub, "worker_joined",
                "{\"id\":%d,\"name\":\"w%d\",\"host\":\"host%d\",\"cores\":%d,\"slots\":1}", w + 1,
                w + 1, w + 1, 4 - 2 * w);
    printf("ready %d\n", cfg.dashboard.port);
    fflush(stdout);

    int64_t next_hb = 0, next_counters = 0;
    bool input_open = true;
    int job_id = 1;
    while (!stop_flag) {
        int64_t now = clock_now_ms();
        if (input_open) {
            struct pollfd pfd = {0, POLLIN, 0};
            if (poll(&pfd, 1, 20) > 0) {
                char line[64];
                if (!fgets(line, sizeof(line), stdin) || !strncmp(line, "quit", 4)) {
                    input_open = false;
                    break;
                }
                if (!strncmp(line, "go", 2) && !j.active) {
                    j.active = true;
                    j.finished = false;
                    j.next = j.done = j.iter = j.failed_once = 0;
                    j.retry = -1;
                    j.job_start = clock_wall_ms();
                    publish(pub, "job_started",
                            "{\"job_id\":%d,\"mode\":\"train\",\"data\":\"Data/train.csv\","
                            "\"total_tasks\":%d,\"rows_total\":%d,\"workers\":2}",
                            job_id, j.tasks, j.tasks * 1000);
                }
            }
        } else {
            usleep(20 * 1000);
        }
        now = clock_now_ms();
        if (j.active) {
            for (int w = 0; w < 2; w++) {
                if (j.running[w] < 0 && ((j.retry >= 0 && w == 0) || j.next < j.tasks)) {
                    if (j.retry >= 0 && w == 0) { /* the retry goes to the other worker */
                        j.running[w] = j.retry;
                        j.attempt[w] = 2;
                        j.retry = -1;
                    } else {
                        j.running[w] = j.next++;
                        j.attempt[w] = 1;
                    }
                    j.started[w] = clock_wall_ms();
                } else if (j.running[w] >= 0 &&
                           clock_wall_ms() - j.started[w] >= j.task_ms * (w ? 1.3 : 1.0)) {
                    int t = j.running[w];
                    if (w == 1 && t == 3 && !j.failed_once) {
                        /* w2 loses task 3; w1 runs it again as attempt 2 */
                        j.failed_once = 1;
                        publish(pub, "task_failed",
                                "{\"job_id\":%d,\"task_id\":%d,\"worker\":\"w2\",\"attempt\":1,"
                                "\"error\":\"worker stopped answering\",\"ts\":%lld}",
                                job_id, t, (long long)clock_wall_ms());
                        j.running[w] = -1;
                        j.retry = t;
                        continue;
                    }
                    publish(pub, "task_done",
                            "{\"job_id\":%d,\"task_id\":%d,\"shard\":%d,\"worker\":\"w%d\","
                            "\"attempt\":%d,\"start_ms\":%lld,\"end_ms\":%lld,\"rows\":1000}",
                            job_id, t, t, w + 1, j.attempt[w], (long long)j.started[w],
                            (long long)clock_wall_ms());
                    done_by[w]++;
                    j.done++;
                    j.running[w] = -1;
                    double f = 700.0 * pow(0.55, j.iter);
                    publish(pub, "iteration",
                            "{\"job_id\":%d,\"class\":0,\"iter\":%d,\"f\":%.4f,\"gnorm\":%.4f,"
                            "\"cg\":%d,\"secs\":0.05}",
                            job_id, j.iter + 1, f, 90.0 * pow(0.35, j.iter), 3 + j.iter % 4);
                    j.iter++;
                    double el = (double)(clock_wall_ms() - j.job_start) / 1000.0;
                    double rate = el > 0 ? j.done * 1000.0 / el : 0;
                    publish(pub, "job_progress",
                            "{\"job_id\":%d,\"phase\":\"training\",\"done_tasks\":%d,"
                            "\"total_tasks\":%d,\"rows_done\":%d,\"rows_total\":%d,"
                            "\"rate_rows_s\":%.1f,\"eta_s\":%.2f,\"workers\":2}",
                            job_id, j.done, j.tasks, j.done * 1000, j.tasks * 1000, rate,
                            rate > 0 ? (j.tasks - j.done) * 1000.0 / rate : 0.0);
                }
            }
            if (j.done >= j.tasks) {
                j.active = false;
                publish(pub, "job_done",
                        "{\"job_id\":%d,\"state\":\"done\",\"duration_s\":%.3f,\"accuracy\":0.8765,"
                        "\"outputs\":{\"model\":\"Data/model.txt\",\"submission\":"
                        "\"Data/submission_train.csv\"},\"error\":null}",
                        job_id, (double)(clock_wall_ms() - j.job_start) / 1000.0);
                job_id++;
            }
        }
        if (now >= next_hb) {
            for (int w = 0; w < 2; w++)
                heartbeat(pub, w, &j, done_by[w]);
            next_hb = now + cfg.cluster.heartbeat_ms;
        }
        if (now >= next_counters) {
            publish(pub, "counters",
                    "{\"messages_dropped\":{\"malformed\":0},\"tasks\":{\"done\":%d,\"failed\":%d,"
                    "\"retried\":%d,\"speculative\":0},\"rows_processed\":%d}",
                    done_by[0] + done_by[1], j.failed_once, j.failed_once,
                    (done_by[0] + done_by[1]) * 1000);
            next_counters = now + 1000;
        }
    }
    dashboard_stop(&d);
    zmq_close(pub);
    zmq_ctx_term(ctx);
    return 0;
}
