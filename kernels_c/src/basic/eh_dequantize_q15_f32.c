#include "eh_basic.h"

eh_status eh_dequantize_q15_f32(uint32_t n, const int16_t *q, float scale, float *y)
{
    uint32_t k;
    if (q == 0 || y == 0) return EH_ERR_NULL;
    if (n == 0) return EH_ERR_SIZE;
    if (!(scale > 0.0f && scale <= 3.4028234663852886e38f)) return EH_ERR_RANGE;
    for (k = 0; k < n; k++) y[k] = (float)q[k] * scale;
    return EH_OK;
}
