#include "eh_basic.h"

eh_status eh_quantize_f32_q15(uint32_t n, const float *x, float inv_scale, int16_t *q)
{
    uint32_t k;
    if (x == 0 || q == 0) return EH_ERR_NULL;
    if (n == 0) return EH_ERR_SIZE;
    if (!(inv_scale > 0.0f && inv_scale <= 3.4028234663852886e38f)) return EH_ERR_RANGE;
    for (k = 0; k < n; k++) {
        const float v = x[k] * inv_scale; /* one float32 rounding */
        int32_t r;
        if (v != v) {
            r = 0;
        } else if (v >= 32767.0f) {
            r = INT16_MAX;
        } else if (v <= -32768.0f) {
            r = INT16_MIN;
        } else {
            /* |v| < 2^15: the truncation and v - t are exact; round half away from zero. */
            const int32_t t = (int32_t)v;
            const float f = v - (float)t;
            r = t + (f >= 0.5f ? 1 : 0) - (f <= -0.5f ? 1 : 0);
            if (r > INT16_MAX) r = INT16_MAX;
        }
        q[k] = (int16_t)r;
    }
    return EH_OK;
}
