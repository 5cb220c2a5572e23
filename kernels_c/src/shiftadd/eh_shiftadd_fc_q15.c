#include "eh_shiftadd.h"
#include "eh_shiftadd_internal.h"

eh_status eh_shiftadd_fc_q15(uint32_t n_in, uint32_t n_out, const int16_t *x, const uint8_t *w,
                             const int32_t *b, uint32_t shift, int16_t *y)
{
    uint32_t o, i, bad = 0;
    const uint32_t total = n_in * n_out;
    eh_status st;
    if (x == 0 || w == 0 || y == 0) return EH_ERR_NULL;
    if ((st = eh_sa_size_check(n_in, n_out)) != EH_OK) return st;
    if (shift > 31u) return EH_ERR_RANGE;
    for (i = 0; i < total; i++) bad |= w[i];
    if (bad & (uint32_t)EH_POW2_RESERVED) return EH_ERR_RANGE;

    for (o = 0; o < n_out; o++) {
        const uint8_t *row = w + (uint32_t)(o * n_in);
        int32_t acc = b != 0 ? b[o] : 0;
        for (i = 0; i < n_in; i++) {
            const uint32_t c = row[i];
            const uint32_t e = c & (uint32_t)EH_POW2_EXP_MASK;
            int32_t t;
            if (e == 0u) continue;
            if (e >= (uint32_t)EH_POW2_BIAS)
                t = (int32_t)x[i] * (int32_t)(1u << (e - (uint32_t)EH_POW2_BIAS));
            else
                t = ((int32_t)x[i] + (int32_t)(1u << ((uint32_t)EH_POW2_BIAS - 1u - e)))
                    >> ((uint32_t)EH_POW2_BIAS - e);
            acc = (c & (uint32_t)EH_POW2_SIGN) ? eh_qsub32(acc, t) : eh_qadd32(acc, t);
        }
        y[o] = eh_sat16(eh_rshift_round32(acc, shift));
    }
    return EH_OK;
}
