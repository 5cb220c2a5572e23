/*
 * The int8 fully connected layer of TFLite / LiteRT, fc_s8 (20, format 1.2): eh_fc_s8, then the
 * fused activation y = min(max(y, act_min), act_max).
 *   weight i8[n_out n_in], bias i32[n_out] or absent,
 *   requant s32[2C]: mult[C] in [0, 2^31) then shift[C] in [-31, 30] (C = 1 per tensor or n_out per channel),
 *   quant s32[4]: x_offset in [-127, 128], y_offset in [-128, 127], act_min in [-128, 127], act_max in [act_min, 127].
 */
#include "eh_basic.h"
#include "eh_op.h"

static int32_t check_param(eh_check *c, uint32_t k, const uint8_t *p, uint32_t cnt)
{
    static const char *const q8_names[4] = {"x_offset", "y_offset", "act_min", "act_max"};
    eh_model *m = c->m;
    const char *pn = c->op->p[k].name;
    if (k == 2) { /* requant */
        if (!(cnt == 2 || (uint64_t)cnt == 2u * (uint64_t)c->n_out))
            return eh_op_fail(m, EH_MODEL_E_PARAM,
                              "layer %u (%s): param %u (%s): %u entries, expected 2 or %U (mult then shift, per tensor or per channel)",
                              c->l, c->nm, k, pn, cnt, 2u * (uint64_t)c->n_out);
        for (uint32_t i = 0; i < cnt; i++) {
            int32_t v = (int32_t)rd32(p + 4 * i);
            if (i < cnt / 2u && v < 0)
                return eh_op_fail(m, EH_MODEL_E_PARAM, "layer %u (%s): param %u (%s): entry %u (mult %d) outside [0, 2147483647]",
                                  c->l, c->nm, k, pn, i, v);
            if (i >= cnt / 2u && (v < -31 || v > 30))
                return eh_op_fail(m, EH_MODEL_E_PARAM, "layer %u (%s): param %u (%s): entry %u (shift %d) outside [-31, 30]", c->l,
                                  c->nm, k, pn, i, v);
        }
    } else if (k == 3) { /* quant */
        if (cnt != 4)
            return eh_op_fail(m, EH_MODEL_E_PARAM, "layer %u (%s): param %u (%s): %u entries, expected 4", c->l, c->nm, k, pn, cnt);
        for (uint32_t i = 0; i < cnt; i++) {
            int32_t v = (int32_t)rd32(p + 4 * i);
            int32_t lo = i == 0 ? -127 : i == 3 ? (int32_t)rd32(p + 8) : -128, hi = i == 0 ? 128 : 127;
            if (v < lo || v > hi)
                return eh_op_fail(m, EH_MODEL_E_PARAM, "layer %u (%s): param %u (%s): entry %u (%s %d) outside [%d, %d]", c->l,
                                  c->nm, k, pn, i, q8_names[i], v, lo, hi);
        }
    }
    return EH_MODEL_OK;
}

static eh_status step_fc_s8(eh_model *m, const eh_args *a)
{
    const uint8_t *r = a->r;
    uint32_t n_out = a->n_out;
    const int32_t *rq = (const int32_t *)param(m, r, 2), *q8 = (const int32_t *)param(m, r, 3);
    uint32_t c_n = param_len(r, 2) / 8u;
    uint32_t per_channel = c_n == n_out && n_out > 1u;
    eh_status st = eh_fc_s8(a->n_in, n_out, (const int8_t *)a->x, q8[0], (const int8_t *)param(m, r, 0),
                            (const int32_t *)param(m, r, 1), rq, rq + c_n, per_channel, q8[1], (int8_t *)a->y);
    for (uint32_t o = 0; o < n_out && st == EH_OK; o++) { /* fused activation (RELU, RELU6...) */
        int8_t *yo = (int8_t *)a->y + o;
        if (*yo < q8[2]) *yo = (int8_t)q8[2];
        if (*yo > q8[3]) *yo = (int8_t)q8[3];
    }
    return st;
}

const eh_op eh_op_fc_s8[1] = {
    {.code = 20, .name = "fc_s8", .in_dt = {DT_S8}, .out_dt = DT_S8, .n_params = 4,
     .p = {{P_W, 1, C_NONE, ABS_NO, "weight"}, {P_BIAS, 4, C_NONE, ABS_OK, "bias"}, {P_OP, 4, C_NONE, ABS_NO, "requant"},
           {P_OP, 4, C_NONE, ABS_NO, "quant"}},
     .check_param = check_param, .step = step_fc_s8},
};
