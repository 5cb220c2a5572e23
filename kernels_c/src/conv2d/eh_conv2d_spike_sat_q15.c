#include <string.h>
#include "eh_conv2d_internal.h"

/*
 * Event-driven Q15 convolution on spikes, saturating 16-bit currents (eh_conv2d.h). The currents
 * are the caller's scratch [h_out][w_out][c_out] int16, channels innermost, so the og output
 * channels one (spike, tap) reaches are contiguous in the currents and in the tap-major weights:
 * on the DSP extension two of them per 32-bit load, QADD16 and store (each lane saturates like
 * sat16, so the result is the portable loop's bit for bit). The taps a spike reaches come from
 * eh_conv2d_reach (rows once per input row, columns per spike), as in eh_conv2d_spike_q15; the
 * spikes are visited in (ci, iy, ix) order, the order the header's arithmetic names. Finally the
 * currents are written channel-major into y.
 */

#if (defined(__ARM_FEATURE_DSP) && defined(__GNUC__)) || defined(EH_CONV2D_EMULATE_DSP)
#define EH_SAT_DSP 1
static inline uint32_t qadd16(uint32_t a, uint32_t b)
{
#if defined(__ARM_FEATURE_DSP) && !defined(EH_CONV2D_EMULATE_DSP)
    uint32_t r;
    __asm__("qadd16 %0, %1, %2" : "=r"(r) : "r"(a), "r"(b));
    return r;
#else
    const uint32_t lo = (uint16_t)eh_sat16((int32_t)(int16_t)(a & 0xFFFFu) + (int16_t)(b & 0xFFFFu));
    const uint32_t hi = (uint16_t)eh_sat16((int32_t)(int16_t)(a >> 16) + (int16_t)(b >> 16));
    return lo | (hi << 16);
#endif
}
#else
#define EH_SAT_DSP 0
#endif

/* The spikes of the n inputs: EH_OK when all are 0 or 1. */
static eh_status spikes_ok(const uint8_t *s, uint32_t n)
{
    uint32_t i = 0, bad = 0;
    for (; i < n && ((uintptr_t)(s + i) & 3u) != 0u; i++) bad |= s[i];
    for (; i + 4u <= n; i += 4u) {
        uint32_t v;
        __builtin_memcpy(&v, s + i, 4);
        bad |= v;
    }
    for (; i < n; i++) bad |= s[i];
    return (bad & 0xFEFEFEFEu) != 0u ? EH_ERR_RANGE : EH_OK;
}

/* acc[c] = sat16(acc[c] + w[c]) for c < n. */
static inline void add_sat(int16_t *acc, const int16_t *w, uint32_t n)
{
#if EH_SAT_DSP
    /* __builtin_memcpy: one (unaligned) LDR/STR each, also under -ffreestanding (-fno-builtin) */
    for (; n >= 4u; n -= 4u, acc += 4, w += 4) {
        uint32_t a0, a1, w0, w1;
        __builtin_memcpy(&a0, acc, 4);
        __builtin_memcpy(&a1, acc + 2, 4);
        __builtin_memcpy(&w0, w, 4);
        __builtin_memcpy(&w1, w + 2, 4);
        a0 = qadd16(a0, w0);
        a1 = qadd16(a1, w1);
        __builtin_memcpy(acc, &a0, 4);
        __builtin_memcpy(acc + 2, &a1, 4);
    }
    if (n >= 2u) {
        uint32_t a0, w0;
        __builtin_memcpy(&a0, acc, 4);
        __builtin_memcpy(&w0, w, 4);
        a0 = qadd16(a0, w0);
        __builtin_memcpy(acc, &a0, 4);
        n -= 2u;
        acc += 2;
        w += 2;
    }
    if (n != 0u) *acc = eh_sat16((int32_t)*acc + *w);
#else
    uint32_t c;
    for (c = 0; c < n; c++) acc[c] = eh_sat16((int32_t)acc[c] + w[c]);
#endif
}

eh_status eh_conv2d_spike_sat_q15(const eh_conv2d_dims *d, const uint8_t *s, const int16_t *wt,
                                  const int16_t *b, int16_t *scratch, int16_t *y)
{
    eh_conv2d_geom g;
    eh_conv2d_axis ah, aw;
    eh_status st;
    uint32_t o, p, ci, iy, ix;
    if (d == 0 || s == 0 || wt == 0 || scratch == 0 || y == 0) return EH_ERR_NULL;
    if ((st = eh_conv2d_check(d, &g)) != EH_OK) return st;
    if ((st = spikes_ok(s, d->c_in * g.plane_in)) != EH_OK) return st;

    {
        int16_t *a = scratch;
        for (p = 0; p < g.plane_out; p++, a += d->c_out) {
            if (b != 0) {
                for (o = 0; o < d->c_out; o++) a[o] = b[o];
            } else {
                for (o = 0; o < d->c_out; o++) a[o] = 0;
            }
        }
    }

    eh_conv2d_axis_init(&ah, d->stride_h, d->dil_h, d->k_h, g.h_out);
    eh_conv2d_axis_init(&aw, d->stride_w, d->dil_w, d->k_w, g.w_out);
    {
        const uint32_t og = g.og, co = d->c_out;
        const uint32_t wky = ah.step_k * d->k_w * og; /* weights: from one reached row tap to the next */
        const uint32_t wkx = aw.step_k * og;          /* ... column tap */
        const uint32_t aoy = ah.step_o * g.w_out * co; /* currents: the same (going up) */
        const uint32_t aox = aw.step_o * co;
        for (ci = 0; ci < d->c_in; ci++) {
            const uint32_t grp = ci / g.cg;
            const int16_t *wc = wt + ci * g.kk * og;
            int16_t *ac = scratch + grp * og;
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
                                __builtin_memcpy(&v, sr + ix, 4);
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
                        uint32_t wy = (ky0 * d->k_w + kx0) * og, ay = (oy0 * g.w_out + ox0) * co;
                        for (ry = 0; ry < ny; ry++, wy += wky, ay -= aoy) {
                            uint32_t wx = wy, ax = ay;
                            for (rx = 0; rx < nx; rx++, wx += wkx, ax -= aox) add_sat(ac + ax, wc + wx, og);
                        }
                    }
                }
            }
        }
    }

    {
        const int16_t *a = scratch;
        for (p = 0; p < g.plane_out; p++, a += d->c_out)
            for (o = 0; o < d->c_out; o++) y[o * g.plane_out + p] = a[o];
    }
    return EH_OK;
}
