/* Private helpers of the conv2d family: the checked geometry, tap ranges, the SMLALD row dot. */
#ifndef EH_CONV2D_INTERNAL_H
#define EH_CONV2D_INTERNAL_H

#include "eh_conv2d.h"
#include "../eh_internal.h"

/* Everything the kernels derive from eh_conv2d_dims once checked (all fit int32). */
typedef struct {
    uint32_t h_out, w_out;
    uint32_t cg;     /* input channels per group */
    uint32_t og;     /* output channels per group */
    uint32_t kk;     /* k_h * k_w */
    uint32_t plane_in, plane_out; /* h_in * w_in, h_out * w_out */
} eh_conv2d_geom;

static inline eh_status eh_conv2d_check(const eh_conv2d_dims *d, eh_conv2d_geom *g)
{
    const uint32_t M = (uint32_t)EH_CONV2D_MAX_DIM;
    uint64_t span_h, span_w, ext_h, ext_w, n_in, n_out, n_w;
    if (d->c_in == 0u || d->h_in == 0u || d->w_in == 0u || d->c_out == 0u || d->k_h == 0u ||
        d->k_w == 0u)
        return EH_ERR_SIZE;
    if (d->c_in > M || d->h_in > M || d->w_in > M || d->c_out > M || d->k_h > M || d->k_w > M)
        return EH_ERR_SIZE;
    if (d->stride_h == 0u || d->stride_w == 0u || d->dil_h == 0u || d->dil_w == 0u ||
        d->stride_h > M || d->stride_w > M || d->dil_h > M || d->dil_w > M)
        return EH_ERR_RANGE;
    span_h = (uint64_t)d->dil_h * (d->k_h - 1u) + 1u;
    span_w = (uint64_t)d->dil_w * (d->k_w - 1u) + 1u;
    if (span_h > M || span_w > M) return EH_ERR_RANGE;
    if (d->groups == 0u) return EH_ERR_RANGE;
    if (d->c_in % d->groups != 0u || d->c_out % d->groups != 0u) return EH_ERR_SIZE;
    if (d->pad_top >= span_h || d->pad_bottom >= span_h || d->pad_left >= span_w ||
        d->pad_right >= span_w)
        return EH_ERR_RANGE;
    ext_h = (uint64_t)d->h_in + d->pad_top + d->pad_bottom;
    ext_w = (uint64_t)d->w_in + d->pad_left + d->pad_right;
    if (ext_h < span_h || ext_w < span_w) return EH_ERR_SIZE;
    g->h_out = (uint32_t)((ext_h - span_h) / d->stride_h + 1u);
    g->w_out = (uint32_t)((ext_w - span_w) / d->stride_w + 1u);
    g->cg = d->c_in / d->groups;
    g->og = d->c_out / d->groups;
    n_in = (uint64_t)d->c_in * d->h_in * d->w_in;
    n_out = (uint64_t)d->c_out * g->h_out * g->w_out;
    n_w = (uint64_t)d->c_out * g->cg * d->k_h * d->k_w;
    if (n_in > EH_CONV2D_MAX_ELEMS || n_out > EH_CONV2D_MAX_ELEMS || n_w > EH_CONV2D_MAX_ELEMS)
        return EH_ERR_SIZE;
    g->kk = d->k_h * d->k_w;
    g->plane_in = d->h_in * d->w_in;
    g->plane_out = g->h_out * g->w_out;
    return EH_OK;
}

/* a / b with the common b == 1 without a division (Cortex-M0 has no divide instruction). */
static inline uint32_t eh_conv2d_div(uint32_t a, uint32_t b) { return b == 1u ? a : a / b; }

/* The taps k in [*k0, *k1) of an output whose first tap reads input position base (which may be
 * negative: padding) that land inside [0, in): base + k * dil in [0, in). Empty when k0 >= k1. */
static inline void eh_conv2d_taps(int32_t base, uint32_t in, uint32_t dil, uint32_t k, uint32_t *k0,
                                  uint32_t *k1)
{
    uint32_t lo = 0u, hi;
    if (base < 0) lo = eh_conv2d_div((uint32_t)(-base) + dil - 1u, dil);
    if (base >= (int32_t)in) {
        hi = 0u;
    } else {
        hi = eh_conv2d_div((uint32_t)((int32_t)in - 1 - base), dil) + 1u;
        if (hi > k) hi = k;
    }
    *k0 = lo;
    *k1 = hi > lo ? hi : lo;
}

/* The taps an input at position pos reaches (scatter), as two arithmetic progressions:
 * tap k0 + j * step_k lands on output o0 - j * step_o for j in [0, n). t = pos + pad_before;
 * tap k lands on output (t - k * dil) / stride when that divides exactly and lies in [0, out).
 * dq, dr: dil / stride, dil % stride; step_k = stride / gcd(stride, dil), step_o = dil / gcd. */
typedef struct {
    uint32_t stride, dil, k, out, dq, dr, step_k, step_o;
} eh_conv2d_axis;

static inline uint32_t eh_conv2d_gcd(uint32_t a, uint32_t b)
{
    while (b != 0u) {
        const uint32_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

static inline void eh_conv2d_axis_init(eh_conv2d_axis *a, uint32_t stride, uint32_t dil, uint32_t k,
                                       uint32_t out)
{
    const uint32_t g = eh_conv2d_gcd(stride, dil);
    a->stride = stride;
    a->dil = dil;
    a->k = k;
    a->out = out;
    a->dq = dil / stride;
    a->dr = dil % stride;
    a->step_k = stride / g;
    a->step_o = dil / g;
}

/* Returns n (0: the input reaches no output on this axis). */
static inline uint32_t eh_conv2d_reach(const eh_conv2d_axis *a, uint32_t t, uint32_t *k0, uint32_t *o0)
{
    int32_t q = (int32_t)eh_conv2d_div(t, a->stride);
    int32_t r = (int32_t)(t - (uint32_t)q * a->stride);
    uint32_t k, n1, n2;
    for (k = 0u; k < a->k; k++) {
        if (q < 0) return 0u;
        if (r == 0 && (uint32_t)q < a->out) break;
        q -= (int32_t)a->dq;
        r -= (int32_t)a->dr;
        if (r < 0) {
            r += (int32_t)a->stride;
            q -= 1;
        }
    }
    if (k >= a->k) return 0u;
    *k0 = k;
    *o0 = (uint32_t)q;
    n1 = eh_conv2d_div(a->k - 1u - k, a->step_k);
    n2 = eh_conv2d_div((uint32_t)q, a->step_o);
    return (n1 < n2 ? n1 : n2) + 1u;
}

/* Output stage of the Q15 kernels (eh_fc_q15's): sat16(rshift(acc, shift)), shift in [0, 31]. */
static inline int16_t eh_conv2d_out_q15(int64_t acc, uint32_t shift)
{
    acc = eh_rshift_round64(acc, shift);
    return (int16_t)(acc > INT16_MAX ? INT16_MAX : acc < INT16_MIN ? INT16_MIN : acc);
}

/* The same on an int32 accumulator: floor((a + 2^(s-1)) / 2^s) = (a >> s) + bit s-1 of a. */
static inline int16_t eh_conv2d_out32_q15(int32_t a, uint32_t shift)
{
    if (shift == 0u) return eh_sat16(a);
    return eh_sat16((a >> shift) + ((a >> (shift - 1u)) & 1));
}

/* acc + sum_{i<n} x[i] * w[i], exact in 64 bits. On the DSP extension (or its emulation, for
 * host tests: EH_CONV2D_EMULATE_DSP) two taps per SMLALD: a 64-bit accumulate of two 16x16
 * products, so no intermediate can wrap and the result is the same. */
#if (defined(__ARM_FEATURE_DSP) && defined(__GNUC__)) || defined(EH_CONV2D_EMULATE_DSP)
#define EH_CONV2D_DSP 1
static inline uint32_t eh_conv2d_rd32(const int16_t *p)
{
    uint32_t v;
    __builtin_memcpy(&v, p, 4); /* one unaligned LDR */
    return v;
}
static inline int64_t eh_conv2d_smlald(uint32_t a, uint32_t b, int64_t acc)
{
#if defined(__ARM_FEATURE_DSP) && !defined(EH_CONV2D_EMULATE_DSP)
    __asm__("smlald %Q0, %R0, %1, %2" : "+r"(acc) : "r"(a), "r"(b));
    return acc;
#else
    return acc + (int64_t)((int32_t)(int16_t)(a & 0xFFFFu) * (int32_t)(int16_t)(b & 0xFFFFu)) +
           (int64_t)((int32_t)(int16_t)(a >> 16) * (int32_t)(int16_t)(b >> 16));
#endif
}
#else
#define EH_CONV2D_DSP 0
#endif

static inline int64_t eh_conv2d_row_q15(const int16_t *x, const int16_t *w, uint32_t n, int64_t acc)
{
#if EH_CONV2D_DSP
    for (; n >= 2u; n -= 2u, x += 2, w += 2) acc = eh_conv2d_smlald(eh_conv2d_rd32(x), eh_conv2d_rd32(w), acc);
    if (n != 0u) acc += (int32_t)*x * (int32_t)*w;
#else
    for (; n != 0u; n--) acc += (int32_t)*x++ * (int32_t)*w++;
#endif
    return acc;
}

#endif /* EH_CONV2D_INTERNAL_H */
