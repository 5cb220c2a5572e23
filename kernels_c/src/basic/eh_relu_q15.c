#include "eh_basic.h"

eh_status eh_relu_q15(uint32_t n, const int16_t *x, int16_t *y)
{
    uint32_t k;
    if (x == 0 || y == 0) return EH_ERR_NULL;
    if (n == 0) return EH_ERR_SIZE;
    for (k = 0; k < n; k++) y[k] = x[k] > 0 ? x[k] : 0;
    return EH_OK;
}
