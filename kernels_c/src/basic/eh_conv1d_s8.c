#include "eh_basic.h"
#include "eh_basic_internal.h"
#include "eh_dsp_s8.h"

/* Output t reads the positions p = t * stride - pad + k, k in [k0, k1) (the others are padding):
 * with the input position-major, that window is one contiguous run of (k1 - k0) * n_in int8
 * values, and each filter's taps k0..k1-1 are a contiguous run of its row. So every output is a
 * dot product of two contiguous vectors of at most taps * n_in <= 65536 = EH_S8_DOT_BLOCK values,
 * which fits int32 exactly (|(x + x_offset) w| <= 255 * 128): the DSP path (eh_fc_s8's, three
 * filters per load of the window) is bit-exact with the portable one. */


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

static uint32_t eh_conv_s8_fast(const eh_conv1d_s8_dims *d, const int32_t *b, const int32_t *shift, uint32_t nq)
{
    return eh_s8_out_fast_ok(b, d->n_out, shift, nq, d->taps * d->n_in);
}

#if defined(EH_FC_S8_DSP)
/* The DSP path's requantisation, checked once per call (eh_conv_s8_dsp_ok): besides
 * eh_conv_s8_fast's conditions, every shift is <= -1 (e = -shift >= 1) and |b[o]| + taps n_in
 * 255 128 < 2^30, so |acc| < 2^30 and 2 acc fits int32. Then eh_conv_s8_out_fast's
 * floor((acc mult + 2^30) / 2^31) = floor((2 acc mult + 2^31) / 2^32) is SMMULR(2 acc, mult);
 * |v| <= |acc| < 2^30 since mult < 2^31. Its rounding division by 2^e, (v >> e) + (v & mask >
 * (mask >> 1) + [v < 0]), is floor((v + 2^(e-1)) / 2^e) for v >= 0 and
 * floor((v + 2^(e-1) - 1) / 2^e) for v < 0, i.e. (v + 2^(e-1) + (v >> 31)) >> e (no overflow:
 * |v| < 2^30). sat8(v + y_offset) is SSAT #8 (no overflow either), then the activation clamp,
 * skipped when it is [-128, 127] (ssat_only). Bit-exact with eh_conv_s8_out. */
static uint32_t eh_conv_s8_dsp_ok(const eh_conv1d_s8_dims *d, const int32_t *b, const int32_t *shift, uint32_t nq)
{
    const int64_t lim = ((int64_t)1 << 30) - 1 - (int64_t)d->taps * d->n_in * 32640;
    uint32_t i;
    if (lim < 0) return 0;
    for (i = 0; i < nq; i++)
        if (shift[i] > -1) return 0;
    for (i = 0; b != 0 && i < d->n_out; i++)
        if (b[i] > lim || b[i] < -lim) return 0;
    return 1;
}

static inline __attribute__((always_inline)) int8_t eh_conv_s8_out_dsp(int32_t acc, int32_t mult, int32_t shift,
                                                                       int32_t y_offset, int32_t act_min,
                                                                       int32_t act_max, int ssat_only)
{
    const uint32_t e = (uint32_t)(-shift);
    int32_t v = eh_smmulr((int32_t)((uint32_t)acc << 1), mult);
    v = (v + (int32_t)(1u << (e - 1u)) + (v >> 31)) >> e;
    v = eh_ssat8(v + y_offset);
    if (!ssat_only) {
        if (v < act_min) v = act_min;
        if (v > act_max) v = act_max;
    }
    return (int8_t)v;
}

/* Every output with the DSP dot products (three filters per load of the window, then two, then
 * one) and eh_conv_s8_out_dsp; qm / bm are all ones when mult / shift / b are per channel, else
 * 0 (b: one zero entry when absent). */
static inline __attribute__((always_inline)) void eh_conv1d_s8_dsp(const eh_conv1d_s8_dims *d, const int8_t *x,
                                                                   int32_t x_offset, const int8_t *w, const int32_t *b,
                                                                   uint32_t bm, const int32_t *mult, const int32_t *shift,
                                                                   uint32_t qm, int32_t y_offset, int32_t act_min,
                                                                   int32_t act_max, int8_t *y, int ssat_only)
{
    const uint32_t row = d->taps * d->n_in, n_out = d->n_out;
    uint32_t t, o;
    for (t = 0; t < d->t_out; t++) {
        const int64_t p0 = (int64_t)t * d->stride - (int64_t)d->pad;
        const uint32_t k0 = p0 < 0 ? (uint32_t)(-p0) : 0u;
        const int64_t left = (int64_t)d->t_in - p0;
        const uint32_t k1 = left < (int64_t)d->taps ? (uint32_t)left : d->taps;
        const uint32_t len = (k1 - k0) * d->n_in;
        const int8_t *xw = x + (uint32_t)(p0 + (int64_t)k0) * d->n_in;
        const int8_t *wo = w + k0 * d->n_in;
        int8_t *yt = y + t * n_out;
        int32_t s[3];
        for (o = 0; o + 3u <= n_out; o += 3u, wo += 3u * row) {
            uint32_t j;
            eh_s8_dot3_dsp(xw, wo, row, len, x_offset, s);
            for (j = 0; j < 3u; j++) {
                const uint32_t oj = o + j;
                yt[oj] = eh_conv_s8_out_dsp(s[j] + b[oj & bm], mult[oj & qm], shift[oj & qm], y_offset, act_min, act_max,
                                            ssat_only);
            }
        }
        if (n_out - o == 2u) {
            eh_s8_dot2_dsp(xw, wo, wo + row, len, x_offset, &s[0], &s[1]);
            yt[o] = eh_conv_s8_out_dsp(s[0] + b[o & bm], mult[o & qm], shift[o & qm], y_offset, act_min, act_max, ssat_only);
            o++;
            yt[o] = eh_conv_s8_out_dsp(s[1] + b[o & bm], mult[o & qm], shift[o & qm], y_offset, act_min, act_max, ssat_only);
        } else if (n_out - o == 1u) {
            s[0] = eh_s8_dot1_dsp(xw, wo, len, x_offset);
            yt[o] = eh_conv_s8_out_dsp(s[0] + b[o & bm], mult[o & qm], shift[o & qm], y_offset, act_min, act_max, ssat_only);
        }
    }
}
#endif

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
    uint32_t t, o, nq, q, row, fast, g = 1u;
    int32_t lo, hi;
    eh_status st;
    if (d == 0 || x == 0 || w == 0 || mult == 0 || shift == 0 || y == 0) return EH_ERR_NULL;
    if ((st = eh_conv1d_s8_check_dims(d)) != EH_OK) return st;
    if (per_channel > 1u) return EH_ERR_ARG;
    if (x_offset < -127 || x_offset > 128 || y_offset < -128 || y_offset > 127) return EH_ERR_RANGE;
    if (act_min < -128 || act_min > 127 || act_max < act_min || act_max > 127) return EH_ERR_RANGE;
    nq = per_channel ? d->n_out : 1u;
    for (q = 0; q < nq; q++)
        if (mult[q] < 0 || shift[q] < -31 || shift[q] > 30) return EH_ERR_RANGE;
#if defined(EH_FC_S8_DSP)
    if (eh_conv_s8_dsp_ok(d, b, shift, nq)) {
        const int32_t zero = 0;
        const uint32_t qm = nq > 1u ? ~0u : 0u, bm = b != 0 ? ~0u : 0u;
        if (act_min == -128 && act_max == 127)
            eh_conv1d_s8_dsp(d, x, x_offset, w, b != 0 ? b : &zero, bm, mult, shift, qm, y_offset, -128, 127, y, 1);
        else
            eh_conv1d_s8_dsp(d, x, x_offset, w, b != 0 ? b : &zero, bm, mult, shift, qm, y_offset, act_min, act_max, y, 0);
        return EH_OK;
    }
#endif
    fast = eh_conv_s8_fast(d, b, shift, nq);

    row = d->taps * d->n_in; /* one filter: taps x n_in weights */
    lo = act_min - y_offset;
    hi = act_max - y_offset;
    /* Output t reads positions p0 + k0 .. p0 + k1 - 1 (p0 = t stride - pad; the others are
     * padding): one contiguous run of x, and of each filter's row. */
    for (t = 0; t < d->t_out; t++) {
        const int64_t p0 = (int64_t)t * d->stride - (int64_t)d->pad;
        const uint32_t k0 = p0 < 0 ? (uint32_t)(-p0) : 0u;
        const int64_t left = (int64_t)d->t_in - p0; /* positions from p0 to the end of x */
        const uint32_t k1 = left < (int64_t)d->taps ? (uint32_t)left : d->taps;
        const uint32_t len = (k1 - k0) * d->n_in;
        const int8_t *xw = x + (uint32_t)(p0 + (int64_t)k0) * d->n_in;
        const int8_t *w0 = w + k0 * d->n_in;
        int8_t *yt = y + t * d->n_out;
        for (o = 0; o < d->n_out; o += g) {
            int32_t s[3];
            uint32_t j;
#if defined(EH_FC_S8_DSP)
            /* three filters share each load of the window (then two, then one) */
            const int8_t *wo = w0 + o * row;
            g = d->n_out - o < 3u ? d->n_out - o : 3u;
            if (g == 3u) eh_s8_dot3_dsp(xw, wo, row, len, x_offset, s);
            else if (g == 2u) eh_s8_dot2_dsp(xw, wo, wo + row, len, x_offset, &s[0], &s[1]);
            else s[0] = eh_s8_dot1_dsp(xw, wo, len, x_offset);
#else
            s[0] = eh_s8_dot(xw, w0 + o * row, len, x_offset);
#endif
            for (j = 0; j < g; j++) {
                const uint32_t oj = o + j, qj = per_channel ? oj : 0u;
                yt[oj] = fast ? eh_s8_out_fast(s[j] + (b != 0 ? b[oj] : 0), mult[qj], shift[qj], lo, hi, y_offset)
                              : eh_conv_s8_out(s[j], b, oj, mult, shift, per_channel, y_offset, act_min, act_max);
            }
        }
    }
    return EH_OK;
}
