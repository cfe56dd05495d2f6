/* ws: the websocket side of the dashboard: Socket.IO sessions.
 *
 * On the lws thread only. A browser upgrades at
 * /socket.io/?EIO=4&transport=websocket (ws_url_ok; any other URL is refused,
 * and a foreign Host or Origin gets its 403 before the handshake:
 * ws_confirm_upgrade). Each session gets the Engine.IO open packet, then
 * after "40" (with the token when one is in force, else 44{"message"} and
 * close) a snapshot and update_stats of its own, then every frame of the ring
 * past its tail. The server pings every PING_INTERVAL_MS and drops a client
 * silent PING_TIMEOUT_MS longer, or one more than DASHBOARD_RING frames
 * behind, or one not reading its own frames (PRIVATE_QUEUE_MAX).
 *
 * Each function takes the connection's pss_t (dashctx.h) and returns what the
 * lws callback should return (0 go on, -1 close) unless it says otherwise.
 */
#ifndef NC_WS_H
#define NC_WS_H

#include <libwebsockets.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct dashboard dashboard_t;
typedef struct pss pss_t;

/* FILTER_PROTOCOL_CONNECTION: true for the one websocket URL we serve. */
bool ws_url_ok(struct lws *wsi);

/* HTTP_CONFIRM_UPGRADE: 0 go on, 1 refused with a response sent, -1 hang up. */
int ws_confirm_upgrade(dashboard_t *d, struct lws *wsi);

/* ESTABLISHED: a new session (p is zeroed and joins d->clients). */
int ws_established(dashboard_t *d, struct lws *wsi, pss_t *p);

/* RECEIVE: collects fragments; a whole text message is decoded and answered. */
int ws_receive(dashboard_t *d, struct lws *wsi, pss_t *p, const void *in, size_t len);

/* SERVER_WRITEABLE: sends one frame, private ones first, then the ring's. */
int ws_writeable(dashboard_t *d, struct lws *wsi, pss_t *p);

/* EVENT_WAIT_CANCELLED (the event thread pushed frames): pings and dead-client
 * checks, then a write turn for every session. */
void ws_wake(dashboard_t *d);

/* CLOSED: leaves d->clients and frees what the session held. */
void ws_release(dashboard_t *d, pss_t *p);

#endif
