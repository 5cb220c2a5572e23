#include "eh_basic.h"
#include "eh_basic_internal.h"
#include "eh_dsp_s8.h"

/* The dot products of a row are summed in blocks of EH_S8_DOT_BLOCK inputs, each of which
 * fits int32 without wrapping (|(x + x_offset) * w| <= 255 * 128), and the blocks in 64 bits:
 * the result is the exact sum whatever n_in. */


static int8_t eh_fc_s8_out(int64_t dot, const int32_t *b, uint32_t o, const int32_t *mult,
                           const int32_t *shift, uint32_t per_channel, int32_t y_offset)
{
    const uint32_t c = per_channel ? o : 0u;
    int32_t acc = eh_sat32(dot + (b != 0 ? (int64_t)b[o] : 0));
    acc = eh_requant_s32(acc, mult[c], shift[c]);
    return eh_sat8((int32_t)eh_sat32((int64_t)acc + y_offset));
}

eh_status eh_fc_s8(uint32_t n_in, uint32_t n_out, const int8_t *x, int32_t x_offset,
                   const int8_t *w, const int32_t *b, const int32_t *mult, const int32_t *shift,
                   uint32_t per_channel, int32_t y_offset, int8_t *y)
{
    uint32_t o, i0, nc, c;
    eh_status st;
    if (x == 0 || w == 0 || mult == 0 || shift == 0 || y == 0) return EH_ERR_NULL;
    if ((st = eh_fc_size_check(n_in, n_out)) != EH_OK) return st;
    if (per_channel > 1u) return EH_ERR_ARG;
    if (x_offset < -127 || x_offset > 128 || y_offset < -128 || y_offset > 127) return EH_ERR_RANGE;
    nc = per_channel ? n_out : 1u;
    for (c = 0; c < nc; c++)
        if (mult[c] < 0 || shift[c] < -31 || shift[c] > 30) return EH_ERR_RANGE;

#if defined(EH_FC_S8_DSP)
    o = 0;
    for (; o + 2u < n_out; o += 3u) {
        const int8_t *w0 = w + (uint32_t)(o * n_in);
        int64_t t0 = 0, t1 = 0, t2 = 0;
        for (i0 = 0; i0 < n_in; i0 += EH_S8_DOT_BLOCK) {
            const uint32_t len = n_in - i0 < EH_S8_DOT_BLOCK ? n_in - i0 : EH_S8_DOT_BLOCK;
            int32_t s[3];
            eh_s8_dot3_dsp(x + i0, w0 + i0, n_in, len, x_offset, s);
            t0 += s[0];
            t1 += s[1];
            t2 += s[2];
        }
        y[o] = eh_fc_s8_out(t0, b, o, mult, shift, per_channel, y_offset);
        y[o + 1u] = eh_fc_s8_out(t1, b, o + 1u, mult, shift, per_channel, y_offset);
        y[o + 2u] = eh_fc_s8_out(t2, b, o + 2u, mult, shift, per_channel, y_offset);
    }
    if (o + 1u < n_out) {
        const int8_t *w0 = w + (uint32_t)(o * n_in);
        int64_t t0 = 0, t1 = 0;
        for (i0 = 0; i0 < n_in; i0 += EH_S8_DOT_BLOCK) {
            const uint32_t len = n_in - i0 < EH_S8_DOT_BLOCK ? n_in - i0 : EH_S8_DOT_BLOCK;
            int32_t s0, s1;
            eh_s8_dot2_dsp(x + i0, w0 + i0, w0 + n_in + i0, len, x_offset, &s0, &s1);
            t0 += s0;
            t1 += s1;
        }
        y[o] = eh_fc_s8_out(t0, b, o, mult, shift, per_channel, y_offset);
        y[o + 1u] = eh_fc_s8_out(t1, b, o + 1u, mult, shift, per_channel, y_offset);
        o += 2u;
    }
    if (o < n_out) {
        const int8_t *w0 = w + (uint32_t)(o * n_in);
        int64_t t0 = 0;
        for (i0 = 0; i0 < n_in; i0 += EH_S8_DOT_BLOCK) {
            const uint32_t len = n_in - i0 < EH_S8_DOT_BLOCK ? n_in - i0 : EH_S8_DOT_BLOCK;
            t0 += eh_s8_dot1_dsp(x + i0, w0 + i0, len, x_offset);
        }
        y[o] = eh_fc_s8_out(t0, b, o, mult, shift, per_channel, y_offset);
    }
#else
    for (o = 0; o < n_out; o++) {
        const int8_t *row = w + (uint32_t)(o * n_in);
        int64_t t = 0;
        for (i0 = 0; i0 < n_in; i0 += EH_S8_DOT_BLOCK) {
            const uint32_t len = n_in - i0 < EH_S8_DOT_BLOCK ? n_in - i0 : EH_S8_DOT_BLOCK;
            t += eh_s8_dot(x + i0, row + i0, len, x_offset);
        }
        y[o] = eh_fc_s8_out(t, b, o, mult, shift, per_channel, y_offset);
    }
#endif
    return EH_OK;
}
