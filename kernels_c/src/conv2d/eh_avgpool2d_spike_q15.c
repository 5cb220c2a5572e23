#include "eh_pool2d_internal.h"

/* Average pooling of spikes (0/1): the fraction count / n in Q15, rounded half up, saturated:
 * y = sat16(floor((2^16 count + n) / (2 n))). */
eh_status eh_avgpool2d_spike_q15(const eh_pool2d_dims *d, const uint8_t *s, int16_t *y)
{
    eh_pool2d_geom g;
    eh_status st;
    if (d == 0 || s == 0 || y == 0) return EH_ERR_NULL;
    if ((st = eh_pool2d_check(d, &g)) != EH_OK) return st;
    if (!eh_pool2d_spikes_ok(s, d->c * g.plane_in)) return EH_ERR_RANGE;
    EH_POOL2D_INT_LOOP(d, g, s, y, eh_pool2d_sat16(eh_pool2d_round_div(sum * 32768, g.n)));
    return EH_OK;
}
