#include "eh_lif.h"
#include "eh_lif_leak_q15.h"

/*
 * One loop per (leak kind, reset) pair, each free of per-neuron branches on the parameters:
 * shared (len 1) or per-neuron parameters are walked by pointers with a stride of 0 or 1.
 * All four loops compute exactly the arithmetic documented in eh_lif.h.
 */
eh_status eh_lif_step_q15(uint32_t n, const int16_t *x, int16_t *v, uint8_t *spikes,
                          const eh_leak_q15 *leak,
                          const int16_t *thr, uint32_t thr_len, eh_reset reset)
{
    uint32_t k;
    eh_status st;
    const int16_t *t = thr;
    uint32_t tstep, lstep;
    if (x == 0 || v == 0 || spikes == 0) return EH_ERR_NULL;
    if (n == 0) return EH_ERR_SIZE;
    if ((st = eh_leak_q15_check(leak, n)) != EH_OK) return st;
    if ((st = eh_thr_q15_check(thr, thr_len, n)) != EH_OK) return st;
    if ((st = eh_reset_check(reset)) != EH_OK) return st;
    tstep = thr_len == 1u ? 0u : 1u;
    lstep = leak->len == 1u ? 0u : 1u;

    if (leak->decay != 0) {
        const uint16_t *d = leak->decay;
        if (reset == EH_RESET_SUBTRACT) {
            for (k = 0; k < n; k++, d += lstep, t += tstep) {
                const int32_t tk = *t;
                int32_t u = ((int32_t)v[k] * (int32_t)*d + (1 << 14)) >> 15;
                u += x[k];
                if (spikes[k]) u -= tk;
                u = eh_sat16(u);
                v[k] = (int16_t)u;
                spikes[k] = (uint8_t)(u > tk);
            }
        } else {
            for (k = 0; k < n; k++, d += lstep, t += tstep) {
                int32_t u = spikes[k] ? 0 : ((int32_t)v[k] * (int32_t)*d + (1 << 14)) >> 15;
                u = eh_sat16(u + x[k]);
                v[k] = (int16_t)u;
                spikes[k] = (uint8_t)(u > *t);
            }
        }
    } else {
        const uint8_t *sh = leak->shift;
        if (reset == EH_RESET_SUBTRACT) {
            for (k = 0; k < n; k++, sh += lstep, t += tstep) {
                const int32_t tk = *t;
                int32_t u = v[k];
                u = u - (u >> *sh) + x[k];
                if (spikes[k]) u -= tk;
                u = eh_sat16(u);
                v[k] = (int16_t)u;
                spikes[k] = (uint8_t)(u > tk);
            }
        } else {
            for (k = 0; k < n; k++, sh += lstep, t += tstep) {
                int32_t u = v[k];
                u = spikes[k] ? 0 : u - (u >> *sh);
                u = eh_sat16(u + x[k]);
                v[k] = (int16_t)u;
                spikes[k] = (uint8_t)(u > *t);
            }
        }
    }
    return EH_OK;
}
