/* strset: an insertion-ordered set of byte strings (interning).
 *
 * Each distinct string gets the next index (0, 1, 2, ...) the first time it is
 * added, so iterating 0..count-1 gives first-appearance order, which is what
 * label lists and one-hot vocabularies need. Strings may contain any byte
 * except that the copy handed back by strset_get() is NUL-terminated for
 * convenience. Lookups are O(1) (open addressing on a 64-bit FNV-1a hash).
 * Memory: one growable byte arena plus two small arrays; nothing else.
 */
#ifndef NC_STRSET_H
#define NC_STRSET_H

#include <stddef.h>

typedef struct strset strset_t;

/* New empty set; NULL when out of memory. The caller owns it. */
strset_t *strset_new(void);
void strset_destroy(strset_t **s);

/* Index of the string, adding it when new (*added = 1 then, when added is not
 * NULL). Returns -1 only when out of memory or past 2^31 entries. */
long strset_add(strset_t *s, const char *str, size_t len, int *added);

/* Index of the string, or -1 when absent. */
long strset_find(const strset_t *s, const char *str, size_t len);

size_t strset_count(const strset_t *s);

/* The string at idx (borrowed, NUL-terminated, valid until the next add);
 * *len gets its length when len is not NULL. idx must be < count. */
const char *strset_get(const strset_t *s, size_t idx, size_t *len);

#endif
