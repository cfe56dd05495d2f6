/* dtoa: "%.17g" in integer arithmetic (see dtoa.h).
 *
 * A finite non-zero |v| is m * 2^e (m the 53-bit significand). Its 17 digits
 * are q = round(|v| * 10^p) with p = 16 - k, k = floor(log10 |v|), so that
 * 10^16 <= q < 10^17. For 0 <= p <= 27, |v| * 10^p = m * 5^p * 2^(e+p), and
 * m * 5^p < 2^53 * 5^27 < 2^116 is exact in 128 bits: q is that integer
 * shifted right by -(e+p), rounded half to even as printf does (the exact
 * value, in round-to-nearest mode). k is first estimated from the binary
 * exponent and corrected by one step when q falls outside its range. */
#include "common/dtoa.h"

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define P_MAX 27
#define Q_LO 10000000000000000ull  /* 10^16 */
#define Q_HI 100000000000000000ull /* 10^17 */

typedef unsigned __int128 u128;

static const uint64_t pow5[P_MAX + 1] = {1ull,
                                         5ull,
                                         25ull,
                                         125ull,
                                         625ull,
                                         3125ull,
                                         15625ull,
                                         78125ull,
                                         390625ull,
                                         1953125ull,
                                         9765625ull,
                                         48828125ull,
                                         244140625ull,
                                         1220703125ull,
                                         6103515625ull,
                                         30517578125ull,
                                         152587890625ull,
                                         762939453125ull,
                                         3814697265625ull,
                                         19073486328125ull,
                                         95367431640625ull,
                                         476837158203125ull,
                                         2384185791015625ull,
                                         11920928955078125ull,
                                         59604644775390625ull,
                                         298023223876953125ull,
                                         1490116119384765625ull,
                                         7450580596923828125ull};

/* q (rounded) for p, or 0 when p is out of range or the shift would not be
 * exact; *where says whether floor(|v| * 10^p) was below 10^16 (-1), in
 * range (0) or at least 10^17 (1). */
static uint64_t digits_at(uint64_t m, int e, int p, int *where) {
    if (p < 0 || p > P_MAX) return 0;
    u128 x = (u128)m * pow5[p];
    int s = e + p;
    u128 fl;
    bool up = false;
    if (s >= 0) {
        if (s > 60) return 0;
        fl = x << s;
    } else {
        int sh = -s;
        if (sh > 120) return 0;
        fl = x >> sh;
        u128 rem = x & (((u128)1 << sh) - 1), half = (u128)1 << (sh - 1);
        up = rem > half || (rem == half && (fl & 1));
    }
    *where = fl < Q_LO ? -1 : fl >= Q_HI ? 1 : 0;
    return (uint64_t)fl + up; /* fl < 2^64 whenever *where is 0 */
}

/* Writes the 17 digits of q (10^16 <= q < 10^17) at decimal exponent k in
 * %g form with precision 17 and trailing zeros removed. */
static int format_g(bool neg, uint64_t q, int k, char *out) {
    char d[17];
    for (int i = 16; i >= 0; i--, q /= 10)
        d[i] = (char)('0' + q % 10);
    int nd = 17;
    while (nd > 1 && d[nd - 1] == '0')
        nd--;
    char *o = out;
    if (neg) *o++ = '-';
    if (k >= -4 && k < 17) {
        if (k < 0) {
            *o++ = '0';
            *o++ = '.';
            for (int i = 0; i < -k - 1; i++)
                *o++ = '0';
            memcpy(o, d, (size_t)nd);
            o += nd;
        } else {
            memcpy(o, d, (size_t)k + 1);
            o += k + 1;
            if (nd > k + 1) {
                *o++ = '.';
                memcpy(o, d + k + 1, (size_t)(nd - k - 1));
                o += nd - k - 1;
            }
        }
    } else {
        *o++ = d[0];
        if (nd > 1) {
            *o++ = '.';
            memcpy(o, d + 1, (size_t)nd - 1);
            o += nd - 1;
        }
        *o++ = 'e';
        *o++ = k < 0 ? '-' : '+';
        int ak = k < 0 ? -k : k;
        if (ak >= 100) *o++ = (char)('0' + ak / 100);
        *o++ = (char)('0' + ak / 10 % 10);
        *o++ = (char)('0' + ak % 10);
    }
    *o = 0;
    return (int)(o - out);
}

int dtoa_g17(double v, char out[DTOA_BUF]) {
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
    bool neg = bits >> 63;
    int be = (int)(bits >> 52 & 0x7ff);
    uint64_t m = bits & ((1ull << 52) - 1);
    if (be == 0 && m == 0) return neg ? (memcpy(out, "-0", 3), 2) : (memcpy(out, "0", 2), 1);
    if (be == 0x7ff || be == 0) /* inf, NaN, subnormals: printf's own */
        return snprintf(out, DTOA_BUF, "%.17g", v);
    m |= 1ull << 52;
    int e = be - 1075; /* |v| = m * 2^e */
    /* floor(log10 |v|) from the binary exponent: off by at most one */
    int k = (int)floor((double)(be - 1023) * 0.30102999566398119521);
    for (int tries = 0; tries < 3; tries++) {
        int where = 0;
        uint64_t q = digits_at(m, e, 16 - k, &where);
        if (!q) break;
        if (where < 0) {
            k--;
            continue;
        }
        if (where > 0) {
            k++;
            continue;
        }
        if (q == Q_HI) { /* rounded up to the next power of ten */
            q = Q_LO;
            k++;
        }
        return format_g(neg, q, k, out);
    }
    return snprintf(out, DTOA_BUF, "%.17g", v);
}
