/* ring: the Socket.IO frames kept for browsers.
 *
 * Every frame sent to all browsers (events, update_stats) is pushed once;
 * each websocket client keeps its own tail (the count of frames it has
 * sent) and copies the next frame past it. The ring keeps the last
 * DASHBOARD_RING frames: a full ring overwrites its oldest, and a client
 * whose tail fell that far behind is dropped, never waited for.
 *
 * Not thread-safe: the dashboard holds its lock around every call. Frames
 * are stored with LWS_PRE bytes of headroom and repaired to valid UTF-8 (a
 * browser drops a socket on bad UTF-8).
 */
#ifndef NC_RING_H
#define NC_RING_H

#include "dashboard/dashboard.h"

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    unsigned char *buf; /* LWS_PRE headroom + len bytes */
    size_t len;
} ring_slot_t;

typedef struct {
    ring_slot_t slot[DASHBOARD_RING];
    uint64_t head; /* frames ever pushed */
} ring_t;

/* Pushes a copy of text (len bytes); out of memory drops the frame. */
void ring_push(ring_t *r, const char *text, size_t len);

/* Pushes the Socket.IO event frame 42["name",data] (data borrowed). */
void ring_push_event(ring_t *r, const char *name, json_object *data);

/* Copies the frame at *tail into *scratch (grown as needed, LWS_PRE headroom
 * first; the caller owns and frees it), sets *len and advances *tail.
 * Returns 1 when a frame was copied, 0 when *tail is at the head, -1 when
 * the client fell more than DASHBOARD_RING frames behind or memory ran out. */
int ring_read(const ring_t *r, uint64_t *tail, unsigned char **scratch, size_t *cap, size_t *len);

/* Frees every frame. */
void ring_clear(ring_t *r);

#endif
