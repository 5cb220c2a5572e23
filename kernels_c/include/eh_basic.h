/*
 * The glue every network needs: dense layers (float, Q15, int8, spike-driven), ReLU, argmax,
 * leaky-integrator readout, quantise/dequantise, spike counts.
 *
 * Dense weights are row-major [n_out][n_in]. Bias pointers may be NULL (no bias).
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
 * with a 32-bit accumulator that saturates; s holds 0/1; shift in [0, 31]. */
eh_status eh_fc_spike_q15(uint32_t n_in, uint32_t n_out, const uint8_t *s, const int16_t *w,
                          const int32_t *b, uint32_t shift, int16_t *y);

/* int8 dense with TFLite/CMSIS-NN semantics: acc = b[o] + sum_i (x[i] + x_offset) * w[o][i];
 * y[o] = sat8(requant(acc, mult[c], shift[c]) + y_offset), c = o when per_channel else 0,
 * requant = rounding doubling high multiply by mult (Q31) then rounding right shift by -shift
 * (shift <= 0) or left shift by shift (shift > 0), as gemmlowp/TFLite reference kernels do. */
eh_status eh_fc_s8(uint32_t n_in, uint32_t n_out, const int8_t *x, int32_t x_offset,
                   const int8_t *w, const int32_t *b, const int32_t *mult, const int32_t *shift,
                   uint32_t per_channel, int32_t y_offset, int8_t *y);

eh_status eh_relu_f32(uint32_t n, const float *x, float *y);
eh_status eh_relu_q15(uint32_t n, const int16_t *x, int16_t *y);

/* Index of the largest value; the first one on ties. */
eh_status eh_argmax_f32(uint32_t n, const float *x, uint32_t *index);
eh_status eh_argmax_q15(uint32_t n, const int16_t *x, uint32_t *index);
eh_status eh_argmax_s32(uint32_t n, const int32_t *x, uint32_t *index);

/* Leaky-integrator readout (NIR LI / snnTorch readout): y = beta * y + x (float32, two
 * roundings), y = sat16(leak(y) + x) (Q15, eh_leak_q15 of eh_lif.h). */
eh_status eh_li_step_f32(uint32_t n, const float *x, float *y, const float *beta, uint32_t beta_len);
eh_status eh_li_step_q15(uint32_t n, const int16_t *x, int16_t *y, const eh_leak_q15 *leak);

/* q = sat16(round_half_away_from_zero(x * inv_scale)); NaN maps to 0. */
eh_status eh_quantize_f32_q15(uint32_t n, const float *x, float inv_scale, int16_t *q);
/* y = q * scale (one float32 multiply). */
eh_status eh_dequantize_q15_f32(uint32_t n, const int16_t *q, float scale, float *y);

/* counts[k] += s[k], saturating at UINT16_MAX. */
eh_status eh_spike_count_u16(uint32_t n, const uint8_t *s, uint16_t *counts);

#endif
