#include "eh_basic.h"

eh_status eh_argmax_f32(uint32_t n, const float *x, uint32_t *index)
{
    uint32_t k, best = 0;
    int have = 0;
    if (x == 0 || index == 0) return EH_ERR_NULL;
    if (n == 0) return EH_ERR_SIZE;
    for (k = 0; k < n; k++) {
        /* NaN compares false with everything: it is never picked. */
        if (x[k] == x[k] && (!have || x[k] > x[best])) {
            best = k;
            have = 1;
        }
    }
    *index = best;
    return EH_OK;
}
