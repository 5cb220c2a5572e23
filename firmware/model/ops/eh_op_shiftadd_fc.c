/*
 * Shift-add fully connected layer, shiftadd_fc_q15 (40, format 1.4, eh_shiftadd.h): weight
 * u8[n_out n_in] power-of-two codes (bits 6..5 clear), bias i32[n_out] or absent; shift 0..31.
 */
#include "eh_op.h"
#include "eh_shiftadd.h"

static int32_t check_param(eh_check *c, uint32_t k, const uint8_t *p, uint32_t cnt)
{
    uint64_t want = (uint64_t)c->n_out * c->n_in;
    if (k != 0) return EH_MODEL_OK;
    if ((uint64_t)cnt != want)
        return eh_op_fail(c->m, EH_MODEL_E_PARAM, "layer %u (%s): param %u (%s): %u entries, expected %U", c->l, c->nm, k,
                          c->op->p[k].name, cnt, want);
    for (uint32_t i = 0; i < cnt; i++)
        if (p[i] & 0x60u)
            return eh_op_fail(c->m, EH_MODEL_E_PARAM, "layer %u (%s): param %u (%s): entry %u (%u) has reserved bits 6..5 set", c->l,
                              c->nm, k, c->op->p[k].name, i, (uint32_t)p[i]);
    return EH_MODEL_OK;
}

static eh_status step_shiftadd_fc_q15(eh_model *m, const eh_args *a)
{
    return eh_shiftadd_fc_q15(a->n_in, a->n_out, (const int16_t *)a->x, (const uint8_t *)param(m, a->r, 0),
                              (const int32_t *)param(m, a->r, 1), rd32(a->r + 24), (int16_t *)a->y);
}

const eh_op eh_op_shiftadd_fc[1] = {
    {.code = 40, .name = "shiftadd_fc_q15", .in_dt = {DT_Q15}, .out_dt = DT_Q15, .shift_max = 31, .n_params = 2,
     .p = {{P_OP, 1, C_NONE, ABS_NO, "weight"}, {P_BIAS, 4, C_NONE, ABS_OK, "bias"}}, .check_param = check_param,
     .step = step_shiftadd_fc_q15},
};
