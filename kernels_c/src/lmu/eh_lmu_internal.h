/* Private helpers of the LMU family: argument checks, matrix-vector products, activations,
 * spike sums. Not part of the public API (see eh_lmu.h for the arithmetic they implement). */
#ifndef EH_LMU_INTERNAL_H
#define EH_LMU_INTERNAL_H

#include "../eh_internal.h"
#include "eh_lmu.h"

#define EH_LMU_MAX_DIM 65535u

/* Forced inlining where the loops are written for one core's registers (GCC/Clang). */
#if defined(__GNUC__)
#define EH_LMU_INLINE static inline __attribute__((always_inline))
#else
#define EH_LMU_INLINE static inline
#endif
#define EH_LMU_MAX_SHIFT 31u

static inline int eh_lmu_dim_ok(uint32_t n)
{
    return n >= 1u && n <= EH_LMU_MAX_DIM;
}

/* n_u * order within the limit (both already checked to be in [1, 65535]). */
static inline int eh_lmu_mem_ok(uint32_t n_u, uint32_t order)
{
    return (uint64_t)n_u * order <= EH_LMU_MAX_DIM;
}

static inline int16_t eh_lmu_sat16_64(int64_t x)
{
    if (x > INT16_MAX) return INT16_MAX;
    if (x < INT16_MIN) return INT16_MIN;
    return (int16_t)x;
}

/* Element copies (no <string.h>: the rv32 bare-metal toolchain here ships no libc headers). */
static inline void eh_lmu_copy_f32(float *dst, const float *src, uint32_t n)
{
    uint32_t k;
    for (k = 0; k < n; k++) dst[k] = src[k];
}

static inline void eh_lmu_copy_q15(int16_t *dst, const int16_t *src, uint32_t n)
{
    uint32_t k;
    for (k = 0; k < n; k++) dst[k] = src[k];
}

/* ---- float32 ---------------------------------------------------------------------------- */

/* acc += w[k] * v[k] for k = 0..n-1, one rounding per operation. */
static inline float eh_lmu_dot_f32(float acc, const float *w, const float *v, uint32_t n)
{
    uint32_t k;
    for (k = 0; k < n; k++) {
        float p = w[k] * v[k];
        acc = acc + p;
    }
    return acc;
}

/* acc += w[k] for every k with s[k] != 0, in increasing k. */
static inline float eh_lmu_spike_sum_f32(float acc, const float *w, const uint8_t *s, uint32_t n)
{
    uint32_t k;
    for (k = 0; k < n; k++)
        if (s[k]) acc = acc + w[k];
    return acc;
}

static inline float eh_lmu_tanh_f32(float v)
{
    float x2, p, q, y;
    if (v > 5.0f) v = 5.0f;
    if (v < -5.0f) v = -5.0f;
    x2 = v * v;
    p = x2 + 378.0f;
    p = p * x2;
    p = p + 17325.0f;
    p = p * x2;
    p = p + 135135.0f;
    p = p * v;
    q = 28.0f * x2;
    q = q + 3150.0f;
    q = q * x2;
    q = q + 62370.0f;
    q = q * x2;
    q = q + 135135.0f;
    y = p / q;
    if (y > 1.0f) y = 1.0f;
    if (y < -1.0f) y = -1.0f;
    return y;
}

static inline float eh_lmu_act_f32(eh_lmu_act act, float v)
{
    switch (act) {
    case EH_LMU_ACT_RELU: return v > 0.0f ? v : 0.0f;
    case EH_LMU_ACT_HARDTANH: return v > 1.0f ? 1.0f : (v < -1.0f ? -1.0f : v);
    case EH_LMU_ACT_TANH: return eh_lmu_tanh_f32(v);
    default: return v;
    }
}

/* ---- Q15 -------------------------------------------------------------------------------- */

/* sum_k w[k] * v[k] in int64 (exact for the sizes eh_lmu.h allows). */
static inline int64_t eh_lmu_dot_q15(const int16_t *w, const int16_t *v, uint32_t n)
{
    int64_t acc = 0;
    uint32_t k;
    for (k = 0; k < n; k++) acc += (int32_t)w[k] * (int32_t)v[k];
    return acc;
}

/* R(v, s): round-half-up right shift of an int64, s in [0, 31]. */
static inline int64_t eh_lmu_rs64(int64_t v, uint32_t s)
{
    return eh_rshift_round64(v, s);
}

static inline int16_t eh_lmu_act_q15(eh_lmu_act act, int16_t v, int16_t clamp)
{
    if (act == EH_LMU_ACT_RELU) return v > 0 ? v : 0;
    if (act == EH_LMU_ACT_HARDTANH) return v > clamp ? clamp : (v < -clamp ? (int16_t)-clamp : v);
    return v;
}

/* The indices k of s[0..n-1] with s[k] != 0, in increasing order, into idx; returns how many. */
static inline uint32_t eh_lmu_spike_list(const uint8_t *s, uint32_t n, uint16_t *idx)
{
    uint32_t k, cnt = 0;
    for (k = 0; k < n; k++)
        if (s[k]) idx[cnt++] = (uint16_t)k;
    return cnt;
}

/* sum of w[idx[j]] for j < cnt, in int32 (exact: cnt <= 65535). */
static inline int32_t eh_lmu_gather_q15(const int16_t *w, const uint16_t *idx, uint32_t cnt)
{
    int32_t acc = 0;
    uint32_t j;
    for (j = 0; j < cnt; j++) acc += w[idx[j]];
    return acc;
}

/* ---- LIF parameter checks (the ranges of eh_lif.h, checked up front so that a bad
 * population rejects the whole step before any state is written) --------------------------- */

static inline eh_status eh_lmu_leak_check(const eh_leak_q15 *leak, uint32_t n)
{
    uint32_t k;
    if ((leak->decay == 0) == (leak->shift == 0)) return EH_ERR_ARG;
    if (!eh_len_ok(leak->len, n)) return EH_ERR_SIZE;
    for (k = 0; k < leak->len; k++) {
        if (leak->decay != 0 && leak->decay[k] > EH_Q15_ONE) return EH_ERR_RANGE;
        if (leak->shift != 0 && (leak->shift[k] < 1u || leak->shift[k] > 15u)) return EH_ERR_RANGE;
    }
    return EH_OK;
}

static inline int eh_lmu_pop_q15_is_cuba(const eh_l2mu_pop_q15 *p)
{
    return p->leak_syn.decay != 0 || p->leak_syn.shift != 0;
}

static inline int eh_lmu_pop_f32_is_cuba(const eh_l2mu_pop_f32 *p)
{
    return p->alpha != 0;
}

static inline eh_status eh_lmu_reset_check(eh_reset r)
{
    return (r == EH_RESET_SUBTRACT || r == EH_RESET_ZERO) ? EH_OK : EH_ERR_ARG;
}

/* A spiking population of n neurons: parameters and state. */
static inline eh_status eh_lmu_pop_q15_check(const eh_l2mu_pop_q15 *p, const eh_l2mu_pop_state_q15 *st,
                                             uint32_t n)
{
    eh_status r;
    uint32_t k;
    const int cuba = eh_lmu_pop_q15_is_cuba(p);
    if (st->v == 0 || st->s == 0 || (cuba && st->i_syn == 0) || p->thr == 0) return EH_ERR_NULL;
    if ((r = eh_lmu_leak_check(&p->leak, n)) != EH_OK) return r;
    if (cuba && (r = eh_lmu_leak_check(&p->leak_syn, n)) != EH_OK) return r;
    if (!eh_len_ok(p->thr_len, n)) return EH_ERR_SIZE;
    for (k = 0; k < p->thr_len; k++)
        if (p->thr[k] < 1) return EH_ERR_RANGE;
    return eh_lmu_reset_check(p->reset);
}

static inline eh_status eh_lmu_unit_f32_check(const float *p, uint32_t len, uint32_t n)
{
    uint32_t k;
    if (p == 0) return EH_ERR_NULL;
    if (!eh_len_ok(len, n)) return EH_ERR_SIZE;
    for (k = 0; k < len; k++)
        if (!(p[k] >= 0.0f && p[k] <= 1.0f)) return EH_ERR_RANGE;
    return EH_OK;
}

static inline eh_status eh_lmu_pop_f32_check(const eh_l2mu_pop_f32 *p, const eh_l2mu_pop_state_f32 *st,
                                             uint32_t n)
{
    eh_status r;
    uint32_t k;
    const int cuba = eh_lmu_pop_f32_is_cuba(p);
    if (st->v == 0 || st->s == 0 || (cuba && st->i_syn == 0) || p->thr == 0) return EH_ERR_NULL;
    if ((r = eh_lmu_unit_f32_check(p->beta, p->beta_len, n)) != EH_OK) return r;
    if (cuba && (r = eh_lmu_unit_f32_check(p->alpha, p->alpha_len, n)) != EH_OK) return r;
    if (!eh_len_ok(p->thr_len, n)) return EH_ERR_SIZE;
    for (k = 0; k < p->thr_len; k++)
        if (!(p->thr[k] > 0.0f && p->thr[k] <= 3.4028234663852886e38f)) return EH_ERR_RANGE;
    return eh_lmu_reset_check(p->reset);
}

/* The neuron update of a checked population, with the LIF family's kernels. */
static inline eh_status eh_lmu_pop_q15_step(const eh_l2mu_pop_q15 *p, eh_l2mu_pop_state_q15 *st,
                                            uint32_t n, const int16_t *cur)
{
    if (eh_lmu_pop_q15_is_cuba(p))
        return eh_cubalif_step_q15(n, cur, st->i_syn, st->v, st->s, &p->leak_syn, &p->leak,
                                   p->thr, p->thr_len, p->reset);
    return eh_lif_step_q15(n, cur, st->v, st->s, &p->leak, p->thr, p->thr_len, p->reset);
}

static inline eh_status eh_lmu_pop_f32_step(const eh_l2mu_pop_f32 *p, eh_l2mu_pop_state_f32 *st,
                                            uint32_t n, const float *cur)
{
    if (eh_lmu_pop_f32_is_cuba(p))
        return eh_cubalif_step_f32(n, cur, st->i_syn, st->v, st->s, p->alpha, p->alpha_len,
                                   p->beta, p->beta_len, p->thr, p->thr_len, p->reset);
    return eh_lif_step_f32(n, cur, st->v, st->s, p->beta, p->beta_len, p->thr, p->thr_len, p->reset);
}

/* ---- L2MU dimensions -------------------------------------------------------------------- */

typedef struct {
    uint32_t n_in;  /* n_ch * pop */
    uint32_t n_sx;  /* size of the input module's output */
    uint32_t n_m;   /* n_u * order */
    uint32_t p_max; /* largest population */
    uint32_t q_max; /* largest input-module layer */
} eh_l2mu_sizes;

static inline uint32_t eh_lmu_max(uint32_t a, uint32_t b)
{
    return a > b ? a : b;
}

static inline eh_status eh_l2mu_dims_check(const eh_l2mu_dims *d, eh_l2mu_sizes *z)
{
    uint32_t k;
    if (!eh_lmu_dim_ok(d->n_ch) || !eh_lmu_dim_ok(d->pop) || !eh_lmu_dim_ok(d->n_u) ||
        !eh_lmu_dim_ok(d->order) || !eh_lmu_dim_ok(d->n_h) || !eh_lmu_dim_ok(d->n_o))
        return EH_ERR_SIZE;
    if (d->n_enc > 2u) return EH_ERR_SIZE;
    if ((uint64_t)d->n_ch * d->pop > EH_LMU_MAX_DIM || !eh_lmu_mem_ok(d->n_u, d->order)) return EH_ERR_SIZE;
    z->n_in = d->n_ch * d->pop;
    z->n_m = d->n_u * d->order;
    z->n_sx = z->n_in;
    z->q_max = z->n_in;
    for (k = 0; k < d->n_enc; k++) {
        if (!eh_lmu_dim_ok(d->enc[k])) return EH_ERR_SIZE;
        z->n_sx = d->enc[k];
        z->q_max = eh_lmu_max(z->q_max, d->enc[k]);
    }
    z->p_max = eh_lmu_max(eh_lmu_max(z->q_max, d->n_u), eh_lmu_max(z->n_m, eh_lmu_max(d->n_h, d->n_o)));
    return EH_OK;
}

/* ---- Q15 L2MU fast path helpers (the unchecked step and readout) ----------------------- */

/* The parameters of a spiking population alone (eh_lmu_pop_q15_check without the state), the
 * same codes in the same order except that a NULL state buffer is not looked at. */
static inline eh_status eh_lmu_pop_q15_param_check(const eh_l2mu_pop_q15 *p, uint32_t n)
{
    eh_status r;
    uint32_t k;
    const int cuba = eh_lmu_pop_q15_is_cuba(p);
    if (p->thr == 0) return EH_ERR_NULL;
    if ((r = eh_lmu_leak_check(&p->leak, n)) != EH_OK) return r;
    if (cuba && (r = eh_lmu_leak_check(&p->leak_syn, n)) != EH_OK) return r;
    if (!eh_len_ok(p->thr_len, n)) return EH_ERR_SIZE;
    for (k = 0; k < p->thr_len; k++)
        if (p->thr[k] < 1) return EH_ERR_RANGE;
    return eh_lmu_reset_check(p->reset);
}

/* The neuron update of a population that passed the checks (no checks). */
static inline void eh_lmu_pop_q15_step_unchecked(const eh_l2mu_pop_q15 *p, eh_l2mu_pop_state_q15 *st,
                                                 uint32_t n, const int16_t *cur)
{
    if (eh_lmu_pop_q15_is_cuba(p))
        eh_cubalif_step_q15_unchecked(n, cur, st->i_syn, st->v, st->s, &p->leak_syn, &p->leak,
                                      p->thr, p->thr_len, p->reset);
    else
        eh_lif_step_q15_unchecked(n, cur, st->v, st->s, &p->leak, p->thr, p->thr_len, p->reset);
}

/* Spike lists, skipping silent neurons several at a time (same result as eh_lmu_spike_list).
 * On cores with a count-zeros instruction, eight spike bytes at a time: a nonzero byte's top
 * bit is set by ((b & 0x7F) + 0x7F) | b, the four top bits of a word gathered into a nibble by
 * a multiply (partial products at distinct bits, no carries), then one index per set bit. */
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ && \
    (defined(__ARM_FEATURE_CLZ) || defined(__x86_64__) || defined(__aarch64__))
#define EH_LMU_LIST_BITS 1
static inline uint32_t eh_lmu_nz_nibble(uint32_t w)
{
    const uint32_t t = (((w & 0x7F7F7F7Fu) + 0x7F7F7F7Fu) | w) & 0x80808080u;
    return ((t >> 7) * 0x01020408u) >> 24;
}
#else
#define EH_LMU_LIST_BITS 0
#endif

static inline uint32_t eh_lmu_spike_list_fast(const uint8_t *s, uint32_t n, uint16_t *idx)
{
    uint32_t k = 0, cnt = 0;
#if EH_LMU_LIST_BITS
    for (; k + 8u <= n; k += 8u) {
        uint32_t w0, w1, m;
        __builtin_memcpy(&w0, s + k, 4);
        __builtin_memcpy(&w1, s + k + 4u, 4);
        if ((w0 | w1) == 0u) continue;
        m = eh_lmu_nz_nibble(w0) | (eh_lmu_nz_nibble(w1) << 4);
        do {
            idx[cnt++] = (uint16_t)(k + (uint32_t)__builtin_ctz(m));
            m &= m - 1u;
        } while (m != 0u);
    }
#elif defined(__GNUC__)
    for (; k + 4u <= n; k += 4u) {
        uint32_t w;
        __builtin_memcpy(&w, s + k, 4);
        if (w == 0u) continue;
        idx[cnt] = (uint16_t)k;
        cnt += s[k] != 0;
        idx[cnt] = (uint16_t)(k + 1u);
        cnt += s[k + 1u] != 0;
        idx[cnt] = (uint16_t)(k + 2u);
        cnt += s[k + 2u] != 0;
        idx[cnt] = (uint16_t)(k + 3u);
        cnt += s[k + 3u] != 0;
    }
#endif
    for (; k < n; k++)
        if (s[k]) idx[cnt++] = (uint16_t)k;
    return cnt;
}

/* Spike sums of four rows (w, w + stride, ...) over one index list, in int32 (exact). */
static inline void eh_lmu_gather4_q15(const int16_t *w, uint32_t stride, const uint16_t *idx,
                                      uint32_t cnt, int32_t acc[4])
{
    const int16_t *w0 = w, *w1 = w + stride, *w2 = w1 + stride, *w3 = w2 + stride;
    int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
    const uint16_t *end = idx + cnt;
#if defined(__GNUC__)
    /* four row pointers in registers (not one pointer plus offsets) */
    __asm__("" : "+r"(w1), "+r"(w2), "+r"(w3));
#endif
    while (idx != end) {
        const uint32_t k = *idx++;
        a0 += w0[k];
        a1 += w1[k];
        a2 += w2[k];
        a3 += w3[k];
    }
    acc[0] = a0;
    acc[1] = a1;
    acc[2] = a2;
    acc[3] = a3;
}

/* R(S, s) of eh_lmu.h for an int32 S, in 32 bits: ((S >> a) + b) >> b with a = s - 1, b = 1
 * for s >= 1 and a = b = 0 for s = 0 (floor((S + 2^(s-1)) / 2^s) = floor((floor(S / 2^(s-1))
 * + 1) / 2)); no overflow for |S| < 2^31 - 1. */
typedef struct {
    uint32_t a, b;
} eh_lmu_rs;

static inline eh_lmu_rs eh_lmu_rs_make(uint32_t s)
{
    eh_lmu_rs r;
    r.a = s == 0u ? 0u : s - 1u;
    r.b = s == 0u ? 0u : 1u;
    return r;
}

static inline int32_t eh_lmu_rs32(int32_t v, eh_lmu_rs r)
{
    return ((v >> r.a) + (int32_t)r.b) >> r.b;
}

/* R(S, s) = (S + 2^(s-1)) >> s, exact when |S| <= 2^30 - 1 (no overflow); rnd = 2^(s-1) or 0. */
static inline int32_t eh_lmu_rs32_small(int32_t v, uint32_t rnd, uint32_t s)
{
    return (v + (int32_t)rnd) >> s;
}

static inline uint32_t eh_lmu_rnd(uint32_t s)
{
    return s == 0u ? 0u : 1u << (s - 1u);
}

/* sat16(a + b) for int32 a, b: the sum saturated to int32 first (QADD on cores with the DSP
 * extension), which cannot change the int16 saturation. */
static inline int16_t eh_lmu_add_sat16(int32_t a, int32_t b)
{
#if defined(__ARM_FEATURE_DSP) && defined(__GNUC__)
    int32_t r;
    __asm__("qadd %0, %1, %2" : "=r"(r) : "r"(a), "r"(b));
    return eh_sat16(r);
#else
    return eh_lmu_sat16_64((int64_t)a + b);
#endif
}

/* Rows w0, w0 + c, w0 + 2c, w0 + 3c summed over the list [ix, end) (not empty), each sum started
 * at rnd and shifted right by sh. */
EH_LMU_INLINE void eh_lmu_gather4_rs(const int16_t *w0, uint32_t c, const uint16_t *ix, const uint16_t *end,
                                     int32_t rnd, uint32_t sh, int32_t r[4])
{
    const int16_t *w1 = w0 + c, *w2 = w1 + c, *w3 = w2 + c;
    int32_t a0 = rnd, a1 = rnd, a2 = rnd, a3 = rnd;
#if defined(__GNUC__)
    __asm__("" : "+r"(w1), "+r"(w2), "+r"(w3));
#endif
    do {
        const uint32_t k = *ix++;
        a0 += w0[k];
        a1 += w1[k];
        a2 += w2[k];
        a3 += w3[k];
    } while (ix != end);
    r[0] = a0 >> sh;
    r[1] = a1 >> sh;
    r[2] = a2 >> sh;
    r[3] = a3 >> sh;
}

/* cur[o] = sat16(R(row o of w over idx, s) + bias[o]) for every o < rows, when the sums are
 * small: cols <= 32767 (|S| < 2^30, so S + 2^(s-1) fits int32 and R(S, s) = (S + 2^(s-1)) >> s
 * with 2^(s-1) as the accumulators' start value) and cnt >= 1. Four rows per pass. */
EH_LMU_INLINE void eh_lmu_rows_bias_small(int16_t *cur, const int16_t *w, uint32_t cols, uint32_t rows,
                                          const uint16_t *idx, uint32_t cnt, uint32_t sh,
                                          const int32_t *bias)
{
    const int32_t rnd = sh == 0u ? 0 : (int32_t)(1u << (sh - 1u));
    const uint16_t *end = idx + cnt;
    uint32_t o = 0;
    int32_t r[4];
    for (; o + 4u <= rows; o += 4u) {
        eh_lmu_gather4_rs(w + o * cols, cols, idx, end, rnd, sh, r);
        cur[o] = eh_lmu_add_sat16(r[0], bias[o]);
        cur[o + 1u] = eh_lmu_add_sat16(r[1], bias[o + 1u]);
        cur[o + 2u] = eh_lmu_add_sat16(r[2], bias[o + 2u]);
        cur[o + 3u] = eh_lmu_add_sat16(r[3], bias[o + 3u]);
    }
    for (; o < rows; o++) {
        const int16_t *wr = w + o * cols;
        const uint16_t *ix = idx;
        int32_t a = rnd;
        do a += wr[*ix++]; while (ix != end);
        cur[o] = eh_lmu_add_sat16(a >> sh, bias[o]);
    }
}

#endif
