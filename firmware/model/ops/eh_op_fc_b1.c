/*
 * Binary fully connected layers (eh_binary.h): fc_b1_f32 (32), fc_b1_bits (35).
 *   weight u32[n_out ceil(n_in / 32)] (bit 1 = -1);
 *   f32: scale f32[n_out] finite, bias f32[n_out] or absent; bits: threshold s32[n_out] in [-n_in, n_in + 1].
 */
#include "eh_binary.h"
#include "eh_op.h"

/* weight: n_out x W words */
static int32_t check_param(eh_check *c, uint32_t k, const uint8_t *p, uint32_t cnt)
{
    (void)p;
    if (k == 0 && (uint64_t)cnt != (uint64_t)c->n_out * c->W)
        return eh_op_fail(c->m, EH_MODEL_E_PARAM, "layer %u (%s): param %u (%s): %u entries, expected %u", c->l, c->nm, k,
                          c->op->p[k].name, cnt, c->n_out * c->W);
    return EH_MODEL_OK;
}

static eh_status step_fc_b1_f32(eh_model *m, const eh_args *a)
{
    return eh_fc_b1_f32(a->n_in, a->n_out, (const uint32_t *)a->x, (const uint32_t *)param(m, a->r, 0),
                        (const float *)param(m, a->r, 1), (const float *)param(m, a->r, 2), (float *)a->y);
}

static eh_status step_fc_b1_bits(eh_model *m, const eh_args *a)
{
    return eh_fc_b1_bits(a->n_in, a->n_out, (const uint32_t *)a->x, (const uint32_t *)param(m, a->r, 0),
                         (const int32_t *)param(m, a->r, 1), (uint32_t *)a->y);
}

#define WB1 {P_OP, 4, C_NONE, ABS_NO, "weight"}

const eh_op eh_op_fc_b1[2] = {
    {.code = 32, .name = "fc_b1_f32", .in_dt = {DT_B1}, .out_dt = DT_F32, .n_params = 3,
     .p = {WB1, {P_VEC, 4, C_FINITE, ABS_NO, "scale"}, {P_BIAS, 4, C_NONE, ABS_OK, "bias"}}, .check_param = check_param,
     .step = step_fc_b1_f32},
    {.code = 35, .name = "fc_b1_bits", .in_dt = {DT_B1}, .out_dt = DT_B1, .n_params = 2,
     .p = {WB1, {P_VEC, 4, C_THRB1, ABS_NO, "threshold"}}, .check_param = check_param, .step = step_fc_b1_bits},
};
