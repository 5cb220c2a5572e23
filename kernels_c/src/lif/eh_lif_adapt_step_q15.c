#include "eh_lif.h"
#include "eh_lif_leak_q15.h"

static inline int32_t eh_thr_eff(int32_t base, int32_t a)
{
    int32_t t = base + a;
    if (t < 1) return 1;
    if (t > INT16_MAX) return INT16_MAX;
    return t;
}

eh_status eh_lif_adapt_step_q15(uint32_t n, const int16_t *x, const int16_t *x_th, int16_t *v,
                                int16_t *a, uint8_t *spikes, const eh_leak_q15 *leak_mem,
                                const eh_leak_q15 *leak_th,
                                const int16_t *thr, uint32_t thr_len, eh_reset reset)
{
    uint32_t k;
    eh_status st;
    if (x == 0 || x_th == 0 || v == 0 || a == 0 || spikes == 0) return EH_ERR_NULL;
    if (n == 0) return EH_ERR_SIZE;
    if ((st = eh_leak_q15_check(leak_mem, n)) != EH_OK) return st;
    if ((st = eh_leak_q15_check(leak_th, n)) != EH_OK) return st;
    if ((st = eh_thr_q15_check(thr, thr_len, n)) != EH_OK) return st;
    if ((st = eh_reset_check(reset)) != EH_OK) return st;

    for (k = 0; k < n; k++) {
        const int32_t base = thr[thr_len == 1u ? 0u : k];
        const int32_t t_prev = eh_thr_eff(base, a[k]);
        int32_t u, na;
        if (reset == EH_RESET_SUBTRACT) {
            u = eh_leak_q15_apply(leak_mem, k, v[k]) + x[k] - (spikes[k] ? t_prev : 0);
        } else {
            u = (spikes[k] ? 0 : eh_leak_q15_apply(leak_mem, k, v[k])) + x[k];
        }
        u = eh_sat16(u);
        na = eh_sat16(eh_leak_q15_apply(leak_th, k, a[k]) + x_th[k]);
        v[k] = (int16_t)u;
        a[k] = (int16_t)na;
        spikes[k] = (uint8_t)(u > eh_thr_eff(base, na));
    }
    return EH_OK;
}
