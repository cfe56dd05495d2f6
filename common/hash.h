/* hash: the one FNV-1a hash (64-bit) of NetCompute.
 *
 * FNV-1a: start from the offset basis, then for each byte xor it in and
 * multiply by the prime. The constants are the published 64-bit ones
 * (offset basis 14695981039346656037, prime 1099511628211): a hash computed
 * here is the FNV-1a of the same bytes anywhere else.
 *
 * What keys on it: master/predict.c's resume key for the writer journal
 * (persisted: its value must not change, or an old --resume file is not
 * resumed); strset's table and the worker's job-context cache key (in
 * memory only). A caller that needs more mixing of the low bits (a
 * power-of-two table) mixes the result itself.
 */
#ifndef NC_HASH_H
#define NC_HASH_H

#include <stddef.h>
#include <stdint.h>

#define HASH_FNV1A_BASIS 14695981039346656037ull
#define HASH_FNV1A_PRIME 1099511628211ull

/* Continues hash h over n bytes at p (p may be NULL when n is 0); start
 * from HASH_FNV1A_BASIS. Hashing a then b equals hashing a and b back to
 * back. */
static inline uint64_t hash_fnv1a_add(uint64_t h, const void *p, size_t n) {
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= HASH_FNV1A_PRIME;
    }
    return h;
}

/* FNV-1a of n bytes at p. */
static inline uint64_t hash_fnv1a(const void *p, size_t n) {
    return hash_fnv1a_add(HASH_FNV1A_BASIS, p, n);
}

#endif
