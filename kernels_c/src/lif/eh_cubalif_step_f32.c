#include "eh_lif.h"
#include "eh_lif_param_f32.h"
#include "eh_lif_leak_q15.h"

eh_status eh_cubalif_step_f32(uint32_t n, const float *x, float *i_syn, float *v, uint8_t *spikes,
                              const float *alpha, uint32_t alpha_len,
                              const float *beta, uint32_t beta_len,
                              const float *thr, uint32_t thr_len, eh_reset reset)
{
    uint32_t k;
    eh_status st;
    if (x == 0 || i_syn == 0 || v == 0 || spikes == 0) return EH_ERR_NULL;
    if (n == 0) return EH_ERR_SIZE;
    if ((st = eh_decay_f32_check(alpha, alpha_len, n)) != EH_OK) return st;
    if ((st = eh_decay_f32_check(beta, beta_len, n)) != EH_OK) return st;
    if ((st = eh_thr_f32_check(thr, thr_len, n)) != EH_OK) return st;
    if ((st = eh_reset_check_lif(reset)) != EH_OK) return st;

    for (k = 0; k < n; k++) {
        const float a = alpha[alpha_len == 1u ? 0u : k];
        const float b = beta[beta_len == 1u ? 0u : k];
        const float t = thr[thr_len == 1u ? 0u : k];
        float i = a * i_syn[k];
        float u;
        i = i + x[k];
        i_syn[k] = i;
        if (reset == EH_RESET_SUBTRACT) {
            u = b * v[k];
            u = u + i;
            if (spikes[k]) u = u - t;
        } else if (reset == EH_RESET_ZERO && spikes[k]) {
            u = 0.0f;
        } else if (reset != EH_RESET_SUBTRACT_NOW) {
            u = b * v[k];
            u = u + i;
        } else {
            const int r = v[k] > t;
            int s;
            u = b * v[k];
            u = u + i;
            if (r) u = u - t;
            s = u > t;
            v[k] = (s && !r) ? u - t : (r && !s) ? u + t : u;
            spikes[k] = (uint8_t)s;
            continue;
        }
        v[k] = u;
        spikes[k] = (uint8_t)(u > t);
    }
    return EH_OK;
}
