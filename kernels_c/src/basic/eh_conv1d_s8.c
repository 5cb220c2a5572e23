#include "eh_basic.h"
#include "eh_basic_internal.h"
#include "eh_dsp_s8.h"

/* Output t reads the positions p = t * stride - pad + k, k in [k0, k1) (the others are padding):
 * with the input position-major, that window is one contiguous run of (k1 - k0) * n_in int8
 * values, and each filter's taps k0..k1-1 are a contiguous run of its row. So every output is a
 * dot product of two contiguous vectors of at most taps * n_in <= 65536 = EH_S8_DOT_BLOCK values,
 * which fits int32 exactly (|(x + x_offset) w| <= 255 * 128): the DSP path (eh_fc_s8's, three
 * filters per load of the window) is bit-exact with the portable one. */

#if !defined(EH_FC_S8_DSP)
static int32_t eh_conv_s8_dot(const int8_t *x, const int8_t *w, uint32_t n, int32_t off)
{
    int32_t acc = 0;
    uint32_t i;
    for (i = 0; i < n; i++) acc += ((int32_t)x[i] + off) * (int32_t)w[i];
    return acc;
}
#endif

static int8_t eh_conv_s8_out(int32_t dot, const int32_t *b, uint32_t o, const int32_t *mult,
                             const int32_t *shift, uint32_t per_channel, int32_t y_offset,
                             int32_t act_min, int32_t act_max)
{
    const uint32_t q = per_channel ? o : 0u;
    int32_t acc = b != 0 ? eh_sat32((int64_t)dot + b[o]) : dot;
    acc = eh_requant_s32(acc, mult[q], shift[q]);
    acc = (int32_t)eh_sat8((int32_t)eh_sat32((int64_t)acc + y_offset));
    if (acc < act_min) acc = act_min;
    if (acc > act_max) acc = act_max;
    return (int8_t)acc;
}

static eh_status eh_conv1d_s8_check_dims(const eh_conv1d_s8_dims *d)
{
    if (d->n_in == 0u || d->t_in == 0u || d->n_out == 0u || d->taps == 0u || d->stride == 0u || d->t_out == 0u)
        return EH_ERR_SIZE;
    if ((uint64_t)d->taps * d->n_in > EH_S8_DOT_BLOCK || d->pad >= d->taps) return EH_ERR_SIZE;
    if ((uint64_t)(d->t_out - 1u) * d->stride >= (uint64_t)d->t_in + d->pad) return EH_ERR_SIZE;
    if ((uint64_t)d->t_in * d->n_in > UINT32_MAX || (uint64_t)d->t_out * d->n_out > UINT32_MAX ||
        (uint64_t)d->n_out * d->taps * d->n_in > UINT32_MAX)
        return EH_ERR_SIZE;
    return EH_OK;
}

eh_status eh_conv1d_s8(const eh_conv1d_s8_dims *d, const int8_t *x, int32_t x_offset, const int8_t *w,
                       const int32_t *b, const int32_t *mult, const int32_t *shift, uint32_t per_channel,
                       int32_t y_offset, int32_t act_min, int32_t act_max, int8_t *y)
{
    uint32_t t, o, nq, q, row;
    eh_status st;
    if (d == 0 || x == 0 || w == 0 || mult == 0 || shift == 0 || y == 0) return EH_ERR_NULL;
    if ((st = eh_conv1d_s8_check_dims(d)) != EH_OK) return st;
    if (per_channel > 1u) return EH_ERR_ARG;
    if (x_offset < -127 || x_offset > 128 || y_offset < -128 || y_offset > 127) return EH_ERR_RANGE;
    if (act_min < -128 || act_min > 127 || act_max < act_min || act_max > 127) return EH_ERR_RANGE;
    nq = per_channel ? d->n_out : 1u;
    for (q = 0; q < nq; q++)
        if (mult[q] < 0 || shift[q] < -31 || shift[q] > 30) return EH_ERR_RANGE;

    row = d->taps * d->n_in; /* one filter: taps x n_in weights */
    for (t = 0; t < d->t_out; t++) {
        /* the window's first position, which may lie in the left padding */
        const int64_t p0 = (int64_t)t * d->stride - (int64_t)d->pad;
        const uint32_t k0 = p0 < 0 ? (uint32_t)(-p0) : 0u;
        const int64_t left = (int64_t)d->t_in - p0; /* positions from p0 to the end of x */
        const uint32_t k1 = left < (int64_t)d->taps ? (uint32_t)left : d->taps;
        const uint32_t len = (k1 - k0) * d->n_in;
        const int8_t *xw = x + (uint32_t)(p0 + (int64_t)k0) * d->n_in;
        const int8_t *w0 = w + k0 * d->n_in;
        int8_t *yt = y + t * d->n_out;
#if defined(EH_FC_S8_DSP)
        o = 0;
        for (; o + 2u < d->n_out; o += 3u) {
            int32_t s[3];
            eh_s8_dot3_dsp(xw, w0 + o * row, row, len, x_offset, s);
            yt[o] = eh_conv_s8_out(s[0], b, o, mult, shift, per_channel, y_offset, act_min, act_max);
            yt[o + 1u] = eh_conv_s8_out(s[1], b, o + 1u, mult, shift, per_channel, y_offset, act_min, act_max);
            yt[o + 2u] = eh_conv_s8_out(s[2], b, o + 2u, mult, shift, per_channel, y_offset, act_min, act_max);
        }
        if (o + 1u < d->n_out) {
            int32_t s0, s1;
            eh_s8_dot2_dsp(xw, w0 + o * row, w0 + (o + 1u) * row, len, x_offset, &s0, &s1);
            yt[o] = eh_conv_s8_out(s0, b, o, mult, shift, per_channel, y_offset, act_min, act_max);
            yt[o + 1u] = eh_conv_s8_out(s1, b, o + 1u, mult, shift, per_channel, y_offset, act_min, act_max);
            o += 2u;
        }
        if (o < d->n_out)
            yt[o] = eh_conv_s8_out(eh_s8_dot1_dsp(xw, w0 + o * row, len, x_offset), b, o, mult, shift, per_channel,
                                   y_offset, act_min, act_max);
#else
        for (o = 0; o < d->n_out; o++)
            yt[o] = eh_conv_s8_out(eh_conv_s8_dot(xw, w0 + o * row, len, x_offset), b, o, mult, shift, per_channel,
                                   y_offset, act_min, act_max);
#endif
    }
    return EH_OK;
}
