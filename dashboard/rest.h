/* rest: the dashboard's HTTP routes (dashboard.h lists them) and the relay
 * of job submissions to the master.
 *
 * On the lws thread only. rest_request() answers a request once http_guard()
 * allowed it: /health, /api/workers, /api/jobs, /api/jobs/ID (from memory for
 * the jobs dashstate holds details of, else from the readonly history
 * handle), /api/history, /metrics, the Socket.IO polling refusal, else a
 * static file; /api/files (datafiles.h). A POST /api/jobs/ID/cancel is relayed
 * as {"cancel": ID} (after the state or the history says the job is queued or
 * running: else 404 or 409). A POST /api/jobs is answered by rest_body_done() once its
 * body is read: checked by webguard_job(), sent to the master over a REQ
 * socket (serve mode; opened on first use), its one-frame reply relayed, and
 * on success a job_queued frame pushed to browsers. The relay blocks the lws
 * thread for at most REQ_TIMEOUT_MS; a REQ socket that missed its reply is
 * closed and a fresh one opened next time.
 *
 * Both return what the lws callback should return (0 go on, -1 close).
 */
#ifndef NC_REST_H
#define NC_REST_H

#include <libwebsockets.h>

typedef struct dashboard dashboard_t;
typedef struct pss pss_t;

/* LWS_CALLBACK_HTTP: guards and answers a request for path. */
int rest_request(dashboard_t *d, struct lws *wsi, pss_t *p, const char *path);

/* LWS_CALLBACK_HTTP_BODY_COMPLETION: answers a POST whose body was read. */
int rest_body_done(dashboard_t *d, struct lws *wsi, pss_t *p);

#endif
