/*
 * Multiplication-free dense layers after ShiftAddLLM (arXiv 2406.05981): power-of-two weights
 * (every multiply becomes a shift) and binary-coding-quantised weights evaluated by table
 * look-up (every multiply becomes an add).
 *
 * Weights are row-major by output; inputs and outputs are int16 on scales chosen by the
 * converter (host/edgehost/quant). Rounding shifts round half up:
 *   rshift(a, s) = floor((a + 2^(s-1)) / 2^s), rshift(a, 0) = a.
 * Dense layers reject n_in == 0, n_out == 0 and n_in * n_out >= 2^32 with EH_ERR_SIZE.
 * Arguments (including every weight code and exponent) are checked before anything is written.
 */
#ifndef EH_SHIFTADD_H
#define EH_SHIFTADD_H

#include "eh_common.h"

/* Power-of-two weight codes, one uint8 per weight:
 *   code & 0x1F == 0         the weight is 0 (0x00; 0x80 is also accepted as zero)
 *   else e = code & 0x1F     exponent field in [1, 31], p = e - EH_POW2_BIAS in [-15, 15]
 *        bit 7               sign: 0 -> +2^p, 1 -> -2^p
 *        bits 6..5           reserved, must be 0 (a code with either set is EH_ERR_RANGE)
 */
typedef enum {
    EH_POW2_BIAS = 16,
    EH_POW2_P_MIN = -15,
    EH_POW2_P_MAX = 15,
    EH_POW2_SIGN = 0x80,
    EH_POW2_EXP_MASK = 0x1F,
    EH_POW2_RESERVED = 0x60
} eh_pow2_code;

/* Power-of-two dense layer: for each output o,
 *   acc = b[o] (0 when b is NULL)
 *   for i = 0..n_in-1 in order, when w[o][i] is not zero:
 *       t = x[i] * 2^p            when p >= 0 (a left shift; |t| <= 2^30)
 *       t = rshift(x[i], -p)      when p < 0
 *       acc = sat32(acc + t) for a positive weight, sat32(acc - t) for a negative one
 *   y[o] = sat16(rshift(acc, shift)),   shift in [0, 31].
 * The accumulator saturates after every addition (so the order matters only once it has
 * reached a limit). The sign is applied after the rounding shift: -rshift(x, k), not rshift(-x, k). */
eh_status eh_shiftadd_fc_q15(uint32_t n_in, uint32_t n_out, const int16_t *x, const uint8_t *w,
                             const int32_t *b, uint32_t shift, int16_t *y);

/* Binary-coding-quantised (BCQ) dense layer by table look-up.
 *
 * Weights: W[m][i] = sum_{k<q} 2^alpha_exp[m][k] * B_k[m][i], B in {-1, +1}, q in [1, 8],
 * alpha_exp in [-24, 24]. Bit convention (as in the binary family): a set bit means -1, a
 * clear bit +1. Packing: n_words = ceil(n_in / 32) uint32 words per output row and plane,
 * w[(m * q + k) * n_words + j], bit t (value 2^t) of word j holding B_k[m][32 j + t]; so
 * byte r of word j covers inputs 32 j + 8 r .. 32 j + 8 r + 7. Bits past n_in are ignored.
 *
 * Tables: for each group g of 8 inputs (G = ceil(n_in / 8) groups, the last one padded with
 * zero inputs so that padding adds nothing), 256 int32 entries
 *   T_g[i] = sum_{j<8} (bit j of i ? -x[8g + j] : +x[8g + j]),
 * built with 7 adds and 255 subtractions (T[i + 2^s] = T[i] - 2 x_s for i < 2^s).
 * The caller provides table scratch of eh_bcq_table_len(n_in) = 256 * G int32 entries
 * (1 KiB per 8 inputs); n_in must lie in [1, 65535].
 *
 * Output, for each m:
 *   S_k = sum_{g<G} T_g[byte g of the plane-k bits of row m]   (= sum_i B_k[m][i] x[i], exact in int32)
 *   acc = b[m] + sum_k (alpha_exp[m][k] >= 0 ? S_k * 2^alpha_exp : rshift(S_k, -alpha_exp))
 *         in 64 bits (exact)
 *   y[m] = sat16(rshift(acc, shift)),   shift in [0, 62].
 * alpha_exp holds n_out * q entries, [m][k]; b may be NULL. */
uint32_t eh_bcq_table_len(uint32_t n_in); /* 256 * ceil(n_in / 8); 0 when n_in is 0 or > 65535 */

/* Builds the G look-up tables of x into table (table_len >= eh_bcq_table_len(n_in)). */
eh_status eh_bcq_tables_q15(uint32_t n_in, const int16_t *x, int32_t *table, uint32_t table_len);

eh_status eh_bcq_fc_q15(uint32_t n_in, uint32_t n_out, uint32_t q, const int16_t *x,
                        const uint32_t *w, const int8_t *alpha_exp, const int32_t *b,
                        uint32_t shift, int32_t *table, uint32_t table_len, int16_t *y);

#endif
