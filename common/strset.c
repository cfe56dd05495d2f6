/* strset: see strset.h. Strings live back to back in one arena, addressed by
 * offset so that growing the arena never invalidates the table. */
#include "common/strset.h"

#include "common/hash.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct strset {
    char *arena;
    size_t arena_len, arena_cap;
    size_t *off;    /* off[i]: start of string i in arena */
    size_t *len;    /* len[i] */
    uint64_t *hash; /* hash[i], kept so that rehashing never re-reads strings */
    size_t count, cap;
    uint32_t *table; /* 0 = empty, else index + 1 */
    size_t tsize;    /* power of two */
};

/* The table takes the low bits: fold the high ones in. */
static uint64_t strset_hash(const char *s, size_t n) {
    uint64_t h = hash_fnv1a(s, n);
    return h ^ (h >> 29);
}

strset_t *strset_new(void) {
    strset_t *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->tsize = 16;
    s->table = calloc(s->tsize, sizeof *s->table);
    if (!s->table) {
        free(s);
        return NULL;
    }
    return s;
}

void strset_destroy(strset_t **ps) {
    if (!ps || !*ps) return;
    strset_t *s = *ps;
    free(s->arena);
    free(s->off);
    free(s->len);
    free(s->hash);
    free(s->table);
    free(s);
    *ps = NULL;
}

/* memcmp() == 0 without a library call for the short strings (words,
 * category values) that most lookups compare. */
static inline int strset_same(const char *a, const char *b, size_t len) {
    if (len > 16) return memcmp(a, b, len) == 0;
    for (size_t i = 0; i < len; i++)
        if (a[i] != b[i]) return 0;
    return 1;
}

static long strset_lookup(const strset_t *s, const char *str, size_t len, uint64_t h,
                          size_t *slot) {
    size_t mask = s->tsize - 1;
    size_t i = (size_t)h & mask;
    for (;;) {
        uint32_t e = s->table[i];
        if (e == 0) {
            *slot = i;
            return -1;
        }
        size_t k = e - 1;
        if (s->hash[k] == h && s->len[k] == len && strset_same(s->arena + s->off[k], str, len))
            return (long)k;
        i = (i + 1) & mask;
    }
}

static int strset_grow_table(strset_t *s) {
    size_t nsize = s->tsize * 2;
    uint32_t *nt = calloc(nsize, sizeof *nt);
    if (!nt) return -1;
    for (size_t k = 0; k < s->count; k++) {
        size_t i = (size_t)s->hash[k] & (nsize - 1);
        while (nt[i])
            i = (i + 1) & (nsize - 1);
        nt[i] = (uint32_t)(k + 1);
    }
    free(s->table);
    s->table = nt;
    s->tsize = nsize;
    return 0;
}

long strset_find(const strset_t *s, const char *str, size_t len) {
    size_t slot;
    return strset_lookup(s, str, len, strset_hash(str, len), &slot);
}

long strset_add(strset_t *s, const char *str, size_t len, int *added) {
    if (added) *added = 0;
    uint64_t h = strset_hash(str, len);
    size_t slot;
    long k = strset_lookup(s, str, len, h, &slot);
    if (k >= 0) return k;
    if (s->count >= 0x7fffffff) return -1;
    /* Keep the load at most one half so probes stay short and a free slot
     * always exists; growing moves entries, so find the slot again. */
    if ((s->count + 1) * 2 > s->tsize) {
        if (strset_grow_table(s) != 0) return -1;
        strset_lookup(s, str, len, h, &slot);
    }
    if (s->count == s->cap) {
        size_t ncap = s->cap ? s->cap * 2 : 16;
        size_t *no = realloc(s->off, ncap * sizeof *no);
        if (!no) return -1;
        s->off = no;
        size_t *nl = realloc(s->len, ncap * sizeof *nl);
        if (!nl) return -1;
        s->len = nl;
        uint64_t *nh = realloc(s->hash, ncap * sizeof *nh);
        if (!nh) return -1;
        s->hash = nh;
        s->cap = ncap;
    }
    if (len + 1 > s->arena_cap - s->arena_len) {
        size_t ncap = s->arena_cap ? s->arena_cap : 256;
        while (len + 1 > ncap - s->arena_len) {
            if (ncap > SIZE_MAX / 2) return -1;
            ncap *= 2;
        }
        char *na = realloc(s->arena, ncap);
        if (!na) return -1;
        s->arena = na;
        s->arena_cap = ncap;
    }
    if (len) memcpy(s->arena + s->arena_len, str, len);
    s->arena[s->arena_len + len] = '\0';
    k = (long)s->count;
    s->off[k] = s->arena_len;
    s->len[k] = len;
    s->hash[k] = h;
    s->arena_len += len + 1;
    s->count++;
    s->table[slot] = (uint32_t)(k + 1);
    if (added) *added = 1;
    return k;
}

size_t strset_count(const strset_t *s) {
    return s->count;
}

const char *strset_get(const strset_t *s, size_t idx, size_t *len) {
    if (len) *len = s->len[idx];
    return s->arena + s->off[idx];
}
