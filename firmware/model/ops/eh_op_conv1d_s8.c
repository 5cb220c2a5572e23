/*
 * The int8 1-D convolution, conv1d_s8 (56, format 1.6): TFLite's int8 CONV_2D of height 1 (per
 * tensor or per channel, padded taps skipped) with its fused activation, eh_conv1d_s8. A whole
 * sequence per step: input s8 [t_in][c_in] (n_in = t_in c_in), output s8 [t_out][c_out]
 * (n_out = t_out c_out), position-major as TFLite's NHWC.
 *   conv s32[9]: c_in, c_out, taps, stride, pad, x_offset, y_offset, act_min, act_max
 *     (c_in >= 1 divides n_in, c_out >= 1 divides n_out, taps >= 1 with taps c_in <= 65536,
 *     stride >= 1, pad in [0, taps - 1], (t_out - 1) stride < t_in + pad; x_offset in [-127, 128],
 *     y_offset in [-128, 127], act_min in [-128, 127], act_max in [act_min, 127]);
 *   weight i8[c_out taps c_in]; bias s32[c_out] or absent;
 *   requant s32[2C]: mult[C] in [0, 2^31) then shift[C] in [-31, 30] (C = 1 or c_out).
 */
#include "eh_basic.h"
#include "eh_op.h"

#define C_OUT aux[0]
#define ROW aux[1] /* taps x c_in: the weights of one filter */

static int32_t check_conv(eh_check *c, const uint8_t *p, uint32_t cnt)
{
    static const char *const names[4] = {"x_offset", "y_offset", "act_min", "act_max"};
    eh_model *m = c->m;
    int32_t v[9];
    uint32_t i, t_in, t_out;
    if (cnt != 9)
        return eh_op_fail(m, EH_MODEL_E_PARAM, "layer %u (%s): param 0 (conv): %u entries, expected 9", c->l, c->nm, cnt);
    for (i = 0; i < 9; i++) v[i] = (int32_t)rd32(p + 4 * i);
    if (v[0] < 1 || c->n_in % (uint32_t)v[0])
        return eh_op_fail(m, EH_MODEL_E_PARAM, "layer %u (%s): param 0 (conv): entry 0 (c_in %d) must be >= 1 and divide n_in %u",
                          c->l, c->nm, v[0], c->n_in);
    if (v[1] < 1 || c->n_out % (uint32_t)v[1])
        return eh_op_fail(m, EH_MODEL_E_PARAM, "layer %u (%s): param 0 (conv): entry 1 (c_out %d) must be >= 1 and divide n_out %u",
                          c->l, c->nm, v[1], c->n_out);
    if (v[2] < 1 || (uint64_t)v[2] * (uint32_t)v[0] > 65536u)
        return eh_op_fail(m, EH_MODEL_E_PARAM, "layer %u (%s): param 0 (conv): entry 2 (taps %d) must be >= 1 with taps x c_in <= 65536",
                          c->l, c->nm, v[2]);
    if (v[3] < 1)
        return eh_op_fail(m, EH_MODEL_E_PARAM, "layer %u (%s): param 0 (conv): entry 3 (stride %d) must be >= 1", c->l, c->nm, v[3]);
    if (v[4] < 0 || v[4] >= v[2])
        return eh_op_fail(m, EH_MODEL_E_PARAM, "layer %u (%s): param 0 (conv): entry 4 (pad %d) outside [0, %d]", c->l, c->nm, v[4],
                          v[2] - 1);
    t_in = c->n_in / (uint32_t)v[0];
    t_out = c->n_out / (uint32_t)v[1];
    if ((uint64_t)(t_out - 1u) * (uint32_t)v[3] >= (uint64_t)t_in + (uint32_t)v[4])
        return eh_op_fail(m, EH_MODEL_E_PARAM,
                          "layer %u (%s): param 0 (conv): t_out %u with stride %d starts a window past t_in %u + pad %d", c->l,
                          c->nm, t_out, v[3], t_in, v[4]);
    for (i = 5; i < 9; i++) {
        int32_t lo = i == 5 ? -127 : i == 8 ? v[7] : -128, hi = i == 5 ? 128 : 127;
        if (v[i] < lo || v[i] > hi)
            return eh_op_fail(m, EH_MODEL_E_PARAM, "layer %u (%s): param 0 (conv): entry %u (%s %d) outside [%d, %d]", c->l, c->nm,
                              i, names[i - 5], v[i], lo, hi);
    }
    c->C_OUT = (uint32_t)v[1];
    c->ROW = (uint32_t)v[2] * (uint32_t)v[0];
    return EH_MODEL_OK;
}

static int32_t check_param(eh_check *c, uint32_t k, const uint8_t *p, uint32_t cnt)
{
    eh_model *m = c->m;
    const char *pn = c->op->p[k].name;
    uint32_t i;
    if (k == 0) return check_conv(c, p, cnt);
    if (k == 1 && (uint64_t)cnt != (uint64_t)c->C_OUT * c->ROW)
        return eh_op_fail(m, EH_MODEL_E_PARAM, "layer %u (%s): param %u (%s): %u entries, expected %U", c->l, c->nm, k, pn, cnt,
                          (uint64_t)c->C_OUT * c->ROW);
    if (k == 2 && cnt != c->C_OUT)
        return eh_op_fail(m, EH_MODEL_E_PARAM, "layer %u (%s): param %u (%s): %u entries, expected %u or 0", c->l, c->nm, k, pn, cnt,
                          c->C_OUT);
    if (k == 3) {
        if (!(cnt == 2 || (uint64_t)cnt == 2u * (uint64_t)c->C_OUT))
            return eh_op_fail(m, EH_MODEL_E_PARAM,
                              "layer %u (%s): param %u (%s): %u entries, expected 2 or %U (mult then shift, per tensor or per channel)",
                              c->l, c->nm, k, pn, cnt, 2u * (uint64_t)c->C_OUT);
        for (i = 0; i < cnt; i++) {
            int32_t v = (int32_t)rd32(p + 4 * i);
            if (i < cnt / 2u && v < 0)
                return eh_op_fail(m, EH_MODEL_E_PARAM, "layer %u (%s): param %u (%s): entry %u (mult %d) outside [0, 2147483647]",
                                  c->l, c->nm, k, pn, i, v);
            if (i >= cnt / 2u && (v < -31 || v > 30))
                return eh_op_fail(m, EH_MODEL_E_PARAM, "layer %u (%s): param %u (%s): entry %u (shift %d) outside [-31, 30]", c->l,
                                  c->nm, k, pn, i, v);
        }
    }
    return EH_MODEL_OK;
}

static eh_status step_conv1d_s8(eh_model *m, const eh_args *a)
{
    const uint8_t *r = a->r;
    const int32_t *cv = (const int32_t *)param(m, r, 0), *rq = (const int32_t *)param(m, r, 3);
    uint32_t c_n = param_len(r, 3) / 8u;
    eh_conv1d_s8_dims d;
    d.n_in = (uint32_t)cv[0];
    d.n_out = (uint32_t)cv[1];
    d.taps = (uint32_t)cv[2];
    d.stride = (uint32_t)cv[3];
    d.pad = (uint32_t)cv[4];
    d.t_in = a->n_in / d.n_in;
    d.t_out = a->n_out / d.n_out;
    return eh_conv1d_s8(&d, (const int8_t *)a->x, cv[5], (const int8_t *)param(m, r, 1), (const int32_t *)param(m, r, 2), rq,
                        rq + c_n, c_n == d.n_out && d.n_out > 1u, cv[6], cv[7], cv[8], (int8_t *)a->y);
}

const eh_op eh_op_conv1d_s8[1] = {
    {.code = 56, .name = "conv1d_s8", .in_dt = {DT_S8}, .out_dt = DT_S8, .n_params = 4,
     .p = {{P_OP, 4, C_NONE, ABS_NO, "conv"}, {P_OP, 1, C_NONE, ABS_NO, "weight"}, {P_OP, 4, C_NONE, ABS_OK, "bias"},
           {P_OP, 4, C_NONE, ABS_NO, "requant"}},
     .check_param = check_param, .step = step_conv1d_s8},
};
