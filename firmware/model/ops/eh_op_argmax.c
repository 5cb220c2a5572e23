/* argmax (14): f32 / q15 / s32 [n] -> u32[1], the index of the first maximum (eh_argmax_*). */
#include "eh_basic.h"
#include "eh_op.h"

static eh_status step_argmax(eh_model *m, const eh_args *a)
{
    uint32_t idx = 0, dt = t_dt(m, rd16(a->r + 4));
    eh_status st;
    if (dt == EH_MODEL_DT_F32) st = eh_argmax_f32(a->n_in, (const float *)a->x, &idx);
    else if (dt == EH_MODEL_DT_Q15) st = eh_argmax_q15(a->n_in, (const int16_t *)a->x, &idx);
    else st = eh_argmax_s32(a->n_in, (const int32_t *)a->x, &idx);
    if (st == EH_OK) memcpy(a->y, &idx, 4);
    return st;
}

const eh_op eh_op_argmax[1] = {
    {.code = 14, .name = "argmax", .in_dt = {DT_F32, DT_Q15, DT_S32}, .out_dt = DT_U32, .n_out_one = 1, .step = step_argmax},
};
