#include "eh_pool2d_internal.h"

/* Q15 average pooling: y = sat16(floor((2 sum + n) / (2 n))), n = k_h * k_w. */
eh_status eh_avgpool2d_q15(const eh_pool2d_dims *d, const int16_t *x, int16_t *y)
{
    eh_pool2d_geom g;
    eh_status st;
    if (d == 0 || x == 0 || y == 0) return EH_ERR_NULL;
    if ((st = eh_pool2d_check(d, &g)) != EH_OK) return st;
    EH_POOL2D_INT_LOOP(d, g, x, y, eh_pool2d_sat16(eh_pool2d_round_div(sum, g.n)));
    return EH_OK;
}
