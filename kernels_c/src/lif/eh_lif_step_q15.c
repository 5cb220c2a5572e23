#include "eh_lif.h"
#include "eh_lif_dsp.h"
#include "eh_lif_leak_q15.h"

/*
 * Q15 LIF step: eh_lif_check_q15 (parameters), eh_lif_step_q15_unchecked (the update) and
 * eh_lif_step_q15 = NULL checks + check + unchecked.
 *
 * The portable path is one loop per (leak kind, reset) pair, each free of per-neuron branches
 * on the parameters: shared (len 1) or per-neuron parameters are walked by pointers with a
 * stride of 0 or 1. All four loops compute exactly the arithmetic documented in eh_lif.h.
 *
 * With the DSP extension, blocks of four neurons run as two lane pairs (see lif_dsp below).
 */

eh_status eh_lif_check_q15(uint32_t n, const eh_leak_q15 *leak,
                           const int16_t *thr, uint32_t thr_len, eh_reset reset)
{
    eh_status st;
    if (n == 0) return EH_ERR_SIZE;
    if ((st = eh_leak_q15_check(leak, n)) != EH_OK) return st;
    if ((st = eh_thr_q15_check(thr, thr_len, n)) != EH_OK) return st;
    return eh_reset_check(reset);
}

/* Neurons [k0, k1): the reference loops. */
static void lif_plain(uint32_t k0, uint32_t k1, const int16_t *x, int16_t *v, uint8_t *spikes,
                      const eh_leak_q15 *leak, const int16_t *thr, uint32_t thr_len,
                      eh_reset reset)
{
    uint32_t k;
    const uint32_t tstep = thr_len == 1u ? 0u : 1u;
    const uint32_t lstep = leak->len == 1u ? 0u : 1u;
    const int16_t *t = thr + tstep * k0;

    if (leak->decay != 0) {
        const uint16_t *d = leak->decay + lstep * k0;
        if (reset == EH_RESET_SUBTRACT) {
            for (k = k0; k < k1; k++, d += lstep, t += tstep) {
                const int32_t tk = *t;
                int32_t u = ((int32_t)v[k] * (int32_t)*d + (1 << 14)) >> 15;
                u += x[k];
                if (spikes[k]) u -= tk;
                u = eh_sat16(u);
                v[k] = (int16_t)u;
                spikes[k] = (uint8_t)(u > tk);
            }
        } else {
            for (k = k0; k < k1; k++, d += lstep, t += tstep) {
                int32_t u = spikes[k] ? 0 : ((int32_t)v[k] * (int32_t)*d + (1 << 14)) >> 15;
                u = eh_sat16(u + x[k]);
                v[k] = (int16_t)u;
                spikes[k] = (uint8_t)(u > *t);
            }
        }
    } else {
        const uint8_t *sh = leak->shift + lstep * k0;
        if (reset == EH_RESET_SUBTRACT) {
            for (k = k0; k < k1; k++, sh += lstep, t += tstep) {
                const int32_t tk = *t;
                int32_t u = v[k];
                u = u - (u >> *sh) + x[k];
                if (spikes[k]) u -= tk;
                u = eh_sat16(u);
                v[k] = (int16_t)u;
                spikes[k] = (uint8_t)(u > tk);
            }
        } else {
            for (k = k0; k < k1; k++, sh += lstep, t += tstep) {
                int32_t u = v[k];
                u = spikes[k] ? 0 : u - (u >> *sh);
                u = eh_sat16(u + x[k]);
                v[k] = (int16_t)u;
                spikes[k] = (uint8_t)(u > *t);
            }
        }
    }
}

#if EH_LIF_HAVE_DSP
/*
 * Two lanes per 32-bit word, four neurons per iteration; every lane computes exactly the
 * reference arithmetic:
 *   shift leak (shared k): SMULWB/SMULWT with m = -(2^k - 1) * 2^(16-k) give
 *     floor(-(2^k - 1) v / 2^k) = -(v - (v >> k)) = -leak(v) exactly (in [-32767, 32767]).
 *   decay leak: with d' = d - 32768 (= d ^ 0x8000 as int16, d in [0, 32768]),
 *     (d v + 2^14) >> 15 = v + ((d' v + 2^14) >> 15) exactly; SMLABB forms d' v + 2^14, and
 *     the lane sum v + (...) is formed mod 2^16, exact because leak(v) fits int16.
 *   The update sat16(leak + x - s thr) is one saturation; the lanes use two (QADD16/QSUB16):
 *     no spike: sat16(leak + x), one saturation, exact.
 *     spike, reset by subtraction: sat16(sat16(leak - thr) + x); leak - thr cannot saturate
 *       when leak >= 0, which holds when v >= 0 (every consistent state: a spike means the
 *       stored v exceeds thr >= 1). A block with a spike on a neuron with v < 0 takes the
 *       plain loop.
 *     spike, reset to zero: sat16(0 + x), exact.
 *   spike out: SSUB16 thr - y sets GE exactly where y <= thr; SEL keeps 0 there.
 */
#define LIF_LEAK_SHIFT 0
#define LIF_LEAK_DECAY 1  /* shared decay */
#define LIF_LEAK_DECAYN 2 /* per-neuron decay */

static inline __attribute__((always_inline)) void
lif_dsp(uint32_t n, const int16_t *x, int16_t *v, uint8_t *spikes, const eh_leak_q15 *leak,
        const int16_t *thr, uint32_t thr_len, eh_reset reset, const int kind, const int thr_per,
        const int subtract)
{
    uint32_t k;
    const uint32_t zero = 0u, ones = 0x00010100u, rnd = 1u << 14;
    const uint32_t thr_s = (uint16_t)thr[0], thr2 = thr_s * 0x00010001u;
    uint32_t m = 0u, dd = 0u;
    const uint32_t nb = n & ~3u;
    if (kind == LIF_LEAK_SHIFT) {
        const uint32_t sh = leak->shift[0];
        m = (uint32_t)(-(int32_t)(((1u << sh) - 1u) << (16u - sh)));
    } else if (kind == LIF_LEAK_DECAY) {
        dd = (uint32_t)(leak->decay[0] ^ 0x8000u) * 0x00010001u;
    }
    for (k = 0; k < nb; k += 4u) {
        const uint32_t w = eh_ld32(spikes + k);
        const uint32_t v01 = eh_ld32(v + k), v23 = eh_ld32(v + k + 2u);
        const uint32_t x01 = eh_ld32(x + k), x23 = eh_ld32(x + k + 2u);
        const uint32_t t01 = thr_per ? eh_ld32(thr + k) : thr2;
        const uint32_t t23 = thr_per ? eh_ld32(thr + k + 2u) : thr2;
        uint32_t l01, l23, y01, y23;
        /* l = -leak (shift) or leak (decay), both lanes */
        if (kind == LIF_LEAK_SHIFT) {
            l01 = eh_pack_lo(eh_smulwb(m, v01), eh_smulwt(m, v01));
            l23 = eh_pack_lo(eh_smulwb(m, v23), eh_smulwt(m, v23));
        } else {
            const uint32_t d01 = kind == LIF_LEAK_DECAY ? dd : eh_ld32(leak->decay + k) ^ 0x80008000u;
            const uint32_t d23 = kind == LIF_LEAK_DECAY ? dd : eh_ld32(leak->decay + k + 2u) ^ 0x80008000u;
            l01 = eh_sadd16(v01, eh_pack_hi15(eh_smlatt(d01, v01, rnd) << 1, eh_smlabb(d01, v01, rnd)));
            l23 = eh_sadd16(v23, eh_pack_hi15(eh_smlatt(d23, v23, rnd) << 1, eh_smlabb(d23, v23, rnd)));
        }
        if (w == 0u) {
            if (kind == LIF_LEAK_SHIFT) {
                y01 = eh_qsub16(x01, l01);
                y23 = eh_qsub16(x23, l23);
            } else {
                y01 = eh_qadd16(l01, x01);
                y23 = eh_qadd16(l23, x23);
            }
        } else {
            /* spikes as lane pairs (0/1 per halfword), then per-lane masks */
            const uint32_t e = eh_uxtb16(w), o = eh_uxtb16_ror8(w);
            const uint32_t p01 = eh_pack_lo(e, o), p23 = eh_pack_hi(o, e);
            const uint32_t m01 = p01 * 0xFFFFu, m23 = p23 * 0xFFFFu;
            if (subtract) {
                uint32_t s01, s23;
                if (((v01 & (p01 << 15)) | (v23 & (p23 << 15))) != 0u) {
                    lif_plain(k, k + 4u, x, v, spikes, leak, thr, thr_len, reset);
                    continue;
                }
                s01 = thr_per ? (t01 & m01) : p01 * thr_s;
                s23 = thr_per ? (t23 & m23) : p23 * thr_s;
                if (kind == LIF_LEAK_SHIFT) {
                    y01 = eh_qsub16(x01, eh_qadd16(l01, s01));
                    y23 = eh_qsub16(x23, eh_qadd16(l23, s23));
                } else {
                    y01 = eh_qadd16(eh_qsub16(l01, s01), x01);
                    y23 = eh_qadd16(eh_qsub16(l23, s23), x23);
                }
            } else {
                if (kind == LIF_LEAK_SHIFT) {
                    y01 = eh_qsub16(x01, l01 & ~m01);
                    y23 = eh_qsub16(x23, l23 & ~m23);
                } else {
                    y01 = eh_qadd16(l01 & ~m01, x01);
                    y23 = eh_qadd16(l23 & ~m23, x23);
                }
            }
        }
        eh_st32(v + k, y01);
        eh_st32(v + k + 2u, y23);
        eh_st32(spikes + k, (eh_spike2(t01, y01, zero, ones) >> 8) | (eh_spike2(t23, y23, zero, ones) << 8));
    }
    if (nb < n) lif_plain(nb, n, x, v, spikes, leak, thr, thr_len, reset);
}

#define LIF_DSP_FN(name, kind, thr_per, subtract)                                              \
    static void name(uint32_t n, const int16_t *x, int16_t *v, uint8_t *spikes,                \
                     const eh_leak_q15 *leak, const int16_t *thr, uint32_t thr_len,            \
                     eh_reset reset)                                                           \
    {                                                                                          \
        lif_dsp(n, x, v, spikes, leak, thr, thr_len, reset, kind, thr_per, subtract);          \
    }

LIF_DSP_FN(lif_dsp_shift_t1_sub, LIF_LEAK_SHIFT, 0, 1)
LIF_DSP_FN(lif_dsp_shift_tn_sub, LIF_LEAK_SHIFT, 1, 1)
LIF_DSP_FN(lif_dsp_shift_t1_zero, LIF_LEAK_SHIFT, 0, 0)
LIF_DSP_FN(lif_dsp_shift_tn_zero, LIF_LEAK_SHIFT, 1, 0)
LIF_DSP_FN(lif_dsp_dec1_t1_sub, LIF_LEAK_DECAY, 0, 1)
LIF_DSP_FN(lif_dsp_dec1_tn_sub, LIF_LEAK_DECAY, 1, 1)
LIF_DSP_FN(lif_dsp_dec1_t1_zero, LIF_LEAK_DECAY, 0, 0)
LIF_DSP_FN(lif_dsp_dec1_tn_zero, LIF_LEAK_DECAY, 1, 0)
LIF_DSP_FN(lif_dsp_decn_t1_sub, LIF_LEAK_DECAYN, 0, 1)
LIF_DSP_FN(lif_dsp_decn_tn_sub, LIF_LEAK_DECAYN, 1, 1)
LIF_DSP_FN(lif_dsp_decn_t1_zero, LIF_LEAK_DECAYN, 0, 0)
LIF_DSP_FN(lif_dsp_decn_tn_zero, LIF_LEAK_DECAYN, 1, 0)

typedef void (*lif_fn)(uint32_t, const int16_t *, int16_t *, uint8_t *, const eh_leak_q15 *,
                       const int16_t *, uint32_t, eh_reset);
#endif

void eh_lif_step_q15_unchecked(uint32_t n, const int16_t *x, int16_t *v, uint8_t *spikes,
                               const eh_leak_q15 *leak,
                               const int16_t *thr, uint32_t thr_len, eh_reset reset)
{
#if EH_LIF_HAVE_DSP
    /* [leak kind][per-neuron threshold][reset to zero] */
    static const lif_fn table[3][2][2] = {
        {{lif_dsp_shift_t1_sub, lif_dsp_shift_t1_zero}, {lif_dsp_shift_tn_sub, lif_dsp_shift_tn_zero}},
        {{lif_dsp_dec1_t1_sub, lif_dsp_dec1_t1_zero}, {lif_dsp_dec1_tn_sub, lif_dsp_dec1_tn_zero}},
        {{lif_dsp_decn_t1_sub, lif_dsp_decn_t1_zero}, {lif_dsp_decn_tn_sub, lif_dsp_decn_tn_zero}},
    };
    const int kind = leak->decay == 0 ? LIF_LEAK_SHIFT : (leak->len == 1u ? LIF_LEAK_DECAY : LIF_LEAK_DECAYN);
    if (n >= 4u && (kind != LIF_LEAK_SHIFT || leak->len == 1u)) {
        table[kind][thr_len == 1u ? 0 : 1][reset == EH_RESET_SUBTRACT ? 0 : 1](
            n, x, v, spikes, leak, thr, thr_len, reset);
        return;
    }
#endif
    lif_plain(0u, n, x, v, spikes, leak, thr, thr_len, reset);
}

eh_status eh_lif_step_q15(uint32_t n, const int16_t *x, int16_t *v, uint8_t *spikes,
                          const eh_leak_q15 *leak,
                          const int16_t *thr, uint32_t thr_len, eh_reset reset)
{
    eh_status st;
    if (x == 0 || v == 0 || spikes == 0) return EH_ERR_NULL;
    if ((st = eh_lif_check_q15(n, leak, thr, thr_len, reset)) != EH_OK) return st;
    eh_lif_step_q15_unchecked(n, x, v, spikes, leak, thr, thr_len, reset);
    return EH_OK;
}
