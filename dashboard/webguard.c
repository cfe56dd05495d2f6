/* webguard: the dashboard's request policy. See webguard.h. */
#include "dashboard/webguard.h"

#include "common/jsonx.h"
#include "common/utf8.h"

#include <ctype.h>
#include <errno.h>
#include <ifaddrs.h>
#include <limits.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_REL_PATH 1024

static void set_reason(char *reason, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set_reason(char *reason, size_t len, const char *fmt, ...) {
    char raw[512];
    va_list ap;
    if (!reason || len == 0) return;
    va_start(ap, fmt);
    vsnprintf(raw, sizeof raw, fmt, ap);
    va_end(ap);
    utf8_sanitize(reason, len, raw);
}

/* ---------------------------------------------------------------- names */

static bool is_wildcard(const char *host) {
    return !host || !*host || strcmp(host, "0.0.0.0") == 0 || strcmp(host, "::") == 0 ||
           strcmp(host, "[::]") == 0;
}

bool webguard_is_loopback(const char *host) {
    if (!host) return false;
    return strcasecmp(host, "localhost") == 0 || strncmp(host, "127.", 4) == 0 ||
           strcmp(host, "::1") == 0 || strcmp(host, "[::1]") == 0;
}

void webguard_add_name(webguard_t *g, const char *name) {
    char n[WEBGUARD_NAME_LEN];
    size_t len = name ? strlen(name) : 0;
    if (len >= 2 && name[0] == '[' && name[len - 1] == ']') {
        name++;
        len -= 2;
    }
    if (len == 0 || len >= sizeof n || g->nnames >= WEBGUARD_MAX_NAMES) return;
    for (size_t i = 0; i < len; i++)
        n[i] = (char)tolower((unsigned char)name[i]);
    n[len] = '\0';
    for (size_t i = 0; i < g->nnames; i++)
        if (strcmp(g->names[i], n) == 0) return;
    memcpy(g->names[g->nnames++], n, len + 1);
}

void webguard_init(webguard_t *g, const char *host, int port, const char *token) {
    memset(g, 0, sizeof *g);
    g->port = port;
    if (token) snprintf(g->token, sizeof g->token, "%s", token);
    webguard_add_name(g, "localhost");
    webguard_add_name(g, "127.0.0.1");
    webguard_add_name(g, "::1");
    if (!is_wildcard(host)) webguard_add_name(g, host);
}

void webguard_add_local_names(webguard_t *g) {
    char name[256];
    struct ifaddrs *ifs = NULL;
    if (gethostname(name, sizeof name) == 0) {
        name[sizeof name - 1] = '\0';
        webguard_add_name(g, name);
    }
    if (getifaddrs(&ifs) != 0) return;
    for (struct ifaddrs *i = ifs; i; i = i->ifa_next) {
        if (!i->ifa_addr) continue;
        int fam = i->ifa_addr->sa_family;
        if (fam != AF_INET && fam != AF_INET6) continue;
        socklen_t sl = fam == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
        if (getnameinfo(i->ifa_addr, sl, name, sizeof name, NULL, 0, NI_NUMERICHOST) != 0) continue;
        char *pct = strchr(name, '%'); /* fe80::1%eth0: browsers never send the zone */
        if (pct) *pct = '\0';
        webguard_add_name(g, name);
    }
    freeifaddrs(ifs);
}

/* Splits "name[:port]" or "[v6][:port]" into the name (lower case, no
 * brackets) and the port (-1 when absent). False when malformed. */
static bool split_hostport(const char *hp, char *name, size_t cap, int *port) {
    const char *end, *colon;
    size_t len = strlen(hp);
    *port = -1;
    if (len == 0 || len >= cap + 8) return false;
    if (hp[0] == '[') {
        end = strchr(hp, ']');
        if (!end) return false;
        colon = end[1] == ':' ? end + 1 : NULL;
        if (end[1] && !colon) return false;
        hp++;
    } else {
        colon = strchr(hp, ':');
        if (colon && strchr(colon + 1, ':'))
            return false; /* a bare IPv6 address is not a Host value */
        end = colon ? colon : hp + len;
    }
    size_t n = (size_t)(end - hp);
    if (n == 0 || n >= cap) return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)hp[i];
        if (c <= ' ' || c >= 0x7f || c == '/' || c == '@' || c == '\\' || c == '?' || c == '#')
            return false;
        name[i] = (char)tolower(c);
    }
    name[n] = '\0';
    if (colon) {
        long p = 0;
        const char *d = colon + 1;
        if (!*d) return false;
        for (; *d; d++) {
            if (*d < '0' || *d > '9' || p > 65535) return false;
            p = p * 10 + (*d - '0');
        }
        if (p < 1 || p > 65535) return false;
        *port = (int)p;
    }
    return true;
}

static bool host_ok(const webguard_t *g, const char *host) {
    char name[WEBGUARD_NAME_LEN];
    int port;
    if (!host || !split_hostport(host, name, sizeof name, &port)) return false;
    for (size_t i = 0; i < g->nnames; i++)
        if (strcmp(g->names[i], name) == 0) return true;
    return false;
}

/* Same origin: "http://" or "https://" followed by exactly the Host value
 * (case-insensitive), no path. */
static bool origin_ok(const char *origin, const char *host) {
    const char *rest;
    if (strncasecmp(origin, "http://", 7) == 0)
        rest = origin + 7;
    else if (strncasecmp(origin, "https://", 8) == 0)
        rest = origin + 8;
    else
        return false; /* "null", file://, chrome-extension:// ... */
    return host && strcasecmp(rest, host) == 0;
}

/* ---------------------------------------------------------------- tokens */

int webguard_random_token(char *out, size_t cap, size_t nbytes) {
    static const char hex[] = "0123456789abcdef";
    unsigned char r[64];
    if (nbytes > sizeof r || cap < 2 * nbytes + 1) return -1;
    size_t got = 0;
    while (got < nbytes) {
        ssize_t n = getrandom(r + got, nbytes - got, 0);
        if (n < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        got += (size_t)n;
    }
    for (size_t i = 0; i < nbytes; i++) {
        out[2 * i] = hex[r[i] >> 4];
        out[2 * i + 1] = hex[r[i] & 15];
    }
    out[2 * nbytes] = '\0';
    return 0;
}

bool webguard_token_ok(const webguard_t *g, const char *given) {
    const char *tok = g->token;
    if (!tok[0]) return true;
    if (!given) return false;
    size_t a = strnlen(given, WEBGUARD_NAME_LEN), b = strlen(tok);
    unsigned char diff = (unsigned char)(a != b);
    /* every byte of the secret is visited whatever was given */
    for (size_t i = 0; i < b; i++)
        diff |= (unsigned char)(tok[i] ^ (i < a ? given[i] : 0));
    return diff == 0;
}

static bool bearer_ok(const webguard_t *g, const char *authorization) {
    if (!g->token[0]) return true;
    if (!authorization || strncasecmp(authorization, "Bearer ", 7) != 0) return false;
    const char *t = authorization + 7;
    while (*t == ' ')
        t++;
    return webguard_token_ok(g, t);
}

/* ---------------------------------------------------------------- routes */

bool webguard_parse_id(const char *s, int64_t *id) {
    int64_t v = 0;
    int n = 0;
    for (; *s; s++, n++) {
        if (*s < '0' || *s > '9' || n >= 18) return false;
        v = v * 10 + (*s - '0');
    }
    *id = v;
    return n > 0;
}

static const char *const run_files[] = {"params.json",    "run.json",  "metrics.json",
                                        "job.log",        "model.txt", "model.txt.schema.json",
                                        "submission.csv", "export.svm"};

const char *webguard_run_file_at(size_t i) {
    return i < sizeof run_files / sizeof run_files[0] ? run_files[i] : NULL;
}

bool webguard_run_file(const char *name) {
    for (size_t i = 0; name && webguard_run_file_at(i); i++)
        if (strcmp(name, run_files[i]) == 0) return true;
    return false;
}

/* "ID", "ID/cancel" or "ID/files/NAME" after /api/jobs/: sets the route,
 * job_id and file; false for anything else. */
static bool api_job_path(const char *rest, webguard_verdict_t *v) {
    char id[24];
    const char *slash = strchr(rest, '/');
    size_t n = slash ? (size_t)(slash - rest) : strlen(rest);
    if (n == 0 || n >= sizeof id) return false;
    memcpy(id, rest, n);
    id[n] = '\0';
    if (!webguard_parse_id(id, &v->job_id)) return false;
    if (!slash) {
        v->route = WG_ROUTE_JOB;
        return true;
    }
    if (strcmp(slash, "/cancel") == 0) {
        v->route = WG_ROUTE_CANCEL;
        return true;
    }
    if (strncmp(slash, "/files/", 7) != 0 || !webguard_run_file(slash + 7)) return false;
    snprintf(v->file, sizeof v->file, "%s", slash + 7);
    v->route = WG_ROUTE_JOB_FILE;
    return true;
}

static unsigned deny(webguard_verdict_t *v, unsigned status, const char *reason) {
    v->status = status;
    snprintf(v->reason, sizeof v->reason, "%s", reason);
    return status;
}

static bool json_media_type(const char *ct) {
    if (!ct) return false;
    while (*ct == ' ')
        ct++;
    if (strncasecmp(ct, "application/json", 16) != 0) return false;
    ct += 16;
    while (*ct == ' ')
        ct++;
    return *ct == '\0' || *ct == ';';
}

unsigned webguard_check(const webguard_t *g, const webguard_req_t *r, webguard_verdict_t *v) {
    const char *path = r->path && *r->path ? r->path : "/";
    bool get = r->method && strcmp(r->method, "GET") == 0;
    bool post = r->method && strcmp(r->method, "POST") == 0;
    memset(v, 0, sizeof *v);

    if (!host_ok(g, r->host))
        return deny(v, 403, "Host is not one of this dashboard's names (DNS rebinding guard)");
    if (r->origin && !origin_ok(r->origin, r->host))
        return deny(v, 403, "cross-origin request refused");
    v->authorized = bearer_ok(g, r->authorization);

    if (strcmp(path, "/socket.io") == 0 || strncmp(path, "/socket.io/", 11) == 0)
        v->route = WG_ROUTE_SOCKETIO;
    else if (strcmp(path, "/health") == 0)
        v->route = WG_ROUTE_HEALTH;
    else if (strcmp(path, "/metrics") == 0)
        v->route = WG_ROUTE_METRICS;
    else if (strcmp(path, "/api/workers") == 0)
        v->route = WG_ROUTE_WORKERS;
    else if (strcmp(path, "/api/jobs") == 0)
        v->route = post ? WG_ROUTE_SUBMIT : WG_ROUTE_JOBS;
    else if (strncmp(path, "/api/jobs/", 10) == 0) {
        if (!api_job_path(path + 10, v)) {
            v->route = WG_ROUTE_NONE;
            return deny(v, v->authorized ? 404 : 401,
                        v->authorized ? "no such job file (GET /api/jobs/ID or "
                                        "/api/jobs/ID/files/NAME, NAME a run file)"
                                      : "missing or wrong bearer token");
        }
    } else if (strcmp(path, "/api/history") == 0)
        v->route = WG_ROUTE_HISTORY;
    else if (strcmp(path, "/api/files") == 0)
        v->route = WG_ROUTE_FILES;
    else if (strcmp(path, "/api") == 0 || strncmp(path, "/api/", 5) == 0)
        return deny(v, v->authorized ? 404 : 401,
                    v->authorized ? "no such API" : "missing or wrong bearer token");
    else
        v->route = WG_ROUTE_STATIC;

    if (r->websocket)
        return v->route == WG_ROUTE_SOCKETIO ? 0 : deny(v, 404, "websocket only at /socket.io/");
    if (!get && !post) return deny(v, 405, "only GET and POST are supported");
    bool post_route = v->route == WG_ROUTE_SUBMIT || v->route == WG_ROUTE_CANCEL;
    if (post && !post_route)
        return deny(v, 405, "POST is only for /api/jobs and /api/jobs/ID/cancel");
    if (!post && v->route == WG_ROUTE_CANCEL)
        return deny(v, 405, "cancel a job with POST /api/jobs/ID/cancel");
    bool open =
        v->route == WG_ROUTE_HEALTH || v->route == WG_ROUTE_STATIC || v->route == WG_ROUTE_SOCKETIO;
    if (!open && !v->authorized) return deny(v, 401, "missing or wrong bearer token");
    if (post_route && !json_media_type(r->content_type))
        return deny(v, 415, "POST needs Content-Type: application/json");
    return 0;
}

/* ---------------------------------------------------------------- paths */

static bool inside(const char *root, const char *real) {
    size_t n = strlen(root);
    if (n == 1 && root[0] == '/') return real[0] == '/';
    return strncmp(real, root, n) == 0 && (real[n] == '/' || real[n] == '\0');
}

/* Resolves full (a path the process would open) and checks it lies under
 * root. Shared by the paths a job names and the config's defaults. */
static unsigned resolve_full(const char *root, const char *full, webguard_access_t access,
                             const char *what, char *out, size_t outlen, char *reason,
                             size_t reasonlen) {
    char real[PATH_MAX], dir[PATH_MAX];
    struct stat st;
    if (realpath(full, real)) {
        if (!inside(root, real)) {
            set_reason(reason, reasonlen, "%s: leads out of the files folder", what);
            return 403;
        }
        if (stat(real, &st) != 0 || !S_ISREG(st.st_mode)) {
            set_reason(reason, reasonlen, "%s: not a regular file", what);
            return 403;
        }
        if (strcmp(real, root) == 0) {
            set_reason(reason, reasonlen, "%s: names the files folder itself", what);
            return 403;
        }
        if (strlen(real) >= outlen) {
            set_reason(reason, reasonlen, "%s: path too long", what);
            return 400;
        }
        strcpy(out, real);
        return 0;
    }
    if (access == WG_READ || errno != ENOENT) {
        set_reason(reason, reasonlen, "%s: %s", what,
                   errno == ENOENT ? "no such file in the files folder" : "cannot be resolved");
        return 403;
    }
    /* A new output: its folder must exist inside the root, and its name must
     * not be a dangling symlink (that would write wherever it points). */
    if (lstat(full, &st) == 0) {
        set_reason(reason, reasonlen, "%s: a symlink to nowhere", what);
        return 403;
    }
    const char *slash = strrchr(full, '/');
    const char *base = slash ? slash + 1 : full;
    size_t dlen = slash ? (size_t)(slash - full) : 0;
    if (!*base || strcmp(base, ".") == 0 || strcmp(base, "..") == 0 || dlen >= sizeof dir) {
        set_reason(reason, reasonlen, "%s: not a file name", what);
        return 403;
    }
    if (slash) {
        memcpy(dir, full, dlen ? dlen : 1);
        dir[dlen ? dlen : 1] = '\0';
    } else {
        strcpy(dir, ".");
    }
    if (!realpath(dir, real) || stat(real, &st) != 0 || !S_ISDIR(st.st_mode)) {
        set_reason(reason, reasonlen, "%s: no such folder in the files folder", what);
        return 403;
    }
    if (!inside(root, real)) {
        set_reason(reason, reasonlen, "%s: leads out of the files folder", what);
        return 403;
    }
    if (strlen(real) + 1 + strlen(base) >= outlen) {
        set_reason(reason, reasonlen, "%s: path too long", what);
        return 400;
    }
    snprintf(out, outlen, "%s/%s", strcmp(real, "/") == 0 ? "" : real, base);
    return 0;
}

/* The textual rules on a path a job names, before the file system is asked. */
static unsigned check_rel(const char *rel, const char *what, char *reason, size_t reasonlen) {
    size_t len = strlen(rel);
    if (len == 0) {
        set_reason(reason, reasonlen, "%s: empty path", what);
        return 400;
    }
    if (len > MAX_REL_PATH) {
        set_reason(reason, reasonlen, "%s: path longer than %d bytes", what, MAX_REL_PATH);
        return 400;
    }
    if (rel[0] == '/' || rel[0] == '~') {
        set_reason(reason, reasonlen,
                   "%s: absolute paths are refused; name a file inside the files folder", what);
        return 403;
    }
    if (!utf8_check(rel, len, NULL)) {
        set_reason(reason, reasonlen, "%s: path is not valid UTF-8", what);
        return 403;
    }
    for (const char *p = rel; *p; p++) {
        if ((unsigned char)*p < 0x20 || *p == '\\' || *p == 0x7f) {
            set_reason(reason, reasonlen, "%s: control character or backslash in path", what);
            return 403;
        }
    }
    for (const char *seg = rel; seg;) {
        const char *end = strchr(seg, '/');
        size_t n = end ? (size_t)(end - seg) : strlen(seg);
        if (n == 2 && seg[0] == '.' && seg[1] == '.') {
            set_reason(reason, reasonlen, "%s: \"..\" is refused", what);
            return 403;
        }
        seg = end ? end + 1 : NULL;
    }
    return 0;
}

unsigned webguard_path(const char *root, const char *rel, webguard_access_t access, char *out,
                       size_t outlen, char *reason, size_t reasonlen) {
    char full[PATH_MAX + MAX_REL_PATH + 2];
    unsigned st = check_rel(rel ? rel : "", "path", reason, reasonlen);
    if (st) return st;
    snprintf(full, sizeof full, "%s/%s", root, rel);
    return resolve_full(root, full, access, "path", out, outlen, reason, reasonlen);
}

/* ---------------------------------------------------------------- jobs */

typedef enum { OPT_VALUE, OPT_DATA, OPT_MODEL, OPT_OUT } opt_kind_t;

/* The job options a request may carry (serve.c checks their values). */
static const struct {
    const char *name;
    opt_kind_t kind;
} job_opts[] = {
    {"data", OPT_DATA},      {"model", OPT_MODEL},  {"out", OPT_OUT},
    {"label", OPT_VALUE},    {"id", OPT_VALUE},     {"solver", OPT_VALUE},
    {"C", OPT_VALUE},        {"eps", OPT_VALUE},    {"bias", OPT_VALUE},
    {"strategy", OPT_VALUE}, {"rounds", OPT_VALUE}, {"shard-rows", OPT_VALUE},
    {"format", OPT_VALUE},   {"scale", OPT_VALUE},  {"min-workers", OPT_VALUE},
    {"cv", OPT_VALUE},       {"C-list", OPT_VALUE}, {"solvers", OPT_VALUE},
    {"no-final", OPT_VALUE},
};

static int find_opt(const char *name) {
    for (size_t i = 0; i < sizeof job_opts / sizeof job_opts[0]; i++)
        if (strcmp(job_opts[i].name, name) == 0) return (int)i;
    return -1;
}

/* Resolves one path option (named over HTTP: rel; or the config's default:
 * full) and stores its real path in job under key. */
static unsigned job_path(json_object *job, const char *root, const char *key, const char *rel,
                         const char *deflt, webguard_access_t access, char *real, size_t reallen,
                         char *reason, size_t reasonlen) {
    char full[PATH_MAX + MAX_REL_PATH + 2], why[WEBGUARD_REASON];
    unsigned st;
    if (rel) {
        st = check_rel(rel, key, reason, reasonlen);
        if (st) return st;
        snprintf(full, sizeof full, "%s/%s", root, rel);
        st = resolve_full(root, full, access, key, real, reallen, reason, reasonlen);
    } else {
        st = resolve_full(root, deflt ? deflt : "", access, key, real, reallen, why, sizeof why);
        if (st)
            set_reason(reason, reasonlen,
                       "%s: the configured default is not a usable file inside the files "
                       "folder; name one",
                       key);
    }
    if (st) return st;
    json_object *s = json_object_new_string(real);
    if (!s || json_object_object_add(job, key, s) != 0) {
        json_object_put(s);
        set_reason(reason, reasonlen, "out of memory");
        return 500;
    }
    return 0;
}

/* The body as one JSON object with a valid "mode"; NULL with reason (400). */
static json_object *job_body(const char *body, size_t len, unsigned *st, char *reason,
                             size_t reasonlen) {
    json_object *req = NULL;
    const char *mode = NULL;
    *st = 400;
    req = jsonx_parse_object(body, len, &(jsonx_limits_t){.max_depth = 16}, NULL, 0);
    if (!req) {
        set_reason(
            reason, reasonlen,
            "body must be a JSON object like {\"mode\": \"train\", \"data\": \"train.csv\"}");
        json_object_put(req);
        return NULL;
    }
    if (jsonx_get_string(req, "mode", &mode, NULL, NULL, 0) != 0 ||
        (strcmp(mode, "train") != 0 && strcmp(mode, "test") != 0 && strcmp(mode, "search") != 0)) {
        set_reason(reason, reasonlen, "\"mode\" must be \"train\", \"search\" or \"test\"");
        json_object_put(req);
        return NULL;
    }
    *st = 0;
    return req;
}

/* Copies req's options but "mode" into job; path options go to rel[] (data,
 * model, out; borrowed from req) instead. Returns 0 or the status. */
static unsigned job_options(json_object *req, json_object *job, const char *rel[3], char *reason,
                            size_t reasonlen) {
    json_object_object_foreach(req, key, val) {
        if (strcmp(key, "mode") == 0) continue;
        int k = find_opt(key);
        if (k < 0) {
            char shown[48];
            set_reason(reason, reasonlen, "unknown job option \"%s\"",
                       utf8_sanitize(shown, sizeof shown, key));
            return 400;
        }
        enum json_type t = json_object_get_type(val);
        if (job_opts[k].kind != OPT_VALUE) {
            if (t != json_type_string) {
                set_reason(reason, reasonlen, "\"%s\": expected a path (a string)", key);
                return 400;
            }
            const char *path = json_object_get_string(val);
            if (strlen(path) != (size_t)json_object_get_string_len(val)) {
                set_reason(reason, reasonlen, "\"%s\": a path may not hold a NUL character", key);
                return 403;
            }
            rel[job_opts[k].kind - OPT_DATA] = path;
            continue;
        }
        if (t != json_type_string && t != json_type_int && t != json_type_double &&
            t != json_type_boolean) {
            set_reason(reason, reasonlen, "\"%s\": expected a string, a number or a boolean", key);
            return 400;
        }
        if (t == json_type_string && !utf8_check(json_object_get_string(val),
                                                 (size_t)json_object_get_string_len(val), NULL)) {
            set_reason(reason, reasonlen, "\"%s\": not valid UTF-8", key);
            return 400;
        }
        if (json_object_object_add(job, key, json_object_get(val)) != 0) {
            set_reason(reason, reasonlen, "out of memory");
            return 500;
        }
    }
    return 0;
}

/* Resolves the job's data, model (and its schema) and out paths under root,
 * the config's defaults for those it names none of. Returns 0 or the status. */
static unsigned job_paths(json_object *job, const char *root, const char *const rel[3],
                          const char *const defaults[5], bool train, char *reason,
                          size_t reasonlen) {
    char real[PATH_MAX], schema[PATH_MAX + 16];
    unsigned st = job_path(job, root, "data", rel[0], defaults[train ? 0 : 1], WG_READ, real,
                           sizeof real, reason, reasonlen);
    if (st) return st;
    st = job_path(job, root, "model", rel[1], defaults[2], train ? WG_WRITE : WG_READ, real,
                  sizeof real, reason, reasonlen);
    if (st) return st;
    /* training also writes MODEL.schema.json beside the model */
    snprintf(schema, sizeof schema, "%s.schema.json", real);
    if (train || access(schema, F_OK) == 0 || errno != ENOENT) {
        char sreal[PATH_MAX];
        st = resolve_full(root, schema, train ? WG_WRITE : WG_READ, "model schema", sreal,
                          sizeof sreal, reason, reasonlen);
        if (st) return st;
    }
    return job_path(job, root, "out", rel[2], defaults[train ? 3 : 4], WG_WRITE, real, sizeof real,
                    reason, reasonlen);
}

json_object *webguard_job(const char *root, const char *const defaults[5], const char *body,
                          size_t len, unsigned *status, char *reason, size_t reasonlen) {
    json_object *job = NULL, *mode = NULL;
    const char *rel[3] = {NULL, NULL, NULL}; /* data, model, out */
    unsigned st;
    json_object *req = job_body(body, len, &st, reason, reasonlen);
    if (!req) goto out;
    json_object_object_get_ex(req, "mode", &mode);
    bool train = strcmp(json_object_get_string(mode), "test") != 0; /* train, search */
    job = json_object_new_object();
    if (!job || json_object_object_add(job, "mode", json_object_get(mode)) != 0) {
        st = 500;
        set_reason(reason, reasonlen, "out of memory");
        goto out;
    }
    st = job_options(req, job, rel, reason, reasonlen);
    if (!st) st = job_paths(job, root, rel, defaults, train, reason, reasonlen);
out:
    json_object_put(req);
    if (st) {
        json_object_put(job);
        job = NULL;
    }
    *status = st;
    return job;
}

/* ---------------------------------------------------------------- errors */

/* Reads "DIGITS" at *p; advances. */
static bool digits(const char **p, long *v) {
    const char *s = *p;
    long n = 0;
    int k = 0;
    while (*s >= '0' && *s <= '9' && k < 12) {
        n = n * 10 + (*s - '0');
        s++;
        k++;
    }
    if (k == 0) return false;
    *p = s;
    *v = n;
    return true;
}

/* True for a short message of lower-case words, digits and light
 * punctuation: the master's own texts, which quote no path and no data. */
static bool plain_words(const char *msg) {
    size_t n = 0;
    if (!msg || !*msg) return false;
    for (; msg[n]; n++) {
        char c = msg[n];
        if (n >= 80 || !((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == ' ' || c == ',' ||
                         c == '.' || c == '(' || c == ')' || c == '-'))
            return false;
    }
    return true;
}

char *webguard_public_error(const char *msg, char *out, size_t outlen) {
    long line = -1, col = -1;
    if (outlen == 0) return out;
    /* the first ":LINE:" or ":LINE:COL:" of a "FILE:LINE[:COL]: why" message */
    for (const char *p = msg ? strchr(msg, ':') : NULL; p && line < 0; p = strchr(p + 1, ':')) {
        const char *q = p + 1;
        long a, b;
        if (!digits(&q, &a) || *q != ':') continue;
        line = a;
        q++;
        if (digits(&q, &b) && *q == ':') col = b;
    }
    if (line >= 0 && col >= 0)
        snprintf(out, outlen, "bad input at line %ld, column %ld (details in the master's log)",
                 line, col);
    else if (line >= 0)
        snprintf(out, outlen, "bad input at line %ld (details in the master's log)", line);
    else if (plain_words(msg))
        snprintf(out, outlen, "%s", msg); /* "worker lost", "training failed": ours, no data */
    else
        snprintf(out, outlen, "job failed (details in the master's log)");
    return out;
}

char *webguard_failed_reason(int status, char *out, size_t outlen) {
    const char *what = status == 2   ? "bad usage or configuration"
                       : status == 3 ? "bad input data"
                                     : "job failed";
    snprintf(out, outlen, "%s (exit %d; details in the master's log)", what, status);
    return out;
}

size_t webguard_utf8_repair(char *buf, size_t len) {
    size_t off = 0, bad = 0, n = 0;
    while (off < len && !utf8_check(buf + off, len - off, &bad)) {
        buf[off + bad] = '?';
        off += bad + 1;
        n++;
    }
    return n;
}
