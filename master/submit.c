/* submit: a job for a running master over its REST API. See submit.h. */
#include "master/submit.h"

#include "common/clock.h"
#include "common/jsonx.h"
#include "common/log.h"
#include "master/master.h"
#include "master/progress.h"
#include "master/search.h"
#include "common/model.h"

#include <arpa/inet.h>
#include <errno.h>
#include <json-c/json.h>
#include <limits.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define MAX_ANSWER (4 << 20) /* a job summary or run.json is far smaller */
#define POLL_MS 300
#define IO_TIMEOUT_S 10

typedef struct client {
    char host[CONFIG_STR + 1];
    char port[16];
    const char *token;
} client_t;

/* One answer: status and body (NUL-terminated, caller frees). */
typedef struct answer {
    int status;
    char *body;
} answer_t;

static int connect_to(const client_t *c, char *err, size_t errlen) {
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *ai = NULL;
    int g = getaddrinfo(c->host, c->port, &hints, &ai);
    if (g != 0) {
        snprintf(err, errlen, "cannot resolve %s: %s", c->host, gai_strerror(g));
        return -1;
    }
    int fd = -1, why = 0;
    for (struct addrinfo *a = ai; a && fd < 0; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
        if (fd < 0) continue;
        struct timeval tv = {.tv_sec = IO_TIMEOUT_S};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        if (connect(fd, a->ai_addr, a->ai_addrlen) != 0) {
            why = errno;
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(ai);
    if (fd < 0)
        snprintf(err, errlen, "cannot reach the master's dashboard at http://%s:%s: %s", c->host,
                 c->port, strerror(why));
    return fd;
}

static int send_all(int fd, const char *p, size_t n) {
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* One HTTP/1.0 request (the server closes after its answer). body may be
 * NULL (GET). Returns 0 with *a filled, or -1 with err. */
static int request(const client_t *c, const char *method, const char *path, const char *body,
                   answer_t *a, char *err, size_t errlen) {
    char head[1024 + CONFIG_STR];
    size_t cap = 1 << 16, len = 0;
    char *buf = NULL;
    int rc = -1;
    a->status = 0;
    a->body = NULL;
    int fd = connect_to(c, err, errlen);
    if (fd < 0) return -1;
    size_t blen = body ? strlen(body) : 0;
    int n = snprintf(head, sizeof head,
                     "%s %s HTTP/1.0\r\nHost: %s:%s\r\n%s%s%s"
                     "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n",
                     method, path, c->host, c->port, c->token[0] ? "Authorization: Bearer " : "",
                     c->token, c->token[0] ? "\r\n" : "", blen);
    if (n < 0 || (size_t)n >= sizeof head || send_all(fd, head, (size_t)n) < 0 ||
        (blen && send_all(fd, body, blen) < 0)) {
        snprintf(err, errlen, "cannot send to the master's dashboard: %s", strerror(errno));
        goto out;
    }
    if (!(buf = malloc(cap + 1))) goto oom;
    for (;;) {
        if (len == cap) {
            if (cap >= MAX_ANSWER) {
                snprintf(err, errlen, "the dashboard's answer is too large");
                goto out;
            }
            char *p = realloc(buf, cap * 2 + 1);
            if (!p) goto oom;
            buf = p;
            cap *= 2;
        }
        ssize_t r = recv(fd, buf + len, cap - len, 0);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) {
            snprintf(err, errlen, "no answer from the master's dashboard: %s", strerror(errno));
            goto out;
        }
        if (r == 0) break;
        len += (size_t)r;
    }
    buf[len] = 0;
    char *sep = strstr(buf, "\r\n\r\n");
    if (!sep || sscanf(buf, "HTTP/%*s %d", &a->status) != 1) {
        snprintf(err, errlen, "bad HTTP answer from the master's dashboard");
        goto out;
    }
    sep += 4;
    if (!(a->body = strdup(sep))) goto oom;
    rc = 0;
    goto out;
oom:
    snprintf(err, errlen, "out of memory");
out:
    free(buf);
    close(fd);
    return rc;
}

/* The body's JSON object, or NULL. */
static json_object *answer_json(const answer_t *a) {
    return a->body ? jsonx_parse_object(a->body, strlen(a->body), NULL, NULL, 0) : NULL;
}

/* The "error" of an answer, or its status. */
static const char *answer_error(const answer_t *a, char *buf, size_t len) {
    json_object *o = answer_json(a), *v;
    if (o && json_object_object_get_ex(o, "error", &v) && json_object_is_type(v, json_type_string))
        snprintf(buf, len, "%s", json_object_get_string(v));
    else
        snprintf(buf, len, "HTTP %d", a->status);
    json_object_put(o);
    return buf;
}

/* path, relative to root (both as given; path resolved as the master would:
 * a new output by its folder). Returns 0, or -1 with err. */
static int relative_to(const char *root, const char *path, const char *what, char *out,
                       size_t outlen, char *err, size_t errlen) {
    char real_root[PATH_MAX], real[PATH_MAX], dir[PATH_MAX];
    if (!realpath(root, real_root)) {
        snprintf(err, errlen, "dashboard.files '%.300s': %s", root, strerror(errno));
        return -1;
    }
    if (!realpath(path, real)) {
        /* an output not written yet: its folder must exist */
        const char *slash = strrchr(path, '/');
        snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - path) : 1, slash ? path : ".");
        if (slash == path) snprintf(dir, sizeof dir, "/");
        if (!realpath(dir, real) ||
            strlen(real) + strlen(slash ? slash : "/") + strlen(path) + 2 >= sizeof real) {
            snprintf(err, errlen, "%s %.300s: %s", what, path, strerror(errno));
            return -1;
        }
        size_t n = strlen(real);
        snprintf(real + n, sizeof real - n, "/%s", slash ? slash + 1 : path);
    }
    size_t n = strlen(real_root);
    if (strncmp(real, real_root, n) != 0 || real[n] != '/') {
        snprintf(err, errlen,
                 "%s %.300s is not inside dashboard.files (%.300s): a submitted job reads and "
                 "writes only there",
                 what, path, root);
        return -1;
    }
    snprintf(out, outlen, "%s", real + n + 1);
    return 0;
}

static void add_str(json_object *o, const char *k, const char *v) {
    json_object_object_add(o, k, json_object_new_string(v));
}

static void add_num(json_object *o, const char *k, double v) {
    char text[64];
    snprintf(text, sizeof text, "%.17g", v);
    add_str(o, k, text);
}

/* A search's own options: "C-list" and "solvers" as the command line's
 * lists, "no-final". */
static void add_search(json_object *j, const master_opts_t *o) {
    char list[SEARCH_MAX_C * 26] = "";
    for (int i = 0; i < o->nc; i++)
        snprintf(list + strlen(list), sizeof list - strlen(list), "%s%.17g", i ? "," : "",
                 o->c_list[i]);
    if (o->nc > 0) add_str(j, "C-list", list);
    list[0] = 0;
    for (int i = 0; i < o->nsolvers; i++)
        snprintf(list + strlen(list), sizeof list - strlen(list), "%s%d", i ? "," : "",
                 o->solvers[i]);
    if (o->nsolvers > 0) add_str(j, "solvers", list);
    if (o->no_final) json_object_object_add(j, "no-final", json_object_new_boolean(true));
}

/* The job's JSON: the effective options of this command line. */
static json_object *job_json(const master_opts_t *o, const config_t *cfg, char *err,
                             size_t errlen) {
    bool train = o->submit_mode != CMD_TEST; /* train, search */
    char rel[PATH_MAX];
    json_object *j = json_object_new_object();
    if (!j) return NULL;
    add_str(j, "mode", o->submit_mode == CMD_SEARCH ? "search" : train ? "train" : "test");
    const char *paths[3][2] = {{"data", train ? cfg->data.train : cfg->data.test},
                               {"model", cfg->model.file},
                               {"out", train ? cfg->output.train : cfg->output.test}};
    for (int i = 0; i < 3; i++) {
        char what[16];
        snprintf(what, sizeof what, "--%s", paths[i][0]);
        if (relative_to(cfg->dashboard.files, paths[i][1], what, rel, sizeof rel, err, errlen) <
            0) {
            json_object_put(j);
            return NULL;
        }
        add_str(j, paths[i][0], rel);
    }
    add_str(j, "label", cfg->data.label);
    add_str(j, "id", cfg->data.id);
    add_str(j, "format", cfg->data.format);
    if (train) {
        add_str(j, "scale", cfg->data.scale);
        add_str(j, "solver", cfg->model.solver);
        add_num(j, "C", cfg->model.C);
        add_num(j, "eps", cfg->model.eps);
        add_num(j, "bias", cfg->model.bias);
        add_str(j, "strategy", cfg->model.strategy);
        add_num(j, "rounds", cfg->model.rounds);
        if (o->cv_folds > 0) add_num(j, "cv", o->cv_folds);
    }
    if (o->submit_mode == CMD_SEARCH) add_search(j, o);
    add_num(j, "shard-rows", cfg->cluster.shard_rows);
    add_num(j, "min-workers", o->min_workers);
    return j;
}

static double num(json_object *o, const char *k, double def) {
    json_object *v;
    if (!o || !json_object_object_get_ex(o, k, &v) || !v) return def;
    if (!json_object_is_type(v, json_type_int) && !json_object_is_type(v, json_type_double))
        return def;
    return json_object_get_double(v);
}

static const char *str(json_object *o, const char *k) {
    json_object *v;
    if (!o || !json_object_object_get_ex(o, k, &v) || !json_object_is_type(v, json_type_string))
        return NULL;
    return json_object_get_string(v);
}

/* Draws the job's progress as a direct run's progress line does. */
static void draw(json_object *sum, bool tty, bool quiet, int64_t *last_log, bool *drawn) {
    json_object *p = NULL;
    if (!json_object_object_get_ex(sum, "progress", &p) || !p) return;
    const char *unit = str(p, "unit");
    bool iters = unit && strcmp(unit, "iterations") == 0, rows = unit && strcmp(unit, "rows") == 0;
    progress_view_t v = {.phase = str(p, "phase") ? str(p, "phase") : "",
                         .frac = num(p, "fraction", 0),
                         .newton = iters,
                         .iter = (int)num(p, "done", 0),
                         .cg = (long)num(p, "cg_steps", 0),
                         .rows_done = rows ? (uint64_t)num(p, "done", 0) : 0,
                         .rows_total = rows ? (uint64_t)num(p, "total", 0) : 0,
                         .tasks_done = rows ? 0 : (uint64_t)num(p, "done", 0),
                         .tasks_total = rows ? 0 : (uint64_t)num(p, "total", 0),
                         .rate = num(sum, "rate_rows_s", 0),
                         .workers = (int)num(sum, "workers", 0),
                         .eta = num(sum, "eta_s", -1)};
    char line[256];
    if (tty) {
        progress_format(&v, true, line, sizeof line);
        struct winsize ws;
        if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 1 && ws.ws_col <= sizeof line)
            line[ws.ws_col - 1] = 0;
        log_status(line);
        *drawn = true;
    } else if (!quiet && clock_now_ms() - *last_log >= 1000) {
        *last_log = clock_now_ms();
        progress_format(&v, false, line, sizeof line);
        log_info("%s", line);
    }
}

/* A search's table from its metrics ("search": {folds, best, results}), as
 * `master search` prints it. */
static void report_search(json_object *m, bool quiet) {
    json_object *js = NULL, *rs = NULL;
    if (!m || !json_object_object_get_ex(m, "search", &js) ||
        !json_object_object_get_ex(js, "results", &rs) || !json_object_is_type(rs, json_type_array))
        return;
    int n = (int)json_object_array_length(rs);
    search_result_t *r = calloc(n > 0 ? (size_t)n : 1, sizeof *r);
    if (!r) return;
    for (int i = 0; i < n; i++) {
        json_object *e = json_object_array_get_idx(rs, (size_t)i);
        const char *solver = str(e, "solver");
        r[i] = (search_result_t){.solver = solver ? model_solver_parse(solver) : -1,
                                 .c = num(e, "C", 0),
                                 .accuracy = num(e, "cv_accuracy", 0),
                                 .log_loss = num(e, "cv_log_loss", -1),
                                 .secs = num(e, "secs", 0)};
    }
    search_print(stdout, r, n, (int)num(js, "best", -1), (int)num(js, "folds", 0), quiet);
    free(r);
}

/* The accuracy lines of a finished job, as a direct run prints them with -q. */
static void report(const client_t *c, long id, json_object *sum, const master_opts_t *o) {
    bool train = o->submit_mode != CMD_TEST;
    char path[96], err[256];
    answer_t a;
    snprintf(path, sizeof path, "/api/jobs/%ld/files/metrics.json", id);
    json_object *m = NULL;
    if (request(c, "GET", path, NULL, &a, err, sizeof err) == 0 && a.status == 200)
        m = answer_json(&a);
    free(a.body);
    double acc = num(sum, "accuracy", -1);
    if (o->submit_mode == CMD_SEARCH) report_search(m, o->verbosity < 0);
    if (train) {
        if (acc >= 0)
            printf("Training accuracy = %.4f%% (%.0f rows)\n", 100.0 * acc,
                   num(sum, "rows_total", 0));
        double cv = num(m, "cv_accuracy", -1);
        if (cv >= 0 && o->submit_mode == CMD_TRAIN)
            printf("Cross Validation Accuracy = %.4f%% (%d folds)\n", 100.0 * cv, o->cv_folds);
    } else if (m && num(m, "rows", 0) > 0) {
        printf("Accuracy = %.4f%% (%.0f/%.0f)\n", 100.0 * num(m, "accuracy", 0),
               num(m, "correct", 0), num(m, "rows", 0));
    }
    fflush(stdout);
    json_object_put(m);
}

/* The failed run's own error line, as a direct run prints it: REST keeps
 * only a public form of it (no file contents), its job.log (a run file REST
 * serves to the same token) the whole line. Prints nothing when it is not
 * there. */
static bool print_raw_error(const client_t *c, long id) {
    char path[96], err[256], want[64];
    answer_t a;
    bool printed = false;
    snprintf(path, sizeof path, "/api/jobs/%ld/files/job.log", id);
    if (request(c, "GET", path, NULL, &a, err, sizeof err) == 0 && a.status == 200 && a.body) {
        int n = snprintf(want, sizeof want, "run %ld failed (exit status ", id);
        /* the driver's error lines (log_fail), else the run's last words */
        char *last = NULL;
        for (char *line = strtok(a.body, "\n"); line; line = strtok(NULL, "\n")) {
            char *e = strstr(line, " master error: ");
            if (e) {
                fprintf(stderr, "master: %s\n", e + 15);
                printed = true;
            } else if (strncmp(line, want, (size_t)n) == 0 && strstr(line, "): ")) {
                last = strstr(line, "): ") + 3;
            }
        }
        if (!printed && last) {
            fprintf(stderr, "master: %s\n", last);
            printed = true;
        }
    }
    free(a.body);
    return printed;
}

/* The exit status a failed run ended with (its run.json), 1 when unknown. */
static int failed_status(const client_t *c, long id) {
    char path[96], err[256];
    answer_t a;
    int status = EXIT_JOB_FAILED;
    snprintf(path, sizeof path, "/api/jobs/%ld/files/run.json", id);
    if (request(c, "GET", path, NULL, &a, err, sizeof err) == 0 && a.status == 200) {
        json_object *r = answer_json(&a);
        double s = num(r, "status", 1);
        if (s >= 1 && s <= 3) status = (int)s;
        json_object_put(r);
    }
    free(a.body);
    return status;
}

/* Posts the job, waiting for a master that is starting. The run id, or -1. */
static long post_job(const client_t *c, const char *text, volatile sig_atomic_t *stop) {
    char err[512], why[256];
    answer_t a = {0};
    int64_t deadline = clock_now_ms() + SUBMIT_CONNECT_S * 1000;
    while (request(c, "POST", "/api/jobs", text, &a, err, sizeof err) < 0) {
        if (*stop || clock_now_ms() >= deadline) {
            fprintf(stderr, "master: %s (is `master serve` running?)\n", err);
            return -1;
        }
        struct timespec ts = {0, 200 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    long id = -1;
    json_object *o = answer_json(&a), *v;
    if (a.status == 200 && o && json_object_object_get_ex(o, "id", &v))
        id = (long)json_object_get_int64(v);
    else
        fprintf(
            stderr, "master: the master refused the job: %s%s\n", answer_error(&a, why, sizeof why),
            a.status == 401 ? " (set dashboard.token in the config to the master's token)" : "");
    json_object_put(o);
    free(a.body);
    return id;
}

int submit_run(const master_opts_t *o, const config_t *cfg, volatile sig_atomic_t *stop) {
    char err[1024], path[64];
    client_t c = {.token = cfg->dashboard.token};
    const char *h = cfg->dashboard.host;
    /* a wildcard bind is reached on this machine's loopback */
    snprintf(c.host, sizeof c.host, "%s",
             strcmp(h, "*") == 0 || strcmp(h, "0.0.0.0") == 0 || strcmp(h, "::") == 0 ? "127.0.0.1"
                                                                                      : h);
    snprintf(c.port, sizeof c.port, "%d", cfg->dashboard.port);
    json_object *job = job_json(o, cfg, err, sizeof err);
    if (!job) {
        fprintf(stderr, "master: %s\n", err);
        return EXIT_USAGE;
    }
    long id = post_job(&c, json_object_to_json_string_ext(job, JSON_C_TO_STRING_PLAIN), stop);
    json_object_put(job);
    if (id < 0) return *stop ? 128 + *stop : EXIT_USAGE;
    log_info("run %ld submitted to http://%s:%s", id, c.host, c.port);
    bool tty = isatty(STDERR_FILENO), drawn = false;
    int64_t last_log = 0;
    int status = EXIT_JOB_FAILED;
    snprintf(path, sizeof path, "/api/jobs/%ld", id);
    for (;;) {
        answer_t a;
        if (*stop) {
            snprintf(path, sizeof path, "/api/jobs/%ld/cancel", id);
            if (request(&c, "POST", path, "{}", &a, err, sizeof err) == 0) free(a.body);
            if (drawn) log_status(NULL);
            fprintf(stderr, "master: stopped by %s: run %ld cancelled on the master\n",
                    *stop == SIGTERM ? "SIGTERM" : "SIGINT", id);
            return 128 + *stop;
        }
        if (request(&c, "GET", path, NULL, &a, err, sizeof err) < 0) {
            if (drawn) log_status(NULL);
            fprintf(stderr, "master: run %ld: %s\n", id, err);
            return EXIT_JOB_FAILED;
        }
        json_object *sum = a.status == 200 ? answer_json(&a) : NULL;
        free(a.body);
        const char *state = str(sum, "state");
        if (state && strcmp(state, "queued") != 0 && strcmp(state, "running") != 0) {
            if (drawn) log_status(NULL);
            if (strcmp(state, "done") == 0) {
                report(&c, id, sum, o);
                status = EXIT_OK;
            } else if (strcmp(state, "cancelled") == 0) {
                fprintf(stderr, "master: run %ld was cancelled\n", id);
            } else {
                if (!print_raw_error(&c, id))
                    fprintf(stderr, "master: run %ld failed: %s\n", id,
                            str(sum, "error") ? str(sum, "error") : "see its job.log");
                status = failed_status(&c, id);
            }
            json_object_put(sum);
            return status;
        }
        if (sum) draw(sum, tty, o->verbosity < 0, &last_log, &drawn);
        json_object_put(sum);
        struct timespec ts = {0, POLL_MS * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}
