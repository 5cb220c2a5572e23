#include <string.h>

#include "eh_pool2d_internal.h"

/*
 * int8 2-D max and average pooling, channel-last (eh_conv2d.h, "int8 2-D convolution and
 * pooling"): TFLite's MAX_POOL_2D / AVERAGE_POOL_2D. The window of each output is clipped to the
 * input once (padding taps are not counted) and, for windows of at most EH_POOL2D_S8_TAPS
 * pixels, its pixels' offsets are listed, so each channel is one register maximum or sum over
 * that list. Larger windows walk the c channels of each input pixel into c running maxima, or
 * sum each channel's window (in 64 bits beyond 2^23 pixels).
 */
#define EH_POOL2D_S8_TAPS 64u

static eh_status eh_pool2d_s8_check(const eh_pool2d_dims *d, const int8_t *x, int32_t act_min, int32_t act_max,
                                    const int8_t *y, eh_pool2d_geom *g)
{
    eh_status st;
    if (d == 0 || x == 0 || y == 0) return EH_ERR_NULL;
    if ((st = eh_pool2d_check(d, g)) != EH_OK) return st;
    if (act_min < -128 || act_min > 127 || act_max < act_min || act_max > 127) return EH_ERR_RANGE;
    return EH_OK;
}

static int8_t eh_pool2d_s8_clamp(int32_t v, int32_t act_min, int32_t act_max)
{
    if (v < act_min) v = act_min;
    if (v > act_max) v = act_max;
    return (int8_t)v;
}

/* The input offsets of the window's pixels (rows [y0, y1), columns [x0, x1)), or 0 when there
 * are more than EH_POOL2D_S8_TAPS of them. The window is never empty: each pad is below it. */
static uint32_t eh_pool2d_s8_offsets(const eh_pool2d_dims *d, uint32_t y0, uint32_t y1, uint32_t x0, uint32_t x1,
                                     uint32_t *off)
{
    uint32_t iy, ix, n = 0;
    if ((uint64_t)(y1 - y0) * (x1 - x0) > EH_POOL2D_S8_TAPS) return 0;
    for (iy = y0; iy < y1; iy++)
        for (ix = x0; ix < x1; ix++) off[n++] = (iy * d->w_in + ix) * d->c;
    return n;
}

eh_status eh_maxpool2d_s8(const eh_pool2d_dims *d, const int8_t *x, int32_t act_min, int32_t act_max, int8_t *y)
{
    eh_pool2d_geom g;
    eh_status st;
    uint32_t oy, ox, iy, ix, ch, t, n, off[EH_POOL2D_S8_TAPS];
    if ((st = eh_pool2d_s8_check(d, x, act_min, act_max, y, &g)) != EH_OK) return st;
    for (oy = 0; oy < g.h_out; oy++) {
        for (ox = 0; ox < g.w_out; ox++) {
            uint32_t y0, y1, x0, x1;
            int8_t *yp = y + (oy * g.w_out + ox) * d->c;
            eh_pool2d_window(d, oy, ox, &y0, &y1, &x0, &x1);
            n = eh_pool2d_s8_offsets(d, y0, y1, x0, x1, off);
            if (n != 0u) {
                for (ch = 0; ch < d->c; ch++) {
                    const int8_t *xc = x + ch;
                    int32_t m = xc[off[0]];
                    for (t = 1; t < n; t++) {
                        const int32_t v = xc[off[t]];
                        m = v > m ? v : m;
                    }
                    yp[ch] = eh_pool2d_s8_clamp(m, act_min, act_max);
                }
                continue;
            }
            memcpy(yp, x + (y0 * d->w_in + x0) * d->c, d->c);
            for (iy = y0; iy < y1; iy++) {
                for (ix = x0; ix < x1; ix++) {
                    const int8_t *xp = x + (iy * d->w_in + ix) * d->c;
                    for (ch = 0; ch < d->c; ch++)
                        if (xp[ch] > yp[ch]) yp[ch] = xp[ch];
                }
            }
            for (ch = 0; ch < d->c; ch++) yp[ch] = eh_pool2d_s8_clamp(yp[ch], act_min, act_max);
        }
    }
    return EH_OK;
}

eh_status eh_avgpool2d_s8(const eh_pool2d_dims *d, const int8_t *x, int32_t act_min, int32_t act_max, int8_t *y)
{
    eh_pool2d_geom g;
    eh_status st;
    uint32_t oy, ox, iy, ix, ch, t, nt, wide, off[EH_POOL2D_S8_TAPS];
    if ((st = eh_pool2d_s8_check(d, x, act_min, act_max, y, &g)) != EH_OK) return st;
    wide = g.n > (1u << 23);
    for (oy = 0; oy < g.h_out; oy++) {
        for (ox = 0; ox < g.w_out; ox++) {
            uint32_t y0, y1, x0, x1;
            int64_t n;
            int8_t *yp = y + (oy * g.w_out + ox) * d->c;
            eh_pool2d_window(d, oy, ox, &y0, &y1, &x0, &x1);
            nt = eh_pool2d_s8_offsets(d, y0, y1, x0, x1, off);
            if (nt != 0u) {   /* at most 64 pixels: |sum| + nt / 2 < 2^14 */
                const int32_t h = (int32_t)nt / 2, q = (int32_t)nt;
                for (ch = 0; ch < d->c; ch++) {
                    const int8_t *xc = x + ch;
                    int32_t sum = 0;
                    for (t = 0; t < nt; t++) sum += xc[off[t]];
                    sum = sum > 0 ? (sum + h) / q : (sum - h) / q;
                    yp[ch] = eh_pool2d_s8_clamp(sum, act_min, act_max);
                }
                continue;
            }
            n = (int64_t)(y1 - y0) * (x1 - x0);
            for (ch = 0; ch < d->c; ch++) {
                int32_t v;
                if (wide) {   /* windows of more than 2^23 pixels: a 64-bit sum */
                    int64_t sum = 0;
                    for (iy = y0; iy < y1; iy++) {
                        const int8_t *xp = x + (iy * d->w_in + x0) * d->c + ch;
                        for (ix = x0; ix < x1; ix++, xp += d->c) sum += *xp;
                    }
                    v = (int32_t)(sum > 0 ? (sum + n / 2) / n : (sum - n / 2) / n);
                } else {      /* |sum| + n / 2 <= 128 2^23 + 2^22 < 2^31 */
                    int32_t sum = 0;
                    for (iy = y0; iy < y1; iy++) {
                        const int8_t *xp = x + (iy * d->w_in + x0) * d->c + ch;
                        for (ix = x0; ix < x1; ix++, xp += d->c) sum += *xp;
                    }
                    v = sum > 0 ? (sum + (int32_t)n / 2) / (int32_t)n : (sum - (int32_t)n / 2) / (int32_t)n;
                }
                yp[ch] = eh_pool2d_s8_clamp(v, act_min, act_max);
            }
        }
    }
    return EH_OK;
}
