#include "eh_basic.h"
#include "eh_basic_internal.h"

eh_status eh_fc_q15(uint32_t n_in, uint32_t n_out, const int16_t *x, const int16_t *w,
                    const int32_t *b, uint32_t shift, int16_t *y)
{
    uint32_t o, i;
    eh_status st;
    if (x == 0 || w == 0 || y == 0) return EH_ERR_NULL;
    if ((st = eh_fc_size_check(n_in, n_out)) != EH_OK) return st;
    if (shift > 31u) return EH_ERR_RANGE;

    for (o = 0; o < n_out; o++) {
        const int16_t *row = w + (uint32_t)(o * n_in);
        int64_t acc = b != 0 ? (int64_t)b[o] : 0;
        for (i = 0; i < n_in; i++) acc += (int32_t)row[i] * (int32_t)x[i];
        acc = eh_rshift_round64(acc, shift);
        y[o] = (int16_t)(acc > INT16_MAX ? INT16_MAX : acc < INT16_MIN ? INT16_MIN : acc);
    }
    return EH_OK;
}
