/*
 * Input encodings of the HAR baselines (format 1.6):
 *   thermometer_b1 (44): q15 [t C] -> b1 [t 32 W], W = ceil(C L / 32): per frame (C channels of
 *     the input, position-major) C L bits, bit c L + j = 1 (the value -1) iff x[c] <= level[c][j],
 *     else 0 (+1: x > level); each output frame fills W whole words (padding bits 0), as the
 *     binary kernels' [t][W] layout.
 *     dims s32[2]: channels C (>= 1, divides n_in), levels L in [1, 4096]; n_out = t 32 W.
 *     levels i16[C L].
 *   shiftnorm_q15 (47): q15 [n] -> q15 [n], channel c = i % C: d = x - offset[c] (int32), then
 *     y = sat16(floor((d + 2^(s-1)) / 2^s)) for s = shift[c] > 0 (round half up), d for s = 0,
 *     sat16(d 2^-s) for s < 0.  offset i16[C] (C >= 1 divides n), shift s8[C] in [-15, 31].
 */
#include "eh_op.h"

#define CL aux[0]

static int32_t check_thermo(eh_check *c, uint32_t k, const uint8_t *p, uint32_t cnt)
{
    eh_model *m = c->m;
    const char *pn = c->op->p[k].name;
    if (k == 0) {
        int32_t C, L;
        uint64_t w, want;
        if (cnt != 2)
            return eh_op_fail(m, EH_MODEL_E_PARAM, "layer %u (%s): param 0 (%s): %u entries, expected 2", c->l, c->nm, pn, cnt);
        C = (int32_t)rd32(p);
        L = (int32_t)rd32(p + 4);
        if (C < 1 || c->n_in % (uint32_t)C)
            return eh_op_fail(m, EH_MODEL_E_PARAM, "layer %u (%s): param 0 (%s): entry 0 (channels %d) must be >= 1 and divide n_in %u",
                              c->l, c->nm, pn, C, c->n_in);
        if (L < 1 || L > 4096)
            return eh_op_fail(m, EH_MODEL_E_PARAM, "layer %u (%s): param 0 (%s): entry 1 (levels %d) outside [1, 4096]", c->l, c->nm,
                              pn, L);
        w = ((uint64_t)C * (uint32_t)L + 31u) / 32u;
        want = (uint64_t)(c->n_in / (uint32_t)C) * 32u * w;
        if (want != c->n_out)
            return eh_op_fail(m, EH_MODEL_E_PARAM, "layer %u (%s): param 0 (%s): n_out %u, expected %U (%u frames of 32 x %U words)",
                              c->l, c->nm, pn, c->n_out, want, c->n_in / (uint32_t)C, w);
        c->CL = (uint32_t)C * (uint32_t)L;
    } else if (cnt != c->CL) {
        return eh_op_fail(m, EH_MODEL_E_PARAM, "layer %u (%s): param %u (%s): %u entries, expected %u", c->l, c->nm, k, pn, cnt, c->CL);
    }
    return EH_MODEL_OK;
}

static eh_status step_thermo(eh_model *m, const eh_args *a)
{
    const int32_t *dims = (const int32_t *)param(m, a->r, 0);
    const int16_t *lev = (const int16_t *)param(m, a->r, 1), *x = (const int16_t *)a->x;
    uint32_t C = (uint32_t)dims[0], L = (uint32_t)dims[1], W = (C * L + 31u) / 32u, T = a->n_in / C, t, c, j;
    uint32_t *y = (uint32_t *)a->y;
    memset(y, 0, 4u * W * T);
    for (t = 0; t < T; t++, x += C, y += W) {
        uint32_t b = 0;
        for (c = 0; c < C; c++) {
            const int16_t *lv = lev + c * L;
            int32_t v = x[c];
            for (j = 0; j < L; j++, b++)
                if (v <= lv[j]) y[b >> 5] |= 1u << (b & 31u);
        }
    }
    return EH_OK;
}

static int32_t check_norm(eh_check *c, uint32_t k, const uint8_t *p, uint32_t cnt)
{
    eh_model *m = c->m;
    const char *pn = c->op->p[k].name;
    if (k == 0) {
        if (c->n_in % cnt)
            return eh_op_fail(m, EH_MODEL_E_PARAM, "layer %u (%s): param 0 (%s): %u entries, expected a divisor of n_in %u", c->l, c->nm, pn, cnt,
                              c->n_in);
        c->CL = cnt;
    } else {
        if (cnt != c->CL)
            return eh_op_fail(m, EH_MODEL_E_PARAM, "layer %u (%s): param %u (%s): %u entries, expected %u", c->l, c->nm, k, pn, cnt,
                              c->CL);
        for (uint32_t i = 0; i < cnt; i++) {
            int32_t v = (int32_t)(int8_t)p[i];
            if (v < -15 || v > 31)
                return eh_op_fail(m, EH_MODEL_E_PARAM, "layer %u (%s): param %u (%s): entry %u (%d) outside [-15, 31]", c->l, c->nm,
                                  k, pn, i, v);
        }
    }
    return EH_MODEL_OK;
}

static eh_status step_norm(eh_model *m, const eh_args *a)
{
    const int16_t *off = (const int16_t *)param(m, a->r, 0), *x = (const int16_t *)a->x;
    const int8_t *sh = (const int8_t *)param(m, a->r, 1);
    uint32_t C = param_len(a->r, 0) / 2u, n = a->n_in, i, ch = 0;
    int16_t *y = (int16_t *)a->y;
    for (i = 0; i < n; i++) {
        int64_t d = (int64_t)x[i] - off[ch];
        int32_t s = sh[ch];
        if (s > 0)
            d = (d + ((int64_t)1 << (s - 1))) >> s;
        else if (s < 0)
            d = d * ((int64_t)1 << -s);
        y[i] = (int16_t)(d > 32767 ? 32767 : d < -32768 ? -32768 : d);
        if (++ch == C) ch = 0;
    }
    return EH_OK;
}

const eh_op eh_op_thermometer_b1[2] = {
    {.code = 44, .name = "thermometer_b1", .in_dt = {DT_Q15}, .out_dt = DT_B1, .n_params = 2,
     .p = {{P_OP, 4, C_NONE, ABS_NO, "dims"}, {P_OP, 2, C_NONE, ABS_NO, "levels"}}, .check_param = check_thermo,
     .step = step_thermo},
    {.code = 47, .name = "shiftnorm_q15", .in_dt = {DT_Q15}, .out_dt = DT_Q15, .same_n = 1, .n_params = 2,
     .p = {{P_OP, 2, C_NONE, ABS_NO, "offset"}, {P_OP, 1, C_NONE, ABS_NO, "shift"}}, .check_param = check_norm,
     .step = step_norm},
};
