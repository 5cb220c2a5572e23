/*
 * The glue every network needs: dense layers (float, Q15, int8, spike-driven), ReLU, argmax,
 * leaky-integrator readout, quantise/dequantise, spike counts.
 *
 * Dense weights are row-major [n_out][n_in] (eh_fc_spike_t_q15: input-major [n_in][n_out]).
 * Bias pointers may be NULL (no bias).
 * Dense layers reject n_in == 0, n_out == 0 and n_in * n_out >= 2^32 with EH_ERR_SIZE.
 * Rounding shifts round half up: rshift(a, s) = floor((a + 2^(s-1)) / 2^s), rshift(a, 0) = a.
 */
#ifndef EH_BASIC_H
#define EH_BASIC_H

#include "eh_common.h"
#include "eh_lif.h"

/* y[o] = b[o] + sum_i w[o][i] * x[i], accumulated in float32 in index order i = 0..n_in-1,
 * starting from 0 and adding b last. */
eh_status eh_fc_f32(uint32_t n_in, uint32_t n_out, const float *x, const float *w,
                    const float *b, float *y);

/* y[o] = sat16(rshift(b[o] + sum_i w[o][i] * x[i], shift)) with a 64-bit accumulator;
 * shift in [0, 31]. */
eh_status eh_fc_q15(uint32_t n_in, uint32_t n_out, const int16_t *x, const int16_t *w,
                    const int32_t *b, uint32_t shift, int16_t *y);

/* Spike-driven dense (no multiplies): y[o] = sat16(rshift(b[o] + sum_{i: s[i] != 0} w[o][i], shift))
 * with a 32-bit accumulator that saturates; s holds 0/1; shift in [0, 31].
 * Exactly: acc = b[o] (0 without bias), then for i = 0..n_in-1 in order, when s[i] == 1,
 * acc = sat32(acc + w[o][i]) (saturation after every addition, so the order matters once
 * the accumulator reaches a limit). A spike value other than 0 or 1 is EH_ERR_RANGE. */
eh_status eh_fc_spike_q15(uint32_t n_in, uint32_t n_out, const uint8_t *s, const int16_t *w,
                          const int32_t *b, uint32_t shift, int16_t *y);

/* eh_fc_spike_q15 with the weights stored input-major (transposed): wt[i][o], n_in rows of n_out
 * int16, so w[o][i] = wt[i][o]. Same result bit for bit, same arguments checked with the same
 * codes: acc = b[o] (0 without bias), then for i = 0..n_in-1 in order, when s[i] == 1,
 * acc = sat32(acc + wt[i][o]); y[o] = sat16(rshift(acc, shift)); s holds 0/1 (else EH_ERR_RANGE),
 * shift in [0, 31]. Event-driven: each active input adds its contiguous row of n_out weights,
 * which vectorises on hosts; the layout to use when n_out is large and the spikes sparse. */
eh_status eh_fc_spike_t_q15(uint32_t n_in, uint32_t n_out, const uint8_t *s, const int16_t *wt,
                            const int32_t *b, uint32_t shift, int16_t *y);

/* int8 dense with TFLite/CMSIS-NN semantics: acc = b[o] + sum_i (x[i] + x_offset) * w[o][i];
 * y[o] = sat8(requant(acc, mult[c], shift[c]) + y_offset), c = o when per_channel else 0,
 * requant = rounding doubling high multiply by mult (Q31) then rounding right shift by -shift
 * (shift <= 0) or left shift by shift (shift > 0), as gemmlowp/TFLite reference kernels do.
 * Exactly (the numpy twin follows this text):
 *   acc = sat32(b[o] + sum_i (x[i] + x_offset) * w[o][i])   (the sum itself is exact)
 *   if shift > 0: acc = sat32(acc * 2^shift)   (TFLite lets this wrap; here it saturates)
 *   acc = SaturatingRoundingDoublingHighMul(acc, mult): (acc * mult + nudge) / 2^31 with C
 *         division truncating toward zero, nudge = 2^30 if acc * mult >= 0 else 1 - 2^30,
 *         and INT32_MAX when acc == mult == INT32_MIN
 *   if shift < 0: acc = RoundingDivideByPOT(acc, -shift): floor(acc / 2^-shift) plus 1 when
 *         the remainder exceeds (2^-shift - 1) / 2 (+1 for negative acc): ties away from zero
 *   y[o] = sat8(acc + y_offset)
 * Ranges (else EH_ERR_RANGE): x_offset in [-127, 128] (= -input zero point), y_offset in
 * [-128, 127], mult[c] >= 0, shift[c] in [-31, 30]; per_channel is 0 or 1 (else EH_ERR_ARG).
 * mult and shift hold n_out entries when per_channel, else 1. Cortex-M cores with the DSP
 * extension run a bit-exact SMLAD/SXTB16 path (two rows x four inputs per iteration). */
eh_status eh_fc_s8(uint32_t n_in, uint32_t n_out, const int8_t *x, int32_t x_offset,
                   const int8_t *w, const int32_t *b, const int32_t *mult, const int32_t *shift,
                   uint32_t per_channel, int32_t y_offset, int8_t *y);

/* Shape of an int8 1-D convolution (eh_conv1d_s8). Input x [t_in][n_in] and output
 * y [t_out][n_out] are position-major (TFLite's NHWC with H = 1), weights w [n_out][taps][n_in]. */
typedef struct {
    uint32_t n_in;   /* input channels, >= 1 */
    uint32_t t_in;   /* input positions, >= 1 */
    uint32_t n_out;  /* output channels (filters), >= 1 */
    uint32_t taps;   /* kernel length, >= 1; taps * n_in <= 65536 */
    uint32_t stride; /* >= 1 */
    uint32_t pad;    /* padding before the first position, in [0, taps - 1] */
    uint32_t t_out;  /* output positions, >= 1, with (t_out - 1) * stride < t_in + pad */
} eh_conv1d_s8_dims;

/* int8 1-D convolution with TFLite/CMSIS-NN semantics (CONV_2D of height 1, per-tensor or
 * per-channel requantisation, padded positions skipped: TFLite pads with the input zero point,
 * whose (x + x_offset) term is 0) and a fused activation clamp. Exactly (the numpy twin follows
 * this text): for t in [0, t_out), o in [0, n_out), with p(k) = t * stride - pad + k,
 *   acc = sat32(b[o] + sum_{k < taps, 0 <= p(k) < t_in} sum_{c < n_in} (x[p(k)][c] + x_offset) * w[o][k][c])
 *   y[t][o] = min(max(sat8(requant(acc, mult[q], shift[q]) + y_offset), act_min), act_max)
 * with q = o when per_channel else 0 and requant exactly eh_fc_s8's. The right padding is
 * implicit: positions p(k) >= t_in are skipped too, so t_out may be any length whose last window
 * starts before the end of the (left-padded) input, e.g. PyTorch's symmetric padding pad with
 * t_out = (t_in + 2 pad - taps) / stride + 1, or TFLite's SAME (pad = the smaller half).
 * Sizes (else EH_ERR_SIZE): every dim >= 1, taps * n_in <= 65536, pad <= taps - 1,
 * (t_out - 1) * stride < t_in + pad, t_in * n_in, t_out * n_out and n_out * taps * n_in < 2^32.
 * Ranges (else EH_ERR_RANGE): x_offset in [-127, 128], y_offset in [-128, 127], act_min in
 * [-128, 127], act_max in [act_min, 127], mult[q] >= 0, shift[q] in [-31, 30]; per_channel 0 or
 * 1 (else EH_ERR_ARG). Cortex-M cores with the DSP extension run a bit-exact SMLAD/SXTB16 path
 * (eh_fc_s8's dot products over each output's window, which is contiguous in x). */
eh_status eh_conv1d_s8(const eh_conv1d_s8_dims *d, const int8_t *x, int32_t x_offset, const int8_t *w,
                       const int32_t *b, const int32_t *mult, const int32_t *shift, uint32_t per_channel,
                       int32_t y_offset, int32_t act_min, int32_t act_max, int8_t *y);

/* y = x > 0 ? x : 0 (so NaN and -0.0 give +0.0); y may alias x. */
eh_status eh_relu_f32(uint32_t n, const float *x, float *y);
eh_status eh_relu_q15(uint32_t n, const int16_t *x, int16_t *y);

/* Index of the largest value; the first one on ties. float: NaN entries are skipped (index 0
 * when every entry is NaN); -0.0 and +0.0 tie. */
eh_status eh_argmax_f32(uint32_t n, const float *x, uint32_t *index);
eh_status eh_argmax_q15(uint32_t n, const int16_t *x, uint32_t *index);
eh_status eh_argmax_s32(uint32_t n, const int32_t *x, uint32_t *index);

/* Leaky-integrator readout (NIR LI / snnTorch readout): y = beta * y + x (float32, two
 * roundings), y = sat16(leak(y) + x) (Q15, eh_leak_q15 of eh_lif.h). beta in [0, 1], 1 or n
 * entries, as for eh_lif_step_f32; the leak is checked as in eh_lif_step_q15. */
eh_status eh_li_step_f32(uint32_t n, const float *x, float *y, const float *beta, uint32_t beta_len);
eh_status eh_li_step_q15(uint32_t n, const int16_t *x, int16_t *y, const eh_leak_q15 *leak);

/* q = sat16(round_half_away_from_zero(x * inv_scale)); NaN maps to 0. x * inv_scale is one
 * float32 multiply (so it may round before the rounding to an integer); inv_scale must be
 * finite and > 0 (else EH_ERR_RANGE). */
eh_status eh_quantize_f32_q15(uint32_t n, const float *x, float inv_scale, int16_t *q);
/* y = q * scale (one float32 multiply); scale finite and > 0 (else EH_ERR_RANGE). */
eh_status eh_dequantize_q15_f32(uint32_t n, const int16_t *q, float scale, float *y);

/* counts[k] += s[k], saturating at UINT16_MAX (any s value is added as it is). */
eh_status eh_spike_count_u16(uint32_t n, const uint8_t *s, uint16_t *counts);

#endif
