#include "eh_basic.h"

eh_status eh_relu_f32(uint32_t n, const float *x, float *y)
{
    uint32_t k;
    if (x == 0 || y == 0) return EH_ERR_NULL;
    if (n == 0) return EH_ERR_SIZE;
    for (k = 0; k < n; k++) y[k] = x[k] > 0.0f ? x[k] : 0.0f;
    return EH_OK;
}
