#include "eh_conv2d_internal.h"

/* Dense float32 convolution, the reference: for each output the taps inside the input in the
 * order j, ky, kx (padding taps skipped), acc = acc + w * x rounded twice, the bias added last. */
eh_status eh_conv2d_f32(const eh_conv2d_dims *d, const float *x, const float *w, const float *b,
                        float *y)
{
    eh_conv2d_geom g;
    eh_status st;
    uint32_t o, oy, ox, j, ky, kx;
    if (d == 0 || x == 0 || w == 0 || y == 0) return EH_ERR_NULL;
    if ((st = eh_conv2d_check(d, &g)) != EH_OK) return st;

    for (o = 0; o < d->c_out; o++) {
        const float *xg = x + (o / g.og) * g.cg * g.plane_in;
        const float *wo = w + o * g.cg * g.kk;
        float *yo = y + o * g.plane_out;
        for (oy = 0; oy < g.h_out; oy++) {
            const int32_t by = (int32_t)(oy * d->stride_h) - (int32_t)d->pad_top;
            uint32_t ky0, ky1;
            eh_conv2d_taps(by, d->h_in, d->dil_h, d->k_h, &ky0, &ky1);
            for (ox = 0; ox < g.w_out; ox++) {
                const int32_t bx = (int32_t)(ox * d->stride_w) - (int32_t)d->pad_left;
                uint32_t kx0, kx1;
                float acc = 0.0f;
                eh_conv2d_taps(bx, d->w_in, d->dil_w, d->k_w, &kx0, &kx1);
                if (kx1 > kx0) {
                    for (j = 0; j < g.cg; j++) {
                        const float *xj = xg + j * g.plane_in;
                        const float *wj = wo + j * g.kk;
                        for (ky = ky0; ky < ky1; ky++) {
                            const float *xr = xj + (uint32_t)(by + (int32_t)(ky * d->dil_h)) * d->w_in;
                            const float *wr = wj + ky * d->k_w;
                            for (kx = kx0; kx < kx1; kx++) {
                                const float p = wr[kx] * xr[(uint32_t)(bx + (int32_t)(kx * d->dil_w))];
                                acc = acc + p;
                            }
                        }
                    }
                }
                yo[oy * g.w_out + ox] = b != 0 ? acc + b[o] : acc;
            }
        }
    }
    return EH_OK;
}
