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

#endif /* EH_LIF_H */
