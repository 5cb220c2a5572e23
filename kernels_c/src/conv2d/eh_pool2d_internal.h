/* Private helpers of the 2-D pooling kernels (eh_conv2d.h, "2-D pooling"): the checked geometry,
 * the window sums and the output stages shared by the sum and average kernels. */
#ifndef EH_POOL2D_INTERNAL_H
#define EH_POOL2D_INTERNAL_H

#include "eh_conv2d_internal.h"

typedef struct {
    uint32_t h_out, w_out, plane_in, plane_out, n; /* n = k_h * k_w */
} eh_pool2d_geom;

static inline eh_status eh_pool2d_check(const eh_pool2d_dims *d, eh_pool2d_geom *g)
{
    const uint32_t M = (uint32_t)EH_CONV2D_MAX_DIM;
    uint64_t ext_h, ext_w, h_out, w_out;
    if (d->c == 0u || d->h_in == 0u || d->w_in == 0u || d->k_h == 0u || d->k_w == 0u) return EH_ERR_SIZE;
    if (d->c > M || d->h_in > M || d->w_in > M || d->k_h > M || d->k_w > M) return EH_ERR_SIZE;
    if (d->stride_h == 0u || d->stride_w == 0u || d->stride_h > M || d->stride_w > M) return EH_ERR_RANGE;
    if (d->pad_top >= d->k_h || d->pad_bottom >= d->k_h || d->pad_left >= d->k_w || d->pad_right >= d->k_w)
        return EH_ERR_RANGE;
    ext_h = (uint64_t)d->h_in + d->pad_top + d->pad_bottom;
    ext_w = (uint64_t)d->w_in + d->pad_left + d->pad_right;
    if (ext_h < d->k_h || ext_w < d->k_w) return EH_ERR_SIZE;
    h_out = (ext_h - d->k_h) / d->stride_h + 1u;
    w_out = (ext_w - d->k_w) / d->stride_w + 1u;
    if ((uint64_t)d->c * d->h_in * d->w_in > EH_CONV2D_MAX_ELEMS || (uint64_t)d->c * h_out * w_out > EH_CONV2D_MAX_ELEMS ||
        (uint64_t)d->k_h * d->k_w > EH_CONV2D_MAX_ELEMS)
        return EH_ERR_SIZE;
    g->h_out = (uint32_t)h_out;
    g->w_out = (uint32_t)w_out;
    g->plane_in = d->h_in * d->w_in;
    g->plane_out = g->h_out * g->w_out;
    g->n = d->k_h * d->k_w;
    return EH_OK;
}

/* The window of output (oy, ox): rows [*y0, *y1), columns [*x0, *x1) of the input (clipped). */
static inline void eh_pool2d_window(const eh_pool2d_dims *d, uint32_t oy, uint32_t ox, uint32_t *y0, uint32_t *y1,
                                    uint32_t *x0, uint32_t *x1)
{
    uint32_t k0, k1;
    const int32_t by = (int32_t)(oy * d->stride_h) - (int32_t)d->pad_top;
    const int32_t bx = (int32_t)(ox * d->stride_w) - (int32_t)d->pad_left;
    eh_conv2d_taps(by, d->h_in, 1u, d->k_h, &k0, &k1);
    *y0 = (uint32_t)(by + (int32_t)k0);
    *y1 = (uint32_t)(by + (int32_t)k1);
    eh_conv2d_taps(bx, d->w_in, 1u, d->k_w, &k0, &k1);
    *x0 = (uint32_t)(bx + (int32_t)k0);
    *x1 = (uint32_t)(bx + (int32_t)k1);
}

/* floor((2 a + n) / (2 n)) for n >= 1: a / n rounded half up (exact, 64-bit). */
static inline int64_t eh_pool2d_round_div(int64_t a, uint32_t n)
{
    const int64_t num = 2 * a + (int64_t)n, den = 2 * (int64_t)n;
    int64_t q = num / den;
    if ((num % den != 0) && (num < 0)) q -= 1; /* C truncates toward zero */
    return q;
}

static inline int16_t eh_pool2d_sat16(int64_t a)
{
    return (int16_t)(a > INT16_MAX ? INT16_MAX : a < INT16_MIN ? INT16_MIN : a);
}

/* 1 when all n bytes are 0 or 1 */
static inline int eh_pool2d_spikes_ok(const uint8_t *s, uint32_t n)
{
    uint32_t i;
    uint8_t bad = 0;
    for (i = 0; i < n; i++) bad |= s[i];
    return (bad & 0xFEu) == 0u;
}

/* The exact integer window sums of the q15 / spike kernels: y[i] = stage(sum, n). */
#define EH_POOL2D_INT_LOOP(d, g, x, y, STAGE)                                                          \
    do {                                                                                               \
        uint32_t ch_, oy_, ox_, iy_, ix_, y0_, y1_, x0_, x1_;                                          \
        for (ch_ = 0; ch_ < (d)->c; ch_++) {                                                           \
            for (oy_ = 0; oy_ < (g).h_out; oy_++) {                                                    \
                for (ox_ = 0; ox_ < (g).w_out; ox_++) {                                                \
                    int64_t sum = 0;                                                                   \
                    eh_pool2d_window((d), oy_, ox_, &y0_, &y1_, &x0_, &x1_);                           \
                    for (iy_ = y0_; iy_ < y1_; iy_++) {                                                \
                        const uint32_t r_ = ch_ * (g).plane_in + iy_ * (d)->w_in;                      \
                        for (ix_ = x0_; ix_ < x1_; ix_++) sum += (x)[r_ + ix_];                        \
                    }                                                                                  \
                    (y)[ch_ * (g).plane_out + oy_ * (g).w_out + ox_] = (STAGE);                        \
                }                                                                                      \
            }                                                                                          \
        }                                                                                              \
    } while (0)

/* The float32 window sum of output (oy, ox) of channel ch: acc = acc + x in the order ky, kx. */
static inline float eh_pool2d_sum_f32(const eh_pool2d_dims *d, const eh_pool2d_geom *g, const float *x, uint32_t ch,
                                      uint32_t oy, uint32_t ox)
{
    uint32_t iy, ix, y0, y1, x0, x1;
    float acc = 0.0f;
    eh_pool2d_window(d, oy, ox, &y0, &y1, &x0, &x1);
    for (iy = y0; iy < y1; iy++) {
        const float *r = x + ch * g->plane_in + iy * d->w_in;
        for (ix = x0; ix < x1; ix++) acc = acc + r[ix];
    }
    return acc;
}

#endif /* EH_POOL2D_INTERNAL_H */
