/* utf8: checking and repairing UTF-8 text that leaves the process.
 *
 * Browsers close a websocket that carries invalid UTF-8, and JSON readers
 * refuse it, so any text that came from a file, a path or a peer is checked
 * (utf8_check) or repaired (utf8_sanitize) before it is put into JSON, an
 * event or an error line. "Valid" is RFC 3629: no overlong forms, no
 * surrogates (U+D800..U+DFFF), nothing above U+10FFFF. NUL is valid.
 */
#ifndef NC_UTF8_H
#define NC_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* True when the len bytes at s are valid UTF-8. Otherwise false, and *bad
 * (when not NULL) is the offset of the first byte that starts no valid
 * sequence. */
bool utf8_check(const char *s, size_t len, size_t *bad);

/* Copies the NUL-terminated src into dst (cap bytes, cap >= 1), replacing
 * every byte that starts no valid sequence by '?' and every control byte
 * below 0x20 by ' ', so the result is one line of valid UTF-8. Truncates
 * on a character boundary; always NUL-terminates. Returns dst. */
char *utf8_sanitize(char *dst, size_t cap, const char *src);

#endif
