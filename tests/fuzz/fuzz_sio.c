/* libFuzzer target: sio_decode() on arbitrary frames, then re-encoding what
 * it accepted; any crash, leak or sanitizer report is a bug. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dashboard/sio.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    sio_packet_t p;
    char err[128];
    if (sio_decode((const char *)data, size, &p, err, sizeof(err)) != 0) return 0;
    if (p.event) {
        json_object *arg = json_object_array_get_idx(p.data, 1);
        char *s = sio_encode_event(p.event, arg);
        if (s) {
            sio_packet_t q;
            /* what we encode we must be able to decode */
            if (sio_decode(s, strlen(s), &q, err, sizeof(err)) != 0) abort();
            if (strcmp(q.event, p.event) != 0) abort();
            sio_packet_clear(&q);
            free(s);
        }
    }
    sio_packet_clear(&p);
    return 0;
}
