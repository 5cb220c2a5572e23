#include "eh_b1_core.h"

eh_status eh_conv1d_b1_bits(const eh_conv1d_b1_dims *d, const uint32_t *x, const uint32_t *w,
                           const int32_t *thr, uint32_t *y)
{
    eh_status st;
    uint32_t t, o, r;
    if (d == 0 || x == 0 || w == 0 || thr == 0 || y == 0) return EH_ERR_NULL;
    if ((st = eh_conv1d_b1_check(d)) != EH_OK) return st;
    if ((st = eh_b1_check_thr(thr, d->n_out, d->n_in * d->taps)) != EH_OK) return st;
    {
        const uint32_t ow = eh_b1_nwords(d->n_out);
        for (t = 0; t < d->t_out; t++) {
            for (o = 0; o < d->n_out; o += 4u) {
                const uint32_t nr = (d->n_out - o) < 4u ? (d->n_out - o) : 4u;
                uint32_t cnt[4];
                eh_conv1d_b1_counts(d, x, w, t, o, nr, cnt);
                for (r = 0; r < nr; r++) {
                    const uint32_t k = o + r;
                    uint32_t *yt = y + (uint64_t)t * ow;
                    const uint32_t bit = (uint32_t)(eh_b1_dot(d->n_in * d->taps, cnt[r]) < thr[k]) << (k & 31u);
                    if ((k & 31u) == 0u) yt[k >> 5] = bit; /* clears the padding bits too */
                    else yt[k >> 5] |= bit;
                }
            }
        }
    }
    return EH_OK;
}
