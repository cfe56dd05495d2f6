/* text: the tokenizer of free-text columns (bag of words), pure functions.
 *
 * A text field becomes a sequence of words, then terms:
 *   - Lowercasing: ASCII A-Z and the Latin-1 capitals U+00C0..U+00DE (but
 *     U+00D7, the multiplication sign) map to their small letter (+0x20).
 *     Nothing else is case-folded.
 *   - A word is a maximal run of word characters, where apostrophes (')
 *     are kept only between two word characters ("don't", "rock'n'roll";
 *     "'quoted'" is "quoted"). Word characters: ASCII letters and digits,
 *     the Latin-1 letters U+00C0..U+00FF except U+00D7 and U+00F7, and every
 *     code point from U+0100 up (other scripts count as letters). Everything
 *     else separates words: ASCII punctuation and space, U+0080..U+00BF,
 *     and any byte that starts no valid UTF-8 sequence (text fields are
 *     checked for UTF-8 before they get here; the tokenizer is merely safe
 *     on any bytes).
 *   - A word longer than TEXT_WORD_MAX bytes (a URL, a hash, a base64 blob)
 *     is dropped, and the words on either side of it count as adjacent.
 *   - Terms: every word; with ngram 2 also every pair of adjacent words,
 *     written "first second" (one space).
 * The same rules, train and test alike, on the master and every worker.
 */
#ifndef NC_TEXT_H
#define NC_TEXT_H

#include <stddef.h>
#include <stdint.h>

#define TEXT_WORD_MAX 64                      /* bytes of a word (UTF-8) */
#define TEXT_TERM_MAX (2 * TEXT_WORD_MAX + 1) /* bytes of a term (a bigram) */
#define TEXT_HASH_BITS_MAX 24

/* Called once per term, in text order (a bigram right after its second
 * word); term is borrowed for the call and not NUL-terminated. Non-zero
 * stops the scan. */
typedef int (*text_term_fn)(void *arg, const char *term, size_t len);

/* Scans len bytes at t and calls fn (when not NULL) for each term; ngram is
 * 1 or 2. Returns the number of words, or -1 when fn stopped the scan. */
long text_terms(const char *t, size_t len, int ngram, text_term_fn fn, void *arg);

/* The hashing trick's bucket of a term: FNV-1a 64 of its bytes, high half
 * xored into the low, modulo 2^bits (1 <= bits <= TEXT_HASH_BITS_MAX). */
uint32_t text_hash(const char *term, size_t len, int bits);

#endif
