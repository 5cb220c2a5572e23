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
 * Depthwise ones (one input channel per group) with at most 64 taps list the window's input
 * offsets once per output position and sum each output channel in a register over that list;
 * other grouped convolutions (and dil_w > 1) take the portable per-tap loop.
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

/* The output of channel o from its dot product: eh_s8_out_fast when the call allows it (checked
 * once, eh_s8_out_fast_ok; the same number), else eh_conv2d_s8_out. */
typedef struct {
    const int32_t *b, *mult, *shift;
    uint32_t per_channel, fast;
    int32_t y_offset, act_min, act_max, lo, hi;
} eh_conv2d_s8_q;

static inline int8_t eh_conv2d_s8_y(const eh_conv2d_s8_q *q, int32_t dot, uint32_t o)
{
    const uint32_t c = q->per_channel ? o : 0u;
    if (q->fast) return eh_s8_out_fast(dot + (q->b != 0 ? q->b[o] : 0), q->mult[c], q->shift[c], q->lo, q->hi, q->y_offset);
    return eh_conv2d_s8_out(dot, q->b, o, q->mult[c], q->shift[c], q->y_offset, q->act_min, q->act_max);
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


/* Depthwise (cg = 1) with at most EH_CONV2D_S8_DW_TAPS taps: the input offsets of the window's
 * taps inside the input are listed once per output position, then each output channel is one
 * register sum over that list (its input channel o / og at every tap, its weights
 * w[o][ky][kx][0] in tap order). */
#define EH_CONV2D_S8_DW_TAPS 64u
static void eh_conv2d_s8_dw(const eh_conv2d_dims *d, const eh_conv2d_geom *g, const int8_t *x, int32_t x_offset,
                            const int8_t *w, const eh_conv2d_s8_q *q, int8_t *y)
{
    uint32_t off[EH_CONV2D_S8_DW_TAPS];   /* input offset of each tap inside the input */
    uint8_t tap[EH_CONV2D_S8_DW_TAPS];    /* its index ky k_w + kx in the filter */
    uint32_t oy, ox, o, t;
    for (oy = 0; oy < g->h_out; oy++) {
        const int32_t by = (int32_t)(oy * d->stride_h) - (int32_t)d->pad_top;
        uint32_t ky0, ky1, ky, kx;
        eh_conv2d_taps(by, d->h_in, d->dil_h, d->k_h, &ky0, &ky1);
        for (ox = 0; ox < g->w_out; ox++) {
            const int32_t bx = (int32_t)(ox * d->stride_w) - (int32_t)d->pad_left;
            int8_t *yp = y + (oy * g->w_out + ox) * d->c_out;
            uint32_t kx0, kx1, n = 0;
            eh_conv2d_taps(bx, d->w_in, d->dil_w, d->k_w, &kx0, &kx1);
            for (ky = ky0; ky < ky1; ky++) {
                const uint32_t iy = (uint32_t)(by + (int32_t)(ky * d->dil_h));
                for (kx = kx0; kx < kx1; kx++, n++) {
                    off[n] = (iy * d->w_in + (uint32_t)(bx + (int32_t)(kx * d->dil_w))) * d->c_in;
                    tap[n] = (uint8_t)(ky * d->k_w + kx);
                }
            }
            if (n == g->kk) {   /* the whole window inside the input: taps in filter order */
                for (o = 0; o < d->c_out; o++) {
                    const int8_t *xc = x + (g->og == 1u ? o : o / g->og);
                    const int8_t *wo = w + o * g->kk;
                    int32_t acc = 0;
                    for (t = 0; t < n; t++) acc += ((int32_t)xc[off[t]] + x_offset) * (int32_t)wo[t];
                    yp[o] = eh_conv2d_s8_y(q, acc, o);
                }
                continue;
            }
            for (o = 0; o < d->c_out; o++) {
                const int8_t *xc = x + (g->og == 1u ? o : o / g->og);
                const int8_t *wo = w + o * g->kk;
                int32_t acc = 0;
                for (t = 0; t < n; t++) acc += ((int32_t)xc[off[t]] + x_offset) * (int32_t)wo[tap[t]];
                yp[o] = eh_conv2d_s8_y(q, acc, o);
            }
        }
    }
}

eh_status eh_conv2d_s8(const eh_conv2d_dims *d, const int8_t *x, int32_t x_offset, const int8_t *w,
                       const int32_t *b, const int32_t *mult, const int32_t *shift, uint32_t per_channel,
                       int32_t y_offset, int32_t act_min, int32_t act_max, int8_t *y)
{
    eh_conv2d_geom g;
    eh_conv2d_s8_q qp;
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
    qp.b = b; qp.mult = mult; qp.shift = shift; qp.per_channel = per_channel;
    qp.y_offset = y_offset; qp.act_min = act_min; qp.act_max = act_max;
    qp.lo = act_min - y_offset; qp.hi = act_max - y_offset;
    qp.fast = eh_s8_out_fast_ok(b, d->c_out, shift, nq, row);
    if (g.cg == 1u && g.kk <= EH_CONV2D_S8_DW_TAPS) {
        eh_conv2d_s8_dw(d, &g, x, x_offset, w, &qp, y);
        return EH_OK;
    }
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
                    const uint32_t grp = o / g.og;
                    const int32_t dot = eh_conv2d_s8_dot_taps(d, &g, x, x_offset, w + o * row, grp * g.cg, by, bx,
                                                              ky0, ky1, kx0, kx1);
                    yp[o] = eh_conv2d_s8_y(&qp, dot, o);
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
                        s[0] += eh_s8_dot(xr, wr, len, x_offset);
#endif
                    }
                    for (j = 0; j < step; j++) yp[o + j] = eh_conv2d_s8_y(&qp, s[j], o + j);
                }
            }
        }
    }
    return EH_OK;
}
