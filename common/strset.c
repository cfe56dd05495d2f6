/* strset: see strset.h. Records sit back to back in the arena, 8-byte
 * aligned, addressed by offset so that growing the arena never invalidates
 * the table:
 *   u32 index | u32 length | u32 hash | u32 unused | value | bytes, NUL | pad
 * A table slot is (hash << 32) | (offset / 8 + 1); 0 is an empty slot. */
#include "common/strset.h"

#include "common/bigbuf.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define STRSET_HEAD 16
#define STRSET_VALMAX 64
/* From this size on the arena and the table live in mappings of their own
 * (common/bigbuf.h): huge pages, so filling them takes a page fault per 2 MB
 * instead of per 4 KB, and a growing arena is not copied. A worker builds a
 * term table of megabytes for every shard, and on a virtual machine the
 * page faults of fresh memory cost as much as the lookups. */
#define STRSET_BIG ((size_t)2 << 20)

struct strset {
    unsigned char *arena;
    size_t arena_len, arena_cap;
    int arena_mapped, table_mapped; /* in a bigbuf mapping, not malloc'd */
    size_t table_bytes;             /* of the table's mapping when mapped */
    size_t valsize;                 /* bytes of value per record, a multiple of 8 */
    uint64_t *off;                  /* off[i]: offset of record i in arena */
    size_t count, cap;
    uint64_t *table; /* slots, see above */
    size_t tsize;    /* power of two */
};

typedef struct strset_rec {
    uint32_t idx, len, hash, unused;
} strset_rec_t;

static inline uint64_t rd64(const char *p) {
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

static inline uint32_t rd32(const char *p) {
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

static inline const strset_rec_t *strset_rec(const strset_t *s, uint64_t off) {
    return (const strset_rec_t *)(void *)(s->arena + off);
}

static inline const char *strset_bytes(const strset_t *s, uint64_t off) {
    return (const char *)s->arena + off + STRSET_HEAD + s->valsize;
}

strset_t *strset_new_vals(size_t valsize) {
    if (valsize > STRSET_VALMAX) return NULL;
    strset_t *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->valsize = (valsize + 7) & ~(size_t)7;
    s->tsize = 16;
    s->table = calloc(s->tsize, sizeof *s->table);
    if (!s->table) {
        free(s);
        return NULL;
    }
    return s;
}

strset_t *strset_new(void) {
    return strset_new_vals(0);
}

static void strset_free_mem(void *p, size_t cap, int mapped) {
    if (mapped) {
        bigbuf_t b = {p, cap};
        bigbuf_free(&b);
    } else {
        free(p);
    }
}

void strset_destroy(strset_t **ps) {
    if (!ps || !*ps) return;
    strset_t *s = *ps;
    strset_free_mem(s->arena, s->arena_cap, s->arena_mapped);
    free(s->off);
    strset_free_mem(s->table, s->table_bytes, s->table_mapped);
    free(s);
    *ps = NULL;
}

/* memcmp() == 0 without a library call for the short strings (words,
 * category values) that most lookups compare: two overlapping words cover
 * them, and no byte outside either string is read. */
static inline int strset_same(const char *a, const char *b, size_t len) {
    if (len >= 8) {
        if (len > 16) return memcmp(a, b, len) == 0;
        return rd64(a) == rd64(b) && rd64(a + len - 8) == rd64(b + len - 8);
    }
    if (len >= 4) return rd32(a) == rd32(b) && rd32(a + len - 4) == rd32(b + len - 4);
    for (size_t i = 0; i < len; i++)
        if (a[i] != b[i]) return 0;
    return 1;
}

/* The record offset of the string, or UINT64_MAX with *slot the free slot
 * where it would go. */
static inline uint64_t strset_lookup(const strset_t *s, const char *str, size_t len, uint32_t h,
                                     size_t *slot) {
    size_t mask = s->tsize - 1;
    size_t i = h & mask;
    for (;;) {
        uint64_t e = s->table[i];
        if (e == 0) {
            *slot = i;
            return UINT64_MAX;
        }
        if ((uint32_t)(e >> 32) == h) {
            uint64_t off = ((e & 0xffffffffu) - 1) * 8;
            if (strset_rec(s, off)->len == len && strset_same(strset_bytes(s, off), str, len))
                return off;
        }
        i = (i + 1) & mask;
    }
}

static int strset_grow_table(strset_t *s) {
    size_t nsize = s->tsize * 2, mask = nsize - 1;
    if (nsize > SIZE_MAX / 2 / sizeof(uint64_t)) return -1;
    uint64_t *nt;
    int mapped = nsize * sizeof *nt >= STRSET_BIG;
    size_t nbytes = nsize * sizeof *nt;
    if (mapped) {
        bigbuf_t b = {0}; /* fresh pages read as zero */
        if (bigbuf_reserve(&b, nsize * sizeof *nt) != 0) return -1;
        nt = b.p;
        nbytes = b.cap;
    } else if (!(nt = calloc(nsize, sizeof *nt))) {
        return -1;
    }
    for (size_t j = 0; j < s->tsize; j++) {
        uint64_t e = s->table[j];
        if (!e) continue;
        size_t i = (size_t)(e >> 32) & mask;
        while (nt[i])
            i = (i + 1) & mask;
        nt[i] = e;
    }
    strset_free_mem(s->table, s->table_bytes, s->table_mapped);
    s->table = nt;
    s->tsize = nsize;
    s->table_mapped = mapped;
    s->table_bytes = nbytes;
    return 0;
}

int strset_reserve(strset_t *s, size_t n) {
    if (n >= 0x7fffffff) return -1;
    while (n * 2 > s->tsize)
        if (strset_grow_table(s) != 0) return -1;
    if (n > s->cap) {
        uint64_t *no = realloc(s->off, n * sizeof *no);
        if (!no) return -1;
        s->off = no;
        s->cap = n;
    }
    return 0;
}

/* Room for need more bytes in the arena; -1 when out of memory. */
static int strset_grow_arena(strset_t *s, size_t need) {
    size_t ncap = s->arena_cap ? s->arena_cap : 1024;
    while (need > ncap - s->arena_len) {
        if (ncap > SIZE_MAX / 2) return -1;
        ncap *= 2;
    }
    if (ncap < STRSET_BIG) {
        unsigned char *na = realloc(s->arena, ncap);
        if (!na) return -1;
        s->arena = na;
        s->arena_cap = ncap;
        return 0;
    }
    bigbuf_t b = {s->arena_mapped ? s->arena : NULL, s->arena_mapped ? s->arena_cap : 0};
    if (bigbuf_reserve(&b, ncap) != 0) return -1;
    if (!s->arena_mapped) {
        if (s->arena_len) memcpy(b.p, s->arena, s->arena_len);
        free(s->arena);
        s->arena_mapped = 1;
    }
    s->arena = b.p;
    s->arena_cap = b.cap;
    return 0;
}

/* Appends a new record for str (hash h) at *slot (from a failed lookup);
 * returns its offset, or UINT64_MAX when out of memory or past a limit. */
static uint64_t strset_insert(strset_t *s, const char *str, size_t len, uint32_t h, size_t slot) {
    if (s->count >= 0x7fffffff || len >= UINT32_MAX - 64) return UINT64_MAX;
    /* Keep the load at most one half so probes stay short and a free slot
     * always exists; growing moves entries, so find the slot again. */
    if ((s->count + 1) * 2 > s->tsize) {
        if (strset_grow_table(s) != 0) return UINT64_MAX;
        size_t i = h & (s->tsize - 1);
        while (s->table[i])
            i = (i + 1) & (s->tsize - 1);
        slot = i;
    }
    if (s->count == s->cap) {
        size_t ncap = s->cap ? s->cap * 2 : 16;
        uint64_t *no = realloc(s->off, ncap * sizeof *no);
        if (!no) return UINT64_MAX;
        s->off = no;
        s->cap = ncap;
    }
    size_t need = (STRSET_HEAD + s->valsize + len + 1 + 7) & ~(size_t)7;
    if (need > s->arena_cap - s->arena_len && strset_grow_arena(s, need) != 0) return UINT64_MAX;
    uint64_t off = s->arena_len;
    if (off / 8 >= UINT32_MAX) return UINT64_MAX;
    strset_rec_t rec = {(uint32_t)s->count, (uint32_t)len, h, 0};
    unsigned char *p = s->arena + off;
    memcpy(p, &rec, sizeof rec);
    memset(p + STRSET_HEAD, 0, s->valsize);
    if (len) memcpy(p + STRSET_HEAD + s->valsize, str, len);
    memset(p + STRSET_HEAD + s->valsize + len, 0, need - STRSET_HEAD - s->valsize - len);
    s->arena_len += need;
    s->off[s->count++] = off;
    s->table[slot] = ((uint64_t)h << 32) | (off / 8 + 1);
    return off;
}

/* The record of str, added when new; UINT64_MAX when out of memory. */
static inline uint64_t strset_put(strset_t *s, const char *str, size_t len, uint32_t h,
                                  int *added) {
    size_t slot;
    uint64_t off = strset_lookup(s, str, len, h, &slot);
    if (added) *added = 0;
    if (off != UINT64_MAX) return off;
    off = strset_insert(s, str, len, h, slot);
    if (added && off != UINT64_MAX) *added = 1;
    return off;
}

long strset_find(const strset_t *s, const char *str, size_t len) {
    size_t slot;
    uint64_t off = strset_lookup(s, str, len, strset_hash(str, len), &slot);
    return off == UINT64_MAX ? -1 : (long)strset_rec(s, off)->idx;
}

long strset_add(strset_t *s, const char *str, size_t len, int *added) {
    uint64_t off = strset_put(s, str, len, strset_hash(str, len), added);
    return off == UINT64_MAX ? -1 : (long)strset_rec(s, off)->idx;
}

void *strset_add_val(strset_t *s, const char *str, size_t len, int *added) {
    uint64_t off = strset_put(s, str, len, strset_hash(str, len), added);
    return off == UINT64_MAX ? NULL : s->arena + off + STRSET_HEAD;
}

void *strset_add_from(strset_t *s, const strset_t *from, size_t idx, int *added) {
    uint64_t fo = from->off[idx];
    const strset_rec_t *r = strset_rec(from, fo);
    uint64_t off = strset_put(s, strset_bytes(from, fo), r->len, r->hash, added);
    return off == UINT64_MAX ? NULL : s->arena + off + STRSET_HEAD;
}

void strset_prefetch(const strset_t *s, unsigned hash) {
    __builtin_prefetch(&s->table[hash & (s->tsize - 1)]);
}

void strset_prefetch_rec(const strset_t *s, unsigned hash) {
    uint64_t e = s->table[hash & (s->tsize - 1)];
    if (e && (uint32_t)(e >> 32) == hash) {
        const unsigned char *r = s->arena + ((e & 0xffffffffu) - 1) * 8;
        __builtin_prefetch(r);
        /* the string's first bytes, on the next line when the head and
         * value end this one */
        __builtin_prefetch(r + STRSET_HEAD + s->valsize + 15);
    }
}

unsigned strset_hash_at(const strset_t *s, size_t idx) {
    return strset_rec(s, s->off[idx])->hash;
}

void *strset_add_hashed(strset_t *s, const char *str, size_t len, unsigned hash, int *added) {
    uint64_t off = strset_put(s, str, len, hash, added);
    return off == UINT64_MAX ? NULL : s->arena + off + STRSET_HEAD;
}

size_t strset_count(const strset_t *s) {
    return s->count;
}

const char *strset_get(const strset_t *s, size_t idx, size_t *len) {
    uint64_t off = s->off[idx];
    if (len) *len = strset_rec(s, off)->len;
    return strset_bytes(s, off);
}

void *strset_val(const strset_t *s, size_t idx) {
    return s->arena + s->off[idx] + STRSET_HEAD;
}
