/* ReLU: relu_f32 (12), relu_q15 (13) (eh_relu_*). */
#include "eh_basic.h"
#include "eh_op.h"

static eh_status step_relu_f32(eh_model *m, const eh_args *a)
{
    (void)m;
    return eh_relu_f32(a->n_in, (const float *)a->x, (float *)a->y);
}

static eh_status step_relu_q15(eh_model *m, const eh_args *a)
{
    (void)m;
    return eh_relu_q15(a->n_in, (const int16_t *)a->x, (int16_t *)a->y);
}

const eh_op eh_op_relu[2] = {
    {.code = 12, .name = "relu_f32", .in_dt = {DT_F32}, .out_dt = DT_F32, .same_n = 1, .step = step_relu_f32},
    {.code = 13, .name = "relu_q15", .in_dt = {DT_Q15}, .out_dt = DT_Q15, .same_n = 1, .step = step_relu_q15},
};
