/*
 * 2-D convolution, channel-major (C, H, W) as PyTorch and NIR store tensors: dense float32
 * (reference), dense Q15, and event-driven Q15 on spikes.
 *
 * Layouts (row-major, innermost last):
 *   input  x [c_in][h_in][w_in]
 *   weights w [c_out][c_in / groups][k_h][k_w]            (PyTorch's Conv2d.weight)
 *   output y [c_out][h_out][w_out]
 *   bias    b [c_out], may be NULL (no bias)
 * Groups: input channels and output channels are split into `groups` equal consecutive parts;
 *   output channel o (group g = o / (c_out / groups)) sees input channels
 *   g * cg .. g * cg + cg - 1 where cg = c_in / groups, its weight w[o][j] applying to input
 *   channel g * cg + j. groups = c_in = c_out is a depthwise convolution.
 *
 * Geometry, per axis (h with stride_h, pad_top, pad_bottom, dil_h, k_h; the same for w with
 * stride_w, pad_left, pad_right, dil_w, k_w):
 *   span  = dil * (k - 1) + 1                         (the receptive field)
 *   out   = floor((in + pad_before + pad_after - span) / stride) + 1
 *   tap (ky) of output position oy reads input row iy = oy * stride - pad_before + ky * dil;
 *   rows outside [0, in) are padding: value 0 (the tap is skipped, see each kernel).
 * So y[o][oy][ox] = b[o] + sum_{j, ky, kx over taps inside the input}
 *                         w[o][j][ky][kx] * x[g * cg + j][iy][ix]      (torch.nn.functional.conv2d)
 *
 * Limits, checked by eh_conv2d_out_size and every kernel in this order:
 *   c_in, h_in, w_in, c_out, k_h, k_w in [1, EH_CONV2D_MAX_DIM], else EH_ERR_SIZE;
 *   stride_h, stride_w, dil_h, dil_w in [1, EH_CONV2D_MAX_DIM], else EH_ERR_RANGE;
 *   span of each axis at most EH_CONV2D_MAX_DIM, else EH_ERR_RANGE;
 *   groups >= 1, else EH_ERR_RANGE; groups divides c_in and c_out, else EH_ERR_SIZE;
 *   each pad in [0, span - 1] of its axis, else EH_ERR_RANGE;
 *   in + pad_before + pad_after >= span on both axes (at least one output), else EH_ERR_SIZE;
 *   c_in * h_in * w_in, c_out * h_out * w_out and c_out * (c_in / groups) * k_h * k_w each at
 *   most EH_CONV2D_MAX_ELEMS, else EH_ERR_SIZE.
 * A NULL dims, input, weights or output (or scratch) is EH_ERR_NULL, checked first.
 *
 * Output stages:
 *   _f32: acc = 0.0f; for j = 0..cg-1, ky = 0..k_h-1, kx = 0..k_w-1 in that order, over the taps
 *         inside the input only (padding taps are skipped, not multiplied by 0):
 *         acc = acc + w * x, one float32 multiply and one float32 add, each rounded (built
 *         with -ffp-contract=off); then y = acc + b[o] (one more rounded add; without bias,
 *         y = acc).
 *   _q15: acc = b[o] + sum of w * x over the taps inside the input, exactly (64-bit; at most
 *         EH_CONV2D_MAX_ELEMS products of magnitude <= 2^30 plus an int32 cannot overflow);
 *         y = sat16(rshift(acc, shift)) with rshift(a, s) = floor((a + 2^(s-1)) / 2^s) (round
 *         half up), rshift(a, 0) = a; shift in [0, 31], else EH_ERR_RANGE. The same output stage
 *         as eh_fc_q15. Cortex-M cores with the DSP extension multiply two adjacent taps of a
 *         kernel row per SMLALD (dual 16x16 multiply with a 64-bit accumulator: exact, so
 *         bit-exact with the portable path) when dil_w == 1.
 *   _spike_q15: the input s holds 0 or 1 (anything else is EH_ERR_RANGE, checked after the
 *         shift); the result is exactly eh_conv2d_q15's on x = s, bit for bit. Event-driven:
 *         the caller's scratch acc [c_out][h_out][w_out] int32 is set to the bias, then for each
 *         input spike every (output channel, kernel tap) it reaches adds its weight into the
 *         output it lands on (scatter); work is proportional to the number of spikes, plus one
 *         pass over the input and one over the outputs. When some output channel o could leave
 *         int32 (|b[o]| + sum of |w[o]| over all its taps > INT32_MAX) the kernel gathers every
 *         output with a 64-bit sum instead (same result). scratch's content on return is
 *         unspecified; a rejected call does not touch it.
 */
#ifndef EH_CONV2D_H
#define EH_CONV2D_H

#include "eh_common.h"

enum { EH_CONV2D_MAX_DIM = 65535, EH_CONV2D_MAX_ELEMS = 268435456 /* 2^28 */ };

/* Shape and geometry of a 2-D convolution (see above). */
typedef struct {
    uint32_t c_in, h_in, w_in;   /* input channels, rows, columns */
    uint32_t c_out;              /* output channels */
    uint32_t k_h, k_w;           /* kernel rows, columns */
    uint32_t stride_h, stride_w; /* >= 1 */
    uint32_t pad_top, pad_left, pad_bottom, pad_right; /* zeros added around the input */
    uint32_t dil_h, dil_w;       /* dilation, >= 1 (1: contiguous taps) */
    uint32_t groups;             /* >= 1, divides c_in and c_out */
} eh_conv2d_dims;

/* Checks d against the limits above (same codes, same order) and writes the output size. */
eh_status eh_conv2d_out_size(const eh_conv2d_dims *d, uint32_t *h_out, uint32_t *w_out);

eh_status eh_conv2d_f32(const eh_conv2d_dims *d, const float *x, const float *w, const float *b,
                        float *y);
eh_status eh_conv2d_q15(const eh_conv2d_dims *d, const int16_t *x, const int16_t *w,
                        const int32_t *b, uint32_t shift, int16_t *y);
/* scratch: c_out * h_out * w_out int32. */
eh_status eh_conv2d_spike_q15(const eh_conv2d_dims *d, const uint8_t *s, const int16_t *w,
                              const int32_t *b, uint32_t shift, int32_t *scratch, int16_t *y);

#endif /* EH_CONV2D_H */
