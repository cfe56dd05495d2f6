/* strset: an insertion-ordered set of byte strings (interning), each string
 * optionally carrying a small value of the caller's (a count, a stamp).
 *
 * Each distinct string gets the next index (0, 1, 2, ...) the first time it is
 * added, so iterating 0..count-1 gives first-appearance order, which is what
 * label lists and one-hot vocabularies need. Strings may contain any byte
 * except that the copy handed back by strset_get() is NUL-terminated for
 * convenience.
 *
 * Layout, for the lookups of a tokenizer (one per word of a text column):
 * every string lives in one growable arena as a record (its index, length,
 * 32-bit hash, the caller's value, then the bytes), and the open-addressing
 * table (linear probing, load at most one half) holds per slot the hash and
 * the record's place. A lookup reads one slot and, when the stored hash
 * matches, one record: two cache lines, no per-string allocation. The hash
 * is kept, so growing the table and copying a string into another set
 * (strset_add_from) never hash the bytes again. Hashes are in memory only
 * and not stable across versions; nothing depends on them but speed.
 * Limits: fewer than 2^31 strings, each under 4 GB, 32 GB of records.
 */
#ifndef NC_STRSET_H
#define NC_STRSET_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct strset strset_t;

/* New empty set; NULL when out of memory. The caller owns it. */
strset_t *strset_new(void);
/* New empty set whose strings each carry valsize bytes (at most 64) of the
 * caller's, zeroed when the string is added and 8-byte aligned. */
strset_t *strset_new_vals(size_t valsize);
void strset_destroy(strset_t **s);

/* Makes room for n strings in all (the table; the records grow as they come),
 * so that adding that many moves nothing; -1 when out of memory. */
int strset_reserve(strset_t *s, size_t n);

/* Index of the string, adding it when new (*added = 1 then, when added is not
 * NULL). Returns -1 only when out of memory or past a limit. */
long strset_add(strset_t *s, const char *str, size_t len, int *added);

/* strset_add() that returns the string's value instead of its index (NULL
 * when out of memory or past a limit); the pointer is valid until the next
 * add. */
void *strset_add_val(strset_t *s, const char *str, size_t len, int *added);

/* Adds string idx of from (idx < strset_count(from)) without hashing it
 * again; returns its value in s as strset_add_val() does. from and s may
 * carry values of different sizes. */
void *strset_add_from(strset_t *s, const strset_t *from, size_t idx, int *added);

/* Batches: a caller with many strings to add hashes each one first
 * (strset_hash), announces it (strset_prefetch: the CPU starts loading the
 * table slot), later asks for its record (strset_prefetch_rec), and only
 * then adds it (strset_add_hashed): the cache misses of a batch overlap
 * instead of coming one after the other. The hints never change the set. */
static inline unsigned strset_hash(const char *str, size_t len);
void strset_prefetch(const strset_t *s, unsigned hash);
void strset_prefetch_rec(const strset_t *s, unsigned hash);
/* strset_hash() of string idx (idx < count), without reading it. */
unsigned strset_hash_at(const strset_t *s, size_t idx);
/* strset_add_val() of a string whose strset_hash() is hash. */
void *strset_add_hashed(strset_t *s, const char *str, size_t len, unsigned hash, int *added);

/* Index of the string, or -1 when absent. */
long strset_find(const strset_t *s, const char *str, size_t len);

size_t strset_count(const strset_t *s);

/* The string at idx (borrowed, NUL-terminated, valid until the next add);
 * *len gets its length when len is not NULL. idx must be < count. */
const char *strset_get(const strset_t *s, size_t idx, size_t *len);

/* The value of string idx (idx < count; valid until the next add); for a
 * set made by strset_new() a pointer to no bytes. */
void *strset_val(const strset_t *s, size_t idx);

/* --- strset_hash(), inline: the tokenizer calls it for every term --- */

static inline uint64_t strset_mix_(uint64_t h, uint64_t w) {
    h = (h ^ w) * UINT64_C(0x9E3779B97F4A7C15);
    return h ^ (h >> 29);
}

/* A multiply-xorshift hash over 8 bytes at a time; the reads overlap for the
 * last bytes, so that every byte is read and none past the end. */
static inline unsigned strset_hash(const char *s, size_t n) {
    uint64_t h = strset_mix_(UINT64_C(0x243F6A8885A308D3), n), w;
    uint32_t a, b;
    if (n >= 8) {
        size_t i = 0;
        for (; i + 8 < n; i += 8) {
            memcpy(&w, s + i, 8);
            h = strset_mix_(h, w);
        }
        memcpy(&w, s + n - 8, 8);
        h = strset_mix_(h, w);
    } else if (n >= 4) {
        memcpy(&a, s, 4);
        memcpy(&b, s + n - 4, 4);
        h = strset_mix_(h, ((uint64_t)a << 32) | b);
    } else if (n > 0) {
        unsigned char x = (unsigned char)s[0], y = (unsigned char)s[n / 2];
        unsigned char z = (unsigned char)s[n - 1];
        h = strset_mix_(h, ((uint64_t)x << 16) | ((uint64_t)y << 8) | z);
    }
    h *= UINT64_C(0xff51afd7ed558ccd);
    h ^= h >> 32;
    return (unsigned)h;
}

#endif
