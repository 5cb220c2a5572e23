/* Private: validation of float32 LIF parameters. */
#ifndef EH_LIF_PARAM_F32_H
#define EH_LIF_PARAM_F32_H

#include "eh_internal.h"

/* decay factor: [0, 1] (NaN fails both comparisons and is rejected). */
static inline eh_status eh_decay_f32_check(const float *p, uint32_t len, uint32_t n)
{
    uint32_t k;
    if (p == 0) return EH_ERR_NULL;
    if (!eh_len_ok(len, n)) return EH_ERR_SIZE;
    for (k = 0; k < len; k++)
        if (!(p[k] >= 0.0f && p[k] <= 1.0f)) return EH_ERR_RANGE;
    return EH_OK;
}

/* threshold: > 0 and finite. */
static inline eh_status eh_thr_f32_check(const float *p, uint32_t len, uint32_t n)
{
    uint32_t k;
    if (p == 0) return EH_ERR_NULL;
    if (!eh_len_ok(len, n)) return EH_ERR_SIZE;
    for (k = 0; k < len; k++)
        if (!(p[k] > 0.0f && p[k] <= 3.4028234663852886e38f)) return EH_ERR_RANGE;
    return EH_OK;
}

#endif
