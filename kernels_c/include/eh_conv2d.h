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

/*
 * Binary (XNOR/popcount) 2-D convolution, for BNN layers (Larq / XNOR-Net style), with batch norm
 * and sign folded into per-channel thresholds like eh_conv1d_b1_bits (eh_binary.h).
 *
 * Values are -1 / +1, packed as in eh_binary.h (bit 1 = -1, bit 0 = +1, least significant bit
 * first), channels innermost: every pixel holds its c_in channels in CW = ceil(c_in / 32)
 * uint32 words (Larq Compute Engine's bitpacked NHWC, batch 1):
 *   input  x [h_in][w_in][CW]        channel c of pixel (iy, ix) is bit c % 32 of word
 *                                    x[(iy * w_in + ix) * CW + c / 32]
 *   weights w [c_out][k_h][k_w][CW]  (the same packing per tap; PyTorch's (c_out, c_in, k_h, k_w)
 *                                    weight with its channel axis moved innermost and packed)
 *   _s32 output y [c_out][h_out][w_out] int32, channel-major like the other conv2d kernels;
 *   _bits output y [h_out][w_out][ceil(c_out / 32)] words packed like the input (padding bits
 *                                    0), so it feeds the next binary convolution directly.
 * The padding bits of every pixel's last word (c_in % 32 != 0), in x and in w, are ignored.
 * Geometry: eh_conv2d_dims and its checks (stride, padding on each side, dilation); groups must
 * be 1 (else EH_ERR_RANGE, after the geometry checks). A tap reading outside the input is a
 * padding tap; pad_value says what it is (else EH_ERR_RANGE, checked next):
 *   EH_CONV2D_B1_PAD_ZERO (0): padding is 0 and contributes nothing (PyTorch's zero padding of
 *     a +-1 tensor, Larq's default pad_values=0.0): dot = sum over the taps inside the input only;
 *   EH_CONV2D_B1_PAD_ONE (1): padding is +1 (Larq's pad_values=1.0, the Larq Compute Engine's
 *     fast mode, and eh_conv1d_b1's padding frames): a padding tap adds sum(w tap) =
 *     c_in - 2 * popcount(its real weight bits).
 * Per output (o, oy, ox), with n = the taps counted (inside the input; all k_h * k_w taps with
 * PAD_ONE) and count = the positions where input and weight differ over them (real bits only):
 *   dot = n * c_in - 2 * count, in [-N, N] with N = k_h * k_w * c_in.
 *   _s32:  y = dot.
 *   _bits: output bit o = 1 (the value -1) iff dot < thr[o], else 0 (+1); thr[o] in [-N, N + 1]
 *          (else EH_ERR_RANGE, checked after pad_value): thr = -N never sets the bit, N + 1
 *          always. Batch norm then sign folds into thr and into sign flips of the weights of
 *          channels with a negative batch-norm scale (edgehost.sim.conv2d_b1_fold_bn_sign).
 * Limit: N <= EH_CONV2D_B1_MAX_N (2^24), else EH_ERR_SIZE (checked after pad_value, before thr).
 * Cortex-M cores with the DSP extension run the Harley-Seal assembly of the binary FC
 * (kernels_c/src/binary/eh_b1_hs_t2.c) over each output's taps gathered into one contiguous
 * row (stack buffer of EH_CONV2D_B1_COL_WORDS words) when c_in is a multiple of 32 and
 * k_h * k_w * CW <= EH_CONV2D_B1_COL_WORDS; results are bit-exact with the portable path.
 */
enum { EH_CONV2D_B1_PAD_ZERO = 0, EH_CONV2D_B1_PAD_ONE = 1 };
enum { EH_CONV2D_B1_MAX_N = 16777216, EH_CONV2D_B1_COL_WORDS = 128 };

eh_status eh_conv2d_b1_s32(const eh_conv2d_dims *d, uint32_t pad_value, const uint32_t *x,
                           const uint32_t *w, int32_t *y);
eh_status eh_conv2d_b1_bits(const eh_conv2d_dims *d, uint32_t pad_value, const uint32_t *x,
                            const uint32_t *w, const int32_t *thr, uint32_t *y);

/*
 * 2-D pooling, channel-major (C, H, W), each channel on its own: SumPool2d and AvgPool2d as NIR
 * and PyTorch define them (no dilation, zero padding; AvgPool2d divides by k_h * k_w whatever
 * the padding, PyTorch's count_include_pad=True with ceil_mode=False).
 *   input  x [c][h_in][w_in], output y [c][h_out][w_out]
 *   per axis: out = floor((in + pad_before + pad_after - k) / stride) + 1; tap (ky, kx) of output
 *   (oy, ox) reads x[ch][oy * stride_h - pad_top + ky][ox * stride_w - pad_left + kx]; taps outside
 *   the input are padding (value 0, skipped).
 * Limits, checked by eh_pool2d_out_size and every pooling kernel in this order (NULL pointers
 * first: EH_ERR_NULL):
 *   c, h_in, w_in, k_h, k_w in [1, EH_CONV2D_MAX_DIM], else EH_ERR_SIZE;
 *   stride_h, stride_w in [1, EH_CONV2D_MAX_DIM], else EH_ERR_RANGE;
 *   each pad in [0, k - 1] of its axis, else EH_ERR_RANGE;
 *   in + pad_before + pad_after >= k on both axes, else EH_ERR_SIZE;
 *   c * h_in * w_in, c * h_out * w_out and k_h * k_w each at most EH_CONV2D_MAX_ELEMS, else
 *   EH_ERR_SIZE.
 * Output stages, with sum = the taps inside the input (n = k_h * k_w, padding included):
 *   sumpool2d_f32:  acc = 0.0f; acc = acc + x over the taps in the order ky, kx (each add rounded
 *                   to float32); y = acc.
 *   avgpool2d_f32:  the same acc, then y = acc / (float)n (one float32 division).
 *   sumpool2d_q15:  y = sat16(exact sum).
 *   avgpool2d_q15:  y = sat16(floor((2 sum + n) / (2 n))): the mean rounded half up.
 *   *_spike_q15:    the input holds 0 or 1 (anything else is EH_ERR_RANGE, checked after the
 *                   geometry; nothing written); sum = the count of spikes in the window;
 *                   sumpool2d_spike_q15: y = sat16(count) (a count, scale 1);
 *                   avgpool2d_spike_q15: y = sat16(floor((2^16 count + n) / (2 n))): the fraction
 *                   count / n in Q15, rounded half up (a full window saturates to 32767).
 */
typedef struct {
    uint32_t c, h_in, w_in;      /* channels, rows, columns */
    uint32_t k_h, k_w;           /* window rows, columns */
    uint32_t stride_h, stride_w; /* >= 1 */
    uint32_t pad_top, pad_left, pad_bottom, pad_right;
} eh_pool2d_dims;

eh_status eh_pool2d_out_size(const eh_pool2d_dims *d, uint32_t *h_out, uint32_t *w_out);
eh_status eh_sumpool2d_f32(const eh_pool2d_dims *d, const float *x, float *y);
eh_status eh_avgpool2d_f32(const eh_pool2d_dims *d, const float *x, float *y);
eh_status eh_sumpool2d_q15(const eh_pool2d_dims *d, const int16_t *x, int16_t *y);
eh_status eh_avgpool2d_q15(const eh_pool2d_dims *d, const int16_t *x, int16_t *y);
eh_status eh_sumpool2d_spike_q15(const eh_pool2d_dims *d, const uint8_t *s, int16_t *y);
eh_status eh_avgpool2d_spike_q15(const eh_pool2d_dims *d, const uint8_t *s, int16_t *y);

/*
 * Event-driven Q15 convolution on spikes with saturating 16-bit currents (eh_conv2d_spike_sat_q15):
 * a variant of eh_conv2d_spike_q15 whose arithmetic allows two output channels per 32-bit word
 * (QADD16 on cores with the DSP extension). Geometry, limits and their checks as above (NULL
 * pointers first; the bias may be NULL); then the input s holds 0 or 1, else EH_ERR_RANGE. No
 * shift: the weights are in the output's scale.
 *   weights wt [c_in][k_h][k_w][og], og = c_out / groups, "tap-major": wt[ci][ky][kx][j] is the
 *           weight from input channel ci to output channel g * og + j of ci's group g =
 *           ci / (c_in / groups), i.e. PyTorch's w[g * og + j][ci - g * cg][ky][kx]
 *           (edgehost.sim.conv2d_spike_sat_weights converts);
 *   bias b [c_out] int16, may be NULL (0);
 *   scratch [h_out][w_out][c_out] int16 (the currents, channels innermost; content on return
 *           unspecified; a rejected call does not touch it); output y [c_out][h_out][w_out].
 * Arithmetic, exactly: every current starts at b[o]. The input spikes are taken in the order
 * (ci, iy, ix) ascending (channel-major, as stored); for each spike and each kernel tap (ky, kx)
 * whose output (oy, ox) = ((iy + pad_top - ky * dil_h) / stride_h,
 * (ix + pad_left - kx * dil_w) / stride_w) divides exactly and lies inside the output, every
 * output channel o of the spike's group does acc[oy][ox][o] = sat16(acc + wt[ci][ky][kx][o - g og])
 * (saturating at each addition, so the order above is part of the result). Distinct taps of one
 * spike land on distinct outputs, so each current sees its contributions in spike order.
 * y[o][oy][ox] = acc[oy][ox][o]. Without saturation (|b[o]| + sum |w| of channel o <= 32767) this
 * equals eh_conv2d_spike_q15 with shift 0 on the same (transposed) weights.
 * Cortex-M cores with the DSP extension add two adjacent output channels per QADD16 (per-lane
 * saturation: bit-exact with the portable per-channel sat16).
 */
eh_status eh_conv2d_spike_sat_q15(const eh_conv2d_dims *d, const uint8_t *s, const int16_t *wt,
                                  const int16_t *b, int16_t *scratch, int16_t *y);

/*
 * int8 2-D convolution and pooling, channel-last (H, W, C) as TFLite / LiteRT's NHWC (batch 1),
 * with TFLite's integer arithmetic (the reference CONV_2D / DEPTHWISE_CONV_2D / MAX_POOL_2D /
 * AVERAGE_POOL_2D kernels, CMSIS-NN's arm_convolve_s8 / arm_depthwise_conv_s8 / arm_max_pool_s8 /
 * arm_avgpool_s8 semantics).
 *
 * eh_conv2d_s8: geometry eh_conv2d_dims with every check above (same codes, same order); then
 *   (c_in / groups) * k_h * k_w at most EH_CONV2D_S8_MAX_ROW (65536), else EH_ERR_SIZE, so
 *   every accumulation fits int32 exactly (|(x + x_offset) w| <= 255 * 128);
 *   then the ranges of eh_fc_s8 (else EH_ERR_RANGE): x_offset in [-127, 128], y_offset in
 *   [-128, 127], act_min in [-128, 127], act_max in [act_min, 127], per_channel 0 or 1 (else
 *   EH_ERR_ARG), mult[c] >= 0 and shift[c] in [-31, 30] for c < (per_channel ? c_out : 1).
 *   A NULL dims, x, w, mult, shift or y is EH_ERR_NULL (checked first); b may be NULL (no bias).
 * Layouts (row-major, innermost last), cg = c_in / groups, og = c_out / groups:
 *   input   x [h_in][w_in][c_in]
 *   weights w [c_out][k_h][k_w][cg]      (TFLite's CONV_2D filter OHWI; a DEPTHWISE_CONV_2D
 *                                         filter [1][k_h][k_w][c_in M] is groups = c_in,
 *                                         c_out = c_in M, w[o][ky][kx][0] = filter[0][ky][kx][o])
 *   output  y [h_out][w_out][c_out]
 *   output channel o is in group g = o / og and reads input channels g cg .. g cg + cg - 1.
 * Per output (oy, ox, o), over the taps inside the input only (TFLite pads with the input zero
 * point, so a padded tap adds (zp - zp) w = 0: skipping it is exact):
 *   dot = sum_{ky, kx inside, j < cg} (x[iy][ix][g cg + j] + x_offset) * w[o][ky][kx][j]   (exact)
 *   acc = b ? sat32(dot + b[o]) : dot
 *   y   = clamp(sat8(sat32(requant(acc, mult[q], shift[q]) + y_offset)), act_min, act_max),
 *         q = per_channel ? o : 0, requant exactly eh_fc_s8's (eh_basic.h).
 *
 * eh_maxpool2d_s8 / eh_avgpool2d_s8: geometry eh_pool2d_dims with its checks above (c is the
 *   channel count, innermost here); then act_min in [-128, 127] and act_max in [act_min, 127],
 *   else EH_ERR_RANGE. x [h_in][w_in][c], y [h_out][w_out][c]. Padding taps are not counted
 *   (TFLite's SAME pooling): with n = the taps inside the input (n >= 1 always, since each pad is
 *   below the window):
 *   max: y = clamp(max over those taps, act_min, act_max);
 *   avg: sum over those taps (exact), y = clamp(sum > 0 ? (sum + n / 2) / n : (sum - n / 2) / n,
 *        act_min, act_max) with C's truncating division (TFLite's rounding, half away from zero).
 */
enum { EH_CONV2D_S8_MAX_ROW = 65536 };

eh_status eh_conv2d_s8(const eh_conv2d_dims *d, const int8_t *x, int32_t x_offset, const int8_t *w,
                       const int32_t *b, const int32_t *mult, const int32_t *shift, uint32_t per_channel,
                       int32_t y_offset, int32_t act_min, int32_t act_max, int8_t *y);
eh_status eh_maxpool2d_s8(const eh_pool2d_dims *d, const int8_t *x, int32_t act_min, int32_t act_max, int8_t *y);
eh_status eh_avgpool2d_s8(const eh_pool2d_dims *d, const int8_t *x, int32_t act_min, int32_t act_max, int8_t *y);

#endif /* EH_CONV2D_H */
