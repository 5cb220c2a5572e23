/*
 * LIF with input-weighted threshold adaptation (format 1.3): lif_adapt_f32 (21), lif_adapt_q15
 * (22) (eh_lif_adapt_step_*). Two inputs of n elements: x (input) and x_th (input2); states v, a;
 * the output spikes are a state tensor. Reset 0 (subtract) or 1 (zero), next-step timing only.
 */
#include "eh_lif.h"
#include "eh_op.h"

static eh_status step_lif_adapt_f32(eh_model *m, const eh_args *a)
{
    const uint8_t *r = a->r;
    return eh_lif_adapt_step_f32(a->n_in, (const float *)a->x, (const float *)t_ptr(m, rd16(r + 14)), (float *)a->s[0],
                                 (float *)a->s[1], (uint8_t *)a->y, (const float *)param(m, r, 0), param_len(r, 0) / 4u,
                                 (const float *)param(m, r, 1), param_len(r, 1) / 4u, (const float *)param(m, r, 2),
                                 param_len(r, 2) / 4u, rd8(r + 1) ? EH_RESET_ZERO : EH_RESET_SUBTRACT);
}

static eh_status step_lif_adapt_q15(eh_model *m, const eh_args *a)
{
    const uint8_t *r = a->r;
    uint32_t leak_bits = rd8(r + 2);
    eh_leak_q15 la, lb;
    leak_of(m, r, 0, leak_bits & 1u, &la);
    leak_of(m, r, 1, (leak_bits >> 1) & 1u, &lb);
    return eh_lif_adapt_step_q15(a->n_in, (const int16_t *)a->x, (const int16_t *)t_ptr(m, rd16(r + 14)), (int16_t *)a->s[0],
                                 (int16_t *)a->s[1], (uint8_t *)a->y, &la, &lb, (const int16_t *)param(m, r, 2),
                                 param_len(r, 2) / 2u, rd8(r + 1) ? EH_RESET_ZERO : EH_RESET_SUBTRACT);
}

const eh_op eh_op_lif_adapt[2] = {
    {.code = 21, .name = "lif_adapt_f32", .in_dt = {DT_F32}, .in2_dt = DT_F32, .out_dt = DT_SPK, .out_state = 1, .same_n = 1,
     .n_states = 2, .state_dt = DT_F32, .reset_max = 1, .n_params = 3,
     .p = {{P_PN, 4, C_UNIT, ABS_NO, "beta"}, {P_PN, 4, C_UNIT, ABS_NO, "beta_th"}, {P_PN, 4, C_POS, ABS_NO, "threshold"}},
     .step = step_lif_adapt_f32},
    {.code = 22, .name = "lif_adapt_q15", .in_dt = {DT_Q15}, .in2_dt = DT_Q15, .out_dt = DT_SPK, .out_state = 1, .same_n = 1,
     .n_states = 2, .state_dt = DT_Q15, .reset_max = 1, .leaks = 2, .n_params = 3,
     .p = {{P_LEAK, 0, C_NONE, ABS_NO, "mem_leak"}, {P_LEAK, 0, C_NONE, ABS_NO, "th_leak"}, {P_PN, 2, C_THR15, ABS_NO, "threshold"}},
     .step = step_lif_adapt_q15},
};
