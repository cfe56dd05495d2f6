/* buf: a growable byte buffer with little-endian put, and a bounds-checked
 * reader with little-endian get, for every binary codec (summaries, job
 * contexts, prediction and TRON messages).
 *
 * Writer invariants (buf_t):
 *   - A zeroed buf_t is empty and valid: p == NULL, len == cap == 0.
 *   - p[0..len) holds what was put, in order; len <= cap.
 *   - failed is set once an allocation fails (or a size would overflow);
 *     from then on every put does nothing, so an encoder puts all its
 *     fields and checks failed once, at the end (buf_detach does).
 *   - The buffer owns p until buf_detach() hands it over or buf_free()
 *     frees it.
 * Integers are written little-endian, doubles as their IEEE 754 bits
 * little-endian (proto_put_* byte order): the same bytes on every host.
 *
 * Reader invariants (bufrd_t):
 *   - It borrows p[0..len) and never reads outside it: pos <= len always.
 *   - A get that asks for more than is left sets bad, consumes nothing and
 *     returns 0 (NULL for bufrd_take); once bad, every get does the same.
 *     A decoder reads its fields and checks bad (or bufrd_done) when it
 *     needs to, not after every field; a value read after bad is 0 and must
 *     not be trusted, which the final check guarantees.
 */
#ifndef NC_BUF_H
#define NC_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct buf {
    uint8_t *p; /* NULL while nothing was allocated */
    size_t len, cap;
    bool failed;
} buf_t;

/* Makes room for more bytes past len (capacity at least doubles when it
 * grows, from 256 bytes). Returns 0, or -1 and sets failed. */
int buf_grow(buf_t *b, size_t more);

/* Appends n bytes of d (d may be NULL when n is 0). Sets failed on ENOMEM. */
void buf_put(buf_t *b, const void *d, size_t n);
void buf_put_u8(buf_t *b, uint8_t v);
void buf_put_u16(buf_t *b, uint16_t v);
void buf_put_u32(buf_t *b, uint32_t v);
void buf_put_u64(buf_t *b, uint64_t v);
void buf_put_f64(buf_t *b, double v);

/* Appends n bytes for the caller to fill and returns where they start (valid
 * until the next put), or NULL with failed set. For long arrays that are
 * written in place (proto_put_f64 at each 8 bytes). */
uint8_t *buf_extend(buf_t *b, size_t n);

/* Overwrites the u32 at byte offset at (a count known only at the end);
 * at + 4 must be <= len. Does nothing when failed. */
void buf_set_u32(buf_t *b, size_t at, uint32_t v);

/* Hands the bytes over: returns p (malloc'd, caller frees; NULL when
 * nothing was put) with *len set, and leaves b empty. When failed, frees
 * the bytes, leaves b empty and returns NULL with *len 0. */
uint8_t *buf_detach(buf_t *b, size_t *len);

/* Frees the bytes and leaves b empty (and not failed). */
void buf_free(buf_t *b);

typedef struct bufrd {
    const uint8_t *p;
    size_t len, pos;
    bool bad;
} bufrd_t;

/* A reader over the borrowed bytes p[0..len). */
static inline bufrd_t bufrd_init(const void *p, size_t len) {
    return (bufrd_t){.p = p, .len = p ? len : 0};
}

/* Bytes not yet read. */
static inline size_t bufrd_left(const bufrd_t *r) {
    return r->len - r->pos;
}

/* True when nothing went wrong and every byte was read. */
static inline bool bufrd_done(const bufrd_t *r) {
    return !r->bad && r->pos == r->len;
}

/* The next n bytes (borrowed from the reader's buffer), or NULL with bad set
 * when fewer are left. */
const uint8_t *bufrd_take(bufrd_t *r, size_t n);
uint8_t bufrd_u8(bufrd_t *r);
uint16_t bufrd_u16(bufrd_t *r);
uint32_t bufrd_u32(bufrd_t *r);
uint64_t bufrd_u64(bufrd_t *r);
double bufrd_f64(bufrd_t *r);

#endif
