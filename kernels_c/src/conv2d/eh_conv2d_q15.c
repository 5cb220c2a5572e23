#include "eh_conv2d_internal.h"

/*
 * Dense Q15 convolution: for each output, the taps inside the input (their row and column
 * ranges computed once per output row / output position, so padding costs no test per tap),
 * each kernel row a contiguous run of x and w when dil_w == 1 (two taps per SMLALD on the DSP
 * extension), a 64-bit exact sum, then eh_fc_q15's output stage.
 */
eh_status eh_conv2d_q15(const eh_conv2d_dims *d, const int16_t *x, const int16_t *w,
                        const int32_t *b, uint32_t shift, int16_t *y)
{
    eh_conv2d_geom g;
    eh_status st;
    uint32_t o, oy, ox, j, ky, kx;
    if (d == 0 || x == 0 || w == 0 || y == 0) return EH_ERR_NULL;
    if ((st = eh_conv2d_check(d, &g)) != EH_OK) return st;
    if (shift > 31u) return EH_ERR_RANGE;

    for (o = 0; o < d->c_out; o++) {
        const int16_t *xg = x + (o / g.og) * g.cg * g.plane_in;
        const int16_t *wo = w + o * g.cg * g.kk;
        const int64_t bias = b != 0 ? (int64_t)b[o] : 0;
        int16_t *yo = y + o * g.plane_out;
        for (oy = 0; oy < g.h_out; oy++) {
            const int32_t by = (int32_t)(oy * d->stride_h) - (int32_t)d->pad_top;
            uint32_t ky0, ky1;
            eh_conv2d_taps(by, d->h_in, d->dil_h, d->k_h, &ky0, &ky1);
            for (ox = 0; ox < g.w_out; ox++) {
                const int32_t bx = (int32_t)(ox * d->stride_w) - (int32_t)d->pad_left;
                uint32_t kx0, kx1;
                int64_t acc = bias;
                eh_conv2d_taps(bx, d->w_in, d->dil_w, d->k_w, &kx0, &kx1);
                if (kx1 > kx0) {
                    const uint32_t n = kx1 - kx0;
                    for (j = 0; j < g.cg; j++) {
                        const int16_t *xj = xg + j * g.plane_in + (uint32_t)(bx + (int32_t)(kx0 * d->dil_w));
                        const int16_t *wj = wo + j * g.kk + kx0;
                        for (ky = ky0; ky < ky1; ky++) {
                            const uint32_t iy = (uint32_t)(by + (int32_t)(ky * d->dil_h));
                            const int16_t *xr = xj + iy * d->w_in;
                            const int16_t *wr = wj + ky * d->k_w;
                            if (d->dil_w == 1u) {
                                acc = eh_conv2d_row_q15(xr, wr, n, acc);
                            } else {
                                for (kx = 0; kx < n; kx++) acc += (int32_t)xr[kx * d->dil_w] * (int32_t)wr[kx];
                            }
                        }
                    }
                }
                yo[oy * g.w_out + ox] = eh_conv2d_out_q15(acc, shift);
            }
        }
    }
    return EH_OK;
}
