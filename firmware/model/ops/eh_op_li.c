/*
 * Leaky integrators (the readout; they accumulate in their output, a state tensor): li_f32 (10),
 * li_q15 (11) (eh_li_step_*).
 */
#include "eh_basic.h"
#include "eh_op.h"

static eh_status step_li_f32(eh_model *m, const eh_args *a)
{
    return eh_li_step_f32(a->n_in, (const float *)a->x, (float *)a->y, (const float *)param(m, a->r, 0), param_len(a->r, 0) / 4u);
}

static eh_status step_li_q15(eh_model *m, const eh_args *a)
{
    eh_leak_q15 lk;
    leak_of(m, a->r, 0, rd8(a->r + 2) & 1u, &lk);
    return eh_li_step_q15(a->n_in, (const int16_t *)a->x, (int16_t *)a->y, &lk);
}

const eh_op eh_op_li[2] = {
    {.code = 10, .name = "li_f32", .in_dt = {DT_F32}, .out_dt = DT_F32, .out_state = 1, .same_n = 1, .n_params = 1,
     .p = {{P_PN, 4, C_UNIT, ABS_NO, "beta"}}, .step = step_li_f32},
    {.code = 11, .name = "li_q15", .in_dt = {DT_Q15}, .out_dt = DT_Q15, .out_state = 1, .same_n = 1, .leaks = 1, .n_params = 1,
     .p = {{P_LEAK, 0, C_NONE, ABS_NO, "leak"}}, .step = step_li_q15},
};
