/* libFuzzer target: the message header every channel starts with
 * (proto_header_decode) and the rules applied after it: frame counts by type,
 * channel checks, worker ids, text cleaning. What decodes must re-encode to
 * the same 32 bytes (the header has no slack a peer could hide data in). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    proto_header_t h;
    const char *why = NULL;
    size_t hl = size < PROTO_HEADER_SIZE ? size : PROTO_HEADER_SIZE;
    /* the exact size, and every other size, as a frame would arrive */
    if (proto_header_decode(data, size, &h, &why) == 0 && size != PROTO_HEADER_SIZE) abort();
    if (proto_header_decode(data, hl, &h, &why) == 0) {
        uint8_t out[PROTO_HEADER_SIZE];
        proto_header_encode(&h, out);
        if (memcmp(out, data, PROTO_HEADER_SIZE) != 0) abort();
        int mn = -1, mx = -1;
        proto_frames_allowed(h.type, h.flags, &mn, &mx);
        if (mn < 0 || mx < mn || mx > 16) abort();
        (void)proto_type_from_worker_tasks(h.type);
        (void)proto_type_from_master(h.type);
    } else if (!why) {
        abort(); /* a refusal always says why */
    }
    const uint8_t *rest = data + hl;
    size_t rl = size - hl;
    if (proto_valid_id(rest, rl) && (rl == 0 || rl > PROTO_MAX_ID)) abort();
    char text[PROTO_MAX_ERROR];
    proto_clean_text((const char *)rest, rl, text, sizeof text);
    size_t tl = strlen(text);
    if (tl >= sizeof text) abort();
    for (size_t i = 0; i < tl; i++)
        if (text[i] < 0x20 || text[i] > 0x7e) abort();
    return 0;
}
