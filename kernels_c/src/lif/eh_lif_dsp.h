/*
 * Private: two-lane (SIMD16) helpers for the Q15 LIF kernels on cores with the Arm DSP
 * extension (Cortex-M4/M7/M33 with DSP). Each helper is one instruction (or one
 * compare-and-select pair) as GCC inline asm; the kernels keep the portable loops and use these
 * only when EH_LIF_HAVE_DSP is 1. Lanes: bits 0..15 hold the lower-indexed neuron.
 */
#ifndef EH_LIF_DSP_H
#define EH_LIF_DSP_H

#include <stdint.h>

#if defined(__ARM_FEATURE_DSP) && defined(__GNUC__) && !defined(EH_NO_DSP)
#define EH_LIF_HAVE_DSP 1

/* Unaligned 32-bit load / store (Cortex-M4 allows unaligned LDR / STR). */
static inline uint32_t eh_ld32(const void *p)
{
    uint32_t w;
    __builtin_memcpy(&w, p, 4);
    return w;
}

static inline void eh_st32(void *p, uint32_t w)
{
    __builtin_memcpy(p, &w, 4);
}

#define EH_DSP_OP2(name)                                                                      \
    static inline uint32_t eh_##name(uint32_t a, uint32_t b)                                  \
    {                                                                                         \
        uint32_t r;                                                                           \
        __asm__(#name " %0, %1, %2" : "=r"(r) : "r"(a), "r"(b));                              \
        return r;                                                                             \
    }

EH_DSP_OP2(qadd16) /* per lane sat16(a + b) */
EH_DSP_OP2(qsub16) /* per lane sat16(a - b) */
EH_DSP_OP2(sadd16) /* per lane a + b mod 2^16 (sets GE, which nothing reads) */
EH_DSP_OP2(smulwb) /* (a * (int16)b[15:0]) >> 16, a as int32 */
EH_DSP_OP2(smulwt) /* (a * (int16)b[31:16]) >> 16 */

static inline uint32_t eh_smlabb(uint32_t a, uint32_t b, uint32_t acc)
{
    uint32_t r;
    __asm__("smlabb %0, %1, %2, %3" : "=r"(r) : "r"(a), "r"(b), "r"(acc));
    return r;
}

static inline uint32_t eh_smlatt(uint32_t a, uint32_t b, uint32_t acc)
{
    uint32_t r;
    __asm__("smlatt %0, %1, %2, %3" : "=r"(r) : "r"(a), "r"(b), "r"(acc));
    return r;
}

/* lo[15:0] | hi[15:0] << 16 */
static inline uint32_t eh_pack_lo(uint32_t lo, uint32_t hi)
{
    uint32_t r;
    __asm__("pkhbt %0, %1, %2, lsl #16" : "=r"(r) : "r"(lo), "r"(hi));
    return r;
}

/* hi[31:16] << 16 | (lo >> 16)[15:0] */
static inline uint32_t eh_pack_hi(uint32_t hi, uint32_t lo)
{
    uint32_t r;
    __asm__("pkhtb %0, %1, %2, asr #16" : "=r"(r) : "r"(hi), "r"(lo));
    return r;
}

/* hi[31:16] << 16 | (lo >> 15)[15:0] */
static inline uint32_t eh_pack_hi15(uint32_t hi, uint32_t lo)
{
    uint32_t r;
    __asm__("pkhtb %0, %1, %2, asr #15" : "=r"(r) : "r"(hi), "r"(lo));
    return r;
}

static inline uint32_t eh_uxtb16(uint32_t a)
{
    uint32_t r;
    __asm__("uxtb16 %0, %1" : "=r"(r) : "r"(a));
    return r;
}

static inline uint32_t eh_uxtb16_ror8(uint32_t a)
{
    uint32_t r;
    __asm__("uxtb16 %0, %1, ror #8" : "=r"(r) : "r"(a));
    return r;
}

/* Spikes of a lane pair: (y_lo > thr_lo) << 8 | (y_hi > thr_hi) << 16 (SSUB16 sets GE where
 * thr - y >= 0, computed exactly; SEL keeps zero bytes there). */
static inline uint32_t eh_spike2(uint32_t thr2, uint32_t y, uint32_t zero, uint32_t ones)
{
    uint32_t r;
    __asm__("ssub16 %0, %1, %2\n\tsel %0, %3, %4" : "=&r"(r) : "r"(thr2), "r"(y), "r"(zero), "r"(ones));
    return r;
}

/* eh_lif_sub8_m4.c: sixteen neurons per iteration (blocks of eight), shared shift leak and threshold, reset by
 * subtraction. a = {spikes, v, x, spikes end, m, thr2}; returns where it stopped. */
uint32_t eh_lif_sub8_m4(const uint32_t *a);

/* eh_lif_sub8_m4.c: four neurons per iteration, per-neuron decays and thresholds, reset by
 * subtraction. a = {spikes, v, x, spikes end, decay, thr}; returns where it stopped. */
uint32_t eh_lif_decn_m4(const uint32_t *a);

#else
#define EH_LIF_HAVE_DSP 0
#endif

#endif /* EH_LIF_DSP_H */
