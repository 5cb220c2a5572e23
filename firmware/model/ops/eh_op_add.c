/*
 * Element-wise sums (format 1.5: NIR's fan-in): add_f32 (23), add_q15 (24). Two inputs of n
 * elements, x (input) and x2 (input2), no state, no parameter:
 *   f32: y = x + x2, one float32 addition per element;
 *   q15: y = sat16(x + x2); x, x2 and y on one scale (checked at load, after the input2 checks:
 *        input2's scale, then the output's, against the input's).
 */
#include "eh_op.h"

static int32_t check_scales(eh_check *c)
{
    eh_model *m = c->m;
    float s = t_scale(m, c->tin);
    if (t_scale(m, c->tin2) != s)
        return eh_op_fail(m, EH_MODEL_E_LAYER, "layer %u (%s): input2 tensor %u scale %g differs from input tensor %u scale %g", c->l,
                          c->nm, c->tin2, (double)t_scale(m, c->tin2), c->tin, (double)s);
    if (t_scale(m, c->tout) != s)
        return eh_op_fail(m, EH_MODEL_E_LAYER, "layer %u (%s): output tensor %u scale %g differs from input tensor %u scale %g", c->l,
                          c->nm, c->tout, (double)t_scale(m, c->tout), c->tin, (double)s);
    return EH_MODEL_OK;
}

static eh_status step_add_f32(eh_model *m, const eh_args *a)
{
    const float *x = (const float *)a->x, *x2 = (const float *)t_ptr(m, rd16(a->r + 14));
    float *y = (float *)a->y;
    for (uint32_t i = 0; i < a->n_in; i++) y[i] = x[i] + x2[i];
    return EH_OK;
}

static eh_status step_add_q15(eh_model *m, const eh_args *a)
{
    const int16_t *x = (const int16_t *)a->x, *x2 = (const int16_t *)t_ptr(m, rd16(a->r + 14));
    int16_t *y = (int16_t *)a->y;
    for (uint32_t i = 0; i < a->n_in; i++) {
        int32_t v = (int32_t)x[i] + x2[i];
        y[i] = (int16_t)(v > 32767 ? 32767 : v < -32768 ? -32768 : v);
    }
    return EH_OK;
}

const eh_op eh_op_add[2] = {
    {.code = 23, .name = "add_f32", .in_dt = {DT_F32}, .in2_dt = DT_F32, .out_dt = DT_F32, .same_n = 1, .step = step_add_f32},
    {.code = 24, .name = "add_q15", .in_dt = {DT_Q15}, .in2_dt = DT_Q15, .out_dt = DT_Q15, .same_n = 1, .check_io = check_scales,
     .step = step_add_q15},
};
