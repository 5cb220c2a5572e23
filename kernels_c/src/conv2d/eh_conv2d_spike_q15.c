#include <string.h>
#include "eh_conv2d_internal.h"

/*
 * Event-driven Q15 convolution on spikes (scatter). The accumulators are the caller's scratch
 * [c_out][h_out][w_out], set to the bias. For each input spike (found 4 inputs per 32-bit word
 * where the input is aligned), the kernel taps it reaches on each axis form an arithmetic
 * progression (eh_conv2d_reach: the rows once per input row, the columns per spike), and for
 * each reached (tap, output position) the weights of every output channel of the spike's group
 * are added into that position's accumulators. Without overflow (checked per output channel from
 * the weights before anything is written) the int32 sums equal eh_conv2d_q15's 64-bit ones;
 * otherwise a 64-bit gather over the spikes gives the same result.
 */

/* The spikes of the n inputs: EH_OK when all are 0 or 1. */
static eh_status spikes_check(const uint8_t *s, uint32_t n)
{
    uint32_t i = 0, bad = 0;
    for (; i < n && ((uintptr_t)(s + i) & 3u) != 0u; i++) bad |= s[i];
    for (; i + 4u <= n; i += 4u) {
        uint32_t v;
        memcpy(&v, s + i, 4);
        bad |= v;
    }
    for (; i < n; i++) bad |= s[i];
    return (bad & 0xFEFEFEFEu) != 0u ? EH_ERR_RANGE : EH_OK;
}

/* Could an accumulator of channel o leave int32 on some input? */
static int channel_may_overflow(const int32_t *b, const int16_t *w, uint32_t o, uint32_t n)
{
    const int16_t *wo = w + o * n;
    int64_t m = b != 0 ? (b[o] < 0 ? -(int64_t)b[o] : (int64_t)b[o]) : 0;
    uint32_t i;
    for (i = 0; i < n; i++) m += wo[i] < 0 ? -(int32_t)wo[i] : wo[i];
    return m > INT32_MAX;
}

/* The exact 64-bit gather (eh_conv2d_q15 on x = s), for layers whose int32 sums could overflow. */
static void gather(const eh_conv2d_dims *d, const eh_conv2d_geom *g, const uint8_t *s,
                   const int16_t *w, const int32_t *b, uint32_t shift, int16_t *y)
{
    uint32_t o, oy, ox, j, ky, kx;
    for (o = 0; o < d->c_out; o++) {
        const uint8_t *sg = s + (o / g->og) * g->cg * g->plane_in;
        const int16_t *wo = w + o * g->cg * g->kk;
        for (oy = 0; oy < g->h_out; oy++) {
            const int32_t by = (int32_t)(oy * d->stride_h) - (int32_t)d->pad_top;
            uint32_t ky0, ky1;
            eh_conv2d_taps(by, d->h_in, d->dil_h, d->k_h, &ky0, &ky1);
            for (ox = 0; ox < g->w_out; ox++) {
                const int32_t bx = (int32_t)(ox * d->stride_w) - (int32_t)d->pad_left;
                uint32_t kx0, kx1;
                int64_t acc = b != 0 ? (int64_t)b[o] : 0;
                eh_conv2d_taps(bx, d->w_in, d->dil_w, d->k_w, &kx0, &kx1);
                for (j = 0; j < g->cg; j++) {
                    for (ky = ky0; ky < ky1; ky++) {
                        const uint8_t *sr = sg + j * g->plane_in +
                                            (uint32_t)(by + (int32_t)(ky * d->dil_h)) * d->w_in;
                        const int16_t *wr = wo + j * g->kk + ky * d->k_w;
                        for (kx = kx0; kx < kx1; kx++)
                            if (sr[(uint32_t)(bx + (int32_t)(kx * d->dil_w))] != 0u) acc += wr[kx];
                    }
                }
                y[o * g->plane_out + oy * g->w_out + ox] = eh_conv2d_out_q15(acc, shift);
            }
        }
    }
}

/* acc[c * ps] += w[c * ws] for c in [0, n): one tap into the outputs of a group. */
static inline void add_tap(int32_t *acc, const int16_t *w, uint32_t n, uint32_t ps, uint32_t ws)
{
    uint32_t c = 0, pa = 0, pw = 0;
    for (; c + 4u <= n; c += 4u, pa += 4u * ps, pw += 4u * ws) {
        acc[pa] += w[pw];
        acc[pa + ps] += w[pw + ws];
        acc[pa + 2u * ps] += w[pw + 2u * ws];
        acc[pa + 3u * ps] += w[pw + 3u * ws];
    }
    for (; c < n; c++, pa += ps, pw += ws) acc[pa] += w[pw];
}

eh_status eh_conv2d_spike_q15(const eh_conv2d_dims *d, const uint8_t *s, const int16_t *w,
                              const int32_t *b, uint32_t shift, int32_t *scratch, int16_t *y)
{
    eh_conv2d_geom g;
    eh_conv2d_axis ah, aw;
    eh_status st;
    uint32_t o, i, ci, iy, ix;
    if (d == 0 || s == 0 || w == 0 || scratch == 0 || y == 0) return EH_ERR_NULL;
    if ((st = eh_conv2d_check(d, &g)) != EH_OK) return st;
    if (shift > 31u) return EH_ERR_RANGE;
    if ((st = spikes_check(s, d->c_in * g.plane_in)) != EH_OK) return st;

    for (o = 0; o < d->c_out; o++) {
        if (channel_may_overflow(b, w, o, g.cg * g.kk)) {
            gather(d, &g, s, w, b, shift, y);
            return EH_OK;
        }
    }

    for (o = 0; o < d->c_out; o++) {
        int32_t *a = scratch + o * g.plane_out;
        const int32_t v = b != 0 ? b[o] : 0;
        for (i = 0; i < g.plane_out; i++) a[i] = v;
    }

    eh_conv2d_axis_init(&ah, d->stride_h, d->dil_h, d->k_h, g.h_out);
    eh_conv2d_axis_init(&aw, d->stride_w, d->dil_w, d->k_w, g.w_out);
    {
        const uint32_t ws = g.cg * g.kk;            /* weights: from one output channel to the next */
        const uint32_t ps = g.plane_out;            /* accumulators: the same */
        const uint32_t wky = ah.step_k * d->k_w;    /* weights: from one reached row tap to the next */
        const uint32_t aoy = ah.step_o * g.w_out;   /* accumulators: the same (going up) */
        for (ci = 0; ci < d->c_in; ci++) {
            const uint32_t grp = ci / g.cg;
            const int16_t *wc = w + (grp * g.og * g.cg + (ci - grp * g.cg)) * g.kk;
            int32_t *ac = scratch + grp * g.og * ps;
            const uint8_t *sc = s + ci * g.plane_in;
            for (iy = 0; iy < d->h_in; iy++) {
                const uint8_t *sr = sc + iy * d->w_in;
                uint32_t ky0 = 0, oy0 = 0, ny;
                ny = eh_conv2d_reach(&ah, iy + d->pad_top, &ky0, &oy0);
                if (ny == 0u) continue;
                for (ix = 0; ix < d->w_in; ix++) {
                    uint32_t kx0, ox0, nx, ry, rx;
                    if (sr[ix] == 0u) {
                        /* skip a word of silence at a time where it is aligned */
                        if ((((uintptr_t)(sr + ix)) & 3u) == 0u) {
                            while (ix + 4u <= d->w_in) {
                                uint32_t v;
                                memcpy(&v, sr + ix, 4);
                                if (v != 0u) break;
                                ix += 4u;
                            }
                            if (ix >= d->w_in || sr[ix] == 0u) continue;
                        } else {
                            continue;
                        }
                    }
                    nx = eh_conv2d_reach(&aw, ix + d->pad_left, &kx0, &ox0);
                    if (nx == 0u) continue;
                    {
                        /* indices, not pointers stepped past the buffers' start */
                        uint32_t wy = ky0 * d->k_w + kx0, ay = oy0 * g.w_out + ox0;
                        for (ry = 0; ry < ny; ry++, wy += wky, ay -= aoy) {
                            uint32_t wx = wy, ax = ay;
                            for (rx = 0; rx < nx; rx++, wx += aw.step_k, ax -= aw.step_o)
                                add_tap(ac + ax, wc + wx, g.og, ps, ws);
                        }
                    }
                }
            }
        }
    }

    for (i = 0; i < d->c_out * g.plane_out; i++) y[i] = eh_conv2d_out32_q15(scratch[i], shift);
    return EH_OK;
}
