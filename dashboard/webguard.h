/* webguard: who may do what over the dashboard's HTTP port.
 *
 * The request policy of the dashboard, kept apart from libwebsockets so that
 * it can be unit-tested and fuzzed. dashboard.c copies a request's method,
 * path and headers into a webguard_req_t and asks webguard_check() for a
 * verdict before it reads anything else; a job body goes through
 * webguard_job() before it is relayed to the master.
 *
 * The model (README "Security"):
 *   - Host must name this dashboard: localhost, 127.0.0.1, [::1], the
 *     configured dashboard.host, or (webguard_add_name) the machine's own
 *     names and addresses. Anything else is 403 on every request (DNS
 *     rebinding).
 *   - A request with an Origin header is a browser's: the origin must be
 *     http(s)://HOST where HOST is the request's own Host value, else 403
 *     (CSRF, cross-site websockets). No Origin (curl, Prometheus) is fine.
 *   - With a token in force, every route but GET /health and the static page
 *     needs "Authorization: Bearer TOKEN" (401 otherwise); the websocket may
 *     instead give it in the Socket.IO CONNECT auth payload {"token": ...},
 *     which the caller checks with webguard_token_ok(). Tokens are compared
 *     in constant time.
 *   - POST /api/jobs and POST /api/jobs/ID/cancel need Content-Type:
 *     application/json (415 otherwise): no form or text/plain "simple
 *     request" can reach them.
 *   - A job names files relative to the files root (dashboard.files): no
 *     absolute path, no "..", no symlink out of the root, nothing but regular
 *     files (403 with a one-line reason) before anything is opened.
 *
 * All reasons are one line of valid UTF-8 with no file contents.
 */
#ifndef NC_WEBGUARD_H
#define NC_WEBGUARD_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WEBGUARD_MAX_NAMES 32
#define WEBGUARD_NAME_LEN 256
#define WEBGUARD_REASON 200

typedef enum {
    WG_ROUTE_NONE = 0,
    WG_ROUTE_STATIC,   /* anything outside /api, /metrics, /health, /socket.io */
    WG_ROUTE_HEALTH,   /* GET /health */
    WG_ROUTE_WORKERS,  /* GET /api/workers */
    WG_ROUTE_JOBS,     /* GET /api/jobs */
    WG_ROUTE_JOB,      /* GET /api/jobs/ID (verdict job_id) */
    WG_ROUTE_JOB_FILE, /* GET /api/jobs/ID/files/NAME (verdict job_id, file) */
    WG_ROUTE_HISTORY,  /* GET /api/history */
    WG_ROUTE_METRICS,  /* GET /metrics */
    WG_ROUTE_SUBMIT,   /* POST /api/jobs */
    WG_ROUTE_CANCEL,   /* POST /api/jobs/ID/cancel (verdict job_id) */
    WG_ROUTE_FILES,    /* GET /api/files: the data files under dashboard.files */
    WG_ROUTE_SOCKETIO, /* /socket.io (polling: refused by the caller; websocket upgrade) */
} webguard_route_t;

typedef struct webguard {
    char token[WEBGUARD_NAME_LEN]; /* "" = no token in force */
    int port;
    size_t nnames;
    char names[WEBGUARD_MAX_NAMES][WEBGUARD_NAME_LEN]; /* lower case, IPv6 without brackets */
} webguard_t;

/* One request as seen by the server. Header fields are NULL when absent;
 * all are borrowed, NUL-terminated. method is "GET", "POST", ... */
typedef struct webguard_req {
    const char *method;
    const char *path; /* without the query string */
    const char *host;
    const char *origin;
    const char *authorization;
    const char *content_type;
    bool websocket; /* an upgrade to websocket */
} webguard_req_t;

typedef struct webguard_verdict {
    unsigned status;        /* 0: go on; else the HTTP status to answer */
    webguard_route_t route; /* set whenever the path matched one */
    int64_t job_id;         /* WG_ROUTE_JOB, WG_ROUTE_JOB_FILE, WG_ROUTE_CANCEL */
    char file[32];          /* WG_ROUTE_JOB_FILE: a name webguard_run_file() accepts */
    bool authorized;        /* a valid bearer token came with the request (or none is needed) */
    char reason[WEBGUARD_REASON]; /* when status != 0 */
} webguard_verdict_t;

/* Sets up the policy for a dashboard on host:port with token ("" or NULL:
 * none). The names localhost, 127.0.0.1 and ::1 and host itself (unless a
 * wildcard) are accepted in Host. */
void webguard_init(webguard_t *g, const char *host, int port, const char *token);

/* Accepts one more name or address in Host (case-insensitive, IPv6 with or
 * without brackets). Silently ignored when the table is full or name too long. */
void webguard_add_name(webguard_t *g, const char *name);

/* Adds this machine's host name and every interface address (for a
 * dashboard bound to a wildcard address). */
void webguard_add_local_names(webguard_t *g);

/* True when host (a dashboard.host value) is a loopback name or address. */
bool webguard_is_loopback(const char *host);

/* Fills out (cap >= 2*nbytes+1) with nbytes random bytes in hex from
 * getrandom(). 0, or -1 when the kernel gave no randomness. */
int webguard_random_token(char *out, size_t cap, size_t nbytes);

/* Constant-time comparison of a presented token with the one in force
 * (false when given is NULL; true when no token is in force). */
bool webguard_token_ok(const webguard_t *g, const char *given);

/* Reads a non-negative decimal of 1 to 18 digits (a job id, a time in ms)
 * that s holds entirely; false for anything else. */
bool webguard_parse_id(const char *s, int64_t *id);

/* True when name is one of the files a run folder holds that REST serves
 * (master/runs.h): params.json, run.json, metrics.json, job.log,
 * model.txt, model.txt.schema.json, submission.csv, export.svm. Any other
 * name (a path, "..", a staged ".tmp") is refused. */
bool webguard_run_file(const char *name);
/* The i-th name of a run's files, NULL past the last (master/runs.c clears
 * a reused folder of them). */
const char *webguard_run_file_at(size_t i);

/* The verdict on one request (see the model above). Returns v->status. */
unsigned webguard_check(const webguard_t *g, const webguard_req_t *r, webguard_verdict_t *v);

/* How a job uses a path it names. */
typedef enum { WG_READ, WG_WRITE } webguard_access_t;

/* Resolves rel, a path a job names, inside root (an absolute, real path with
 * no trailing slash). WG_READ: an existing regular file. WG_WRITE: a regular
 * file or a name not yet taken, in an existing folder. On success writes the
 * real absolute path to out (outlen bytes) and returns 0; else returns the
 * HTTP status (403, or 400 for an empty or overlong name) with reason set.
 * Checks the text first (absolute, "..", NUL, backslash) and then the file
 * system, component by component without following a symlink out of root. */
unsigned webguard_path(const char *root, const char *rel, webguard_access_t access, char *out,
                       size_t outlen, char *reason, size_t reasonlen);

/* Checks a POST /api/jobs body (len bytes, need not be NUL-terminated): a
 * JSON object with "mode" "train" or "test", known job options only, strings
 * or numbers as values, path options ("data", "model", "out") resolved under
 * root with webguard_path(); the paths the job would take from the config
 * when it names none must resolve under root too. defaults holds the
 * config's paths: [0] data.train, [1] data.test, [2] model.file,
 * [3] output.train, [4] output.test. Returns the object to relay to the master
 * (caller puts; paths replaced by their real absolute form, defaults made
 * explicit), or NULL with *status (400, 403) and reason set. */
json_object *webguard_job(const char *root, const char *const defaults[5], const char *body,
                          size_t len, unsigned *status, char *reason, size_t reasonlen);

/* The error text a job may show over HTTP and in events: a fixed-form line
 * that keeps the line and column of a "FILE:LINE[:COL]: ..." message but no
 * file contents ("bad input at line 5, column 3 (details in the master's
 * log)"); a short message of lower-case words and digits only (the
 * master's own, like "worker lost") is kept; any other becomes "job failed
 * (details in the master's log)".
 * Returns out. */
char *webguard_public_error(const char *msg, char *out, size_t outlen);

/* The reason shown for a job whose driver ended with exit status (1, 2, 3)
 * without reporting the job done: "bad input data (exit 3; details in the
 * master's log)". Returns out. */
char *webguard_failed_reason(int status, char *out, size_t outlen);

/* Makes len bytes at buf valid UTF-8 in place: every byte that starts no
 * valid sequence becomes '?' (the length never changes, JSON stays JSON).
 * Returns the number of bytes replaced. */
size_t webguard_utf8_repair(char *buf, size_t len);

#endif
