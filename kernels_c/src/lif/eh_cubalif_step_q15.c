#include "eh_lif.h"
#include "eh_lif_leak_q15.h"

/*
 * Q15 CuBa-LIF step: eh_cubalif_check_q15 (parameters), eh_cubalif_step_q15_unchecked (the
 * update) and eh_cubalif_step_q15 = NULL checks + check + unchecked.
 *
 * The update runs one loop per (synaptic leak kind, membrane leak kind, reset), specialised at
 * compile time, with shared or per-neuron parameters walked by pointers of stride 0 or 1: no
 * per-neuron branch on the parameters. Exactly the arithmetic of eh_lif.h.
 */

eh_status eh_cubalif_check_q15(uint32_t n, const eh_leak_q15 *leak_syn,
                               const eh_leak_q15 *leak_mem,
                               const int16_t *thr, uint32_t thr_len, eh_reset reset)
{
    eh_status st;
    if (n == 0) return EH_ERR_SIZE;
    if ((st = eh_leak_q15_check(leak_syn, n)) != EH_OK) return st;
    if ((st = eh_leak_q15_check(leak_mem, n)) != EH_OK) return st;
    if ((st = eh_thr_q15_check(thr, thr_len, n)) != EH_OK) return st;
    return eh_reset_check_lif(reset);
}

static inline __attribute__((always_inline)) int32_t cuba_leak(int is_decay, const uint16_t *d,
                                                               const uint8_t *sh, int32_t y)
{
    if (is_decay) return (y * (int32_t)*d + (1 << 14)) >> 15;
    return y - (y >> *sh);
}

static inline __attribute__((always_inline)) void
cuba_loop(uint32_t n, const int16_t *x, int16_t *i_syn, int16_t *v, uint8_t *spikes,
          const eh_leak_q15 *ls, const eh_leak_q15 *lm, const int16_t *thr, uint32_t thr_len,
          const int syn_decay, const int mem_decay, const int mode)
{
    uint32_t k;
    const uint32_t sstep = ls->len == 1u ? 0u : 1u, mstep = lm->len == 1u ? 0u : 1u;
    const uint32_t tstep = thr_len == 1u ? 0u : 1u;
    const uint16_t *sd = ls->decay, *md = lm->decay;
    const uint8_t *ssh = ls->shift, *msh = lm->shift;
    const int16_t *t = thr;
    for (k = 0; k < n; k++, t += tstep) {
        const int32_t tk = *t;
        const int32_t i = eh_sat16(cuba_leak(syn_decay, sd, ssh, i_syn[k]) + x[k]);
        int32_t u;
        i_syn[k] = (int16_t)i;
        if (mode == EH_RESET_SUBTRACT) {
            u = cuba_leak(mem_decay, md, msh, v[k]) + i;
            if (spikes[k]) u -= tk;
            u = eh_sat16(u);
        } else if (mode == EH_RESET_ZERO) {
            u = spikes[k] ? 0 : eh_sat16(cuba_leak(mem_decay, md, msh, v[k]) + i);
        } else if (mode == EH_RESET_NONE) {
            u = eh_sat16(cuba_leak(mem_decay, md, msh, v[k]) + i);
        } else {
            const int32_t r = v[k] > tk;
            int32_t s;
            u = eh_sat16(cuba_leak(mem_decay, md, msh, v[k]) + i - r * tk);
            s = u > tk;
            v[k] = (int16_t)eh_sat16(u + (r - s) * tk);
            spikes[k] = (uint8_t)s;
            if (syn_decay) sd += sstep; else ssh += sstep;
            if (mem_decay) md += mstep; else msh += mstep;
            continue;
        }
        v[k] = (int16_t)u;
        spikes[k] = (uint8_t)(u > tk);
        if (syn_decay) sd += sstep; else ssh += sstep;
        if (mem_decay) md += mstep; else msh += mstep;
    }
}

#define CUBA_FN(name, sd, md, sub)                                                             \
    static void name(uint32_t n, const int16_t *x, int16_t *i_syn, int16_t *v,                 \
                     uint8_t *spikes, const eh_leak_q15 *ls, const eh_leak_q15 *lm,            \
                     const int16_t *thr, uint32_t thr_len)                                     \
    {                                                                                          \
        cuba_loop(n, x, i_syn, v, spikes, ls, lm, thr, thr_len, sd, md, sub);                  \
    }

CUBA_FN(cuba_dd_sub, 1, 1, EH_RESET_SUBTRACT)
CUBA_FN(cuba_ds_sub, 1, 0, EH_RESET_SUBTRACT)
CUBA_FN(cuba_sd_sub, 0, 1, EH_RESET_SUBTRACT)
CUBA_FN(cuba_ss_sub, 0, 0, EH_RESET_SUBTRACT)
CUBA_FN(cuba_dd_zero, 1, 1, EH_RESET_ZERO)
CUBA_FN(cuba_ds_zero, 1, 0, EH_RESET_ZERO)
CUBA_FN(cuba_sd_zero, 0, 1, EH_RESET_ZERO)
CUBA_FN(cuba_ss_zero, 0, 0, EH_RESET_ZERO)
CUBA_FN(cuba_dd_none, 1, 1, EH_RESET_NONE)
CUBA_FN(cuba_ds_none, 1, 0, EH_RESET_NONE)
CUBA_FN(cuba_sd_none, 0, 1, EH_RESET_NONE)
CUBA_FN(cuba_ss_none, 0, 0, EH_RESET_NONE)
CUBA_FN(cuba_dd_now, 1, 1, EH_RESET_SUBTRACT_NOW)
CUBA_FN(cuba_ds_now, 1, 0, EH_RESET_SUBTRACT_NOW)
CUBA_FN(cuba_sd_now, 0, 1, EH_RESET_SUBTRACT_NOW)
CUBA_FN(cuba_ss_now, 0, 0, EH_RESET_SUBTRACT_NOW)

typedef void (*cuba_fn)(uint32_t, const int16_t *, int16_t *, int16_t *, uint8_t *,
                        const eh_leak_q15 *, const eh_leak_q15 *, const int16_t *, uint32_t);

void eh_cubalif_step_q15_unchecked(uint32_t n, const int16_t *x, int16_t *i_syn, int16_t *v,
                                   uint8_t *spikes, const eh_leak_q15 *leak_syn,
                                   const eh_leak_q15 *leak_mem,
                                   const int16_t *thr, uint32_t thr_len, eh_reset reset)
{
    /* [reset][synaptic shift][membrane shift] */
    static const cuba_fn table[4][2][2] = {
        {{cuba_dd_sub, cuba_ds_sub}, {cuba_sd_sub, cuba_ss_sub}},
        {{cuba_dd_zero, cuba_ds_zero}, {cuba_sd_zero, cuba_ss_zero}},
        {{cuba_dd_none, cuba_ds_none}, {cuba_sd_none, cuba_ss_none}},
        {{cuba_dd_now, cuba_ds_now}, {cuba_sd_now, cuba_ss_now}},
    };
    table[(uint32_t)reset & 3u][leak_syn->decay == 0][leak_mem->decay == 0](
        n, x, i_syn, v, spikes, leak_syn, leak_mem, thr, thr_len);
}

eh_status eh_cubalif_step_q15(uint32_t n, const int16_t *x, int16_t *i_syn, int16_t *v,
                              uint8_t *spikes, const eh_leak_q15 *leak_syn,
                              const eh_leak_q15 *leak_mem,
                              const int16_t *thr, uint32_t thr_len, eh_reset reset)
{
    eh_status st;
    if (x == 0 || i_syn == 0 || v == 0 || spikes == 0) return EH_ERR_NULL;
    if ((st = eh_cubalif_check_q15(n, leak_syn, leak_mem, thr, thr_len, reset)) != EH_OK) return st;
    eh_cubalif_step_q15_unchecked(n, x, i_syn, v, spikes, leak_syn, leak_mem, thr, thr_len, reset);
    return EH_OK;
}
