/* Shared by the int8 kernel tests: TFLite's requantisation written out from eh_basic.h's text
 * (independent of the kernels' helpers). */
#ifndef EH_TEST_S8_H
#define EH_TEST_S8_H

#include <stdint.h>

static inline int32_t eh_test_requant(int64_t acc, int32_t mult, int32_t shift)
{
    int64_t ab, q;
    int32_t hi;
    uint32_t e, mask, rem, thr;
    if (shift > 0) {
        acc *= (int64_t)1 << shift;
        if (acc > INT32_MAX) acc = INT32_MAX;
        if (acc < INT32_MIN) acc = INT32_MIN;
    }
    if (acc == INT32_MIN && mult == INT32_MIN) hi = INT32_MAX;
    else {
        ab = acc * mult;
        q = ab + (ab >= 0 ? ((int64_t)1 << 30) : 1 - ((int64_t)1 << 30));
        hi = (int32_t)(q / ((int64_t)1 << 31));
    }
    if (shift >= 0) return hi;
    e = (uint32_t)(-shift);
    mask = e >= 32u ? 0xFFFFFFFFu : (uint32_t)((1ull << e) - 1u);
    rem = (uint32_t)hi & mask;
    thr = (mask >> 1) + (hi < 0 ? 1u : 0u);
    return (hi >> e) + (rem > thr ? 1 : 0);
}

#endif /* EH_TEST_S8_H */
