#include "eh_lif.h"
#include "eh_lif_param_f32.h"
#include "eh_lif_leak_q15.h"

eh_status eh_lif_adapt_step_f32(uint32_t n, const float *x, const float *x_th, float *v, float *a,
                                uint8_t *spikes, const float *beta, uint32_t beta_len,
                                const float *beta_th, uint32_t beta_th_len,
                                const float *thr, uint32_t thr_len, eh_reset reset)
{
    uint32_t k;
    eh_status st;
    if (x == 0 || x_th == 0 || v == 0 || a == 0 || spikes == 0) return EH_ERR_NULL;
    if (n == 0) return EH_ERR_SIZE;
    if ((st = eh_decay_f32_check(beta, beta_len, n)) != EH_OK) return st;
    if ((st = eh_decay_f32_check(beta_th, beta_th_len, n)) != EH_OK) return st;
    if ((st = eh_thr_f32_check(thr, thr_len, n)) != EH_OK) return st;
    if ((st = eh_reset_check(reset)) != EH_OK) return st;

    for (k = 0; k < n; k++) {
        const float b = beta[beta_len == 1u ? 0u : k];
        const float bt = beta_th[beta_th_len == 1u ? 0u : k];
        const float t = thr[thr_len == 1u ? 0u : k];
        const float t_prev = t + a[k];
        float u, na;
        if (reset == EH_RESET_SUBTRACT) {
            u = b * v[k];
            u = u + x[k];
            if (spikes[k]) u = u - t_prev;
        } else {
            u = spikes[k] ? 0.0f : b * v[k];
            u = u + x[k];
        }
        na = bt * a[k];
        na = na + x_th[k];
        v[k] = u;
        a[k] = na;
        spikes[k] = (uint8_t)(u > t + na);
    }
    return EH_OK;
}
