#include "eh_lif.h"
#include "eh_lif_leak_q15.h"

eh_status eh_cubalif_step_q15(uint32_t n, const int16_t *x, int16_t *i_syn, int16_t *v,
                              uint8_t *spikes, const eh_leak_q15 *leak_syn,
                              const eh_leak_q15 *leak_mem,
                              const int16_t *thr, uint32_t thr_len, eh_reset reset)
{
    uint32_t k;
    eh_status st;
    if (x == 0 || i_syn == 0 || v == 0 || spikes == 0) return EH_ERR_NULL;
    if (n == 0) return EH_ERR_SIZE;
    if ((st = eh_leak_q15_check(leak_syn, n)) != EH_OK) return st;
    if ((st = eh_leak_q15_check(leak_mem, n)) != EH_OK) return st;
    if ((st = eh_thr_q15_check(thr, thr_len, n)) != EH_OK) return st;
    if ((st = eh_reset_check(reset)) != EH_OK) return st;

    for (k = 0; k < n; k++) {
        const int32_t t = thr[thr_len == 1u ? 0u : k];
        const int32_t i = eh_sat16(eh_leak_q15_apply(leak_syn, k, i_syn[k]) + x[k]);
        int32_t u;
        i_syn[k] = (int16_t)i;
        if (reset == EH_RESET_SUBTRACT) {
            u = eh_sat16(eh_leak_q15_apply(leak_mem, k, v[k]) + i - (spikes[k] ? t : 0));
        } else if (spikes[k]) {
            u = 0;
        } else {
            u = eh_sat16(eh_leak_q15_apply(leak_mem, k, v[k]) + i);
        }
        v[k] = (int16_t)u;
        spikes[k] = (uint8_t)(u > t);
    }
    return EH_OK;
}
