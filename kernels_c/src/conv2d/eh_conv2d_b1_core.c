#include "eh_conv2d_b1_core.h"
#include "../binary/eh_b1_core.h"
#include "../binary/eh_b1_cfu.h" /* the edgehost SoC's custom unit, where EH_HAVE_RV_CFU */

/*
 * The binary conv2d core. Per output pixel the valid tap ranges are computed once
 * (eh_conv2d_taps); when c_in is a multiple of 32 (no padding bits) and the kernel's words fit
 * the local buffer, the taps' words are gathered into one contiguous row in the weights' order
 * (padding taps as 0 words: +1 values), so each output channel is one long XOR-popcount row:
 * the Harley-Seal assembly of the binary FC on Cortex-M4 (eh_b1_hs), one BFC instruction of the
 * custom unit on the edgehost SoC (EH_B1_CFU), the portable counters elsewhere. A border pixel
 * with excluded padding (PAD_ZERO) counts each kernel row's valid taps as one segment (eh_b1_hs
 * accumulating the counts on Cortex-M4, one BDOT per channel and row on the custom unit). Everything else takes the
 * reference per-tap loop (masked last words, the padding taps' weights counted for PAD_ONE).
 * All paths compute dot = n * c_in - 2 * count exactly (the counts are exact integers).
 */

eh_status eh_conv2d_b1_init(eh_conv2d_b1_ctx *c, const eh_conv2d_dims *d, uint32_t pad_value,
                            const uint32_t *x, const uint32_t *w)
{
    eh_status st;
    if ((st = eh_conv2d_check(d, &c->g)) != EH_OK) return st;
    if (d->groups != 1u) return EH_ERR_RANGE;
    if (pad_value > 1u) return EH_ERR_RANGE;
    if ((uint64_t)c->g.kk * d->c_in > (uint64_t)EH_CONV2D_B1_MAX_N) return EH_ERR_SIZE;
    c->d = d;
    c->x = x;
    c->w = w;
    c->cw = eh_b1_nwords(d->c_in);
    c->tail = eh_b1_tail(d->c_in);
    c->rs = c->g.kk * c->cw;
    c->pad_one = pad_value;
    c->use_col = (d->c_in & 31u) == 0u && c->rs <= (uint32_t)EH_CONV2D_B1_COL_WORDS;
    return EH_OK;
}

void eh_conv2d_b1_pixel(const eh_conv2d_b1_ctx *c, uint32_t oy, uint32_t ox, eh_conv2d_b1_px *p)
{
    const eh_conv2d_dims *d = c->d;
    const int32_t by = (int32_t)(oy * d->stride_h) - (int32_t)d->pad_top;
    const int32_t bx = (int32_t)(ox * d->stride_w) - (int32_t)d->pad_left;
    const uint32_t cw = c->cw;
    uint32_t ky, kx, j;
    eh_conv2d_taps(by, d->h_in, d->dil_h, d->k_h, &p->ky0, &p->ky1);
    eh_conv2d_taps(bx, d->w_in, d->dil_w, d->k_w, &p->kx0, &p->kx1);
    p->full = p->ky0 == 0u && p->ky1 == d->k_h && p->kx0 == 0u && p->kx1 == d->k_w;
    p->n = c->pad_one ? c->g.kk : (p->ky1 - p->ky0) * (p->kx1 - p->kx0);
    p->xpix = 0;
    if (p->ky1 > p->ky0 && p->kx1 > p->kx0)
        p->xpix = c->x + ((uint64_t)(uint32_t)(by + (int32_t)(p->ky0 * d->dil_h)) * d->w_in +
                          (uint32_t)(bx + (int32_t)(p->kx0 * d->dil_w))) * cw;
    if (!c->use_col) return;
    {
        uint32_t *q = p->col;
        for (ky = 0; ky < d->k_h; ky++) {
            if (ky < p->ky0 || ky >= p->ky1) {
                for (j = 0; j < d->k_w * cw; j++) *q++ = 0u;
                continue;
            }
            {
                const uint32_t iy = (uint32_t)(by + (int32_t)(ky * d->dil_h));
                const uint32_t *xr = c->x + (uint64_t)iy * d->w_in * cw;
                for (kx = 0; kx < d->k_w; kx++, q += cw) {
                    if (kx < p->kx0 || kx >= p->kx1) {
                        for (j = 0; j < cw; j++) q[j] = 0u;
                    } else {
                        const uint32_t *s = xr + (uint32_t)(bx + (int32_t)(kx * d->dil_w)) * cw;
                        for (j = 0; j < cw; j++) q[j] = s[j];
                    }
                }
            }
        }
    }
}

/* The reference: per tap, four output channels at a time, last words masked. */
static void dots_ref(const eh_conv2d_b1_ctx *c, const eh_conv2d_b1_px *p, uint32_t o0,
                     uint32_t rows, int32_t *dot)
{
    const eh_conv2d_dims *d = c->d;
    const uint32_t cw = c->cw, rs = c->rs;
    uint32_t r0, r, ky, kx;
    for (r0 = 0; r0 < rows; r0 += 4u) {
        const uint32_t nr = rows - r0 < 4u ? rows - r0 : 4u;
        const uint32_t *wo = c->w + (uint64_t)(o0 + r0) * rs;
        uint32_t cnt[4] = {0u, 0u, 0u, 0u};
        for (ky = 0; ky < d->k_h; ky++) {
            for (kx = 0; kx < d->k_w; kx++) {
                const uint32_t t = (ky * d->k_w + kx) * cw;
                if (ky >= p->ky0 && ky < p->ky1 && kx >= p->kx0 && kx < p->kx1) {
                    const uint32_t *xp = p->xpix + ((ky - p->ky0) * d->dil_h * d->w_in + (kx - p->kx0) * d->dil_w) * cw;
                    eh_b1_count_rows(xp, wo + t, rs, nr, cw, c->tail, cnt);
                } else if (c->pad_one) {
                    for (r = 0; r < nr; r++) cnt[r] += eh_b1_count_zero(wo + r * rs + t, cw, c->tail);
                }
            }
        }
        for (r = 0; r < nr; r++) dot[r0 + r] = (int32_t)(p->n * c->d->c_in) - 2 * (int32_t)cnt[r];
    }
}

void eh_conv2d_b1_dots(const eh_conv2d_b1_ctx *c, const eh_conv2d_b1_px *p, uint32_t o0,
                       uint32_t rows, int32_t *dot)
{
    const uint32_t rs = c->rs, nall = c->g.kk * c->d->c_in;
    const uint32_t *wo = c->w + (uint64_t)o0 * rs;
    uint32_t r;
    if (c->use_col && (p->full || c->pad_one)) {
        /* one row of rs words per output channel; the rows are consecutive in w */
#if defined(EH_B1_HS)
        eh_b1_hs(p->col, wo, rs, 0xFFFFFFFFu, rows, rs, dot, (int32_t)nall);
#elif defined(EH_B1_CFU)
        eh_b1_cfu_dots(p->col, wo, nall, rows, dot);
#else
        uint32_t r0;
        for (r0 = 0; r0 < rows; r0 += 4u) {
            const uint32_t nr = rows - r0 < 4u ? rows - r0 : 4u;
            uint32_t cnt[4] = {0u, 0u, 0u, 0u};
            eh_b1_count_rows(p->col, wo + r0 * rs, rs, nr, rs, 0xFFFFFFFFu, cnt);
            for (r = 0; r < nr; r++) dot[r0 + r] = eh_b1_dot(nall, cnt[r]);
        }
#endif
        return;
    }
#if defined(EH_B1_HS)
    if (c->use_col) {
        /* PAD_ZERO at the border: each valid kernel row's taps as one segment, counts summed */
        const uint32_t k_w = c->d->k_w, seg = (p->kx1 - p->kx0) * c->cw;
        uint32_t ky;
        for (r = 0; r < rows; r++) dot[r] = 0;
        if (seg != 0u) {
            for (ky = p->ky0; ky < p->ky1; ky++) {
                const uint32_t off = (ky * k_w + p->kx0) * c->cw;
                eh_b1_hs(p->col + off, wo + off, seg, 0xFFFFFFFFu, rows, rs, dot, 0);
            }
        }
        for (r = 0; r < rows; r++) dot[r] = (int32_t)(p->n * c->d->c_in) - 2 * dot[r];
        return;
    }
#elif defined(EH_B1_CFU)
    if (c->use_col) {
        /* PAD_ZERO at the border: BDOT counts each valid kernel row's segment (no masking needed:
         * c_in is a multiple of 32) */
        const uint32_t k_w = c->d->k_w, seg = (p->kx1 - p->kx0) * c->cw;
        uint32_t ky;
        if (seg != 0u) eh_cfu_setlen(seg, dot);
        for (r = 0; r < rows; r++) {
            uint32_t cnt = 0;
            if (seg != 0u) {
                for (ky = p->ky0; ky < p->ky1; ky++) {
                    const uint32_t off = (ky * k_w + p->kx0) * c->cw;
                    cnt += eh_cfu_bdot(p->col + off, wo + r * rs + off);
                }
            }
            dot[r] = (int32_t)(p->n * c->d->c_in) - 2 * (int32_t)cnt;
        }
        return;
    }
#endif
    (void)nall;
    dots_ref(c, p, o0, rows, dot);
}
