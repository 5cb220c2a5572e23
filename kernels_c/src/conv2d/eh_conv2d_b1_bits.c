#include "eh_conv2d_b1_core.h"

eh_status eh_conv2d_b1_bits(const eh_conv2d_dims *d, uint32_t pad_value, const uint32_t *x,
                            const uint32_t *w, const int32_t *thr, uint32_t *y)
{
    eh_conv2d_b1_ctx c;
    eh_conv2d_b1_px p;
    eh_status st;
    int32_t dot[EH_CONV2D_B1_CHUNK];
    uint32_t oy, ox, o0, r, n;
    if (d == 0 || x == 0 || w == 0 || thr == 0 || y == 0) return EH_ERR_NULL;
    if ((st = eh_conv2d_b1_init(&c, d, pad_value, x, w)) != EH_OK) return st;
    n = c.g.kk * d->c_in;
    for (r = 0; r < d->c_out; r++)
        if (thr[r] < -(int32_t)n || thr[r] > (int32_t)n + 1) return EH_ERR_RANGE;
    {
        const uint32_t ow = (d->c_out + 31u) >> 5;
        for (oy = 0; oy < c.g.h_out; oy++) {
            for (ox = 0; ox < c.g.w_out; ox++) {
                uint32_t *yp = y + (oy * c.g.w_out + ox) * ow;
                eh_conv2d_b1_pixel(&c, oy, ox, &p);
                for (o0 = 0; o0 < d->c_out; o0 += EH_CONV2D_B1_CHUNK) {
                    const uint32_t rows = d->c_out - o0 < EH_CONV2D_B1_CHUNK ? d->c_out - o0 : EH_CONV2D_B1_CHUNK;
                    const int32_t *t = thr + o0;
                    uint32_t word = 0u;
                    eh_conv2d_b1_dots(&c, &p, o0, rows, dot);
                    for (r = 0; r < rows; r++) word |= (uint32_t)(dot[r] < t[r]) << r;
                    yp[o0 >> 5] = word;
                }
            }
        }
    }
    return EH_OK;
}
