#include "eh_b1_core.h"

eh_status eh_conv1d_b1_f32(const eh_conv1d_b1_dims *d, const uint32_t *x, const uint32_t *w,
                           const float *scale, const float *bias, float *y)
{
    eh_status st;
    uint32_t t, o, r;
    if (d == 0 || x == 0 || w == 0 || scale == 0 || y == 0) return EH_ERR_NULL;
    if ((st = eh_conv1d_b1_check(d)) != EH_OK) return st;
    {
        for (t = 0; t < d->t_out; t++) {
            for (o = 0; o < d->n_out; o += 4u) {
                const uint32_t nr = (d->n_out - o) < 4u ? (d->n_out - o) : 4u;
                uint32_t cnt[4];
                eh_conv1d_b1_counts(d, x, w, t, o, nr, cnt);
                for (r = 0; r < nr; r++) y[(uint64_t)t * d->n_out + o + r] = eh_b1_out_f32(eh_b1_dot(d->n_in * d->taps, cnt[r]), scale, bias, o + r);
            }
        }
    }
    return EH_OK;
}
