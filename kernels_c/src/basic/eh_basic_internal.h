/* Private helpers of the basic family (dense-layer argument checks, TFLite requantisation). */
#ifndef EH_BASIC_INTERNAL_H
#define EH_BASIC_INTERNAL_H

#include "../eh_internal.h"

/* n_in and n_out non-zero and n_in * n_out addressable with 32-bit indices. */
static inline eh_status eh_fc_size_check(uint32_t n_in, uint32_t n_out)
{
    if (n_in == 0u || n_out == 0u) return EH_ERR_SIZE;
    if (n_out > UINT32_MAX / n_in) return EH_ERR_SIZE;
    return EH_OK;
}

/* gemmlowp SaturatingRoundingDoublingHighMul: (a * b * 2 + 2^31 rounding nudge) / 2^32, the
 * division truncating toward zero, with the single overflow case a == b == INT32_MIN saturated. */
static inline int32_t eh_srdhm(int32_t a, int32_t b)
{
    int64_t ab, nudge, q;
    if (a == INT32_MIN && b == INT32_MIN) return INT32_MAX;
    ab = (int64_t)a * (int64_t)b;
    nudge = ab >= 0 ? ((int64_t)1 << 30) : (1 - ((int64_t)1 << 30));
    q = ab + nudge;
    /* q / 2^31 truncated toward zero (as gemmlowp's C division), without a 64-bit divide. */
    return (int32_t)(q >= 0 ? (q >> 31) : -((-q) >> 31));
}

/* gemmlowp RoundingDivideByPOT: x / 2^e rounded to nearest, ties away from zero; e in [0, 31]. */
static inline int32_t eh_rdivpot(int32_t x, uint32_t e)
{
    const uint32_t mask = e >= 32u ? 0xFFFFFFFFu : (uint32_t)((1ull << e) - 1u);
    const uint32_t rem = (uint32_t)x & mask;
    const uint32_t thr = (mask >> 1) + (x < 0 ? 1u : 0u);
    return (x >> e) + (rem > thr ? 1 : 0);
}

/* TFLite MultiplyByQuantizedMultiplier with a saturating (not wrapping) left shift;
 * shift in [-31, 30]. */
static inline int32_t eh_requant_s32(int32_t acc, int32_t mult, int32_t shift)
{
    if (shift > 0) acc = eh_sat32((int64_t)acc * ((int64_t)1 << shift));
    acc = eh_srdhm(acc, mult);
    return shift < 0 ? eh_rdivpot(acc, (uint32_t)(-shift)) : acc;
}

/* The same output for the common case, checked once per call (eh_s8_out_fast_ok): shift <= 0 and
 * |b[o]| + row 255 128 (row: the products summed per output) <= INT32_MAX, so acc = dot + b cannot saturate. Then, with mult >= 0
 * (never INT32_MIN), SaturatingRoundingDoublingHighMul is exactly floor((acc mult + 2^30) / 2^31):
 * for acc mult >= 0 that is gemmlowp's (acc mult + 2^30) / 2^31; for acc mult < 0 its truncation
 * toward zero of (acc mult + 1 - 2^30) / 2^31 is the ceiling, floor((acc mult + 1 - 2^30 + 2^31 - 1)
 * / 2^31), the same number. RoundingDivideByPOT by e = -shift as eh_rdivpot. Since act_min >= -128
 * and act_max <= 127, sat8(v + y_offset) then the clamp is clamp(v + y_offset, act_min, act_max) =
 * clamp(v, lo, hi) + y_offset with lo = act_min - y_offset, hi = act_max - y_offset (no overflow). */
static inline int8_t eh_s8_out_fast(int32_t acc, int32_t mult, int32_t shift, int32_t lo, int32_t hi,
                                         int32_t y_offset)
{
    const uint32_t e = (uint32_t)(-shift), mask = (uint32_t)((1ull << e) - 1u);
    int32_t v = (int32_t)(((int64_t)acc * mult + ((int64_t)1 << 30)) >> 31);
    v = (v >> e) + (((uint32_t)v & mask) > (mask >> 1) + ((uint32_t)v >> 31) ? 1 : 0);
    if (v < lo) v = lo;
    if (v > hi) v = hi;
    return (int8_t)(v + y_offset);
}

/* The conditions of eh_s8_out_fast, checked once per call over per-channel (nq = 1 or n_out)
 * shifts and the optional bias of n_out entries: every shift <= 0 and |b[o]| + row 255 128 <=
 * INT32_MAX, row <= 65536 (the products summed per output), so dot + b cannot saturate. */
static inline uint32_t eh_s8_out_fast_ok(const int32_t *b, uint32_t n_out, const int32_t *shift, uint32_t nq,
                                         uint32_t row)
{
    const int32_t lim = INT32_MAX - (int32_t)(row * 32640u); /* >= 0: row <= 65536 */
    uint32_t i;
    for (i = 0; i < nq; i++)
        if (shift[i] > 0) return 0;
    for (i = 0; b != 0 && i < n_out; i++)
        if (b[i] > lim || b[i] < -lim) return 0;
    return 1;
}

#endif
