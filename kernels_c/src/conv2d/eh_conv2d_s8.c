#include "eh_conv2d_internal.h"
#include "../basic/eh_basic_internal.h"
#include "../basic/eh_dsp_s8.h"

/*
 * int8 2-D convolution, channel-last (eh_conv2d.h, "int8 2-D convolution and pooling"). For each
 * output position the taps inside the input are computed once (rows [ky0, ky1), columns
 * [kx0, kx1)). Without groups and dilation along the row, each kernel row of the window is one
 * contiguous run of (kx1 - kx0) c_in values of x, and of each filter: a dot product of two
 * contiguous vectors. On cores with the DSP extension three filters share each load of that run
 * (eh_fc_s8's SMLAD dot products); the sums are exact in int32 (at most EH_CONV2D_S8_MAX_ROW
 * products of magnitude <= 255 * 128), so that path is bit-exact with the portable one.
 * Grouped and depthwise convolutions (and dil_w > 1) take the portable per-tap loop.
 */

/* The output stage: eh_fc_s8's, then the activation clamp. */
static int8_t eh_conv2d_s8_out(int32_t dot, const int32_t *b, uint32_t o, int32_t mult, int32_t shift,
                               int32_t y_offset, int32_t act_min, int32_t act_max)
{
    int32_t acc = b != 0 ? eh_sat32((int64_t)dot + b[o]) : dot;
    acc = eh_requant_s32(acc, mult, shift);
    acc = (int32_t)eh_sat8(eh_sat32((int64_t)acc + y_offset));
    if (acc < act_min) acc = act_min;
    if (acc > act_max) acc = act_max;
    return (int8_t)acc;
}

/* dot of output channel o over the window's taps, one tap at a time (any groups, dilation). */
static int32_t eh_conv2d_s8_dot_taps(const eh_conv2d_dims *d, const eh_conv2d_geom *g, const int8_t *x,
                                     int32_t x_offset, const int8_t *wo, uint32_t cin0, int32_t by, int32_t bx,
                                     uint32_t ky0, uint32_t ky1, uint32_t kx0, uint32_t kx1)
{
    int32_t acc = 0;
    uint32_t ky, kx, j;
    for (ky = ky0; ky < ky1; ky++) {
        const uint32_t iy = (uint32_t)(by + (int32_t)(ky * d->dil_h));
        for (kx = kx0; kx < kx1; kx++) {
            const uint32_t ix = (uint32_t)(bx + (int32_t)(kx * d->dil_w));
            const int8_t *xp = x + (iy * d->w_in + ix) * d->c_in + cin0;
            const int8_t *wp = wo + (ky * d->k_w + kx) * g->cg;
            for (j = 0; j < g->cg; j++) acc += ((int32_t)xp[j] + x_offset) * (int32_t)wp[j];
        }
    }
    return acc;
}

#if !defined(EH_FC_S8_DSP)
static int32_t eh_conv2d_s8_dot_run(const int8_t *x, const int8_t *w, uint32_t n, int32_t off)
{
    int32_t acc = 0;
    uint32_t i;
    for (i = 0; i < n; i++) acc += ((int32_t)x[i] + off) * (int32_t)w[i];
    return acc;
}
#endif

eh_status eh_conv2d_s8(const eh_conv2d_dims *d, const int8_t *x, int32_t x_offset, const int8_t *w,
                       const int32_t *b, const int32_t *mult, const int32_t *shift, uint32_t per_channel,
                       int32_t y_offset, int32_t act_min, int32_t act_max, int8_t *y)
{
    eh_conv2d_geom g;
    eh_status st;
    uint32_t nq, q, oy, ox, o, row, runs;
    if (d == 0 || x == 0 || w == 0 || mult == 0 || shift == 0 || y == 0) return EH_ERR_NULL;
    if ((st = eh_conv2d_check(d, &g)) != EH_OK) return st;
    if ((uint64_t)g.cg * g.kk > (uint64_t)EH_CONV2D_S8_MAX_ROW) return EH_ERR_SIZE;
    if (per_channel > 1u) return EH_ERR_ARG;
    if (x_offset < -127 || x_offset > 128 || y_offset < -128 || y_offset > 127) return EH_ERR_RANGE;
    if (act_min < -128 || act_min > 127 || act_max < act_min || act_max > 127) return EH_ERR_RANGE;
    nq = per_channel ? d->c_out : 1u;
    for (q = 0; q < nq; q++)
        if (mult[q] < 0 || shift[q] < -31 || shift[q] > 30) return EH_ERR_RANGE;

    row = g.cg * g.kk;                          /* the weights of one filter */
    runs = d->groups == 1u && d->dil_w == 1u;   /* kernel rows are contiguous runs */
    for (oy = 0; oy < g.h_out; oy++) {
        const int32_t by = (int32_t)(oy * d->stride_h) - (int32_t)d->pad_top;
        uint32_t ky0, ky1;
        eh_conv2d_taps(by, d->h_in, d->dil_h, d->k_h, &ky0, &ky1);
        for (ox = 0; ox < g.w_out; ox++) {
            const int32_t bx = (int32_t)(ox * d->stride_w) - (int32_t)d->pad_left;
            int8_t *yp = y + (oy * g.w_out + ox) * d->c_out;
            uint32_t kx0, kx1;
            eh_conv2d_taps(bx, d->w_in, d->dil_w, d->k_w, &kx0, &kx1);
            if (!runs) {
                for (o = 0; o < d->c_out; o++) {
                    const uint32_t grp = o / g.og, qo = per_channel ? o : 0u;
                    const int32_t dot = eh_conv2d_s8_dot_taps(d, &g, x, x_offset, w + o * row, grp * g.cg, by, bx,
                                                              ky0, ky1, kx0, kx1);
                    yp[o] = eh_conv2d_s8_out(dot, b, o, mult[qo], shift[qo], y_offset, act_min, act_max);
                }
                continue;
            }
            {
                const uint32_t len = (kx1 - kx0) * d->c_in;   /* one kernel row of the window */
                const uint32_t ix0 = (uint32_t)(bx + (int32_t)kx0);
                uint32_t step = 1u;
                for (o = 0; o < d->c_out; o += step) {
                    int32_t s[3] = {0, 0, 0};
                    uint32_t ky, j;
                    const int8_t *wo = w + o * row + kx0 * d->c_in;
#if defined(EH_FC_S8_DSP)
                    step = d->c_out - o < 3u ? d->c_out - o : 3u;
#endif
                    for (ky = ky0; ky < ky1; ky++) {
                        const uint32_t iy = (uint32_t)(by + (int32_t)(ky * d->dil_h));
                        const int8_t *xr = x + (iy * d->w_in + ix0) * d->c_in;
                        const int8_t *wr = wo + ky * d->k_w * d->c_in;
#if defined(EH_FC_S8_DSP)
                        int32_t t[3];
                        if (step == 3u) {
                            eh_s8_dot3_dsp(xr, wr, row, len, x_offset, t);
                            s[0] += t[0]; s[1] += t[1]; s[2] += t[2];
                        } else if (step == 2u) {
                            eh_s8_dot2_dsp(xr, wr, wr + row, len, x_offset, &t[0], &t[1]);
                            s[0] += t[0]; s[1] += t[1];
                        } else {
                            s[0] += eh_s8_dot1_dsp(xr, wr, len, x_offset);
                        }
#else
                        s[0] += eh_conv2d_s8_dot_run(xr, wr, len, x_offset);
#endif
                    }
                    for (j = 0; j < step; j++) {
                        const uint32_t oj = o + j, qj = per_channel ? oj : 0u;
                        yp[oj] = eh_conv2d_s8_out(s[j], b, oj, mult[qj], shift[qj], y_offset, act_min, act_max);
                    }
                }
            }
        }
    }
    return EH_OK;
}
