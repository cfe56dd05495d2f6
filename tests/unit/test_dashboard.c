/* Dashboard end to end inside one process: a PUB socket stands in for the
 * master's event stream and a REP thread for its job queue; the dashboard runs
 * on a free loopback port with a temporary history file and web root, and the
 * tests talk to it over plain TCP (HTTP/1.1 and a minimal websocket client). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <json-c/json.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "common/clock.h"
#include "common/config.h"
#include "common/log.h"
#include "dashboard/dashboard.h"
#include "tests/unit/freeport.h"

#define EVENTS_EP "inproc://test-events"
#define COMMANDS_EP "inproc://test-commands"
#define TOKEN "s3cret-token"

typedef struct {
    void *zctx;
    void *pub;
    void *rep;
    pthread_t rep_thr;
    volatile int rep_stop;
    volatile int rep_silent; /* answer nothing: the dashboard must time out */
    char dir[128];
    char outside[256];
    config_t cfg;
    dashboard_t *d;
    int port;
} fx_t;

static fx_t F;

/* ---- helpers ---- */

static void sleep_ms(int ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static int tcp_connect(int port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    struct timeval tv = {8, 0};
    if (fd < 0) return -1;
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static int send_all(int fd, const void *buf, size_t len) {
    const char *p = buf;
    while (len) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n <= 0) return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* One HTTP/1.1 request with Connection: close. Returns the status; *body (caller
 * frees) gets the body, *head the headers when asked. headers NULL: the
 * token when one is in force, and Content-Type: application/json with a
 * body; "" sends neither. */
static int http(const char *method, const char *path, const char *headers, const char *body,
                char **out_body, char **out_head) {
    char req[4096];
    int fd = tcp_connect(F.port);
    if (fd < 0) return -1;
    const char *auth = F.cfg.dashboard.token[0] ? "Authorization: Bearer " TOKEN "\r\n" : "";
    snprintf(req, sizeof(req), "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n%s%s\r\n",
             method, path, headers ? headers : auth,
             body && (!headers || (*headers && !strstr(headers, "Content-Type")))
                 ? "Content-Type: application/json\r\n"
                 : "");
    size_t blen = body ? strlen(body) : 0;
    if (body) {
        char cl[64];
        req[strlen(req) - 2] = '\0'; /* re-open the header block */
        snprintf(cl, sizeof(cl), "Content-Length: %zu\r\n\r\n", blen);
        strncat(req, cl, sizeof(req) - strlen(req) - 1);
    }
    if (send_all(fd, req, strlen(req)) != 0 || (blen && send_all(fd, body, blen) != 0)) {
        close(fd);
        return -1;
    }
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap + 1);
    for (;;) {
        if (len == cap) {
            cap *= 2;
            buf = realloc(buf, cap + 1);
        }
        ssize_t n = recv(fd, buf + len, cap - len, 0);
        if (n <= 0) break;
        len += (size_t)n;
    }
    close(fd);
    buf[len] = '\0';
    int status = -1;
    if (sscanf(buf, "HTTP/1.1 %d", &status) != 1) status = -1;
    char *sep = strstr(buf, "\r\n\r\n");
    if (out_body) *out_body = strdup(sep ? sep + 4 : "");
    if (out_head) {
        if (sep) *sep = '\0';
        *out_head = strdup(buf);
    }
    free(buf);
    return status;
}

static json_object *get_json(const char *path, int expect_status) {
    char *body = NULL;
    int st = http("GET", path, NULL, NULL, &body, NULL);
    if (st != expect_status) fail_msg("GET %s: status %d, body %s", path, st, body ? body : "");
    json_object *o = json_tokener_parse(body);
    if (!o) fail_msg("GET %s: not JSON: %s", path, body);
    free(body);
    return o;
}

static void publish(const char *event, const char *data) {
    char msg[4096];
    snprintf(msg, sizeof(msg), "{\"event\":\"%s\",\"ts\":%lld,\"data\":%s}", event,
             (long long)clock_wall_ms(), data);
    assert_true(zmq_send(F.pub, msg, strlen(msg), 0) >= 0);
}

static json_object *field(json_object *o, const char *k) {
    json_object *v = NULL;
    if (!json_object_object_get_ex(o, k, &v))
        fail_msg("no field %s in %s", k, json_object_to_json_string(o));
    return v;
}

/* Polls GET path until its body contains needle (events are asynchronous). */
static void wait_body(const char *path, const char *needle) {
    int64_t end = clock_now_ms() + 5000;
    char *body = NULL;
    while (clock_now_ms() < end) {
        free(body);
        body = NULL;
        if (http("GET", path, NULL, NULL, &body, NULL) == 200 && strstr(body, needle)) {
            free(body);
            return;
        }
        sleep_ms(50);
    }
    fail_msg("GET %s never contained %s (last: %s)", path, needle, body ? body : "");
}

/* ---- a minimal websocket client ---- */

static int ws_open(const char *path) {
    char req[1024], resp[2048];
    int fd = tcp_connect(F.port);
    if (fd < 0) return -1;
    snprintf(req, sizeof(req),
             "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
             "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
             path);
    if (send_all(fd, req, strlen(req)) != 0) {
        close(fd);
        return -1;
    }
    size_t len = 0;
    while (len < sizeof(resp) - 1) { /* read the response head byte by byte: frames follow it */
        ssize_t n = recv(fd, resp + len, 1, 0);
        if (n <= 0) break;
        len++;
        resp[len] = '\0';
        if (len >= 4 && memcmp(resp + len - 4, "\r\n\r\n", 4) == 0) break;
    }
    resp[len] = '\0';
    if (strncmp(resp, "HTTP/1.1 101", 12) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static int ws_send(int fd, const char *text) {
    size_t len = strlen(text);
    unsigned char hdr[8] = {0x81, (unsigned char)(0x80 | len), 1, 2, 3, 4};
    unsigned char *m = malloc(len);
    assert_true(len < 126);
    for (size_t i = 0; i < len; i++)
        m[i] = (unsigned char)text[i] ^ hdr[2 + i % 4];
    int rc = send_all(fd, hdr, 6) || send_all(fd, m, len);
    free(m);
    return rc;
}

static int recv_n(int fd, void *buf, size_t n) {
    size_t got = 0;
    while (got < n) {
        ssize_t r = recv(fd, (char *)buf + got, n - got, 0);
        if (r <= 0) return -1;
        got += (size_t)r;
    }
    return 0;
}

/* Next text frame (caller frees) or NULL on close/timeout. */
static char *ws_recv(int fd) {
    unsigned char h[2];
    uint64_t len;
    if (recv_n(fd, h, 2) != 0) return NULL;
    len = h[1] & 0x7f;
    if (len == 126) {
        unsigned char e[2];
        if (recv_n(fd, e, 2) != 0) return NULL;
        len = ((uint64_t)e[0] << 8) | e[1];
    } else if (len == 127) {
        unsigned char e[8];
        if (recv_n(fd, e, 8) != 0) return NULL;
        len = 0;
        for (int i = 0; i < 8; i++)
            len = (len << 8) | e[i];
    }
    if (len > (16u << 20)) return NULL;
    char *buf = malloc(len + 1);
    if (recv_n(fd, buf, len) != 0) {
        free(buf);
        return NULL;
    }
    buf[len] = '\0';
    if ((h[0] & 0x0f) == 0x8) { /* close */
        free(buf);
        return NULL;
    }
    return buf;
}

/* Reads frames until one starts with prefix (within ~5 s); returns it. */
static char *ws_expect(int fd, const char *prefix) {
    int64_t end = clock_now_ms() + 5000;
    while (clock_now_ms() < end) {
        char *f = ws_recv(fd);
        if (!f) break;
        if (strncmp(f, prefix, strlen(prefix)) == 0) return f;
        free(f);
    }
    fail_msg("no websocket frame starting with %s", prefix);
    return NULL;
}

/* ---- the stand-in master ---- */

static void *rep_main(void *arg) {
    (void)arg;
    while (!F.rep_stop) {
        zmq_pollitem_t it = {F.rep, 0, ZMQ_POLLIN, 0};
        if (zmq_poll(&it, 1, 50) <= 0) continue;
        char buf[1024];
        int n = zmq_recv(F.rep, buf, sizeof(buf) - 1, 0);
        if (n < 0) continue;
        buf[n < (int)sizeof(buf) ? n : (int)sizeof(buf) - 1] = '\0';
        while (F.rep_silent && !F.rep_stop)
            sleep_ms(20);
        const char *reply = strstr(buf, "\"mode\"") && strstr(buf, "\"nope\"")
                                ? "{\"error\":\"mode must be train or test\",\"status\":422}"
                                : "{\"id\":42}";
        zmq_send(F.rep, reply, strlen(reply), 0);
    }
    return NULL;
}

static void write_file(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static int group_setup(void **state) {
    (void)state;
    char err[256], path[512];
    log_init("test", LOG_WARN);
    strcpy(F.dir, "/tmp/nc_dash_XXXXXX");
    if (!mkdtemp(F.dir)) return -1;
    /* web root with a page, a subfolder, and a symlink that leads outside */
    snprintf(path, sizeof(path), "%s/web", F.dir);
    mkdir(path, 0755);
    snprintf(path, sizeof(path), "%s/web/sub", F.dir);
    mkdir(path, 0755);
    snprintf(path, sizeof(path), "%s/web/index.html", F.dir);
    write_file(path, "<html>NetCompute test page</html>");
    snprintf(path, sizeof(path), "%s/web/sub/index.html", F.dir);
    write_file(path, "sub index");
    snprintf(path, sizeof(path), "%s/web/app.js", F.dir);
    write_file(path, "console.log(1);");
    snprintf(F.outside, sizeof(F.outside), "%s/secret.txt", F.dir);
    write_file(F.outside, "TOP-SECRET-OUTSIDE");
    snprintf(path, sizeof(path), "%s/web/leak.txt", F.dir);
    if (symlink(F.outside, path) != 0) return -1;
    snprintf(path, sizeof(path), "%s/web/leakdir", F.dir);
    if (symlink(F.dir, path) != 0) return -1;
    snprintf(path, sizeof(path), "%s/web", F.dir);
    setenv("NC_WEB_ROOT", path, 1);

    F.zctx = zmq_ctx_new();
    F.pub = zmq_socket(F.zctx, ZMQ_PUB);
    F.rep = zmq_socket(F.zctx, ZMQ_REP);
    int linger = 0;
    zmq_setsockopt(F.pub, ZMQ_LINGER, &linger, sizeof(linger));
    zmq_setsockopt(F.rep, ZMQ_LINGER, &linger, sizeof(linger));
    if (zmq_bind(F.pub, EVENTS_EP) != 0 || zmq_bind(F.rep, COMMANDS_EP) != 0) return -1;
    pthread_create(&F.rep_thr, NULL, rep_main, NULL);

    config_defaults(&F.cfg);
    F.port = free_port();
    F.cfg.dashboard.port = F.port;
    snprintf(F.cfg.dashboard.token, sizeof(F.cfg.dashboard.token), "%s", TOKEN);
    snprintf(F.cfg.history.db, sizeof(F.cfg.history.db), "%s/hist/h.db", F.dir);
    snprintf(path, sizeof(path), "%s/files", F.dir);
    mkdir(path, 0755);
    snprintf(F.cfg.dashboard.files, sizeof(F.cfg.dashboard.files), "%s", path);
    snprintf(path, sizeof(path), "%s/files/train.csv", F.dir);
    write_file(path, "id,label,f1\n1,a,2\n");
    F.d = dashboard_start(F.zctx, &F.cfg, EVENTS_EP, COMMANDS_EP, err, sizeof(err));
    if (!F.d) {
        fprintf(stderr, "dashboard_start: %s\n", err);
        return -1;
    }
    sleep_ms(200); /* let the subscription reach the PUB socket */
    return 0;
}

static int group_teardown(void **state) {
    (void)state;
    char cmd[256];
    dashboard_stop(&F.d);
    F.rep_stop = 1;
    pthread_join(F.rep_thr, NULL);
    zmq_close(F.pub);
    zmq_close(F.rep);
    zmq_ctx_term(F.zctx);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", F.dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* ---- tests ---- */

static void test_health_and_workers(void **state) {
    (void)state;
    publish("worker_joined",
            "{\"id\":1,\"name\":\"alpha\",\"host\":\"h1\",\"cores\":4,\"slots\":4}");
    publish("worker_joined",
            "{\"id\":2,\"name\":\"beta\",\"host\":\"h2\",\"cores\":2,\"slots\":2}");
    publish("worker_stats",
            "{\"id\":1,\"name\":\"alpha\",\"host\":\"h1\",\"cores\":4,\"cpu\":50,\"mem\":30,"
            "\"battery\":null,\"ac\":null,\"load\":1.5,\"state\":\"busy\",\"reason\":\"\","
            "\"tasks_done\":3,\"current_task\":7,\"rows_per_s\":1000,\"last_seen_ms\":100}");
    publish("worker_stats",
            "{\"id\":2,\"name\":\"beta\",\"host\":\"h2\",\"cores\":2,\"cpu\":10,\"mem\":50,"
            "\"battery\":80,\"ac\":false,\"load\":0.1,\"state\":\"paused\",\"reason\":\"owner "
            "active\",\"tasks_done\":0,\"current_task\":null,\"rows_per_s\":0,\"last_seen_ms\":0}");
    wait_body("/api/workers", "owner active");
    json_object *w = get_json("/api/workers", 200);
    assert_int_equal(json_object_array_length(w), 2);
    json_object *a = json_object_array_get_idx(w, 0);
    json_object *b = json_object_array_get_idx(w, 1);
    if (strcmp(json_object_get_string(field(a, "name")), "alpha") != 0) {
        json_object *t = a;
        a = b;
        b = t;
    }
    assert_string_equal(json_object_get_string(field(a, "state")), "busy");
    assert_int_equal(json_object_get_int(field(a, "current_task")), 7);
    assert_string_equal(json_object_get_string(field(b, "state")), "paused");
    assert_int_equal(json_object_get_int(field(b, "battery")), 80);
    assert_false(json_object_get_boolean(field(b, "lost")));
    json_object_put(w);

    json_object *h = get_json("/health", 200);
    assert_string_equal(json_object_get_string(field(h, "status")), "ok");
    assert_string_equal(json_object_get_string(field(h, "version")), DASHBOARD_VERSION);
    assert_int_equal(json_object_get_int(field(h, "workers")), 2);
    assert_true(json_object_is_type(field(h, "uptime_s"), json_type_int));
    json_object_put(h);
}

static void test_job_lifecycle(void **state) {
    (void)state;
    publish("job_started", "{\"job_id\":5,\"mode\":\"train\",\"data\":\"Data/train.csv\","
                           "\"total_tasks\":2,\"rows_total\":2000,\"workers\":2}");
    publish("task_done", "{\"job_id\":5,\"task_id\":1,\"shard\":0,\"worker\":\"alpha\","
                         "\"attempt\":1,\"start_ms\":1000,\"end_ms\":2000,\"rows\":1000}");
    publish("task_failed", "{\"job_id\":5,\"task_id\":2,\"worker\":\"beta\",\"attempt\":1,"
                           "\"error\":\"worker lost\",\"ts\":2100}");
    publish("task_done", "{\"job_id\":5,\"task_id\":2,\"shard\":1,\"worker\":\"alpha\","
                         "\"attempt\":2,\"start_ms\":2200,\"end_ms\":3000,\"rows\":1000}");
    publish("iteration", "{\"job_id\":5,\"class\":0,\"iter\":1,\"f\":693.1,\"gnorm\":42.5,"
                         "\"cg\":4,\"secs\":0.2}");
    publish("job_progress", "{\"job_id\":5,\"phase\":\"train\",\"done_tasks\":1,\"total_tasks\":2,"
                            "\"rows_done\":1000,\"rows_total\":2000,\"rate_rows_s\":900,"
                            "\"eta_s\":1.1,\"workers\":2}");
    wait_body("/api/jobs/5", "\"rate_rows_s\":900");
    publish("job_done", "{\"job_id\":5,\"state\":\"done\",\"duration_s\":2.5,\"accuracy\":0.91,"
                        "\"outputs\":{\"model\":\"m.txt\",\"submission\":\"s.csv\"},"
                        "\"error\":null}");
    wait_body("/api/jobs/5", "\"state\":\"done\"");

    json_object *j = get_json("/api/jobs/5", 200);
    assert_int_equal(json_object_get_int(field(j, "done_tasks")), 2);
    assert_true(json_object_get_double(field(j, "accuracy")) == 0.91);
    assert_string_equal(json_object_get_string(field(field(j, "outputs"), "model")), "m.txt");
    json_object *tl = field(j, "timeline");
    assert_int_equal(json_object_array_length(tl), 2);
    assert_int_equal(json_object_get_int(field(json_object_array_get_idx(tl, 1), "attempt")), 2);
    json_object *failed = field(j, "failed");
    assert_int_equal(json_object_array_length(failed), 1);
    assert_string_equal(
        json_object_get_string(field(json_object_array_get_idx(failed, 0), "error")),
        "worker lost");
    assert_int_equal(json_object_array_length(field(j, "iterations")), 1);
    json_object_put(j);

    json_object *jobs = get_json("/api/jobs", 200);
    assert_true(json_object_array_length(jobs) >= 1);
    assert_int_equal(json_object_get_int(field(json_object_array_get_idx(jobs, 0), "id")), 5);
    json_object_put(jobs);

    json_object *e = get_json("/api/jobs/999", 404);
    assert_non_null(strstr(json_object_get_string(field(e, "error")), "999"));
    json_object_put(e);
    e = get_json("/api/jobs/abc", 404);
    json_object_put(e);
}

static void test_history_endpoint(void **state) {
    (void)state;
    /* worker_stats of the first test reached the file after a batch commit (500 ms) */
    int64_t end = clock_now_ms() + 3000;
    size_t n = 0;
    while (clock_now_ms() < end) {
        json_object *s = get_json("/api/history?metric=cpu&step=1000", 200);
        n = json_object_array_length(field(s, "points"));
        json_object_put(s);
        if (n > 0) break;
        sleep_ms(100);
    }
    assert_true(n > 0);
    json_object *s = get_json("/api/history?metric=mem&worker=beta", 200);
    json_object *pts = field(s, "points");
    assert_true(json_object_array_length(pts) >= 1);
    assert_true(json_object_get_double(
                    json_object_array_get_idx(json_object_array_get_idx(pts, 0), 1)) == 50.0);
    assert_string_equal(json_object_get_string(field(s, "worker")), "beta");
    json_object_put(s);
    s = get_json("/api/history?metric=rows&since=0", 200);
    json_object_put(s);
    json_object *e = get_json("/api/history?metric=disk", 400);
    json_object_put(e);
    e = get_json("/api/history?metric=cpu&since=yesterday", 400);
    json_object_put(e);
}

static void test_metrics(void **state) {
    (void)state;
    publish("counters", "{\"messages_dropped\":{\"malformed\":3},\"tasks\":{\"done\":2,"
                        "\"failed\":1,\"retried\":1,\"speculative\":0},\"rows_processed\":2000}");
    wait_body("/metrics", "netcompute_rows_processed_total 2000");
    char *body = NULL, *head = NULL;
    assert_int_equal(http("GET", "/metrics", NULL, NULL, &body, &head), 200);
    assert_non_null(strstr(head, "text/plain"));
    assert_non_null(strstr(body, "# TYPE netcompute_workers gauge"));
    assert_non_null(strstr(body, "netcompute_workers{state=\"busy\"} 1"));
    assert_non_null(strstr(body, "netcompute_workers{state=\"paused\"} 1"));
    assert_non_null(strstr(body, "netcompute_tasks_total{result=\"failed\"} 1"));
    assert_non_null(strstr(body, "netcompute_worker_cpu_ratio{worker=\"alpha\"} 0.5000"));
    assert_non_null(strstr(body, "netcompute_messages_dropped_total{kind=\"malformed\"} 3"));
    assert_non_null(strstr(body, "netcompute_job_duration_seconds 2.500"));
    free(body);
    free(head);
}

static void test_worker_lost_and_left(void **state) {
    (void)state;
    publish("worker_left", "{\"id\":2,\"name\":\"beta\",\"reason\":\"lost\"}");
    wait_body("/api/workers", "\"lost\":true");
    json_object *h = get_json("/health", 200);
    assert_int_equal(json_object_get_int(field(h, "workers")), 1);
    json_object_put(h);
    publish("worker_joined", "{\"id\":3,\"name\":\"gamma\",\"host\":\"h3\",\"cores\":1}");
    wait_body("/api/workers", "gamma");
    publish("worker_left", "{\"id\":3,\"name\":\"gamma\",\"reason\":\"bye\"}");
    int64_t end = clock_now_ms() + 3000;
    char *body = NULL;
    while (clock_now_ms() < end) {
        free(body);
        http("GET", "/api/workers", NULL, NULL, &body, NULL);
        if (!strstr(body, "gamma")) break;
        sleep_ms(50);
    }
    assert_null(strstr(body, "gamma"));
    free(body);
}

static void test_static_files(void **state) {
    (void)state;
    char *body = NULL, *head = NULL;
    assert_int_equal(http("GET", "/", NULL, NULL, &body, &head), 200);
    assert_non_null(strstr(body, "NetCompute test page"));
    assert_non_null(strstr(head, "text/html"));
    free(body);
    free(head);
    assert_int_equal(http("GET", "/app.js", NULL, NULL, &body, &head), 200);
    assert_non_null(strstr(head, "javascript"));
    free(body);
    free(head);
    assert_int_equal(http("GET", "/sub/", NULL, NULL, &body, NULL), 200);
    assert_string_equal(body, "sub index");
    free(body);
    assert_int_equal(http("GET", "/missing.html", NULL, NULL, &body, NULL), 404);
    free(body);

    const char *attacks[] = {
        "/../secret.txt",
        "/../../../../etc/passwd",
        "/%2e%2e/secret.txt",
        "/%2e%2e/%2e%2e/etc/passwd",
        "/sub/../../secret.txt",
        "/..%2fsecret.txt",
        "/leak.txt",
        "/leakdir/secret.txt",
        "/%2E%2E%2Fsecret.txt",
        "/sub/%2e%2e/%2e%2e/secret.txt",
        "/..\\secret.txt",
    };
    for (size_t i = 0; i < sizeof(attacks) / sizeof(attacks[0]); i++) {
        int st = http("GET", attacks[i], NULL, NULL, &body, NULL);
        if (st != 403 && st != 404) fail_msg("GET %s answered %d", attacks[i], st);
        if (strstr(body, "TOP-SECRET") || strstr(body, "root:"))
            fail_msg("GET %s leaked a file outside the web root", attacks[i]);
        free(body);
    }
    /* symlinks out are refused as such */
    assert_int_equal(http("GET", "/leak.txt", NULL, NULL, &body, NULL), 403);
    free(body);
}

static void test_post_jobs(void **state) {
    (void)state;
    char *body = NULL;
    const char *job = "{\"mode\":\"train\",\"data\":\"train.csv\",\"model\":\"m.txt\","
                      "\"out\":\"o.csv\"}";
    char want[600];
    assert_int_equal(
        http("POST", "/api/jobs", "Content-Type: application/json\r\n", job, &body, NULL), 401);
    assert_non_null(strstr(body, "token"));
    free(body);
    assert_int_equal(
        http("POST", "/api/jobs", "Authorization: Bearer wrong-token\r\n", job, &body, NULL), 401);
    free(body);
    assert_int_equal(http("POST", "/api/jobs", "", NULL, &body, NULL), 401);
    free(body);
    /* no CORS "simple request", no other origin, no other Host */
    assert_int_equal(http("POST", "/api/jobs",
                          "Authorization: Bearer " TOKEN "\r\nContent-Type: "
                          "text/plain\r\n",
                          job, &body, NULL),
                     415);
    free(body);
    assert_int_equal(http("POST", "/api/jobs",
                          "Authorization: Bearer " TOKEN "\r\nOrigin: "
                          "http://evil.example\r\n",
                          job, &body, NULL),
                     403);
    free(body);
    /* paths stay inside dashboard.files, refused before the master sees them */
    assert_int_equal(http("POST", "/api/jobs", NULL,
                          "{\"mode\":\"train\",\"data\":\"../secret.txt\",\"model\":\"m.txt\"}",
                          &body, NULL),
                     403);
    assert_null(strstr(body, "TOP-SECRET"));
    free(body);
    assert_int_equal(
        http("POST", "/api/jobs", "Authorization: Bearer " TOKEN "\r\n", "not json", &body, NULL),
        400);
    free(body);
    assert_int_equal(
        http("POST", "/api/jobs", "Authorization: Bearer " TOKEN "\r\n", job, &body, NULL), 200);
    assert_string_equal(body, "{\"id\":42}");
    free(body);
    json_object *j = get_json("/api/jobs/42", 200);
    assert_string_equal(json_object_get_string(field(j, "state")), "queued");
    snprintf(want, sizeof want, "%s/files/train.csv", F.dir);
    assert_string_equal(json_object_get_string(field(j, "data")), want);
    json_object_put(j);
    /* the master's refusal and its status are relayed */
    assert_int_equal(http("POST", "/api/jobs", NULL,
                          "{\"mode\":\"train\",\"data\":\"train.csv\",\"model\":\"m.txt\","
                          "\"out\":\"o.csv\",\"label\":\"nope\"}",
                          &body, NULL),
                     422);
    assert_non_null(strstr(body, "mode must be"));
    free(body);
    assert_int_equal(http("PUT", "/api/jobs", NULL, NULL, &body, NULL) / 100, 4);
    free(body);
    assert_int_equal(http("POST", "/health", NULL, "{}", &body, NULL), 405);
    free(body);
}

/* Error texts leave the process without file contents, and a job whose
 * driver failed before it started (serve.c's job_failed) ends failed. */
static void test_public_errors(void **state) {
    (void)state;
    publish("job_started", "{\"job_id\":88,\"mode\":\"train\",\"data\":\"d.csv\"}");
    publish("job_done", "{\"job_id\":88,\"state\":\"failed\",\"error\":\"/srv/d.csv:3:4: "
                        "columns: TOP-SECRET,x\"}");
    publish("job_failed", "{\"job_id\":88,\"status\":3}"); /* already ended: ignored */
    publish("job_failed", "{\"job_id\":89,\"mode\":\"test\",\"status\":2}");
    sleep_ms(300);
    json_object *j = get_json("/api/jobs/88", 200);
    assert_string_equal(json_object_get_string(field(j, "state")), "failed");
    assert_string_equal(json_object_get_string(field(j, "error")),
                        "bad input at line 3, column 4 (details in the master's log)");
    assert_null(strstr(json_object_to_json_string(j), "TOP-SECRET"));
    json_object_put(j);
    j = get_json("/api/jobs/89", 200);
    assert_string_equal(json_object_get_string(field(j, "state")), "failed");
    assert_string_equal(json_object_get_string(field(j, "error")),
                        "bad usage or configuration (exit 2; details in the master's log)");
    json_object_put(j);
}

static void test_post_timeout(void **state) {
    (void)state;
    char *body = NULL;
    F.rep_silent = 1;
    int64_t t0 = clock_now_ms();
    assert_int_equal(http("POST", "/api/jobs", NULL,
                          "{\"mode\":\"train\",\"data\":\"train.csv\",\"model\":\"m.txt\","
                          "\"out\":\"o.csv\"}",
                          &body, NULL),
                     503);
    int64_t took = clock_now_ms() - t0;
    assert_true(took >= 4500 && took < 8000);
    free(body);
    F.rep_silent = 0;
    sleep_ms(100); /* the REP thread answers the stale request into the void */
}

static void test_socketio(void **state) {
    (void)state;
    assert_int_equal(ws_open("/other"), -1);
    assert_int_equal(ws_open("/socket.io/?EIO=3&transport=websocket"), -1);
    /* with a token in force, a CONNECT without it (or with a wrong one) is
     * refused with CONNECT_ERROR and the socket is closed */
    static const char *const bad[] = {"40", "40{\"token\":\"wrong\"}", "40{\"token\":7}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int bfd = ws_open("/socket.io/?EIO=4&transport=websocket");
        assert_true(bfd >= 0);
        free(ws_expect(bfd, "0{"));
        assert_int_equal(ws_send(bfd, bad[i]), 0);
        free(ws_expect(bfd, "44{\"message\":"));
        char *rest = ws_recv(bfd);
        if (rest) fail_msg("after %s the server sent %s", bad[i], rest);
        close(bfd);
    }
    int fd = ws_open("/socket.io/?EIO=4&transport=websocket");
    assert_true(fd >= 0);
    char *f = ws_expect(fd, "0{");
    json_object *open = json_tokener_parse(f + 1);
    assert_non_null(open);
    assert_int_equal(json_object_get_int(field(open, "pingInterval")), 25000);
    assert_int_equal(json_object_get_int(field(open, "pingTimeout")), 20000);
    json_object_put(open);
    free(f);
    assert_int_equal(ws_send(fd, "40{\"token\":\"" TOKEN "\"}"), 0);
    f = ws_expect(fd, "40{\"sid\":");
    free(f);
    f = ws_expect(fd, "42[\"snapshot\",");
    assert_non_null(strstr(f, "alpha")); /* a late browser sees the present at once */
    assert_non_null(strstr(f, "\"heartbeat_ms\""));
    free(f);
    f = ws_expect(fd, "42[\"update_stats\",");
    assert_non_null(strstr(f, "\"avg_cpu\""));
    assert_non_null(strstr(f, "\"workers_count\""));
    free(f);
    publish("worker_stats",
            "{\"id\":1,\"name\":\"alpha\",\"host\":\"h1\",\"cores\":4,\"cpu\":77,\"mem\":30,"
            "\"state\":\"busy\",\"reason\":\"\",\"tasks_done\":9,\"rows_per_s\":5,"
            "\"last_seen_ms\":0}");
    f = ws_expect(fd, "42[\"worker_stats\",");
    assert_non_null(strstr(f, "\"cpu\":77"));
    free(f);
    /* update_stats comes every second by itself */
    f = ws_expect(fd, "42[\"update_stats\",");
    free(f);
    /* the client may ping too; garbage closes the connection */
    assert_int_equal(ws_send(fd, "2probe"), 0);
    f = ws_expect(fd, "3probe");
    free(f);
    assert_int_equal(ws_send(fd, "42[oops"), 0);
    int64_t end = clock_now_ms() + 3000;
    while ((f = ws_recv(fd)) && clock_now_ms() < end)
        free(f);
    assert_null(f);
    close(fd);
}

static void test_many_ws_clients(void **state) {
    (void)state;
    enum { N = 40 };
    int fds[N];
    for (int i = 0; i < N; i++) {
        fds[i] = ws_open("/socket.io/?EIO=4&transport=websocket");
        assert_true(fds[i] >= 0);
        free(ws_expect(fds[i], "0{"));
        assert_int_equal(ws_send(fds[i], "40{\"token\":\"" TOKEN "\"}"), 0);
    }
    publish("job_progress", "{\"job_id\":5,\"phase\":\"x\",\"done_tasks\":2,\"total_tasks\":2,"
                            "\"rows_done\":2000,\"rows_total\":2000,\"rate_rows_s\":1,"
                            "\"eta_s\":0,\"workers\":1}");
    for (int i = 0; i < N; i++) {
        free(ws_expect(fds[i], "42[\"snapshot\""));
        free(ws_expect(fds[i], "42[\"update_stats\""));
        close(fds[i]);
    }
    /* the server is still serving */
    json_object *h = get_json("/health", 200);
    json_object_put(h);
}

static void test_port_in_use_and_restart(void **state) {
    (void)state;
    char err[256] = "";
    dashboard_t *d2 = dashboard_start(F.zctx, &F.cfg, EVENTS_EP, NULL, err, sizeof(err));
    assert_null(d2);
    assert_non_null(strstr(err, "in use"));
    char port[16];
    snprintf(port, sizeof(port), "%d", F.port);
    assert_non_null(strstr(err, port));

    /* restart: jobs come back from the history file */
    dashboard_stop(&F.d);
    assert_null(F.d);
    F.cfg.dashboard.port = F.port = free_port();
    F.cfg.dashboard.token[0] = '\0';
    F.d = dashboard_start(F.zctx, &F.cfg, EVENTS_EP, NULL, err, sizeof(err));
    if (!F.d) fail_msg("restart: %s", err);
    json_object *jobs = get_json("/api/jobs", 200);
    assert_true(json_object_array_length(jobs) >= 1);
    bool found = false;
    for (size_t i = 0; i < json_object_array_length(jobs); i++) {
        json_object *j = json_object_array_get_idx(jobs, i);
        if (json_object_get_int(field(j, "id")) == 5) {
            found = true;
            assert_string_equal(json_object_get_string(field(j, "state")), "done");
            assert_true(json_object_get_double(field(j, "accuracy")) == 0.91);
        }
    }
    assert_true(found);
    json_object_put(jobs);
    /* details now come from the file */
    json_object *j = get_json("/api/jobs/5", 200);
    assert_int_equal(json_object_array_length(field(j, "timeline")), 2);
    assert_int_equal(json_object_array_length(field(j, "failed")), 1);
    json_object_put(j);
    /* not in serve mode: POST is refused with a reason (no token configured now) */
    char *body = NULL;
    assert_int_equal(http("POST", "/api/jobs", NULL, "{\"mode\":\"train\"}", &body, NULL), 503);
    assert_non_null(strstr(body, "serve"));
    free(body);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_health_and_workers),
        cmocka_unit_test(test_job_lifecycle),
        cmocka_unit_test(test_history_endpoint),
        cmocka_unit_test(test_metrics),
        cmocka_unit_test(test_static_files),
        cmocka_unit_test(test_post_jobs),
        cmocka_unit_test(test_public_errors),
        cmocka_unit_test(test_post_timeout),
        cmocka_unit_test(test_socketio),
        cmocka_unit_test(test_many_ws_clients),
        cmocka_unit_test(test_worker_lost_and_left),
        cmocka_unit_test(test_port_in_use_and_restart),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
