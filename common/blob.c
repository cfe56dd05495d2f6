#include "common/blob.h"

#include "common/buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

blob_t *blob_wrap(void *data, size_t len) {
    blob_t *b = malloc(sizeof *b);
    if (!b) return NULL;
    b->data = data;
    b->len = len;
    b->zmsg = NULL;
    __atomic_store_n(&b->refs, 1, __ATOMIC_RELAXED);
    return b;
}

blob_t *blob_take_msg(void *msg) {
    zmq_msg_t *own = malloc(sizeof *own);
    blob_t *b = own ? blob_wrap(NULL, 0) : NULL;
    if (!b) {
        free(own);
        return NULL;
    }
    zmq_msg_init(own);
    zmq_msg_move(own, msg);
    /* the data pointer is taken once the message sits where it stays: a
     * small message keeps its bytes inside the zmq_msg_t itself */
    b->data = zmq_msg_data(own);
    b->len = zmq_msg_size(own);
    b->zmsg = own;
    return b;
}

blob_t *blob_new(size_t len) {
    void *data = malloc(len ? len : 1);
    if (!data) return NULL;
    blob_t *b = blob_wrap(data, len);
    if (!b) free(data);
    return b;
}

blob_t *blob_copy(const void *data, size_t len) {
    blob_t *b = blob_new(len);
    if (b && len) memcpy(b->data, data, len);
    return b;
}

blob_t *blob_ref(blob_t *b) {
    __atomic_add_fetch(&b->refs, 1, __ATOMIC_RELAXED);
    return b;
}

void blob_unref(blob_t **bp) {
    blob_t *b = *bp;
    *bp = NULL;
    if (b && __atomic_sub_fetch(&b->refs, 1, __ATOMIC_ACQ_REL) == 0) {
        if (b->zmsg) {
            zmq_msg_close(b->zmsg);
            free(b->zmsg);
        } else {
            free(b->data);
        }
        free(b);
    }
}

static void release(void *data, void *hint) {
    (void)data;
    blob_t *b = hint;
    blob_unref(&b);
}

int blob_send(blob_t *b, void *sock, int flags) {
    zmq_msg_t m;
    blob_ref(b);
    if (zmq_msg_init_data(&m, b->data, b->len, release, b) != 0) {
        blob_unref(&b);
        return -1;
    }
    if (zmq_msg_send(&m, sock, flags) < 0) {
        zmq_msg_close(&m); /* releases our reference */
        return -1;
    }
    return 0;
}

blob_t *blob_from_buf(struct buf *b, const char *what, char *err, size_t errlen) {
    size_t len;
    uint8_t *p = buf_detach(b, &len);
    blob_t *out = p ? blob_wrap(p, len) : NULL;
    if (!out) {
        free(p);
        snprintf(err, errlen, "out of memory for a %s", what);
    }
    return out;
}
