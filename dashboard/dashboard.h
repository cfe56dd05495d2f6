/* dashboard: the live web dashboard on dashboard.port (default 5051).
 *
 * One libwebsockets server, in its own thread, serves on one port:
 *   - the web app: static files from the web root (NC_WEB_ROOT in the
 *     environment, else ./dashboard/web, else dashboard/web next to the
 *     binary's tree). No request ever leaves that folder: ".." segments get
 *     403, and every path is resolved with realpath() and must stay inside
 *     (a symlink out gets 403); missing files 404.
 *   - REST (JSON; errors are {"error": "..."}):
 *       GET  /health            {status, version, uptime_s, workers}
 *       GET  /api/workers       [worker, ...]            (see dashstate.h)
 *       GET  /api/jobs          [job summary, ...]       newest first
 *       GET  /api/jobs/ID       summary + iterations, timeline, failed, events
 *       GET  /api/history?metric=cpu|mem|rows&worker=NAME&since=MS&step=MS
 *                               {metric, worker, since, step, points: [[ts, v]]}
 *                               (since defaults to one hour ago, step to 5000)
 *       GET  /api/files         [data file, ...] under dashboard.files (datafiles.h)
 *       POST /api/jobs/ID/cancel {"cancel": ID} relayed as a job is, when the
 *                               job is queued or running: 200 {id, state
 *                               "cancelled"}; 404 unknown, 409 ended, 503
 *                               when the master does not stay up.
 *       POST /api/jobs          a master that stays up (serve, --keep-running:
 *                               commands_endpoint given); Content-Type: application/json.
 *                               The body (a JSON object, at most 64 KiB) is
 *                               checked by webguard_job() (paths under
 *                               dashboard.files, made absolute) and goes
 *                               to the master over a REQ socket; its one-frame
 *                               reply is relayed: {"id": N} -> 200, {"error":
 *                               ..., "status": S} -> S (default 400); no reply
 *                               within 5 s -> 503. No master queue -> 503.
 *       GET  /metrics           Prometheus text (dashstate_metrics()).
 *   Every request first passes webguard_check() (webguard.h: Host, Origin,
 *   bearer token, Content-Type); with a token in force only GET /health and
 *   the static files answer without it. When dashboard.host is not loopback
 *   and no token is set, one is made at start (dashboard_token_url()).
 *   - Socket.IO v4 over websocket at /socket.io/?EIO=4&transport=websocket
 *     (the vhost's default protocol, as socket.io-client sends none). The
 *     server pings every 25 s and drops a client silent for 20 s more. After
 *     "40" (with {"token": ...} as its auth payload when a token is in force,
 *     else 44{"message"} and the socket is closed) a client gets "snapshot" (dashstate_snapshot()),
 * then "update_stats" every second, and every event of the master under its own name (worker_stats
 * carries the merged worker; job_started, job_progress and job_done carry the merged job summary
 * plus job_id; job_queued when a job is accepted over REST). Names and fields: common/events.h. A
 * client more than DASHBOARD_RING frames behind is dropped, never waited for.
 *
 * A second thread (evthread.h) subscribes to the master's event stream,
 * keeps the in-memory state (dashstate), queues frames for browsers (ring.h)
 * and writes the history file (history.h) in batches every 500 ms; samples older than
 * history.retention_days are deleted at start and hourly. Every event passes
 * dashstate_public_event() first (public error texts; serve.c's job_failed
 * ends a job still pending), and at start a job the history file shows
 * queued or running (its master stopped before it ended) ends failed. Every frame and HTTP body is
 * valid UTF-8 (webguard_utf8_repair()). Jobs in the history file are shown from the start, so they
 * survive a master restart.
 */
#ifndef NC_DASHBOARD_H
#define NC_DASHBOARD_H

#include <stddef.h>

#include "common/config.h"

#define DASHBOARD_VERSION "0.1.0"
#define DASHBOARD_RING 4096 /* frames kept for browsers that fall behind */

typedef struct dashboard dashboard_t;

/* Starts the HTTP/websocket server thread and the history writer. zmq_ctx is
 * the master's ZeroMQ context (borrowed; outlives the dashboard). The
 * dashboard connects a SUB socket to events_endpoint (the master binds a PUB
 * there) and, when commands_endpoint is not NULL (serve mode), a REQ socket
 * for job submissions. cfg is copied. Returns NULL with err filled on failure
 * (port in use says which). */
dashboard_t *dashboard_start(void *zmq_ctx, const config_t *cfg, const char *events_endpoint,
                             const char *commands_endpoint, char *err, size_t errlen);

/* Stops both threads, flushes history, frees everything; sets *d to NULL.
 * Call before zmq_ctx_term(). */
void dashboard_stop(dashboard_t **d);

/* When the dashboard made its own token at start (dashboard.host is not
 * loopback and dashboard.token is empty), writes the URL that opens the page
 * with it, http://HOST:PORT/?token=TOKEN (HOST: the host name when bound to a
 * wildcard address), and returns 0; else -1. */
int dashboard_token_url(const dashboard_t *d, char *buf, size_t len);

/* The port actually listened on (useful when tests pass a free port). */
int dashboard_port(const dashboard_t *d);

#endif
