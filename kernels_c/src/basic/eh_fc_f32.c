#include "eh_basic.h"
#include "eh_basic_internal.h"

eh_status eh_fc_f32(uint32_t n_in, uint32_t n_out, const float *x, const float *w,
                    const float *b, float *y)
{
    uint32_t o, i;
    eh_status st;
    if (x == 0 || w == 0 || y == 0) return EH_ERR_NULL;
    if ((st = eh_fc_size_check(n_in, n_out)) != EH_OK) return st;

    for (o = 0; o < n_out; o++) {
        const float *row = w + (uint32_t)(o * n_in);
        float acc = 0.0f;
        for (i = 0; i < n_in; i++) {
            float p = row[i] * x[i];
            acc = acc + p;
        }
        if (b != 0) acc = acc + b[o];
        y[o] = acc;
    }
    return EH_OK;
}
