/* ring: Socket.IO frames kept for browsers. See ring.h. */
#include "dashboard/ring.h"

#include "common/log.h"
#include "dashboard/sio.h"
#include "dashboard/webguard.h"

#include <libwebsockets.h>
#include <stdlib.h>
#include <string.h>

/* A full ring overwrites its oldest frame; clients still pointing at it are
 * dropped when they next write. */
void ring_push(ring_t *r, const char *text, size_t len) {
    unsigned char *b = malloc(LWS_PRE + len);
    if (!b) return;
    memcpy(b + LWS_PRE, text, len);
    webguard_utf8_repair((char *)b + LWS_PRE, len); /* a browser drops a socket on bad UTF-8 */
    ring_slot_t *s = &r->slot[r->head % DASHBOARD_RING];
    free(s->buf);
    s->buf = b;
    s->len = len;
    r->head++;
}

void ring_push_event(ring_t *r, const char *name, json_object *data) {
    char *f = sio_encode_event(name, data);
    if (f) {
        ring_push(r, f, strlen(f));
        free(f);
    }
}

int ring_read(const ring_t *r, uint64_t *tail, unsigned char **scratch, size_t *cap, size_t *len) {
    if (r->head - *tail > DASHBOARD_RING) {
        log_every(3, LOG_WARN, "dashboard: dropping a browser that fell %d events behind",
                  DASHBOARD_RING);
        return -1;
    }
    if (*tail >= r->head) return 0;
    const ring_slot_t *s = &r->slot[*tail % DASHBOARD_RING];
    if (*cap < LWS_PRE + s->len) {
        unsigned char *n = realloc(*scratch, LWS_PRE + s->len);
        if (!n) return -1;
        *scratch = n;
        *cap = LWS_PRE + s->len;
    }
    memcpy(*scratch + LWS_PRE, s->buf + LWS_PRE, s->len);
    *len = s->len;
    (*tail)++;
    return 1;
}

void ring_clear(ring_t *r) {
    for (size_t i = 0; i < DASHBOARD_RING; i++) {
        free(r->slot[i].buf);
        r->slot[i].buf = NULL;
    }
}
