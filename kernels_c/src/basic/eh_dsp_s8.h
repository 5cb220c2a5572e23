/* Private: the Cortex-M DSP-extension dot products of eh_fc_s8 (CMSIS-NN style).
 *
 * Three weight rows at a time (then two, then one), four inputs per iteration: one 32-bit
 * load of x, sign-extended in pairs with the input offset added (SXTAB16), one load per row
 * sign-extended in pairs (SXTB16) and two dual 16-bit multiply-accumulates (SMLAD) per row.
 * Compiled with the real instructions when __ARM_FEATURE_DSP is defined, or, for host tests
 * of the same arithmetic, with C emulations of the instructions when EH_DSP_EMULATE is.
 *
 * Overflow: each (x + x_offset) * w product is at most 255 * 128 = 32640 in magnitude, so a
 * 32-bit sum of at most EH_S8_DOT_BLOCK = 65536 products cannot wrap; the caller sums blocks
 * in 64 bits. That makes this path bit-exact with the portable one.
 */
#ifndef EH_DSP_S8_H
#define EH_DSP_S8_H

#include <string.h>
#include "../eh_internal.h"

#define EH_S8_DOT_BLOCK 65536u

/* Portable reference, for the paths without the DSP extension: sum_{i<n} (x[i] + off) * w[i],
 * n <= EH_S8_DOT_BLOCK (exact in int32). */
static inline int32_t eh_s8_dot(const int8_t *x, const int8_t *w, uint32_t n, int32_t off)
{
    int32_t acc = 0;
    uint32_t i;
    for (i = 0; i < n; i++) acc += ((int32_t)x[i] + off) * (int32_t)w[i];
    return acc;
}

#if defined(__ARM_FEATURE_DSP) && !defined(EH_DSP_EMULATE)
#define EH_FC_S8_DSP 1
static inline uint32_t eh_sxtb16(uint32_t a) { return (uint32_t)__builtin_arm_sxtb16((int32_t)a); }
static inline uint32_t eh_sxtb16_ror8(uint32_t a)
{
    uint32_t r;
    __asm__("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(a));
    return r;
}
static inline uint32_t eh_sxtab16(uint32_t a, uint32_t b)
{
    return (uint32_t)__builtin_arm_sxtab16((int32_t)a, (int32_t)b);
}
static inline uint32_t eh_sxtab16_ror8(uint32_t a, uint32_t b)
{
    uint32_t r;
    __asm__("sxtab16 %0, %1, %2, ror #8" : "=r"(r) : "r"(a), "r"(b));
    return r;
}
static inline int32_t eh_smlad(uint32_t a, uint32_t b, int32_t acc)
{
    return __builtin_arm_smlad((int32_t)a, (int32_t)b, acc);
}
static inline int32_t eh_smmulr(int32_t a, int32_t b)
{
    int32_t r;
    __asm__("smmulr %0, %1, %2" : "=r"(r) : "r"(a), "r"(b));
    return r;
}
static inline int32_t eh_ssat8(int32_t a)
{
    int32_t r;
    __asm__("ssat %0, #8, %1" : "=r"(r) : "r"(a));
    return r;
}
#elif defined(EH_DSP_EMULATE)
#define EH_FC_S8_DSP 1
/* Bit-level emulations of the ARMv7E-M instructions (ARM ARM A7.7). */
static inline uint32_t eh_emu_half(int32_t v) { return (uint32_t)v & 0xFFFFu; }
static inline uint32_t eh_sxtb16(uint32_t a)
{
    return eh_emu_half((int8_t)(a & 0xFFu)) | (eh_emu_half((int8_t)((a >> 16) & 0xFFu)) << 16);
}
static inline uint32_t eh_sxtb16_ror8(uint32_t a) { return eh_sxtb16((a >> 8) | (a << 24)); }
static inline uint32_t eh_sxtab16(uint32_t a, uint32_t b)
{
    const uint32_t e = eh_sxtb16(b);
    return ((a + e) & 0xFFFFu) | (((a >> 16) + (e >> 16)) << 16);
}
static inline uint32_t eh_sxtab16_ror8(uint32_t a, uint32_t b)
{
    return eh_sxtab16(a, (b >> 8) | (b << 24));
}
static inline int32_t eh_smlad(uint32_t a, uint32_t b, int32_t acc)
{
    /* The architecture adds the products to acc modulo 2^32 (setting Q on overflow). */
    const int32_t p = (int32_t)(int16_t)(a & 0xFFFFu) * (int32_t)(int16_t)(b & 0xFFFFu)
                    + (int32_t)(int16_t)(a >> 16) * (int32_t)(int16_t)(b >> 16);
    return (int32_t)((uint32_t)acc + (uint32_t)p);
}
/* SMMULR: the high word of a b + 2^31 (the rounded high half of the 64-bit product). */
static inline int32_t eh_smmulr(int32_t a, int32_t b)
{
    return (int32_t)(((int64_t)a * b + ((int64_t)1 << 31)) >> 32);
}
/* SSAT #8: a clamped to [-128, 127]. */
static inline int32_t eh_ssat8(int32_t a) { return a < -128 ? -128 : a > 127 ? 127 : a; }
#endif

#if defined(EH_FC_S8_DSP)
static inline uint32_t eh_read_s8x4(const int8_t *p)
{
    uint32_t v;
    __builtin_memcpy(&v, p, 4); /* one unaligned LDR, also under -ffreestanding */
    return v;
}

/* s[r] = sum_{i<n} (x[i] + off) * w_r[i] for the three rows w0, w0 + stride, w0 + 2 stride;
 * n <= EH_S8_DOT_BLOCK. Three rows share each unpacked load of x: 20 instructions per 12 MACs
 * with every operand in a register (four rows would need more registers than Thumb-2 has). */
static inline void eh_s8_dot3_dsp(const int8_t *x, const int8_t *w0, uint32_t stride,
                                  uint32_t n, int32_t off, int32_t *s)
{
    const uint32_t off2 = ((uint32_t)off & 0xFFFFu) | ((uint32_t)off << 16);
    const int8_t *w1 = w0 + stride, *w2 = w1 + stride;
    const int8_t *xend = x + (n & ~3u);
    int32_t a0 = 0, a1 = 0, a2 = 0;
    uint32_t k;
    while (x != xend) {
        const uint32_t xv = eh_read_s8x4(x);
        const uint32_t x02 = eh_sxtab16(off2, xv);      /* x0, x2 (+ off) */
        const uint32_t x13 = eh_sxtab16_ror8(off2, xv); /* x1, x3 (+ off) */
        uint32_t wv = eh_read_s8x4(w0);
        a0 = eh_smlad(eh_sxtb16_ror8(wv), x13, a0);
        a0 = eh_smlad(eh_sxtb16(wv), x02, a0);
        wv = eh_read_s8x4(w1);
        a1 = eh_smlad(eh_sxtb16_ror8(wv), x13, a1);
        a1 = eh_smlad(eh_sxtb16(wv), x02, a1);
        wv = eh_read_s8x4(w2);
        a2 = eh_smlad(eh_sxtb16_ror8(wv), x13, a2);
        a2 = eh_smlad(eh_sxtb16(wv), x02, a2);
        x += 4; w0 += 4; w1 += 4; w2 += 4;
    }
    for (k = n & 3u; k; k--) {
        const int32_t xi = (int32_t)*x++ + off;
        a0 += xi * (int32_t)*w0++;
        a1 += xi * (int32_t)*w1++;
        a2 += xi * (int32_t)*w2++;
    }
    s[0] = a0; s[1] = a1; s[2] = a2;
}

/* s0 = sum_{i<n} (x[i] + off) * w0[i], s1 likewise with w1; n <= EH_S8_DOT_BLOCK. */
static inline void eh_s8_dot2_dsp(const int8_t *x, const int8_t *w0, const int8_t *w1,
                                  uint32_t n, int32_t off, int32_t *s0, int32_t *s1)
{
    const uint32_t off2 = ((uint32_t)off & 0xFFFFu) | ((uint32_t)off << 16);
    int32_t a0 = 0, a1 = 0;
    uint32_t k = n >> 2;
    while (k--) {
        const uint32_t xv = eh_read_s8x4(x);
        const uint32_t x02 = eh_sxtab16(off2, xv);      /* x0, x2 (+ off) */
        const uint32_t x13 = eh_sxtab16_ror8(off2, xv); /* x1, x3 (+ off) */
        uint32_t wv = eh_read_s8x4(w0);
        a0 = eh_smlad(eh_sxtb16_ror8(wv), x13, a0);
        a0 = eh_smlad(eh_sxtb16(wv), x02, a0);
        wv = eh_read_s8x4(w1);
        a1 = eh_smlad(eh_sxtb16_ror8(wv), x13, a1);
        a1 = eh_smlad(eh_sxtb16(wv), x02, a1);
        x += 4; w0 += 4; w1 += 4;
    }
    for (k = n & 3u; k; k--) {
        const int32_t xi = (int32_t)*x++ + off;
        a0 += xi * (int32_t)*w0++;
        a1 += xi * (int32_t)*w1++;
    }
    *s0 = a0;
    *s1 = a1;
}

/* One row: s0 = sum_{i<n} (x[i] + off) * w0[i]; n <= EH_S8_DOT_BLOCK. */
static inline int32_t eh_s8_dot1_dsp(const int8_t *x, const int8_t *w0, uint32_t n, int32_t off)
{
    const uint32_t off2 = ((uint32_t)off & 0xFFFFu) | ((uint32_t)off << 16);
    int32_t a0 = 0;
    uint32_t k = n >> 2;
    while (k--) {
        const uint32_t xv = eh_read_s8x4(x);
        const uint32_t wv = eh_read_s8x4(w0);
        a0 = eh_smlad(eh_sxtb16_ror8(wv), eh_sxtab16_ror8(off2, xv), a0);
        a0 = eh_smlad(eh_sxtb16(wv), eh_sxtab16(off2, xv), a0);
        x += 4; w0 += 4;
    }
    for (k = n & 3u; k; k--) a0 += ((int32_t)*x++ + off) * (int32_t)*w0++;
    return a0;
}
#endif

#endif
