#include "eh_lif.h"
#include "eh_lif_dsp.h"
#include "eh_lif_leak_q15.h"
#include "../eh_rv_cfu.h" /* EH_HAVE_RV_CFU only: the custom unit's LIF instruction */

/*
 * Q15 LIF step: eh_lif_check_q15 (parameters), eh_lif_step_q15_unchecked (the update) and
 * eh_lif_step_q15 = NULL checks + check + unchecked.
 *
 * The portable path is one loop per (leak kind, reset) pair, each free of per-neuron branches
 * on the parameters: shared (len 1) or per-neuron parameters are walked by pointers with a
 * stride of 0 or 1. All four loops compute exactly the arithmetic documented in eh_lif.h.
 *
 * With the DSP extension, blocks of four neurons run as two lane pairs (see lif_dsp below); the
 * common case (shared shift leak and threshold, reset by subtraction) runs sixteen neurons per
 * iteration in eh_lif_sub8_m4.c.
 */

eh_status eh_lif_check_q15(uint32_t n, const eh_leak_q15 *leak,
                           const int16_t *thr, uint32_t thr_len, eh_reset reset)
{
    eh_status st;
    if (n == 0) return EH_ERR_SIZE;
    if ((st = eh_leak_q15_check(leak, n)) != EH_OK) return st;
    if ((st = eh_thr_q15_check(thr, thr_len, n)) != EH_OK) return st;
    return eh_reset_check_lif(reset);
}

/* EH_RESET_NONE and EH_RESET_SUBTRACT_NOW (every core: the reference arithmetic of eh_lif.h,
 * neuron by neuron; the spikes on entry are not read). */
static void lif_plain_now(uint32_t n, const int16_t *x, int16_t *v, uint8_t *spikes,
                          const eh_leak_q15 *leak, const int16_t *thr, uint32_t thr_len,
                          eh_reset reset)
{
    uint32_t k;
    for (k = 0; k < n; k++) {
        const int32_t tk = thr[thr_len == 1u ? 0u : k];
        int32_t u = eh_leak_q15_apply(leak, k, v[k]) + x[k];
        int32_t s;
        if (reset == EH_RESET_SUBTRACT_NOW) {
            const int32_t r = v[k] > tk;
            u = eh_sat16(u - r * tk);
            s = u > tk;
            u = eh_sat16(u + (r - s) * tk);
        } else {
            u = eh_sat16(u);
            s = u > tk;
        }
        v[k] = (int16_t)u;
        spikes[k] = (uint8_t)s;
    }
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

/*
 * 64-bit hosts (SSE2, NEON): lif_plain's loops with the parameter stride fixed at compile time
 * (shared leak and threshold, or both per neuron), the form the compiler vectorises (behind its
 * own run-time overlap checks). Same arithmetic, neuron by neuron. The cores keep lif_plain and
 * their own paths (the same object code as before this path existed).
 */
#if !EH_LIF_HAVE_DSP && !defined(EH_RV_CFU) && defined(__GNUC__) && \
    (defined(__x86_64__) || defined(__aarch64__))
#define EH_LIF_VEC 1

static inline __attribute__((always_inline)) void
lif_vec_loop(uint32_t n, const int16_t *x, int16_t *v, uint8_t *spikes, const uint16_t *d,
             const uint8_t *sh, const int16_t *t, const uint32_t per, const int decay,
             const int subtract)
{
    /* shared parameters read once: the loop's stores could alias them as far as C knows */
    const int32_t t0 = t[0];
    const int32_t d0 = decay ? (int32_t)d[0] - 32768 : 0;
    const uint32_t s0 = decay ? 0u : sh[0];
    uint32_t k;
    for (k = 0; k < n; k++) {
        const int32_t tk = per ? t[k] : t0;
        int32_t u;
        if (decay) {
            /* (d v + 2^14) >> 15 = v + ((d' v + 2^14) >> 15) with d' = d - 32768 in [-32768, 0]
             * (d v = d' v + v 2^15): a 16 x 16-bit product, which SIMD units form directly */
            const int16_t dk = (int16_t)(per ? (int32_t)d[k] - 32768 : d0);
            u = v[k] + (((int32_t)v[k] * dk + (1 << 14)) >> 15);
        } else {
            u = v[k];
            u = u - (u >> (per ? sh[k] : s0));
        }
        if (subtract) {
            u += x[k];
            if (spikes[k]) u -= tk;
        } else {
            u = (spikes[k] ? 0 : u) + x[k];
        }
        u = eh_sat16(u);
        v[k] = (int16_t)u;
        spikes[k] = (uint8_t)(u > tk);
    }
}

#define LIF_VEC_FN(name, PER, DECAY, SUB)                                                   \
    static void name(uint32_t n, const int16_t *x, int16_t *v, uint8_t *spikes,             \
                     const eh_leak_q15 *leak, const int16_t *thr)                           \
    {                                                                                       \
        lif_vec_loop(n, x, v, spikes, leak->decay, leak->shift, thr, PER, DECAY, SUB);      \
    }

LIF_VEC_FN(lif_vec_shift1_sub, 0u, 0, 1)
LIF_VEC_FN(lif_vec_shift1_zero, 0u, 0, 0)
LIF_VEC_FN(lif_vec_dec1_sub, 0u, 1, 1)
LIF_VEC_FN(lif_vec_dec1_zero, 0u, 1, 0)
LIF_VEC_FN(lif_vec_shiftn_sub, 1u, 0, 1)
LIF_VEC_FN(lif_vec_shiftn_zero, 1u, 0, 0)
LIF_VEC_FN(lif_vec_decn_sub, 1u, 1, 1)
LIF_VEC_FN(lif_vec_decn_zero, 1u, 1, 0)

typedef void (*lif_vec_fn)(uint32_t, const int16_t *, int16_t *, uint8_t *, const eh_leak_q15 *,
                           const int16_t *);
#else
#define EH_LIF_VEC 0
#endif

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

/* The SIMD loop over blocks [k, nb) of four; returns where it stopped: nb, or the start of a
 * block that needs the plain loop (a spike on entry with v < 0, reset by subtraction). */
static inline __attribute__((always_inline)) uint32_t
lif_dsp_run(uint32_t k, uint32_t nb, const int16_t *x, int16_t *v, uint8_t *spikes,
            const eh_leak_q15 *leak, const int16_t *thr, uint32_t m, uint32_t dd, uint32_t thr_s,
            const int kind, const int thr_per, const int subtract)
{
    const uint32_t thr2 = thr_s * 0x00010001u;
    const uint32_t ones = 0x00010100u, rnd = 1u << 14;
    /* v, x (and thr, decay when per-neuron) are 4-byte aligned from k on (lif_dsp peels) */
    const int16_t *xp = (const int16_t *)__builtin_assume_aligned(x + k, 4);
    int16_t *vp = (int16_t *)__builtin_assume_aligned(v + k, 4);
    uint8_t *sp = spikes + k;
    const int16_t *tp = (const int16_t *)__builtin_assume_aligned(thr_per ? thr + k : thr, 2);
    const uint16_t *dp = kind == LIF_LEAK_DECAYN ? (const uint16_t *)__builtin_assume_aligned(leak->decay + k, 4) : 0;
    const uint8_t *const se = spikes + nb;
    for (; sp != se; sp += 4, vp += 4, xp += 4) {
        const uint32_t w = eh_ld32(sp);
        const uint32_t v01 = eh_ld32(vp), v23 = eh_ld32(vp + 2);
        const uint32_t t01 = thr_per ? eh_ld32(__builtin_assume_aligned(tp, 4)) : thr2;
        const uint32_t t23 = thr_per ? eh_ld32(__builtin_assume_aligned(tp + 2, 4)) : thr2;
        uint32_t l01, l23, y01, y23;
        /* l = -leak (shift) or leak (decay), both lanes */
        if (kind == LIF_LEAK_SHIFT) {
            l01 = eh_pack_lo(eh_smulwb(m, v01), eh_smulwt(m, v01));
            l23 = eh_pack_lo(eh_smulwb(m, v23), eh_smulwt(m, v23));
        } else {
            const uint32_t d01 = kind == LIF_LEAK_DECAY ? dd : eh_ld32(dp) ^ 0x80008000u;
            const uint32_t d23 = kind == LIF_LEAK_DECAY ? dd : eh_ld32(dp + 2) ^ 0x80008000u;
            l01 = eh_sadd16(v01, eh_pack_hi15(eh_smlatt(d01, v01, rnd) << 1, eh_smlabb(d01, v01, rnd)));
            l23 = eh_sadd16(v23, eh_pack_hi15(eh_smlatt(d23, v23, rnd) << 1, eh_smlabb(d23, v23, rnd)));
        }
        if (w == 0u) {
            if (kind == LIF_LEAK_SHIFT) {
                y01 = eh_qsub16(eh_ld32(xp), l01);
                y23 = eh_qsub16(eh_ld32(xp + 2), l23);
            } else {
                y01 = eh_qadd16(l01, eh_ld32(xp));
                y23 = eh_qadd16(l23, eh_ld32(xp + 2));
            }
        } else {
            /* spikes as lane pairs (0/1 per halfword) */
            const uint32_t e = eh_uxtb16(w), o = eh_uxtb16_ror8(w);
            const uint32_t p01 = eh_pack_lo(e, o), p23 = eh_pack_hi(o, e);
            if (subtract) {
                uint32_t s01, s23;
                if (((v01 & (p01 << 15)) | (v23 & (p23 << 15))) != 0u) break;
                s01 = thr_per ? (t01 & (p01 * 0xFFFFu)) : p01 * thr_s;
                s23 = thr_per ? (t23 & (p23 * 0xFFFFu)) : p23 * thr_s;
                if (kind == LIF_LEAK_SHIFT) {
                    y01 = eh_qsub16(eh_ld32(xp), eh_qadd16(l01, s01));
                    y23 = eh_qsub16(eh_ld32(xp + 2), eh_qadd16(l23, s23));
                } else {
                    y01 = eh_qadd16(eh_qsub16(l01, s01), eh_ld32(xp));
                    y23 = eh_qadd16(eh_qsub16(l23, s23), eh_ld32(xp + 2));
                }
            } else {
                /* reset to zero: the leak term is dropped where a spike is */
                if (kind == LIF_LEAK_SHIFT) {
                    y01 = eh_qsub16(eh_ld32(xp), l01 & ~(p01 * 0xFFFFu));
                    y23 = eh_qsub16(eh_ld32(xp + 2), l23 & ~(p23 * 0xFFFFu));
                } else {
                    y01 = eh_qadd16(l01 & ~(p01 * 0xFFFFu), eh_ld32(xp));
                    y23 = eh_qadd16(l23 & ~(p23 * 0xFFFFu), eh_ld32(xp + 2));
                }
            }
        }
        eh_st32(vp, y01);
        eh_st32(vp + 2, y23);
        eh_st32(sp, (eh_spike2(t01, y01, 0u, ones) >> 8) | (eh_spike2(t23, y23, 0u, ones) << 8));
        if (thr_per) tp += 4;
        if (kind == LIF_LEAK_DECAYN) dp += 4;
    }
    return (uint32_t)(sp - spikes);
}

/*
 * The same loop for a shared shift leak, a shared threshold and reset by subtraction (the
 * common case), written out so that everything stays in registers: 22 instructions per four
 * neurons without a spike on entry. It runs the last four neurons when eh_lif_sub8_m4 (sixteen per
 * iteration) leaves four. Same lanes, same arithmetic as lif_dsp_run; it stops at the
 * first block holding a spike on a neuron with v < 0 (*sp is then that block's spikes).
 */
static __attribute__((noinline)) void lif_dsp_shift_sub_asm(uint8_t **spp, int16_t **vpp, const int16_t **xpp,
                                         const uint8_t *end, uint32_t m, uint32_t thr2)
{
    uint8_t *sp = *spp;
    int16_t *vp = *vpp;
    const int16_t *xp = *xpp;
    uint32_t a, b, c, d, w;
    const uint32_t zero = 0u, ones = 0x00010100u;
    __asm__ volatile(
        "1:\n\t"
        "ldr     %[w], [%[sp]]\n\t"
        "cbnz    %[w], 3f\n\t"
        /* no spike: y = sat16(x - (-leak)) */
        "ldrd    %[a], %[b], [%[vp]]\n\t"
        "smulwb  %[c], %[m], %[a]\n\t"
        "smulwt  %[w], %[m], %[a]\n\t"
        "pkhbt   %[c], %[c], %[w], lsl #16\n\t"
        "smulwb  %[d], %[m], %[b]\n\t"
        "smulwt  %[w], %[m], %[b]\n\t"
        "pkhbt   %[d], %[d], %[w], lsl #16\n\t"
        "ldrd    %[a], %[b], [%[xp]], #8\n\t"
        "qsub16  %[a], %[a], %[c]\n\t"
        "qsub16  %[b], %[b], %[d]\n\t"
        "2:\n\t"
        "strd    %[a], %[b], [%[vp]], #8\n\t"
        "ssub16  %[c], %[thr2], %[a]\n\t"
        "sel     %[c], %[zero], %[ones]\n\t"
        "ssub16  %[d], %[thr2], %[b]\n\t"
        "sel     %[d], %[zero], %[ones]\n\t"
        "lsrs    %[c], %[c], #8\n\t"
        "orr     %[c], %[c], %[d], lsl #8\n\t"
        "str     %[c], [%[sp]], #4\n\t"
        "cmp     %[sp], %[end]\n\t"
        "bne     1b\n\t"
        "b       4f\n\t"
        /* a spike in the block: lanes of spikes, the plain loop if one sits on v < 0 */
        "3:\n\t"
        "ldrd    %[a], %[b], [%[vp]]\n\t"
        "uxtb16  %[c], %[w]\n\t"
        "uxtb16  %[w], %[w], ror #8\n\t"
        "pkhbt   %[d], %[c], %[w], lsl #16\n\t"
        "pkhtb   %[w], %[w], %[c], asr #16\n\t"
        "tst     %[a], %[d], lsl #15\n\t"
        "it      eq\n\t"
        "tsteq   %[b], %[w], lsl #15\n\t"
        "bne     4f\n\t"
        "uxth    %[c], %[thr2]\n\t"
        "mul     %[d], %[d], %[c]\n\t"
        "mul     %[w], %[w], %[c]\n\t"
        "smulwb  %[c], %[m], %[a]\n\t"
        "smulwt  %[a], %[m], %[a]\n\t"
        "pkhbt   %[c], %[c], %[a], lsl #16\n\t"
        "qadd16  %[d], %[c], %[d]\n\t"
        "smulwb  %[c], %[m], %[b]\n\t"
        "smulwt  %[b], %[m], %[b]\n\t"
        "pkhbt   %[c], %[c], %[b], lsl #16\n\t"
        "qadd16  %[w], %[c], %[w]\n\t"
        "ldrd    %[a], %[b], [%[xp]], #8\n\t"
        "qsub16  %[a], %[a], %[d]\n\t"
        "qsub16  %[b], %[b], %[w]\n\t"
        "b       2b\n\t"
        "4:\n\t"
        : [sp] "+r"(sp), [vp] "+r"(vp), [xp] "+r"(xp), [a] "=&r"(a), [b] "=&r"(b), [c] "=&r"(c),
          [d] "=&r"(d), [w] "=&l"(w)
        : [end] "r"(end), [m] "r"(m), [thr2] "r"(thr2), [zero] "r"(zero), [ones] "r"(ones)
        : "cc", "memory");
    *spp = sp;
    *vpp = vp;
    *xpp = xp;
}

static void lif_dsp_shift_t1_sub_fast(uint32_t n, const int16_t *x, int16_t *v, uint8_t *spikes,
                                      const eh_leak_q15 *leak, const int16_t *thr,
                                      uint32_t thr_len, eh_reset reset)
{
    const uint32_t sh = leak->shift[0];
    const uint32_t m = (uint32_t)(-(int32_t)(((1u << sh) - 1u) << (16u - sh)));
    const uint32_t thr2 = (uint32_t)(uint16_t)thr[0] * 0x00010001u;
    uint32_t k = 0, nb;
    /* v and x 4-byte aligned (LDRD / STRD), peeling one neuron when both sit at 2 mod 4 */
    const uintptr_t al = (uintptr_t)v & 3u;
    if (((uintptr_t)x & 3u) != al || (al & 1u) != 0u) {
        lif_plain(0u, n, x, v, spikes, leak, thr, thr_len, reset);
        return;
    }
    if (al != 0u) {
        lif_plain(0u, 1u, x, v, spikes, leak, thr, thr_len, reset);
        k = 1u;
    }
    nb = k + ((n - k) & ~3u);
    while (k < nb) {
        /* blocks of eight (eh_lif_sub8_m4.c) where the spike bytes are 4-byte aligned too (LDRD,
         * STRD); else, and for the last four, the four-neuron loop */
        const uint32_t n8 = (((uintptr_t)(spikes + k) & 3u) == 0u) ? ((nb - k) & ~7u) : 0u;
        uint32_t stop;
        if (n8 != 0u) {
            const uint32_t a[6] = {(uint32_t)(uintptr_t)(spikes + k), (uint32_t)(uintptr_t)(v + k),
                                   (uint32_t)(uintptr_t)(x + k), (uint32_t)(uintptr_t)(spikes + k + n8),
                                   m, thr2};
            stop = (uint32_t)((uint8_t *)(uintptr_t)eh_lif_sub8_m4(a) - spikes);
            if (stop == k + n8) {
                k = stop;
                continue;
            }
        } else {
            uint8_t *sp = spikes + k;
            int16_t *vp = v + k;
            const int16_t *xp = x + k;
            lif_dsp_shift_sub_asm(&sp, &vp, &xp, spikes + nb, m, thr2);
            stop = (uint32_t)(sp - spikes);
            if (stop == nb) {
                k = nb;
                continue;
            }
        }
        /* four neurons holding a spike on v < 0: the plain loop */
        lif_plain(stop, stop + 4u, x, v, spikes, leak, thr, thr_len, reset);
        k = stop + 4u;
    }
    if (nb < n) lif_plain(nb, n, x, v, spikes, leak, thr, thr_len, reset);
}

static inline __attribute__((always_inline)) void
lif_dsp(uint32_t n, const int16_t *x, int16_t *v, uint8_t *spikes, const eh_leak_q15 *leak,
        const int16_t *thr, uint32_t thr_len, eh_reset reset, const int kind, const int thr_per,
        const int subtract)
{
    uint32_t k = 0, m = 0u, dd = 0u, nb;
    const uint32_t thr_s = (uint16_t)thr[0];
    /* 4-byte alignment of every int16 array walked (mod 4, all equal), else the plain loop;
     * one neuron is peeled when they all sit at 2 mod 4 */
    uintptr_t al = (uintptr_t)v & 3u;
    if (((uintptr_t)x & 3u) != al || (thr_per && ((uintptr_t)thr & 3u) != al) ||
        (kind == LIF_LEAK_DECAYN && ((uintptr_t)leak->decay & 3u) != al) || (al & 1u) != 0u) {
        lif_plain(0u, n, x, v, spikes, leak, thr, thr_len, reset);
        return;
    }
    if (al != 0u) {
        lif_plain(0u, 1u, x, v, spikes, leak, thr, thr_len, reset);
        k = 1u;
    }
    nb = k + ((n - k) & ~3u);
    if (kind == LIF_LEAK_SHIFT) {
        const uint32_t sh = leak->shift[0];
        m = (uint32_t)(-(int32_t)(((1u << sh) - 1u) << (16u - sh)));
    } else if (kind == LIF_LEAK_DECAY) {
        dd = (uint32_t)(leak->decay[0] ^ 0x8000u) * 0x00010001u;
    }
    for (;;) {
        if (kind == LIF_LEAK_DECAYN && thr_per && subtract) {
            /* the same loop in assembly (eh_lif_sub8_m4.c: eh_lif_decn_m4) */
            const uint32_t a[6] = {(uint32_t)(uintptr_t)(spikes + k), (uint32_t)(uintptr_t)(v + k),
                                   (uint32_t)(uintptr_t)(x + k), (uint32_t)(uintptr_t)(spikes + nb),
                                   (uint32_t)(uintptr_t)(leak->decay + k), (uint32_t)(uintptr_t)(thr + k)};
            k = (uint32_t)((uint8_t *)(uintptr_t)eh_lif_decn_m4(a) - spikes);
        } else {
            k = lif_dsp_run(k, nb, x, v, spikes, leak, thr, m, dd, thr_s, kind, thr_per, subtract);
        }
        if (k == nb) break;
        lif_plain(k, k + 4u, x, v, spikes, leak, thr, thr_len, reset);
        k += 4u;
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
    if (reset == EH_RESET_NONE || reset == EH_RESET_SUBTRACT_NOW) {
        lif_plain_now(n, x, v, spikes, leak, thr, thr_len, reset);
        return;
    }
#if EH_LIF_HAVE_DSP
    /* [leak kind][per-neuron threshold][reset to zero] */
    static const lif_fn table[3][2][2] = {
        {{lif_dsp_shift_t1_sub_fast, lif_dsp_shift_t1_zero}, {lif_dsp_shift_tn_sub, lif_dsp_shift_tn_zero}},
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
#if EH_LIF_VEC
    if ((leak->len == 1u && thr_len == 1u) || (leak->len == n && thr_len == n)) {
        /* [per-neuron parameters][decay leak][reset to zero] */
        static const lif_vec_fn table[2][2][2] = {
            {{lif_vec_shift1_sub, lif_vec_shift1_zero}, {lif_vec_dec1_sub, lif_vec_dec1_zero}},
            {{lif_vec_shiftn_sub, lif_vec_shiftn_zero}, {lif_vec_decn_sub, lif_vec_decn_zero}},
        };
        table[thr_len == 1u ? 0 : 1][leak->decay != 0 ? 1 : 0][reset == EH_RESET_SUBTRACT ? 0 : 1](
            n, x, v, spikes, leak, thr);
        return;
    }
#endif
#if defined(EH_RV_CFU)
    /* the custom unit computes the shift-leak loops of lif_plain with a shared threshold */
    if (leak->decay == 0 && leak->len == 1u && thr_len == 1u) {
        eh_cfu_lifcfg((uint32_t)leak->shift[0] | (reset == EH_RESET_ZERO ? 0x100u : 0u),
                      (uint32_t)(uint16_t)thr[0]);
        eh_cfu_setlen(n, spikes);
        (void)eh_cfu_lif(v, x);
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
