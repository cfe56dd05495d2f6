/* dtoa: a double as printf's "%.17g" writes it, faster.
 *
 * liblinear's model files hold every weight as "%.17g" (17 significant
 * digits: enough to read back the same double). glibc's printf formats each
 * one through multi-precision arithmetic, about 300 ns; a model of 20
 * classes x 200,000 columns takes over a second. dtoa_g17 computes the same
 * 17 digits exactly in 128-bit integer arithmetic for the values weights
 * take (magnitudes 1e-11 to 1e17) and asks snprintf for the rest (and for
 * infinities and NaNs), so its output is byte for byte printf's, which the
 * unit test checks on millions of doubles from every binade.
 */
#ifndef NC_DTOA_H
#define NC_DTOA_H

#define DTOA_BUF 32 /* "-1.2345678901234567e-308" and its NUL fit */

/* Writes v as snprintf(out, DTOA_BUF, "%.17g", v) would, in the C locale;
 * returns the length. */
int dtoa_g17(double v, char out[DTOA_BUF]);

#endif
