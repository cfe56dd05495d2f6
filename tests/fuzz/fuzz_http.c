/* libFuzzer target: the dashboard's request policy (dashboard/webguard.h) on
 * arbitrary requests. The input is split at NUL bytes into method, path,
 * Host, Origin, Authorization, Content-Type and a job body; the verdict, the
 * path checks and the job validation must not crash or leak, and must keep
 * their promises: a request with a foreign Host or Origin is never let
 * through, with a token in force nothing but /health, the page and the
 * websocket passes without it, a job that passes names only real absolute
 * paths inside the root, and every reason is valid UTF-8. */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/utf8.h"
#include "dashboard/webguard.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char root[PATH_MAX];

static void remove_root(void) {
    char cmd[PATH_MAX + 16];
    if (root[0] && snprintf(cmd, sizeof cmd, "rm -rf '%s'", root) < (int)sizeof cmd &&
        system(cmd) != 0)
        fprintf(stderr, "fuzz_http: could not remove %s\n", root);
}

static void make_root(void) {
    char tmpl[] = "/tmp/nc-fuzz-http.XXXXXX";
    char p[PATH_MAX + 64];
    if (root[0]) return;
    if (!mkdtemp(tmpl) || !realpath(tmpl, root)) abort();
    atexit(remove_root);
    snprintf(p, sizeof p, "%s/train.csv", root);
    FILE *f = fopen(p, "w");
    if (!f) abort();
    fputs("id,label,f1\n1,a,2\n", f);
    fclose(f);
    snprintf(p, sizeof p, "%s/sub", root);
    mkdir(p, 0700);
    snprintf(p, sizeof p, "%s/up", root);
    if (symlink("/etc", p) != 0) abort();
}

static void reason_ok(const char *r) {
    if (!utf8_check(r, strlen(r), NULL) || strchr(r, '\n')) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *field[7] = {NULL};
    char *buf = malloc(size + 1);
    if (!buf) return 0;
    make_root();
    memcpy(buf, data, size);
    buf[size] = '\0';
    size_t nf = 0, start = 0;
    for (size_t i = 0; i <= size && nf < 6; i++) {
        if (i == size || buf[i] == '\0') {
            field[nf++] = buf + start;
            start = i + 1;
        }
    }
    const char *body = start <= size ? buf + start : "";
    size_t body_len = start <= size ? size - start : 0;

    webguard_t g;
    webguard_init(&g, "0.0.0.0", 5051, (size & 1) ? "tok" : "");
    webguard_add_name(&g, "lab-pc");
    webguard_req_t r = {
        field[0], field[1], field[2], field[3], field[4], field[5], field[0] && field[0][0] == 'W'};
    webguard_verdict_t v;
    unsigned st = webguard_check(&g, &r, &v);
    if (st != v.status) abort();
    if (st)
        reason_ok(v.reason);
    else {
        if (!r.host || (r.origin && strncasecmp(r.origin, "http", 4) != 0)) abort();
        bool open = v.route == WG_ROUTE_HEALTH || v.route == WG_ROUTE_STATIC ||
                    v.route == WG_ROUTE_SOCKETIO;
        const char *given = NULL;
        if (r.authorization && strncasecmp(r.authorization, "Bearer ", 7) == 0)
            for (given = r.authorization + 7; *given == ' '; given++)
                ;
        if (g.token[0] && !open && !webguard_token_ok(&g, given)) abort();
    }

    char out[PATH_MAX], why[WEBGUARD_REASON];
    if (field[1]) {
        why[0] = '\0';
        if (webguard_path(root, field[1], (size & 2) ? WG_WRITE : WG_READ, out, sizeof out, why,
                          sizeof why) == 0) {
            if (strncmp(out, root, strlen(root)) != 0 || out[strlen(root)] != '/') abort();
        } else {
            reason_ok(why);
        }
    }

    char d0[PATH_MAX + 16], d2[PATH_MAX + 16], d3[PATH_MAX + 16];
    snprintf(d0, sizeof d0, "%s/train.csv", root);
    snprintf(d2, sizeof d2, "%s/model.txt", root);
    snprintf(d3, sizeof d3, "%s/sub/out.csv", root);
    const char *const defaults[5] = {d0, d0, d2, d3, d3};
    unsigned jst = 0;
    json_object *job = webguard_job(root, defaults, body, body_len, &jst, why, sizeof why);
    if (job) {
        static const char *const keys[] = {"data", "model", "out"};
        for (size_t k = 0; k < 3; k++) {
            json_object *p;
            if (!json_object_object_get_ex(job, keys[k], &p) ||
                strncmp(json_object_get_string(p), root, strlen(root)) != 0)
                abort();
        }
        json_object_put(job);
    } else {
        if (jst == 0) abort();
        reason_ok(why);
    }

    char pub[WEBGUARD_REASON];
    reason_ok(webguard_public_error(body, pub, sizeof pub));
    webguard_utf8_repair(buf, size);
    if (!utf8_check(buf, size, NULL)) abort();
    free(buf);
    return 0;
}
