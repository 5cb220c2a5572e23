#include "eh_basic.h"

eh_status eh_argmax_q15(uint32_t n, const int16_t *x, uint32_t *index)
{
    uint32_t k, best = 0;
    if (x == 0 || index == 0) return EH_ERR_NULL;
    if (n == 0) return EH_ERR_SIZE;
    for (k = 1; k < n; k++)
        if (x[k] > x[best]) best = k;
    *index = best;
    return EH_OK;
}
