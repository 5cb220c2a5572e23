/*
 * LIF neurons: lif_f32 (6), lif_q15 (7) (eh_lif_step_*), with the reset options of the spiking
 * layers (format 1.5; the same-step reset and the v_reset check, shared with eh_op_cubalif.c,
 * are eh_op_lif_* in eh_op_util.c). The record's reset byte:
 *   bit 0, mechanism: 0 subtract the threshold, 1 reset to a value (v_reset, absent = 0);
 *   bit 1, timing: 0 the next step (snnTorch; the kernels' own behaviour), 1 the same step.
 * Same step: the output spikes (the previous step's, which the kernel reads to reset) are cleared
 * first, so the kernel applies no reset; the unchanged kernel runs; then each neuron that spiked
 * gets v = v - threshold (q15: saturated; f32: one subtraction) or v = v_reset. The v_reset
 * parameter (1 or n entries; f32 finite, or i16 on the membrane's scale) is allowed only with
 * reset 3.
 * Format 1.6: reset 4, no reset (snnTorch reset_mechanism="none", EH_RESET_NONE), and reset 5,
 * subtraction in the step that spiked as snnTorch's reset_delay=False computes it
 * (EH_RESET_SUBTRACT_NOW): the kernel does both, the spikes it reads are ignored. Valid: 0..5.
 */
#include "eh_lif.h"
#include "eh_op.h"

/* The kernel's mode of a reset byte (0..5; 2 and 3 run subtract / zero on cleared spikes, then
 * the same-step reset) and whether it is a format-1.5 same-step reset. */
static eh_reset lif_mode(uint32_t reset)
{
    return reset == 4u ? EH_RESET_NONE : reset == 5u ? EH_RESET_SUBTRACT_NOW : (reset & 1u) ? EH_RESET_ZERO : EH_RESET_SUBTRACT;
}
#define LIF_SAME(reset) ((reset) == 2u || (reset) == 3u)

static eh_status step_lif_f32(eh_model *m, const eh_args *a)
{
    const uint8_t *r = a->r;
    uint32_t reset = rd8(r + 1);
    eh_status st;
    if (LIF_SAME(reset)) memset(a->y, 0, a->n_in);
    st = eh_lif_step_f32(a->n_in, (const float *)a->x, (float *)a->s[0], (uint8_t *)a->y, (const float *)param(m, r, 0),
                         param_len(r, 0) / 4u, (const float *)param(m, r, 1), param_len(r, 1) / 4u,
                         lif_mode(reset));
    if (st == EH_OK && LIF_SAME(reset)) eh_op_lif_reset_f32(m, r, a->n_in, (float *)a->s[0], (const uint8_t *)a->y, 1);
    return st;
}

static eh_status step_lif_q15(eh_model *m, const eh_args *a)
{
    const uint8_t *r = a->r;
    uint32_t reset = rd8(r + 1);
    eh_leak_q15 lk;
    eh_status st;
    leak_of(m, r, 0, rd8(r + 2) & 1u, &lk);
    if (LIF_SAME(reset)) memset(a->y, 0, a->n_in);
    st = eh_lif_step_q15(a->n_in, (const int16_t *)a->x, (int16_t *)a->s[0], (uint8_t *)a->y, &lk,
                         (const int16_t *)param(m, r, 1), param_len(r, 1) / 2u, lif_mode(reset));
    if (st == EH_OK && LIF_SAME(reset)) eh_op_lif_reset_q15(m, r, a->n_in, (int16_t *)a->s[0], (const uint8_t *)a->y, 1);
    return st;
}

const eh_op eh_op_lif[2] = {
    {.code = 6, .name = "lif_f32", .in_dt = {DT_F32}, .out_dt = DT_SPK, .out_state = 1, .same_n = 1, .n_states = 1,
     .state_dt = DT_F32, .reset_max = 5, .n_params = 3,
     .p = {{P_PN, 4, C_UNIT, ABS_NO, "beta"}, {P_PN, 4, C_POS, ABS_NO, "threshold"}, {P_PN, 4, C_FINITE, ABS_OK, "v_reset"}},
     .check_param = eh_op_lif_check_v_reset, .step = step_lif_f32},
    {.code = 7, .name = "lif_q15", .in_dt = {DT_Q15}, .out_dt = DT_SPK, .out_state = 1, .same_n = 1, .n_states = 1,
     .state_dt = DT_Q15, .reset_max = 5, .leaks = 1, .n_params = 3,
     .p = {{P_LEAK, 0, C_NONE, ABS_NO, "leak"}, {P_PN, 2, C_THR15, ABS_NO, "threshold"}, {P_PN, 2, C_NONE, ABS_OK, "v_reset"}},
     .check_param = eh_op_lif_check_v_reset, .step = step_lif_q15},
};
