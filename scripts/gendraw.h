/* gendraw: the random draws of the data generators (bin/gensparse,
 * bin/gentext), one copy so that the same seed gives the same bytes in
 * every tool. Header-only: each tool is one file and has its own state. */
#ifndef NC_SCRIPTS_GENDRAW_H
#define NC_SCRIPTS_GENDRAW_H

#include <stdint.h>

/* splitmix64: small, fast, and the same everywhere; the tool seeds it */
static uint64_t rng_state;
static uint64_t rng_next(void) {
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Uniform in [0, 1). */
static double rng_unit(void) {
    return (double)(rng_next() >> 11) * (1.0 / 9007199254740992.0);
}

/* The rank whose cumulative weight first reaches u * total, cdf[0..n) the
 * cumulative weights (a Zipf law in both tools). */
static uint32_t draw_rank(const double *cdf, uint32_t n) {
    double u = rng_unit() * cdf[n - 1];
    uint32_t lo = 0, hi = n - 1;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (cdf[mid] < u)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

#endif
