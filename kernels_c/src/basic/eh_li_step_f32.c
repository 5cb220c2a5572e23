#include "eh_basic.h"
#include "../lif/eh_lif_param_f32.h"

eh_status eh_li_step_f32(uint32_t n, const float *x, float *y, const float *beta, uint32_t beta_len)
{
    uint32_t k;
    eh_status st;
    if (x == 0 || y == 0) return EH_ERR_NULL;
    if (n == 0) return EH_ERR_SIZE;
    if ((st = eh_decay_f32_check(beta, beta_len, n)) != EH_OK) return st;
    for (k = 0; k < n; k++) {
        float u = beta[beta_len == 1u ? 0u : k] * y[k];
        y[k] = u + x[k];
    }
    return EH_OK;
}
