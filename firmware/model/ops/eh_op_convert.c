/*
 * Conversions between the model's numbers: input_q15 (1), input_f32 (2), dequant (16),
 * spike_f32 (17), input_s8 (18, format 1.2), dequant_s8 (19, format 1.2).
 *   input_*: y = (x - offset[i % C]) * mul[i % C] (then quantised to q15: eh_quantize_f32_q15);
 *   input_s8: q = sat8(round_half_away(x / scale) + zero_point), TFLite's reference QUANTIZE;
 *   dequant: eh_dequantize_q15_f32 with the input's scale; dequant_s8: y = (q - zero_point) x scale;
 *   spike_f32: y = s ? 1.0f : 0.0f.
 */
#include "eh_basic.h"
#include "eh_op.h"

/* offset / mul: C entries, C divides n, the same C for both; finite */
static int32_t check_norm(eh_check *c, uint32_t k, const uint8_t *p, uint32_t cnt)
{
    const eh_pspec *ps = &c->op->p[k];
    if (!(cnt >= 1 && c->n_out % cnt == 0 && (k == 0 || cnt == c->cnt[0])))
        return eh_op_fail(c->m, EH_MODEL_E_PARAM,
                          "layer %u (%s): param %u (%s): %u entries, expected a divisor of n (the same for offset and mul)", c->l,
                          c->nm, k, ps->name, cnt);
    return eh_op_check_values(c, k, ps, 0, p, cnt, 0);
}

/* zero_point: 1 entry in [-128, 127] */
static int32_t check_zp(eh_check *c, uint32_t k, const uint8_t *p, uint32_t cnt)
{
    const eh_pspec *ps = &c->op->p[k];
    int32_t v;
    if (cnt != 1)
        return eh_op_fail(c->m, EH_MODEL_E_PARAM, "layer %u (%s): param %u (%s): %u entries, expected 1", c->l, c->nm, k,
                          ps->name, cnt);
    v = (int32_t)rd32(p);
    if (v < -128 || v > 127)
        return eh_op_fail(c->m, EH_MODEL_E_PARAM, "layer %u (%s): param %u (%s): entry %u (%d) outside [-128, 127]", c->l, c->nm,
                          k, ps->name, 0u, v);
    return EH_MODEL_OK;
}

static eh_status step_input_q15(eh_model *m, const eh_args *a)
{
    const float *off = (const float *)param(m, a->r, 0), *mul = (const float *)param(m, a->r, 1);
    uint32_t c_n = param_len(a->r, 0) / 4u, c = 0;
    const float *xf = (const float *)a->x;
    eh_status st = EH_OK;
    for (uint32_t i = 0; i < a->n_in && st == EH_OK; i++) {
        float t = xf[i] - off[c];
        t = t * mul[c];
        st = eh_quantize_f32_q15(1, &t, 1.0f, (int16_t *)a->y + i);
        if (++c == c_n) c = 0;
    }
    return st;
}

static eh_status step_input_f32(eh_model *m, const eh_args *a)
{
    /* input_q15's arithmetic before the quantisation (t = (x - off[c]) * mul[c], two float32
     * operations, no FMA), with sizes and pointers in locals, row by row of C inputs */
    const float *off = (const float *)param(m, a->r, 0), *mul = (const float *)param(m, a->r, 1);
    const uint32_t c_n = param_len(a->r, 0) / 4u, n = a->n_in;
    const float *xf = (const float *)a->x;
    float *y = (float *)a->y;
    uint32_t i = 0;
    while (i < n) {
        const uint32_t row = n - i < c_n ? n - i : c_n;
        for (uint32_t c = 0; c < row; c++) y[i + c] = (xf[i + c] - off[c]) * mul[c];
        i += row;
    }
    return EH_OK;
}

static eh_status step_dequant(eh_model *m, const eh_args *a)
{
    return eh_dequantize_q15_f32(a->n_in, (const int16_t *)a->x, t_scale(m, rd16(a->r + 4)), (float *)a->y);
}

static eh_status step_spike_f32(eh_model *m, const eh_args *a)
{
    (void)m; /* spikes (0/1, as written by the LIF kernels) to 0.0f/1.0f: no kernel needed */
    for (uint32_t i = 0; i < a->n_in; i++) ((float *)a->y)[i] = ((const uint8_t *)a->x)[i] ? 1.0f : 0.0f;
    return EH_OK;
}

static eh_status step_input_s8(eh_model *m, const eh_args *a)
{
    /* q = sat8(round_half_away(x / scale) + zp), one float32 division (TFLite's reference
     * AffineQuantize); NaN counts as 0 */
    float sc = t_scale(m, rd16(a->r + 6));
    int32_t zp = (int32_t)rd32((const uint8_t *)param(m, a->r, 0));
    const float *x = (const float *)a->x;
    int8_t *y = (int8_t *)a->y; /* int8 stores may alias *a: sizes and pointers in locals */
    const uint32_t n = a->n_in;
    for (uint32_t i = 0; i < n; i++) {
        float v = x[i] / sc;
        int32_t q;
        float frac;
        if (!(v == v)) v = 0.0f;
        if (v > 1000.0f) v = 1000.0f;
        if (v < -1000.0f) v = -1000.0f;
        q = (int32_t)v; /* truncates; exact below 2^23 */
        frac = v - (float)q;
        if (frac >= 0.5f) q++;
        else if (frac <= -0.5f) q--;
        q += zp;
        y[i] = (int8_t)(q > 127 ? 127 : q < -128 ? -128 : q);
    }
    return EH_OK;
}

static eh_status step_dequant_s8(eh_model *m, const eh_args *a)
{
    /* y = (float)(q - zp) * scale, one float32 multiply */
    float sc = t_scale(m, rd16(a->r + 4));
    int32_t zp = (int32_t)rd32((const uint8_t *)param(m, a->r, 0));
    for (uint32_t i = 0; i < a->n_in; i++) ((float *)a->y)[i] = (float)((int32_t)((const int8_t *)a->x)[i] - zp) * sc;
    return EH_OK;
}

#define NORM(nm) {P_OP, 4, C_FINITE, ABS_NO, nm}
#define ZP {P_OP, 4, C_NONE, ABS_NO, "zero_point"}

const eh_op eh_op_convert[6] = {
    {.code = 1, .name = "input_q15", .in_dt = {DT_F32}, .out_dt = DT_Q15, .same_n = 1, .n_params = 2,
     .p = {NORM("offset"), NORM("mul")}, .check_param = check_norm, .step = step_input_q15},
    {.code = 2, .name = "input_f32", .in_dt = {DT_F32}, .out_dt = DT_F32, .same_n = 1, .n_params = 2,
     .p = {NORM("offset"), NORM("mul")}, .check_param = check_norm, .step = step_input_f32},
    {.code = 16, .name = "dequant", .in_dt = {DT_Q15}, .out_dt = DT_F32, .same_n = 1, .step = step_dequant},
    {.code = 17, .name = "spike_f32", .in_dt = {DT_SPK}, .out_dt = DT_F32, .same_n = 1, .step = step_spike_f32},
    /* int8 (TFLite): zero point s32[1] in [-128, 127]; the scale is the s8 tensor's */
    {.code = 18, .name = "input_s8", .in_dt = {DT_F32}, .out_dt = DT_S8, .same_n = 1, .n_params = 1, .p = {ZP},
     .check_param = check_zp, .step = step_input_s8},
    {.code = 19, .name = "dequant_s8", .in_dt = {DT_S8}, .out_dt = DT_F32, .same_n = 1, .n_params = 1, .p = {ZP},
     .check_param = check_zp, .step = step_dequant_s8},
};
