/*
 * Leaky integrate-and-fire neurons: LIF and current-based LIF (CuBa-LIF), one time step.
 *
 * Discretisation (the contract every importer and the numpy twin follow; it is snnTorch's):
 *   s_prev = spikes on entry (the step before), s = spikes on exit.
 *   LIF, reset by subtraction:  v = leak(v) + x - s_prev * thr
 *   LIF, reset to zero:         v = (s_prev ? 0 : leak(v)) + x
 *   CuBa, synaptic current:     i = leak_syn(i) + x
 *   CuBa, reset by subtraction: v = leak_mem(v) + i - s_prev * thr
 *   CuBa, reset to zero:        v = s_prev ? 0 : leak_mem(v) + i
 *   spike:                      s = (v > thr)   (strictly greater)
 *
 * Two more modes, LIF and CuBa-LIF only (eh_lif_step_*, eh_cubalif_step_*; the spikes on entry
 * are not read, only written), with u = leak(v) + x (LIF) or leak_mem(v) + i (CuBa, i as above):
 *   EH_RESET_NONE (snnTorch reset_mechanism="none"):  v = u,  s = (v > thr)
 *   EH_RESET_SUBTRACT_NOW (snnTorch reset_delay=False, reset by subtraction; r = (v > thr) of
 *   the membrane on entry, the one snnTorch's mem_reset reads):
 *                               w = u - r thr;  s = (w > thr);  v = w + (r - s) thr
 *     i.e. v = u - s thr, but a neuron whose membrane is still above the threshold on entry
 *     needs w = u - thr above it to spike (snnTorch subtracts the delayed reset first, then
 *     "avoids the double reset" by adding back (r - s) thr).
 *   q15: w and v each saturated to int16 (w = sat16(u - r thr), v = sat16(w + (r - s) thr)).
 *   float32: u = (beta v) + x, then one subtraction of thr if r, then one subtraction of thr
 *   (s and not r) or one addition (r and not s), each rounded (snnTorch's own order).
 *   Reset to zero with reset_delay=False needs no mode: it is the same-step reset to 0 of the
 *   model blob (format 1.5).
 *   lif_adapt takes only EH_RESET_SUBTRACT and EH_RESET_ZERO (EH_ERR_ARG otherwise).
 *
 * float32: leak(v) = beta * v, evaluated as ((beta * v) + x) - thr with one rounding per
 * operation (build with -ffp-contract=off, as this project does on every target).
 * q15: membrane, current, input and threshold are int16 on a per-layer scale chosen by the
 * converter. The leak is either a Q15 multiply by decay in [0, 32768] (32768 = 1.0, no leak),
 * leak(v) = (decay * v + 2^14) >> 15, or multiplier-free, leak(v) = v - (v >> shift) with shift
 * in [1, 15]. Sums are formed in 32 bits and saturated to int16 once per state update.
 *
 * Parameter arrays hold 1 entry (shared by all neurons) or n entries (one per neuron).
 */
#ifndef EH_LIF_H
#define EH_LIF_H

#include "eh_common.h"

/* A Q15 leak: exactly one of decay / shift is non-NULL. */
typedef struct {
    const uint16_t *decay; /* Q15 factor in [0, 32768] */
    const uint8_t *shift;  /* leak by v - (v >> shift), shift in [1, 15] */
    uint32_t len;          /* 1 or n */
} eh_leak_q15;

/* float32 LIF step. beta in [0, 1], thr > 0 and finite. */
eh_status eh_lif_step_f32(uint32_t n, const float *x, float *v, uint8_t *spikes,
                          const float *beta, uint32_t beta_len,
                          const float *thr, uint32_t thr_len, eh_reset reset);

/* Q15 LIF step. thr in [1, 32767]. */
eh_status eh_lif_step_q15(uint32_t n, const int16_t *x, int16_t *v, uint8_t *spikes,
                          const eh_leak_q15 *leak,
                          const int16_t *thr, uint32_t thr_len, eh_reset reset);

/* float32 current-based LIF step. alpha, beta in [0, 1], thr > 0. */
eh_status eh_cubalif_step_f32(uint32_t n, const float *x, float *i_syn, float *v, uint8_t *spikes,
                              const float *alpha, uint32_t alpha_len,
                              const float *beta, uint32_t beta_len,
                              const float *thr, uint32_t thr_len, eh_reset reset);

/* Q15 current-based LIF step. thr in [1, 32767]. */
eh_status eh_cubalif_step_q15(uint32_t n, const int16_t *x, int16_t *i_syn, int16_t *v,
                              uint8_t *spikes, const eh_leak_q15 *leak_syn,
                              const eh_leak_q15 *leak_mem,
                              const int16_t *thr, uint32_t thr_len, eh_reset reset);

/*
 * LIF with input-weighted threshold adaptation (IWTA, Burgers et al. 2023): an incoming spike
 * raises the neuron's threshold by its weight w_th, and the raise decays back to the base:
 *   thr_prev = thr_base + a            (the threshold the previous step's spike crossed)
 *   v = leak_mem(v) + x - s_prev * thr_prev     (subtract)   or  (s_prev ? 0 : leak_mem(v)) + x (zero)
 *   a = leak_th(a) + x_th              (x_th = sum_j w_th[i][j] s_j, computed by the caller)
 *   s = v > thr_base + a
 * float32: leak(y) = decay * y, one rounding per operation in the order written.
 * q15: a and v saturate to int16; an effective threshold thr_base + a is clamped to
 * [1, 32767] (a spike needs v above it). thr_base in [1, 32767].
 */
eh_status eh_lif_adapt_step_f32(uint32_t n, const float *x, const float *x_th, float *v, float *a,
                                uint8_t *spikes, const float *beta, uint32_t beta_len,
                                const float *beta_th, uint32_t beta_th_len,
                                const float *thr, uint32_t thr_len, eh_reset reset);

eh_status eh_lif_adapt_step_q15(uint32_t n, const int16_t *x, const int16_t *x_th, int16_t *v,
                                int16_t *a, uint8_t *spikes, const eh_leak_q15 *leak_mem,
                                const eh_leak_q15 *leak_th,
                                const int16_t *thr, uint32_t thr_len, eh_reset reset);

/*
 * Prepare once, step often (TFLM-style): the checks of eh_lif_step_q15 / eh_cubalif_step_q15
 * on the parameters alone, and the steps without any check.
 *
 * eh_lif_check_q15 returns what eh_lif_step_q15 would return for the same parameters and
 * non-NULL buffers (EH_ERR_SIZE for n == 0, then the leak, the threshold and the reset mode,
 * in that order); eh_cubalif_check_q15 likewise for eh_cubalif_step_q15. They read the
 * parameter arrays and write nothing.
 *
 * The _unchecked steps compute exactly what the checked ones compute (bit for bit, including
 * saturation and states where the spikes do not match v), but check nothing: call them only
 * with parameters that passed the check function (and are not changed since) and with
 * non-NULL, non-overlapping buffers of n elements. Anything else is undefined behaviour.
 * eh_lif_step_q15 is eh_lif_check_q15 plus eh_lif_step_q15_unchecked (the same holds for the
 * CuBa pair). On cores with the DSP extension (__ARM_FEATURE_DSP) the unchecked LIF step uses
 * two-lane SIMD for a shared shift leak or for a Q15 decay; blocks whose result the SIMD
 * arithmetic could not match (a spike on entry with v < 0) take the plain loop.
 */
eh_status eh_lif_check_q15(uint32_t n, const eh_leak_q15 *leak,
                           const int16_t *thr, uint32_t thr_len, eh_reset reset);
void eh_lif_step_q15_unchecked(uint32_t n, const int16_t *x, int16_t *v, uint8_t *spikes,
                               const eh_leak_q15 *leak,
                               const int16_t *thr, uint32_t thr_len, eh_reset reset);

eh_status eh_cubalif_check_q15(uint32_t n, const eh_leak_q15 *leak_syn,
                               const eh_leak_q15 *leak_mem,
                               const int16_t *thr, uint32_t thr_len, eh_reset reset);
void eh_cubalif_step_q15_unchecked(uint32_t n, const int16_t *x, int16_t *i_syn, int16_t *v,
                                   uint8_t *spikes, const eh_leak_q15 *leak_syn,
                                   const eh_leak_q15 *leak_mem,
                                   const int16_t *thr, uint32_t thr_len, eh_reset reset);

#endif /* EH_LIF_H */
