#include "eh_lif.h"
#include "eh_lif_leak_q15.h"

eh_status eh_lif_step_q15(uint32_t n, const int16_t *x, int16_t *v, uint8_t *spikes,
                          const eh_leak_q15 *leak,
                          const int16_t *thr, uint32_t thr_len, eh_reset reset)
{
    uint32_t k;
    eh_status st;
    if (x == 0 || v == 0 || spikes == 0) return EH_ERR_NULL;
    if (n == 0) return EH_ERR_SIZE;
    if ((st = eh_leak_q15_check(leak, n)) != EH_OK) return st;
    if ((st = eh_thr_q15_check(thr, thr_len, n)) != EH_OK) return st;
    if ((st = eh_reset_check(reset)) != EH_OK) return st;

    if (leak->len == 1u && thr_len == 1u && leak->shift != 0 && reset == EH_RESET_SUBTRACT) {
        /* The common multiplier-free case with shared parameters: a tight loop. */
        const uint32_t sh = leak->shift[0];
        const int32_t t = thr[0];
        for (k = 0; k < n; k++) {
            int32_t u = v[k];
            u = u - (u >> sh) + x[k] - (spikes[k] ? t : 0);
            u = eh_sat16(u);
            v[k] = (int16_t)u;
            spikes[k] = (uint8_t)(u > t);
        }
        return EH_OK;
    }

    for (k = 0; k < n; k++) {
        const int32_t t = thr[thr_len == 1u ? 0u : k];
        int32_t u;
        if (reset == EH_RESET_SUBTRACT) {
            u = eh_leak_q15_apply(leak, k, v[k]) + x[k] - (spikes[k] ? t : 0);
        } else {
            u = (spikes[k] ? 0 : eh_leak_q15_apply(leak, k, v[k])) + x[k];
        }
        u = eh_sat16(u);
        v[k] = (int16_t)u;
        spikes[k] = (uint8_t)(u > t);
    }
    return EH_OK;
}
