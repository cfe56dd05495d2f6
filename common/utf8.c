#include "common/utf8.h"

#include <stdint.h>
#include <string.h>

/* Length of the valid sequence at s (at most n bytes available), or 0 when
 * the byte at s starts none. */
static size_t seq_len(const unsigned char *s, size_t n) {
    unsigned char c = s[0];
    size_t len;
    uint32_t cp, min;
    if (c < 0x80) return 1;
    if (c >= 0xC2 && c <= 0xDF)
        len = 2, cp = c & 0x1F, min = 0x80;
    else if (c >= 0xE0 && c <= 0xEF)
        len = 3, cp = c & 0x0F, min = 0x800;
    else if (c >= 0xF0 && c <= 0xF4)
        len = 4, cp = c & 0x07, min = 0x10000;
    else
        return 0;
    if (len > n) return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    return len;
}

bool utf8_check(const char *s, size_t len, size_t *bad) {
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    while (i < len) {
        uint64_t w;
        /* ASCII, most text: 8 bytes a step (every text field of a data
         * file is checked, free text included) */
        if (i + 8 <= len && (memcpy(&w, u + i, 8), (w & UINT64_C(0x8080808080808080)) == 0)) {
            i += 8;
            continue;
        }
        if (u[i] < 0x80) {
            i++;
            continue;
        }
        size_t n = seq_len(u + i, len - i);
        if (n == 0) {
            if (bad) *bad = i;
            return false;
        }
        i += n;
    }
    return true;
}

char *utf8_sanitize(char *dst, size_t cap, const char *src) {
    const unsigned char *u = (const unsigned char *)src;
    size_t n = 0, i = 0, avail = 0;
    while (u[avail])
        avail++;
    while (i < avail) {
        size_t len = seq_len(u + i, avail - i);
        if (len == 0) {
            if (n + 1 >= cap) break;
            dst[n++] = '?';
            i++;
            continue;
        }
        if (n + len >= cap) break;
        for (size_t k = 0; k < len; k++)
            dst[n + k] = (len == 1 && u[i] < 0x20) ? ' ' : (char)u[i + k];
        n += len;
        i += len;
    }
    dst[n] = '\0';
    return dst;
}
