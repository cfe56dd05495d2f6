/* Unit tests for dashboard/webguard: the dashboard's request policy, held to
 * tables of hostile requests, paths and job bodies. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/utf8.h"
#include "dashboard/webguard.h"

#define TOKEN "s3cret-token-0123456789"

/* ---------------------------------------------------------------- requests */

typedef struct {
    const char *method, *path, *host, *origin, *auth, *ctype;
    bool ws;
    unsigned want;
    webguard_route_t route;
} req_case_t;

static const req_case_t with_token[] = {
    /* open without the token */
    {"GET", "/health", "127.0.0.1:5051", NULL, NULL, NULL, false, 0, WG_ROUTE_HEALTH},
    {"GET", "/", "localhost:5051", NULL, NULL, NULL, false, 0, WG_ROUTE_STATIC},
    {"GET", "/app.js", "[::1]:5051", NULL, NULL, NULL, false, 0, WG_ROUTE_STATIC},
    {"GET", "/socket.io/", "127.0.0.1:5051", NULL, NULL, NULL, true, 0, WG_ROUTE_SOCKETIO},
    /* everything else needs it */
    {"GET", "/api/jobs", "127.0.0.1:5051", NULL, NULL, NULL, false, 401, WG_ROUTE_JOBS},
    {"GET", "/api/workers", "127.0.0.1:5051", NULL, NULL, NULL, false, 401, WG_ROUTE_WORKERS},
    {"GET", "/api/jobs/12", "127.0.0.1:5051", NULL, NULL, NULL, false, 401, WG_ROUTE_JOB},
    {"GET", "/api/history", "127.0.0.1:5051", NULL, NULL, NULL, false, 401, WG_ROUTE_HISTORY},
    {"GET", "/metrics", "127.0.0.1:5051", NULL, NULL, NULL, false, 401, WG_ROUTE_METRICS},
    {"GET", "/api/nope", "127.0.0.1:5051", NULL, NULL, NULL, false, 401, WG_ROUTE_NONE},
    {"GET", "/api/jobs/x", "127.0.0.1:5051", NULL, NULL, NULL, false, 401, WG_ROUTE_NONE},
    {"GET", "/api/jobs/3/files/model.txt", "127.0.0.1:5051", NULL, NULL, NULL, false, 401,
     WG_ROUTE_JOB_FILE},
    {"GET", "/api/jobs/3/files/../../netcompute.db", "127.0.0.1:5051", NULL, NULL, NULL, false, 401,
     WG_ROUTE_NONE},
    {"POST", "/api/jobs", "127.0.0.1:5051", NULL, NULL, "application/json", false, 401,
     WG_ROUTE_SUBMIT},
    /* wrong tokens */
    {"GET", "/metrics", "127.0.0.1:5051", NULL, "Bearer " TOKEN "x", NULL, false, 401,
     WG_ROUTE_METRICS},
    {"GET", "/metrics", "127.0.0.1:5051", NULL, "Bearer s3cret", NULL, false, 401,
     WG_ROUTE_METRICS},
    {"GET", "/metrics", "127.0.0.1:5051", NULL, "Basic " TOKEN, NULL, false, 401, WG_ROUTE_METRICS},
    {"GET", "/metrics", "127.0.0.1:5051", NULL, "Bearer ", NULL, false, 401, WG_ROUTE_METRICS},
    {"GET", "/metrics", "127.0.0.1:5051", NULL, TOKEN, NULL, false, 401, WG_ROUTE_METRICS},
    /* the right one */
    {"GET", "/metrics", "127.0.0.1:5051", NULL, "Bearer " TOKEN, NULL, false, 0, WG_ROUTE_METRICS},
    {"GET", "/api/jobs", "127.0.0.1:5051", NULL, "bearer " TOKEN, NULL, false, 0, WG_ROUTE_JOBS},
    {"GET", "/api/jobs/77", "127.0.0.1:5051", NULL, "Bearer " TOKEN, NULL, false, 0, WG_ROUTE_JOB},
    {"GET", "/api/nope", "127.0.0.1:5051", NULL, "Bearer " TOKEN, NULL, false, 404, WG_ROUTE_NONE},
    /* a run's files: only the names a run folder holds */
    {"GET", "/api/jobs/3/files/model.txt", "127.0.0.1:5051", NULL, "Bearer " TOKEN, NULL, false, 0,
     WG_ROUTE_JOB_FILE},
    {"GET", "/api/jobs/3/files/submission.csv", "127.0.0.1:5051", NULL, "Bearer " TOKEN, NULL,
     false, 0, WG_ROUTE_JOB_FILE},
    {"GET", "/api/jobs/3/files/../model.txt", "127.0.0.1:5051", NULL, "Bearer " TOKEN, NULL, false,
     404, WG_ROUTE_NONE},
    {"GET", "/api/jobs/3/files//etc/passwd", "127.0.0.1:5051", NULL, "Bearer " TOKEN, NULL, false,
     404, WG_ROUTE_NONE},
    {"GET", "/api/jobs/3/files/.model.txt.tmp", "127.0.0.1:5051", NULL, "Bearer " TOKEN, NULL,
     false, 404, WG_ROUTE_NONE},
    {"GET", "/api/jobs/3/files/", "127.0.0.1:5051", NULL, "Bearer " TOKEN, NULL, false, 404,
     WG_ROUTE_NONE},
    {"GET", "/api/jobs/3/model.txt", "127.0.0.1:5051", NULL, "Bearer " TOKEN, NULL, false, 404,
     WG_ROUTE_NONE},
    {"GET", "/api/jobs/x/files/model.txt", "127.0.0.1:5051", NULL, "Bearer " TOKEN, NULL, false,
     404, WG_ROUTE_NONE},
    {"GET", "/api/jobs/3/files/model.txt/x", "127.0.0.1:5051", NULL, "Bearer " TOKEN, NULL, false,
     404, WG_ROUTE_NONE},
    {"POST", "/api/jobs", "127.0.0.1:5051", NULL, "Bearer " TOKEN, "application/json", false, 0,
     WG_ROUTE_SUBMIT},
    {"POST", "/api/jobs", "127.0.0.1:5051", "http://127.0.0.1:5051", "Bearer " TOKEN,
     "application/json; charset=utf-8", false, 0, WG_ROUTE_SUBMIT},
    /* content types a form or a "simple request" can send */
    {"POST", "/api/jobs", "127.0.0.1:5051", NULL, "Bearer " TOKEN, "text/plain", false, 415,
     WG_ROUTE_SUBMIT},
    {"POST", "/api/jobs", "127.0.0.1:5051", NULL, "Bearer " TOKEN,
     "application/x-www-form-urlencoded", false, 415, WG_ROUTE_SUBMIT},
    {"POST", "/api/jobs", "127.0.0.1:5051", NULL, "Bearer " TOKEN, "multipart/form-data", false,
     415, WG_ROUTE_SUBMIT},
    {"POST", "/api/jobs", "127.0.0.1:5051", NULL, "Bearer " TOKEN, NULL, false, 415,
     WG_ROUTE_SUBMIT},
    {"POST", "/api/jobs", "127.0.0.1:5051", NULL, "Bearer " TOKEN, "application/jsonx", false, 415,
     WG_ROUTE_SUBMIT},
    /* issue 18: cancel (POST, JSON, token) and the data files (GET, token) */
    {"POST", "/api/jobs/3/cancel", "127.0.0.1:5051", NULL, "Bearer " TOKEN, "application/json",
     false, 0, WG_ROUTE_CANCEL},
    {"POST", "/api/jobs/3/cancel", "127.0.0.1:5051", NULL, NULL, "application/json", false, 401,
     WG_ROUTE_CANCEL},
    {"POST", "/api/jobs/3/cancel", "127.0.0.1:5051", NULL, "Bearer " TOKEN, "text/plain", false,
     415, WG_ROUTE_CANCEL},
    {"POST", "/api/jobs/3/cancel", "127.0.0.1:5051", "http://evil.example", "Bearer " TOKEN,
     "application/json", false, 403, WG_ROUTE_NONE},
    {"GET", "/api/jobs/3/cancel", "127.0.0.1:5051", NULL, "Bearer " TOKEN, NULL, false, 405,
     WG_ROUTE_CANCEL},
    {"POST", "/api/jobs/x/cancel", "127.0.0.1:5051", NULL, "Bearer " TOKEN, "application/json",
     false, 404, WG_ROUTE_NONE},
    {"POST", "/api/jobs/3/cancel/x", "127.0.0.1:5051", NULL, "Bearer " TOKEN, "application/json",
     false, 404, WG_ROUTE_NONE},
    {"GET", "/api/files", "127.0.0.1:5051", NULL, NULL, NULL, false, 401, WG_ROUTE_FILES},
    {"GET", "/api/files", "127.0.0.1:5051", NULL, "Bearer " TOKEN, NULL, false, 0, WG_ROUTE_FILES},
    {"POST", "/api/files", "127.0.0.1:5051", NULL, "Bearer " TOKEN, "application/json", false, 405,
     WG_ROUTE_FILES},
    /* other methods and POST elsewhere */
    {"PUT", "/api/jobs", "127.0.0.1:5051", NULL, "Bearer " TOKEN, NULL, false, 405, WG_ROUTE_JOBS},
    {"POST", "/metrics", "127.0.0.1:5051", NULL, "Bearer " TOKEN, "application/json", false, 405,
     WG_ROUTE_METRICS},
    {"POST", "/", "127.0.0.1:5051", NULL, NULL, "application/json", false, 405, WG_ROUTE_STATIC},
};

static const req_case_t hostile[] = {
    /* DNS rebinding: a foreign name in Host, on every route */
    {"GET", "/health", "evil.example:5051", NULL, NULL, NULL, false, 403, WG_ROUTE_NONE},
    {"GET", "/", "evil.example", NULL, NULL, NULL, false, 403, WG_ROUTE_NONE},
    {"GET", "/api/jobs", "127.0.0.1.evil.example:5051", NULL, NULL, NULL, false, 403,
     WG_ROUTE_NONE},
    {"GET", "/api/jobs", "localhost.:5051", NULL, NULL, NULL, false, 403, WG_ROUTE_NONE},
    {"GET", "/api/jobs", "127.0.0.1@evil:5051", NULL, NULL, NULL, false, 403, WG_ROUTE_NONE},
    {"GET", "/api/jobs", "127.0.0.1:5051:80", NULL, NULL, NULL, false, 403, WG_ROUTE_NONE},
    {"GET", "/api/jobs", "127.0.0.1:", NULL, NULL, NULL, false, 403, WG_ROUTE_NONE},
    {"GET", "/api/jobs", "127.0.0.1:99999", NULL, NULL, NULL, false, 403, WG_ROUTE_NONE},
    {"GET", "/api/jobs", "[::1", NULL, NULL, NULL, false, 403, WG_ROUTE_NONE},
    {"GET", "/api/jobs", "::1", NULL, NULL, NULL, false, 403, WG_ROUTE_NONE},
    {"GET", "/api/jobs", "", NULL, NULL, NULL, false, 403, WG_ROUTE_NONE},
    {"GET", "/api/jobs", NULL, NULL, NULL, NULL, false, 403, WG_ROUTE_NONE},
    {"GET", "/socket.io/", "evil.example:5051", NULL, NULL, NULL, true, 403, WG_ROUTE_NONE},
    /* CSRF: a page on another origin */
    {"POST", "/api/jobs", "127.0.0.1:5051", "http://evil.example", NULL, "application/json", false,
     403, WG_ROUTE_NONE},
    {"POST", "/api/jobs", "127.0.0.1:5051", "http://evil.example", NULL, "text/plain", false, 403,
     WG_ROUTE_NONE},
    {"POST", "/api/jobs", "127.0.0.1:5051", "null", NULL, "application/json", false, 403,
     WG_ROUTE_NONE},
    {"POST", "/api/jobs", "127.0.0.1:5051", "http://127.0.0.1:5052", NULL, "application/json",
     false, 403, WG_ROUTE_NONE},
    {"POST", "/api/jobs", "127.0.0.1:5051", "http://localhost:5051", NULL, "application/json",
     false, 403, WG_ROUTE_NONE},
    {"POST", "/api/jobs", "127.0.0.1:5051", "http://127.0.0.1:5051/x", NULL, "application/json",
     false, 403, WG_ROUTE_NONE},
    {"POST", "/api/jobs", "127.0.0.1:5051", "file://", NULL, "application/json", false, 403,
     WG_ROUTE_NONE},
    {"GET", "/socket.io/", "127.0.0.1:5051", "http://evil.example", NULL, NULL, true, 403,
     WG_ROUTE_NONE},
    {"GET", "/socket.io/", "127.0.0.1:5051", "http://127.0.0.1:8000", NULL, NULL, true, 403,
     WG_ROUTE_NONE},
    /* same origin passes (no token in force here) */
    {"POST", "/api/jobs", "127.0.0.1:5051", "http://127.0.0.1:5051", NULL, "application/json",
     false, 0, WG_ROUTE_SUBMIT},
    {"GET", "/socket.io/", "localhost:5051", "http://LOCALHOST:5051", NULL, NULL, true, 0,
     WG_ROUTE_SOCKETIO},
    {"GET", "/api/jobs", "LocalHost:5051", NULL, NULL, NULL, false, 0, WG_ROUTE_JOBS},
    {"GET", "/api/jobs", "lab-pc:5051", NULL, NULL, NULL, false, 0, WG_ROUTE_JOBS},
    {"GET", "/api/jobs", "10.0.0.7", NULL, NULL, NULL, false, 0, WG_ROUTE_JOBS},
    {"GET", "/api/jobs", "[fe80::1]:5051", NULL, NULL, NULL, false, 0, WG_ROUTE_JOBS},
    /* a websocket anywhere but /socket.io */
    {"GET", "/api/jobs", "127.0.0.1:5051", NULL, NULL, NULL, true, 404, WG_ROUTE_JOBS},
};

static void run_cases(const webguard_t *g, const req_case_t *cases, size_t n) {
    for (size_t i = 0; i < n; i++) {
        const req_case_t *c = &cases[i];
        webguard_req_t r = {c->method, c->path, c->host, c->origin, c->auth, c->ctype, c->ws};
        webguard_verdict_t v;
        unsigned got = webguard_check(g, &r, &v);
        if (got != c->want || (c->want != 403 && v.route != c->route)) {
            print_error("case %zu: %s %s host=%s origin=%s auth=%s ctype=%s: got %u route %d "
                        "(%s), want %u route %d\n",
                        i, c->method, c->path, c->host ? c->host : "-", c->origin ? c->origin : "-",
                        c->auth ? c->auth : "-", c->ctype ? c->ctype : "-", got, v.route, v.reason,
                        c->want, c->route);
            fail();
        }
        assert_int_equal(got, v.status);
        if (got) assert_true(v.reason[0] && utf8_check(v.reason, strlen(v.reason), NULL));
    }
}

static void test_token_routes(void **state) {
    (void)state;
    webguard_t g;
    webguard_init(&g, "127.0.0.1", 5051, TOKEN);
    run_cases(&g, with_token, sizeof with_token / sizeof with_token[0]);
}

static void test_hostile_requests(void **state) {
    (void)state;
    webguard_t g;
    webguard_init(&g, "0.0.0.0", 5051, "");
    webguard_add_name(&g, "Lab-PC");
    webguard_add_name(&g, "10.0.0.7");
    webguard_add_name(&g, "[fe80::1]");
    run_cases(&g, hostile, sizeof hostile / sizeof hostile[0]);
}

static void test_run_files(void **state) {
    (void)state;
    static const char *const ok[] = {"params.json",    "run.json",  "metrics.json",
                                     "job.log",        "model.txt", "model.txt.schema.json",
                                     "submission.csv", "export.svm"};
    static const char *const bad[] = {"",
                                      ".",
                                      "..",
                                      "../model.txt",
                                      "/etc/passwd",
                                      "model.txt/",
                                      "Model.txt",
                                      "params.json.tmp",
                                      "netcompute.db",
                                      "model.txt\n",
                                      NULL};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        assert_true(webguard_run_file(ok[i]));
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_false(webguard_run_file(bad[i]));
}

static void test_names(void **state) {
    (void)state;
    webguard_t g;
    webguard_init(&g, "0.0.0.0", 1, NULL);
    assert_int_equal(g.nnames, 3); /* a wildcard is no name */
    webguard_add_name(&g, "LOCALHOST");
    assert_int_equal(g.nnames, 3);
    for (int i = 0; i < 100; i++) {
        char n[32];
        snprintf(n, sizeof n, "h%d", i);
        webguard_add_name(&g, n);
    }
    assert_int_equal(g.nnames, WEBGUARD_MAX_NAMES);
    char longname[WEBGUARD_NAME_LEN + 10];
    memset(longname, 'a', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    webguard_init(&g, longname, 1, NULL);
    assert_int_equal(g.nnames, 3);
    webguard_add_local_names(&g);
    assert_true(g.nnames >= 3);

    assert_true(webguard_is_loopback("localhost"));
    assert_true(webguard_is_loopback("127.0.0.1"));
    assert_true(webguard_is_loopback("127.1.2.3"));
    assert_true(webguard_is_loopback("::1"));
    assert_false(webguard_is_loopback("0.0.0.0"));
    assert_false(webguard_is_loopback(""));
    assert_false(webguard_is_loopback("10.0.0.1"));
    assert_false(webguard_is_loopback("::"));
}

static void test_tokens(void **state) {
    (void)state;
    webguard_t g;
    char a[49], b[49];
    webguard_init(&g, "127.0.0.1", 1, "");
    assert_true(webguard_token_ok(&g, NULL)); /* none in force */
    webguard_init(&g, "127.0.0.1", 1, "abc");
    assert_true(webguard_token_ok(&g, "abc"));
    assert_false(webguard_token_ok(&g, NULL));
    assert_false(webguard_token_ok(&g, ""));
    assert_false(webguard_token_ok(&g, "ab"));
    assert_false(webguard_token_ok(&g, "abcd"));
    assert_false(webguard_token_ok(&g, "abd"));
    assert_false(webguard_token_ok(&g, "ABC"));
    assert_int_equal(webguard_random_token(a, sizeof a, 24), 0);
    assert_int_equal(webguard_random_token(b, sizeof b, 24), 0);
    assert_int_equal(strlen(a), 48);
    assert_int_equal(strspn(a, "0123456789abcdef"), 48);
    assert_string_not_equal(a, b);
    assert_int_equal(webguard_random_token(a, 10, 24), -1);
}

/* ---------------------------------------------------------------- paths */

static char root[600], outside[600];

static void touch(const char *dir, const char *name, const char *text) {
    char p[PATH_MAX + 64];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static int setup_tree(void **state) {
    (void)state;
    char tmpl[] = "/tmp/nc-webguard.XXXXXX", base[PATH_MAX], p[1024], q[1024];
    if (!mkdtemp(tmpl) || !realpath(tmpl, base) || strlen(base) > 400) return -1;
    snprintf(root, sizeof root, "%.400s/files", base);
    snprintf(outside, sizeof outside, "%.400s/outside", base);
    if (mkdir(root, 0700) || mkdir(outside, 0700)) return -1;
    touch(root, "train.csv", "id,label,f1\n1,a,2\n");
    touch(root, "model.txt", "solver_type L2R_LR\n");
    touch(outside, "secret.csv", "root:x:0:0\n");
    snprintf(p, sizeof p, "%s/sub", root);
    mkdir(p, 0700);
    touch(p, "in.csv", "x\n");
    snprintf(p, sizeof p, "%s/secret.csv", outside);
    snprintf(q, sizeof q, "%s/leak.csv", root);
    if (symlink(p, q)) return -1;
    snprintf(q, sizeof q, "%s/up", root);
    if (symlink(outside, q)) return -1;
    snprintf(q, sizeof q, "%s/inner.csv", root);
    if (symlink("sub/in.csv", q)) return -1;
    snprintf(q, sizeof q, "%s/dangling.csv", root);
    if (symlink("/tmp/nc-webguard-nowhere/x.csv", q)) return -1;
    snprintf(q, sizeof q, "%s/fifo.csv", root);
    if (mkfifo(q, 0600)) return -1;
    snprintf(q, sizeof q, "%s/null.csv", root);
    if (symlink("/dev/null", q)) return -1;
    return 0;
}

static int teardown_tree(void **state) {
    (void)state;
    char cmd[PATH_MAX + 32];
    char *slash = strrchr(root, '/');
    if (slash) {
        *slash = '\0';
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
        if (system(cmd) != 0) return -1;
    }
    return 0;
}

typedef struct {
    const char *rel;
    webguard_access_t access;
    unsigned want;
    const char *real; /* under root, when want is 0 */
} path_case_t;

static void test_paths(void **state) {
    (void)state;
    static const path_case_t cases[] = {
        {"train.csv", WG_READ, 0, "train.csv"},
        {"./train.csv", WG_READ, 0, "train.csv"},
        {"sub/in.csv", WG_READ, 0, "sub/in.csv"},
        {"sub//in.csv", WG_READ, 0, "sub/in.csv"},
        {"inner.csv", WG_READ, 0, "sub/in.csv"}, /* a symlink that stays inside */
        {"new.txt", WG_WRITE, 0, "new.txt"},
        {"sub/new.txt", WG_WRITE, 0, "sub/new.txt"},
        {"model.txt", WG_WRITE, 0, "model.txt"},
        {"/etc/passwd", WG_READ, 403, NULL},
        {"/etc/passwd", WG_WRITE, 403, NULL},
        {"~/x", WG_READ, 403, NULL},
        {"../outside/secret.csv", WG_READ, 403, NULL},
        {"sub/../../outside/secret.csv", WG_READ, 403, NULL},
        {"sub/../train.csv", WG_READ, 403, NULL}, /* ".." refused even when it stays inside */
        {"..", WG_READ, 403, NULL},
        {"leak.csv", WG_READ, 403, NULL},
        {"leak.csv", WG_WRITE, 403, NULL},
        {"up/secret.csv", WG_READ, 403, NULL},
        {"up/new.csv", WG_WRITE, 403, NULL},
        {"dangling.csv", WG_WRITE, 403, NULL},
        {"dangling.csv", WG_READ, 403, NULL},
        {"fifo.csv", WG_READ, 403, NULL},
        {"fifo.csv", WG_WRITE, 403, NULL},
        {"null.csv", WG_WRITE, 403, NULL},
        {"sub", WG_READ, 403, NULL},
        {"sub", WG_WRITE, 403, NULL},
        {".", WG_READ, 403, NULL},
        {"sub/", WG_WRITE, 403, NULL},
        {"missing.csv", WG_READ, 403, NULL},
        {"nodir/new.txt", WG_WRITE, 403, NULL},
        {"a\\b", WG_READ, 403, NULL},
        {"a\nb", WG_READ, 403, NULL},
        {"\xff\xfe.csv", WG_READ, 403, NULL},
        {"", WG_READ, 400, NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char out[PATH_MAX], why[WEBGUARD_REASON] = "", want[PATH_MAX + 64];
        unsigned st =
            webguard_path(root, cases[i].rel, cases[i].access, out, sizeof out, why, sizeof why);
        if (st != cases[i].want) {
            print_error("path case %zu '%s': got %u (%s), want %u\n", i, cases[i].rel, st, why,
                        cases[i].want);
            fail();
        }
        if (st == 0) {
            snprintf(want, sizeof want, "%s/%s", root, cases[i].real);
            assert_string_equal(out, want);
        } else {
            assert_true(why[0] && utf8_check(why, strlen(why), NULL));
            assert_null(strstr(why, "root:")); /* never the contents */
        }
    }
    char big[2000];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    char out[PATH_MAX], why[WEBGUARD_REASON];
    assert_int_equal(webguard_path(root, big, WG_WRITE, out, sizeof out, why, sizeof why), 400);
}

/* ---------------------------------------------------------------- jobs */

typedef struct {
    const char *body;
    unsigned want;
} job_case_t;

static void test_jobs(void **state) {
    (void)state;
    char d_train[PATH_MAX + 64], d_model[PATH_MAX + 64], d_out[PATH_MAX + 64],
        d_test[PATH_MAX + 64], d_tout[PATH_MAX + 64];
    snprintf(d_train, sizeof d_train, "%s/train.csv", root);
    snprintf(d_test, sizeof d_test, "%s/test.csv", root);
    snprintf(d_model, sizeof d_model, "%s/model.txt", root);
    snprintf(d_out, sizeof d_out, "%s/sub/submission.csv", root);
    snprintf(d_tout, sizeof d_tout, "%s/pred.csv", root);
    const char *const defaults[5] = {d_train, d_test, d_model, d_out, d_tout};
    static const job_case_t cases[] = {
        {"{\"mode\":\"train\"}", 0},
        {"{\"mode\":\"train\",\"data\":\"train.csv\",\"C\":2,\"solver\":\"L2R_LR\"}", 0},
        {"{\"mode\":\"test\",\"data\":\"train.csv\",\"model\":\"model.txt\",\"out\":\"p.csv\"}", 0},
        {"{\"mode\":\"train\",\"data\":\"/etc/passwd\"}", 403},
        {"{\"mode\":\"train\",\"data\":\"../outside/secret.csv\"}", 403},
        {"{\"mode\":\"train\",\"data\":\"leak.csv\"}", 403},
        {"{\"mode\":\"train\",\"data\":\"fifo.csv\"}", 403},
        {"{\"mode\":\"train\",\"data\":\".\"}", 403},
        {"{\"mode\":\"train\",\"out\":\"/root/.bashrc\"}", 403},
        {"{\"mode\":\"train\",\"model\":\"up/model.txt\"}", 403},
        {"{\"mode\":\"train\",\"model\":\"null.csv\"}", 403},
        {"{\"mode\":\"test\",\"data\":\"train.csv\",\"model\":\"nope.txt\"}", 403},
        {"{\"mode\":\"test\"}", 403}, /* the default test file is missing */
        {"{\"mode\":\"train\",\"data\":\"train.csv\\u0000x\"}", 403}, /* NUL inside */
        {"{\"mode\":\"train\",\"data\":5}", 400},
        {"{\"mode\":\"train\",\"data\":null}", 400},
        {"{\"mode\":\"train\",\"C\":[1]}", 400},
        {"{\"mode\":\"train\",\"C\":{}}", 400},
        {"{\"mode\":\"train\",\"history\":\"x\"}", 400},
        {"{\"mode\":\"train\",\"label\":\"\xff\"}", 400},
        {"{\"mode\":\"fly\"}", 400},
        {"{\"mode\":1}", 400},
        {"{\"data\":\"train.csv\"}", 400},
        {"[\"mode\",\"train\"]", 400},
        {"{\"mode\":\"train\"} {}", 400},
        {"{\"mode\":\"train\"", 400},
        {"", 400},
        {"not json", 400},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        unsigned st = 999;
        char why[WEBGUARD_REASON] = "";
        json_object *j = webguard_job(root, defaults, cases[i].body, strlen(cases[i].body), &st,
                                      why, sizeof why);
        if (st != cases[i].want || (st == 0) != (j != NULL)) {
            print_error("job case %zu %s: got %u (%s), want %u\n", i, cases[i].body, st, why,
                        cases[i].want);
            fail();
        }
        if (j) {
            json_object *v;
            /* every path is explicit, absolute and inside the root */
            static const char *const keys[] = {"data", "model", "out"};
            for (size_t k = 0; k < 3; k++) {
                assert_true(json_object_object_get_ex(j, keys[k], &v));
                assert_memory_equal(json_object_get_string(v), root, strlen(root));
            }
        } else {
            assert_true(why[0] && utf8_check(why, strlen(why), NULL));
        }
        json_object_put(j);
    }
    /* a default outside the root is refused, named as the default */
    const char *const bad_defaults[5] = {"/etc/passwd", d_test, d_model, d_out, d_tout};
    unsigned st;
    char why[WEBGUARD_REASON];
    json_object *j =
        webguard_job(root, bad_defaults, "{\"mode\":\"train\"}", 16, &st, why, sizeof why);
    assert_null(j);
    assert_int_equal(st, 403);
    assert_non_null(strstr(why, "default"));
}

/* ---------------------------------------------------------------- text */

static void test_public_error(void **state) {
    (void)state;
    char out[WEBGUARD_REASON];
    static const struct {
        const char *in, *want;
    } cases[] = {
        {"/srv/Data/train.csv:1: columns: root:x:0:0:root:/root:/bin/bash",
         "bad input at line 1 (details in the master's log)"},
        {"train.csv:5:3: 'secret' is not a number", "bad input at line 5, column 3 (details in the "
                                                    "master's log)"},
        {"C:12:4: x", "bad input at line 12, column 4 (details in the master's log)"},
        {"cannot open /root/.bashrc: Permission denied",
         "job failed (details in the master's log)"},
        {"", "job failed (details in the master's log)"},
        {NULL, "job failed (details in the master's log)"},
        {"a:99999999999999999999:", "job failed (details in the master's log)"},
        {"worker lost", "worker lost"},
        {"lease timed out after 3600 s (attempt 2)", "lease timed out after 3600 s (attempt 2)"},
        {"columns: id,label,f1", "job failed (details in the master's log)"},
        {"Secret", "job failed (details in the master's log)"},
        {"unknown label value 'abc'", "job failed (details in the master's log)"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        assert_string_equal(webguard_public_error(cases[i].in, out, sizeof out), cases[i].want);
    assert_string_equal(webguard_failed_reason(3, out, sizeof out),
                        "bad input data (exit 3; details in the master's log)");
    assert_string_equal(webguard_failed_reason(2, out, sizeof out),
                        "bad usage or configuration (exit 2; details in the master's log)");
}

static void test_utf8_repair(void **state) {
    (void)state;
    char a[] = "42[\"job_done\",{\"data\":\"/d/\xff\xfe\xc3\xa9\xe2\x82\"}]";
    size_t len = strlen(a);
    assert_false(utf8_check(a, len, NULL));
    assert_int_equal(webguard_utf8_repair(a, len), 4); /* ff, fe, and e2 82 cut short */
    assert_int_equal(strlen(a), len);
    assert_true(utf8_check(a, len, NULL));
    assert_non_null(strstr(a, "\xc3\xa9")); /* valid text is kept */
    char b[] = "plain ascii \xf0\x9f\x98\x80";
    assert_int_equal(webguard_utf8_repair(b, strlen(b)), 0);
    char c[] = "\xed\xa0\x80"; /* a surrogate */
    webguard_utf8_repair(c, 3);
    assert_true(utf8_check(c, 3, NULL));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_token_routes), cmocka_unit_test(test_hostile_requests),
        cmocka_unit_test(test_names),        cmocka_unit_test(test_tokens),
        cmocka_unit_test(test_paths),        cmocka_unit_test(test_jobs),
        cmocka_unit_test(test_public_error), cmocka_unit_test(test_utf8_repair),
        cmocka_unit_test(test_run_files),
    };
    return cmocka_run_group_tests(tests, setup_tree, teardown_tree);
}
