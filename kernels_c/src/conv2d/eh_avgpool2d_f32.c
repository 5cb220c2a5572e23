#include "eh_pool2d_internal.h"

/* float32 avg pooling (eh_conv2d.h, "2-D pooling"): the window sum in the order ky, kx, then one
 * float32 division by k_h * k_w. */
eh_status eh_avgpool2d_f32(const eh_pool2d_dims *d, const float *x, float *y)
{
    eh_pool2d_geom g;
    eh_status st;
    uint32_t ch, oy, ox;
    if (d == 0 || x == 0 || y == 0) return EH_ERR_NULL;
    if ((st = eh_pool2d_check(d, &g)) != EH_OK) return st;
    {
        const float n = (float)g.n;
        for (ch = 0; ch < d->c; ch++)
            for (oy = 0; oy < g.h_out; oy++)
                for (ox = 0; ox < g.w_out; ox++)
                    y[ch * g.plane_out + oy * g.w_out + ox] = eh_pool2d_sum_f32(d, &g, x, ch, oy, ox) / n;
    }
    return EH_OK;
}
