/* http: HTTP answers and static files for the dashboard.
 *
 * On the lws thread only. Every request first passes http_guard()
 * (webguard_check(): Host, Origin, bearer token, Content-Type). An answer is
 * built whole in the connection's pss_t (dashctx.h) and written in
 * HTTP_CHUNK pieces on WRITEABLE; every text body is valid UTF-8
 * (webguard_utf8_repair()) and says Cache-Control: no-store. A connection
 * whose request body was not read is closed after its answer (close_after,
 * which also says Connection: close).
 *
 * Static files come from the web root (NC_WEB_ROOT, else ./dashboard/web,
 * else dashboard/web next to the binary's tree): ".." gets 403, every path
 * is resolved with realpath() and must stay inside (a symlink out gets 403);
 * missing files 404.
 *
 * Functions returning int return what the lws callback should return (0 go
 * on, -1 close the connection).
 */
#ifndef NC_HTTP_H
#define NC_HTTP_H

#include "dashboard/webguard.h"

#include <json-c/json.h>
#include <libwebsockets.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct dashboard dashboard_t;
typedef struct pss pss_t;

/* The request line and the headers webguard needs, copied out of lws. */
typedef struct {
    char path[1024], host[WEBGUARD_NAME_LEN + 8], origin[WEBGUARD_NAME_LEN + 16], auth[512],
        ctype[128];
} http_hdrs_t;

/* Runs webguard_check() on the request (headers copied into h, which v
 * borrows); a header too long to copy is 431. Returns v->status (0: allowed). */
unsigned http_guard(dashboard_t *d, struct lws *wsi, const char *path, bool websocket,
                    http_hdrs_t *h, webguard_verdict_t *v);

/* Queues an answer: status, content type and a copy of body (len bytes). */
int http_respond(struct lws *wsi, pss_t *p, unsigned int status, const char *ctype,
                 const char *body, size_t len);

/* Queues o (borrowed) as an application/json answer. */
int http_respond_json(struct lws *wsi, pss_t *p, unsigned int status, json_object *o);

/* Queues {"error": formatted text} with status. */
int http_respond_error(struct lws *wsi, pss_t *p, unsigned int status, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* HTTP_WRITEABLE: writes the next piece of the queued answer. */
int http_writeable(struct lws *wsi, pss_t *p);

/* HTTP_BODY: collects a POST body (at most MAX_POST_BODY; past it the body
 * is dropped and body_too_big set; a refused request's body is dropped). */
int http_body(pss_t *p, const void *in, size_t len);

/* Frees the answer and body a connection holds, ready for its next request. */
void http_release(pss_t *p);

/* Serves path from the web root (or 403/404). */
int http_static(dashboard_t *d, struct lws *wsi, pss_t *p, const char *path);

/* Finds the web root (see above) into d->webroot; d->has_webroot says whether
 * one was found (a warning is logged when not). */
void http_find_webroot(dashboard_t *d);

/* True when path is a directory; real gets its real path (PATH_MAX bytes). */
bool http_real_dir(const char *path, char *real);

#endif
