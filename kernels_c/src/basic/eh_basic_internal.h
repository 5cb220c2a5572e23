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

#endif
