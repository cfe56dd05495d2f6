/* http: HTTP answers and static files. See http.h. */
#include "dashboard/http.h"

#include "common/log.h"
#include "common/utf8.h"
#include "dashboard/dashctx.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define HTTP_CHUNK 16384

static const char *hdr(struct lws *wsi, enum lws_token_indexes t, char *buf, int len, bool *bad) {
    if (lws_hdr_total_length(wsi, t) <= 0) return NULL;
    if (lws_hdr_copy(wsi, buf, len, t) < 0) {
        *bad = true; /* longer than any honest value */
        buf[0] = '\0';
    }
    return buf;
}

unsigned http_guard(dashboard_t *d, struct lws *wsi, const char *path, bool websocket,
                    http_hdrs_t *h, webguard_verdict_t *v) {
    bool bad = false;
    webguard_req_t r = {0};
    if (lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI) > 0)
        r.method = "GET";
    else if (lws_hdr_total_length(wsi, WSI_TOKEN_POST_URI) > 0)
        r.method = "POST";
    else
        r.method = "OTHER";
    snprintf(h->path, sizeof h->path, "%s", path);
    r.path = h->path;
    r.websocket = websocket;
    r.host = hdr(wsi, WSI_TOKEN_HOST, h->host, sizeof h->host, &bad);
    r.origin = hdr(wsi, WSI_TOKEN_ORIGIN, h->origin, sizeof h->origin, &bad);
    r.authorization = hdr(wsi, WSI_TOKEN_HTTP_AUTHORIZATION, h->auth, sizeof h->auth, &bad);
    r.content_type = hdr(wsi, WSI_TOKEN_HTTP_CONTENT_TYPE, h->ctype, sizeof h->ctype, &bad);
    webguard_check(&d->guard, &r, v);
    if (bad && !v->status) {
        v->status = 431;
        snprintf(v->reason, sizeof v->reason, "request header too long");
    }
    return v->status;
}

void http_release(pss_t *p) {
    free(p->resp);
    p->resp = NULL;
    p->resp_len = p->resp_off = 0;
    free(p->body);
    p->body = NULL;
    p->body_len = 0;
    p->body_too_big = p->in_post = p->close_after = false;
    p->refused = 0;
    p->cancel_id = 0;
}

int http_respond(struct lws *wsi, pss_t *p, unsigned int status, const char *ctype,
                 const char *body, size_t len) {
    unsigned char hbuf[LWS_PRE + 1024];
    unsigned char *start = hbuf + LWS_PRE, *pos = start, *end = hbuf + sizeof(hbuf) - 1;
    free(p->resp);
    p->resp = malloc(LWS_PRE + len + 1);
    if (!p->resp) return -1;
    memcpy(p->resp + LWS_PRE, body, len);
    if (strncmp(ctype, "image/", 6) != 0) webguard_utf8_repair((char *)p->resp + LWS_PRE, len);
    p->resp_len = len;
    p->resp_off = 0;
    if (lws_add_http_common_headers(wsi, status, ctype, len, &pos, end) ||
        lws_add_http_header_by_name(wsi, (const unsigned char *)"cache-control:",
                                    (const unsigned char *)"no-store", 8, &pos, end))
        return -1;
    if (status == 401 &&
        lws_add_http_header_by_name(wsi, (const unsigned char *)"www-authenticate:",
                                    (const unsigned char *)"Bearer", 6, &pos, end))
        return -1;
    /* the connection ends after this answer: keep-alive clients must not reuse it */
    if (p->close_after && lws_add_http_header_by_name(wsi, (const unsigned char *)"connection:",
                                                      (const unsigned char *)"close", 5, &pos, end))
        return -1;
    if (lws_finalize_write_http_header(wsi, start, &pos, end)) return -1;
    lws_callback_on_writable(wsi);
    return 0;
}

int http_respond_json(struct lws *wsi, pss_t *p, unsigned int status, json_object *o) {
    size_t len = 0;
    const char *s = o ? json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN, &len) : NULL;
    if (!s) return -1;
    return http_respond(wsi, p, status, "application/json", s, len);
}

int http_respond_error(struct lws *wsi, pss_t *p, unsigned int status, const char *fmt, ...) {
    char raw[512], msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(raw, sizeof(raw), fmt, ap);
    va_end(ap);
    utf8_sanitize(msg, sizeof msg, raw);
    json_object *o = json_object_new_object();
    if (!o) return -1;
    json_object_object_add(o, "error", json_object_new_string(msg));
    int rc = http_respond_json(wsi, p, status, o);
    json_object_put(o);
    return rc;
}

int http_writeable(struct lws *wsi, pss_t *p) {
    if (!p->resp) return 0;
    size_t left = p->resp_len - p->resp_off;
    size_t n = left > HTTP_CHUNK ? HTTP_CHUNK : left;
    bool final = n == left;
    /* bytes before resp_off were already sent, so they serve as LWS_PRE headroom */
    if (lws_write(wsi, p->resp + LWS_PRE + p->resp_off, n,
                  final ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) < (int)n)
        return -1;
    p->resp_off += n;
    if (!final) {
        lws_callback_on_writable(wsi);
        return 0;
    }
    bool close_after = p->close_after;
    http_release(p);
    if (close_after || lws_http_transaction_completed(wsi)) return -1;
    return 0;
}

static const char *mime_type(const char *path) {
    static const struct {
        const char *ext, *mime;
    } types[] = {
        {".html", "text/html; charset=utf-8"},
        {".js", "application/javascript"},
        {".mjs", "application/javascript"},
        {".css", "text/css"},
        {".json", "application/json"},
        {".map", "application/json"},
        {".png", "image/png"},
        {".svg", "image/svg+xml"},
        {".ico", "image/x-icon"},
        {".txt", "text/plain; charset=utf-8"},
    };
    const char *dot = strrchr(path, '.');
    if (dot && !strchr(dot, '/'))
        for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
            if (strcmp(dot, types[i].ext) == 0) return types[i].mime;
    return "application/octet-stream";
}

/* Resolves path inside the web root; 0 with real filled, else the HTTP status to answer. */
static unsigned int resolve_static(dashboard_t *d, const char *path, char *real) {
    char full[PATH_MAX * 2];
    struct stat st;
    size_t rootlen = strlen(d->webroot);
    if (path[0] != '/' || strstr(path, "..") || strchr(path, '\\')) return 403;
    if (strlen(path) > 1024) return 404;
    snprintf(full, sizeof(full), "%s%s%s", d->webroot, path,
             path[strlen(path) - 1] == '/' ? "index.html" : "");
    for (int pass = 0; pass < 2; pass++) {
        if (!realpath(full, real)) return (errno == ENOENT || errno == ENOTDIR) ? 404 : 403;
        if (strncmp(real, d->webroot, rootlen) != 0 || (real[rootlen] != '/' && real[rootlen]))
            return 403; /* a symlink that leads out of the web root */
        if (stat(real, &st) != 0) return 404;
        if (S_ISREG(st.st_mode)) return 0;
        if (!S_ISDIR(st.st_mode) || pass == 1) return 404;
        snprintf(full, sizeof(full), "%s/index.html", real);
    }
    return 404;
}

int http_static(dashboard_t *d, struct lws *wsi, pss_t *p, const char *path) {
    char real[PATH_MAX];
    if (!d->has_webroot)
        return http_respond_error(wsi, p, 404, "web app not found (set NC_WEB_ROOT)");
    unsigned int status = resolve_static(d, path, real);
    if (status == 403) return http_respond_error(wsi, p, 403, "forbidden");
    if (status) return http_respond_error(wsi, p, 404, "not found");
    int n = lws_serve_http_file(wsi, real, mime_type(real), NULL, 0);
    if (n < 0 || (n > 0 && lws_http_transaction_completed(wsi))) return -1;
    return 0;
}

int http_body(pss_t *p, const void *in, size_t len) {
    if (!p->in_post || p->refused) return 0; /* a refused request: its body is dropped */
    if (p->body_too_big || p->body_len + len > MAX_POST_BODY) {
        p->body_too_big = true;
        return 0;
    }
    char *n = realloc(p->body, p->body_len + len + 1);
    if (!n) return -1;
    p->body = n;
    memcpy(p->body + p->body_len, in, len);
    p->body_len += len;
    p->body[p->body_len] = '\0';
    return 0;
}

bool http_real_dir(const char *path, char *real) {
    struct stat st;
    return realpath(path, real) && stat(real, &st) == 0 && S_ISDIR(st.st_mode);
}

void http_find_webroot(dashboard_t *d) {
    char exe[PATH_MAX], cand[PATH_MAX + 64];
    const char *env = getenv("NC_WEB_ROOT");
    if (env && *env) {
        d->has_webroot = http_real_dir(env, d->webroot);
        if (!d->has_webroot) log_warn("dashboard: NC_WEB_ROOT=%s is not a directory", env);
        return;
    }
    if ((d->has_webroot = http_real_dir("dashboard/web", d->webroot))) return;
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n > 0) {
        exe[n] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash) *slash = '\0';
        /* bin/master and build/san/bin/master */
        static const char *const ups[] = {"/../dashboard/web", "/../../../dashboard/web"};
        for (size_t i = 0; i < 2; i++) {
            snprintf(cand, sizeof(cand), "%s%s", exe, ups[i]);
            if ((d->has_webroot = http_real_dir(cand, d->webroot))) return;
        }
    }
    log_warn("dashboard: web app folder dashboard/web not found; only the API is served");
}
