/*
 * Legendre Memory Units: the LMU cell (Voelker et al. 2019) and the L2MU, an LMU whose every
 * block is a population of LIF / current-based LIF neurons (Fra et al. 2024). One time step per
 * call; float32 and Q15. The state lives in the caller's buffers.
 *
 * Layouts (all matrices row-major, [rows][cols], PyTorch nn.Linear's weight layout [out][in]):
 *   memory m: [n_u][order], channel-major: m[c * order + r] is Legendre coefficient r of memory
 *   channel c. "n_m" below is n_u * order, the length of m flattened.
 *   a: [order][order] (Abar, the discretised Legendre delay system, shared by every channel),
 *   b: [order] (Bbar). host: edgehost.sim.lmu_zoh(order, theta) builds both.
 *
 * Sizes: every size is in [1, 65535] and n_u * order <= 65535 (EH_ERR_SIZE otherwise). So every
 * weight index fits in 32 bits, every Q15 int64 sum is exact and never overflows, and a spike
 * sum of at most 65535 int16 weights fits in int32.
 *
 * Rounding shift (Q15): R(v, s) = floor((v + 2^(s-1)) / 2^s) for s in [1, 31] (round half up),
 * R(v, 0) = v; shifts outside [0, 31] are EH_ERR_RANGE. sat16 clamps to [-32768, 32767].
 *
 * float32: one rounding per operation, in the order written (-ffp-contract=off on every target).
 * "acc = 0; acc += w[k] * v[k] for k = 0.." means a single float accumulator starting at +0.0f,
 * a product rounded to float, then a sum rounded to float, for increasing k.
 *
 * A NULL optional matrix means that term is absent (not computed, not added).
 * Arguments are checked before anything is written; a rejected call changes nothing.
 * State, input, weights and scratch must not overlap.
 */
#ifndef EH_LMU_H
#define EH_LMU_H

#include "eh_common.h"
#include "eh_lif.h"

/* ------------------------------------------------------------------------------------------
 * LMU cell.
 *   u_t = E_x x_t + E_h h_{t-1} + E_m m_{t-1}                       (u: [n_u])
 *   m_t[c] = Abar m_{t-1}[c] + Bbar u_t[c]   for each channel c     (m: [n_u][order])
 *   h_t = f(W_x x_t + W_h h_{t-1} + W_m m_t + b_h)                  (h: [n_h])
 * Shapes: e_x [n_u][n_x], e_h [n_u][n_h], e_m [n_u][n_m], w_x [n_h][n_x], w_h [n_h][n_h],
 * w_m [n_h][n_m], b_h [n_h]. Required: e_x, a, b, w_m. Optional (NULL): e_h, e_m, w_x, w_h, b_h.
 *
 * float32 arithmetic, exactly:
 *   u[c]: acc = 0; acc += e_x[c][i] * x[i] (i = 0..n_x-1); then, same acc, += e_h[c][j] * h[j]
 *         (j = 0..n_h-1); then += e_m[c][k] * m[k] (k = 0..n_m-1); u[c] = acc.
 *   m'[c][r]: acc = 0; acc += a[r][k] * m[c][k] (k = 0..order-1); acc += b[r] * u[c].
 *   h'[j]: acc = 0; += w_x[j][i] * x[i]; += w_h[j][k] * h[k]; += w_m[j][k] * m'[k]; acc += b_h[j];
 *          h'[j] = f(acc).
 * float32 activations f:
 *   IDENTITY: f(v) = v.   RELU: f(v) = v > 0 ? v : 0 (NaN -> 0).
 *   HARDTANH: f(v) = v > 1 ? 1 : (v < -1 ? -1 : v).
 *   TANH: a [7/6] Pade (Lambert continued fraction) approximation, max |error| < 1e-4, no libm:
 *     v = v > 5 ? 5 : v;  v = v < -5 ? -5 : v;  x2 = v * v;
 *     p = x2 + 378; p = p * x2; p = p + 17325; p = p * x2; p = p + 135135; p = p * v;
 *     q = 28 * x2; q = q + 3150; q = q * x2; q = q + 62370; q = q * x2; q = q + 135135;
 *     y = p / q;  y = y > 1 ? 1 : y;  y = y < -1 ? -1 : y.   (NaN stays NaN.)
 *
 * Q15 arithmetic (int16 data and weights, int64 sums, per-matrix rounding shifts):
 *   u[c]    = sat16(R(sum_i e_x[c][i] x[i], s_ex) + R(sum_j e_h[c][j] h[j], s_eh)
 *                   + R(sum_k e_m[c][k] m[k], s_em))
 *   m'[c][r] = sat16(R(sum_k a[r][k] m[c][k], s_a) + R(b[r] u[c], s_b))
 *   h'[j]   = f(sat16(R(sum w_x[j][i] x[i], s_wx) + R(sum w_h[j][k] h[k], s_wh)
 *                     + R(sum w_m[j][k] m'[k], s_wm) + b_h[j]))        (b_h int32 at h's scale)
 *   The terms are added in int64 before the single saturation. Typical use: a and b quantised
 *   with F_a and F_b fractional bits (sim.lmu_quantize_q15), s_a = F_a, s_b = F_b + (scale
 *   difference between u and m).
 * Q15 activations: IDENTITY; RELU v > 0 ? v : 0; HARDTANH clamps to [-clamp, clamp] where
 *   clamp in [1, 32767] is 1.0 on h's scale (checked only for HARDTANH). TANH is EH_ERR_ARG.
 *
 * Scratch (caller's, not overlapping anything else): n_u + order + n_h elements of the kernel's
 * type; scratch_len smaller than that is EH_ERR_SIZE. Its content on return is unspecified.
 * ---------------------------------------------------------------------------------------- */
typedef enum {
    EH_LMU_ACT_IDENTITY = 0,
    EH_LMU_ACT_RELU = 1,
    EH_LMU_ACT_HARDTANH = 2,
    EH_LMU_ACT_TANH = 3 /* float32 only */
} eh_lmu_act;

typedef struct {
    uint32_t n_x, n_h, n_u, order;
    const float *e_x, *e_h, *e_m; /* encoders */
    const float *a, *b;           /* Abar [order][order], Bbar [order] */
    const float *w_x, *w_h, *w_m; /* hidden */
    const float *b_h;             /* hidden bias [n_h] or NULL */
    eh_lmu_act act;
} eh_lmu_f32;

typedef struct {
    uint32_t n_x, n_h, n_u, order;
    const int16_t *e_x, *e_h, *e_m;
    const int16_t *a, *b;
    const int16_t *w_x, *w_h, *w_m;
    const int32_t *b_h;
    uint8_t s_ex, s_eh, s_em, s_a, s_b, s_wx, s_wh, s_wm; /* right shifts, [0, 31] */
    int16_t clamp;                                         /* HARDTANH limit, [1, 32767] */
    eh_lmu_act act;
} eh_lmu_q15;

/* One LMU step: x [n_x] in, m [n_m] and h [n_h] updated in place. */
eh_status eh_lmu_step_f32(const eh_lmu_f32 *cell, const float *x, float *m, float *h,
                          float *scratch, uint32_t scratch_len);
eh_status eh_lmu_step_q15(const eh_lmu_q15 *cell, const int16_t *x, int16_t *m, int16_t *h,
                          int16_t *scratch, uint32_t scratch_len);

/* ------------------------------------------------------------------------------------------
 * L2MU: every population is LIF or current-based LIF (eh_lif.h semantics: the kernels call
 * eh_lif_step_* / eh_cubalif_step_*; spike = v > thr; reset uses the previous step's spike).
 *
 * Populations and sizes (dims):
 *   in     n_ch * pop   layer 1: per input channel c, Linear(1 -> pop) + LIF on the raw sample
 *   enc[k] enc[k]       k < n_enc (0: the "single" input module, 2: "stacked"): Linear + LIF
 *   (s_x, the input module's output, is the last of those: n_sx = enc[n_enc-1] or n_ch * pop)
 *   u      n_u          m  n_u * order ([n_u][order])     h  n_h     o  n_o (readout)
 * Weights:
 *   w_in [n_ch][pop] (neuron c*pop+k gets w_in[c][k] * x[c]), b_in [n_ch][pop] or NULL;
 *   w_enc[k] [enc[k]][fan_in] with fan_in = n_ch * pop for k = 0, enc[k-1] after; b_enc[k] or NULL;
 *   e_x [n_u][n_sx], e_h [n_u][n_h] or NULL, e_m [n_u][n_m] or NULL;
 *   a [order][order], b [order] (the LMU's A, B as the model uses them);
 *   w_x [n_h][n_sx] or NULL, w_h [n_h][n_h] or NULL, w_m [n_h][n_m];
 *   w_o [n_o][n_h], b_o [n_o] or NULL.
 * One step (eh_l2mu_step_*), with s_* the spikes held in the state:
 *   I_in = w_in x (+ b_in)                        s_in = LIF_in(I_in)
 *   I_enc[k] = W_enc[k] s_prev_layer (+ b_enc[k])  s_enc[k] = LIF_enc[k](I_enc[k])
 *   I_u = E_x s_x + E_h s_h[t-1] + E_m s_m[t-1]    s_u = LIF_u(I_u)
 *   I_m[c][r] = sum_k A[r][k] s_m[t-1][c][k] + B[r] s_u[c]    s_m = LIF_m(I_m)
 *   I_h = W_x s_x + W_h s_h[t-1] + W_m s_m[t]      s_h = LIF_h(I_h)
 * Readout (eh_l2mu_readout_*, after a step): I_o = W_o s_h + b_o, then LIF_o (spikes in o.s)
 *   or a leaky integrator (readout = EH_L2MU_READOUT_LI): v_o = leak(v_o) + I_o, no spikes.
 *
 * Every product with a spike vector is a sum of the weights where a spike is present (no
 * multiplies); layer 1 (real-valued input) and the leaks are the only multiplies.
 *
 * float32, exactly (a sum over spikes: acc = 0; acc += w[k] for each k with s[k] != 0, in
 * increasing k; one accumulator per population input, the terms in the order written):
 *   I_in[c*pop+k] = w_in[c][k] * x[c], then + b_in[c][k].
 *   I_enc[o] = (spike sum of row o), then + b_enc[o].
 *   I_u[c] = spike sum of E_x row c over s_x, continued over E_h / s_h, then E_m / s_m.
 *   I_m[c][r] = spike sum of A row r over s_m[c][0..order-1], then + B[r] if s_u[c].
 *   I_h[j] = spike sum of W_x row j over s_x, continued over W_h / s_h, then W_m / s_m[t].
 *   I_o[o] = spike sum of W_o row o over s_h, then + b_o[o]. LI: v = beta * v, then v = v + I_o.
 * Q15, exactly (spike sums in int32, exact; terms added in int64, one saturation):
 *   I_in  = sat16(R(w_in[c][k] * x[c], s_in) + b_in[c][k])
 *   I_enc = sat16(R(spike sum, s_enc[k]) + b_enc[k][o])
 *   I_u   = sat16(R(sum E_x, s_ex) + R(sum E_h, s_eh) + R(sum E_m, s_em))
 *   I_m   = sat16(R(sum A, s_a) + (s_u[c] ? R(B[r], s_b) : 0))
 *   I_h   = sat16(R(sum W_x, s_wx) + R(sum W_h, s_wh) + R(sum W_m, s_wm))
 *   I_o   = sat16(R(sum W_o, s_o) + b_o[o]);  LI: v = sat16(leak(v) + I_o) (eh_lif.h's leak)
 *   Biases are int32 on the current's scale. All shifts in [0, 31].
 *
 * Neuron parameters per population (eh_l2mu_pop_*): a population is current-based LIF when
 * alpha (f32) / leak_syn (q15: decay or shift non-NULL) is given, plain LIF otherwise; parameter
 * arrays hold 1 or n entries with the ranges of eh_lif.h. The LI readout uses beta / leak only
 * (alpha / leak_syn must be absent, thr is ignored and may be NULL).
 * State per population (eh_l2mu_pop_state_*): v [n], s [n] (0/1), i_syn [n] for CuBa (else
 * ignored, may be NULL). For the LI readout only o.v is used. Zero state = all zero.
 *
 * Scratch: float32 P floats; Q15 P + Q + n_h + n_m int16 (the Q15 kernels keep lists of spike
 * indices there), where P = the largest population (n_ch * pop, enc[k], n_u, n_m, n_h, n_o) and
 * Q = the largest input-module layer (n_ch * pop, enc[k] for k < n_enc). The readout needs
 * n_o floats (f32) or n_o + n_h int16 (Q15); a step-sized scratch always suffices.
 * ---------------------------------------------------------------------------------------- */
typedef enum {
    EH_L2MU_READOUT_LIF = 0,
    EH_L2MU_READOUT_LI = 1
} eh_l2mu_readout;

typedef struct {
    uint32_t n_ch, pop, n_enc, enc[2], n_u, order, n_h, n_o;
} eh_l2mu_dims;

typedef struct {
    const float *beta;  uint32_t beta_len;
    const float *alpha; uint32_t alpha_len; /* NULL: plain LIF */
    const float *thr;   uint32_t thr_len;
    eh_reset reset;
} eh_l2mu_pop_f32;

typedef struct {
    eh_leak_q15 leak;     /* membrane leak */
    eh_leak_q15 leak_syn; /* synaptic leak; decay == shift == NULL: plain LIF */
    const int16_t *thr;   uint32_t thr_len;
    eh_reset reset;
} eh_l2mu_pop_q15;

typedef struct {
    float *v; float *i_syn; uint8_t *s;
} eh_l2mu_pop_state_f32;

typedef struct {
    int16_t *v; int16_t *i_syn; uint8_t *s;
} eh_l2mu_pop_state_q15;

typedef struct {
    eh_l2mu_dims dims;
    const float *w_in, *b_in;
    const float *w_enc[2], *b_enc[2];
    const float *e_x, *e_h, *e_m, *a, *b, *w_x, *w_h, *w_m;
    const float *w_o, *b_o;
    eh_l2mu_pop_f32 pop_in, pop_enc[2], pop_u, pop_m, pop_h, pop_o;
    eh_l2mu_readout readout;
} eh_l2mu_f32;

typedef struct {
    eh_l2mu_dims dims;
    const int16_t *w_in; const int32_t *b_in;
    const int16_t *w_enc[2]; const int32_t *b_enc[2];
    const int16_t *e_x, *e_h, *e_m, *a, *b, *w_x, *w_h, *w_m;
    const int16_t *w_o; const int32_t *b_o;
    uint8_t s_in, s_enc[2], s_ex, s_eh, s_em, s_a, s_b, s_wx, s_wh, s_wm, s_o; /* [0, 31] */
    eh_l2mu_pop_q15 pop_in, pop_enc[2], pop_u, pop_m, pop_h, pop_o;
    eh_l2mu_readout readout;
} eh_l2mu_q15;

typedef struct {
    eh_l2mu_pop_state_f32 in, enc[2], u, m, h, o;
} eh_l2mu_state_f32;

typedef struct {
    eh_l2mu_pop_state_q15 in, enc[2], u, m, h, o;
} eh_l2mu_state_q15;

/* One L2MU step: x [n_ch] (raw samples; Q15 on the converter's input scale) in, the state of
 * populations in, enc[k < n_enc], u, m, h updated in place. The readout is not touched. */
eh_status eh_l2mu_step_f32(const eh_l2mu_f32 *cell, const float *x, eh_l2mu_state_f32 *state,
                           float *scratch, uint32_t scratch_len);
eh_status eh_l2mu_step_q15(const eh_l2mu_q15 *cell, const int16_t *x, eh_l2mu_state_q15 *state,
                           int16_t *scratch, uint32_t scratch_len);

/* The readout from state->h.s: updates state->o (LIF: v, s and i_syn if CuBa; LI: v). */
eh_status eh_l2mu_readout_f32(const eh_l2mu_f32 *cell, eh_l2mu_state_f32 *state,
                              float *scratch, uint32_t scratch_len);
eh_status eh_l2mu_readout_q15(const eh_l2mu_q15 *cell, eh_l2mu_state_q15 *state,
                              int16_t *scratch, uint32_t scratch_len);

/*
 * Prepare once, step often (TFLM-style) for the Q15 L2MU.
 *
 * eh_l2mu_check_q15 checks everything eh_l2mu_step_q15 checks about the cell alone: the
 * dimensions, the required weights, scratch_len against the step's scratch size, the shifts
 * and every population's parameters (in, enc[k < n_enc], u, m, h), returning the same codes
 * (EH_ERR_NULL for a NULL cell). eh_l2mu_readout_check_q15 does the same for the readout
 * (w_o, s_o, the readout mode and pop_o, scratch_len against n_o + n_h). Neither writes.
 *
 * The _unchecked functions compute exactly what eh_l2mu_step_q15 / eh_l2mu_readout_q15
 * compute, bit for bit, and check nothing: call them only with a cell that passed the check
 * function (not changed since), scratch of at least the checked scratch_len, x non-NULL and a
 * state whose buffers the populations use are non-NULL (v and s of every spiking population,
 * i_syn for CuBa ones; o.v, and o.s for a LIF readout). Anything else is undefined behaviour.
 * The step runs the unchecked LIF / CuBa-LIF steps of eh_lif.h for its populations.
 */
eh_status eh_l2mu_check_q15(const eh_l2mu_q15 *cell, uint32_t scratch_len);
void eh_l2mu_step_q15_unchecked(const eh_l2mu_q15 *cell, const int16_t *x,
                                eh_l2mu_state_q15 *state, int16_t *scratch);
eh_status eh_l2mu_readout_check_q15(const eh_l2mu_q15 *cell, uint32_t scratch_len);
void eh_l2mu_readout_q15_unchecked(const eh_l2mu_q15 *cell, eh_l2mu_state_q15 *state,
                                   int16_t *scratch);

#endif /* EH_LMU_H */
