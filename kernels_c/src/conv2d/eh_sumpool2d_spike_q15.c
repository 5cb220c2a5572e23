#include "eh_pool2d_internal.h"

/* Sum pooling of spikes (0/1): y = sat16(count of spikes in the window). */
eh_status eh_sumpool2d_spike_q15(const eh_pool2d_dims *d, const uint8_t *s, int16_t *y)
{
    eh_pool2d_geom g;
    eh_status st;
    if (d == 0 || s == 0 || y == 0) return EH_ERR_NULL;
    if ((st = eh_pool2d_check(d, &g)) != EH_OK) return st;
    if (!eh_pool2d_spikes_ok(s, d->c * g.plane_in)) return EH_ERR_RANGE;
    EH_POOL2D_INT_LOOP(d, g, s, y, eh_pool2d_sat16(sum));
    return EH_OK;
}
