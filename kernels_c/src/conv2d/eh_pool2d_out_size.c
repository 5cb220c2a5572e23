#include "eh_pool2d_internal.h"

eh_status eh_pool2d_out_size(const eh_pool2d_dims *d, uint32_t *h_out, uint32_t *w_out)
{
    eh_pool2d_geom g;
    eh_status st;
    if (d == 0 || h_out == 0 || w_out == 0) return EH_ERR_NULL;
    if ((st = eh_pool2d_check(d, &g)) != EH_OK) return st;
    *h_out = g.h_out;
    *w_out = g.w_out;
    return EH_OK;
}
