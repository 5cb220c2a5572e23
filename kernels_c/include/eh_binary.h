/*
 * Binary (XNOR/popcount) layers: bit packing, fully connected and 1-D convolution, with
 * int32, float32, int8 and bit outputs.
 *
 * Bit packing (Larq Compute Engine layout):
 *   A vector of K values in {-1, +1} is stored in W = ceil(K / 32) uint32 words along its
 *   innermost (channel) axis: value i is bit (i % 32) of word (i / 32), least significant bit
 *   first; bit 1 means -1, bit 0 means +1. The K % 32 unused high bits of the last word (the
 *   padding) are written as 0 by the packers; the kernels mask them off in both the input and
 *   the weights, so padding can never change a result.
 *
 * Dot product of two packed vectors over the real K positions:
 *   count = popcount((x XOR w) restricted to the K real bits)   (positions where they differ)
 *   dot   = K - 2 * count                                      (in [-K, K], same parity as K)
 *
 * Fully connected: x [W] words, weights w [n_out][W] (row-major), dot[o] = dot(x, w[o]).
 * 1-D convolution: x [t_in][W] (time-major, channels innermost), weights w [n_out][taps][W],
 *   dot[t][o] = sum_{k=0}^{taps-1} dot(xp[t * stride + k], w[o][k]) where xp is x with `pad`
 *   frames added before and after it. A padding frame is all bit 0, i.e. every value +1 (Larq's
 *   "same" zero padding, which in a binary network means +1, not 0): it contributes
 *   sum(w[o][k]) = K - 2 * popcount(w[o][k]). t_out = (t_in + 2 * pad - taps) / stride + 1
 *   (floor), which needs t_in + 2 * pad >= taps; pad in [0, taps - 1]; pad = (taps - 1) / 2
 *   with stride 1 and odd taps keeps t_out = t_in. Outputs are [t_out][n_out].
 *
 * Output stages, per output o (and per time step t for the convolution):
 *   _s32:  y = dot.
 *   _f32:  y = (float)dot * scale[o] + bias[o]: one float32 multiply and one float32 add, each
 *          rounded (build with -ffp-contract=off); bias may be NULL, then y = (float)dot * scale[o].
 *   _s8:   y = sat8(rshift((int64)dot * mult[o] + bias[o], shift)) with a 64-bit intermediate,
 *          rshift(a, s) = floor((a + 2^(s-1)) / 2^s) (round half up), rshift(a, 0) = a;
 *          shift in [0, 62]; bias may be NULL (0).
 *   _bits: output bit o = 1 iff dot < thr[o] (strictly less), i.e. the value -1, else bit 0
 *          (+1); thr[o] in [-N, N + 1] where N = K for fc and N = taps * K for conv1d (the largest
          |dot|), so thr = -N: never 1, thr = N + 1: always 1. The bits are
 *          packed like an input: ceil(n_out / 32) words per output vector, padding bits 0, so the
 *          output feeds the next binary layer directly. Batch norm followed by sign folds into
 *          thr (host: edgehost.sim.binary.fold_bn_sign, which also flips the weights of
 *          channels with a negative batch-norm scale).
 *
 * Limits: K = n_in in [1, EH_B1_MAX_K] and taps * K <= EH_B1_MAX_K (2^24, so every dot converts
 * to float exactly).
 * Sizes of zero, or t_out not matching the formula above, are EH_ERR_SIZE.
 */
#ifndef EH_BINARY_H
#define EH_BINARY_H

#include "eh_common.h"

enum { EH_B1_MAX_K = 16777216 };

/* Shape of a binary 1-D convolution (see above). t_out is the caller's claim about the output
 * length: it must equal (t_in + 2 * pad - taps) / stride + 1. */
typedef struct {
    uint32_t n_in;   /* K, input channels (bits per frame) */
    uint32_t t_in;   /* input frames */
    uint32_t n_out;  /* output channels */
    uint32_t taps;   /* kernel length, >= 1 */
    uint32_t stride; /* >= 1 */
    uint32_t pad;    /* +1 frames added on each side, in [0, taps - 1] */
    uint32_t t_out;  /* output frames */
} eh_conv1d_b1_dims;

/* Packing for the firmware. n values into ceil(n / 32) words, padding bits 0.
 * spikes: bit = s[i] (s holds 0 or 1, anything else is EH_ERR_RANGE): a spike is the value -1.
 *   (A converter that wants spike = +1 instead flips the consuming layer's weights, which gives
 *   the same dot products.)
 * signs:  bit = (v[i] < 0): negative values are -1, zero and positive values +1. */
eh_status eh_pack_spikes_b1(uint32_t n, const uint8_t *s, uint32_t *words);
eh_status eh_pack_signs_b1(uint32_t n, const int8_t *v, uint32_t *words);

eh_status eh_fc_b1_s32(uint32_t n_in, uint32_t n_out, const uint32_t *x, const uint32_t *w,
                       int32_t *y);
eh_status eh_fc_b1_f32(uint32_t n_in, uint32_t n_out, const uint32_t *x, const uint32_t *w,
                       const float *scale, const float *bias, float *y);
eh_status eh_fc_b1_s8(uint32_t n_in, uint32_t n_out, const uint32_t *x, const uint32_t *w,
                      const int32_t *mult, const int32_t *bias, uint32_t shift, int8_t *y);
eh_status eh_fc_b1_bits(uint32_t n_in, uint32_t n_out, const uint32_t *x, const uint32_t *w,
                        const int32_t *thr, uint32_t *y);

eh_status eh_conv1d_b1_s32(const eh_conv1d_b1_dims *d, const uint32_t *x, const uint32_t *w,
                           int32_t *y);
eh_status eh_conv1d_b1_f32(const eh_conv1d_b1_dims *d, const uint32_t *x, const uint32_t *w,
                           const float *scale, const float *bias, float *y);
eh_status eh_conv1d_b1_s8(const eh_conv1d_b1_dims *d, const uint32_t *x, const uint32_t *w,
                          const int32_t *mult, const int32_t *bias, uint32_t shift, int8_t *y);
/* y: t_out vectors of ceil(n_out / 32) words each. */
eh_status eh_conv1d_b1_bits(const eh_conv1d_b1_dims *d, const uint32_t *x, const uint32_t *w,
                            const int32_t *thr, uint32_t *y);

#endif /* EH_BINARY_H */
