/*
 * The int8 2-D convolution, conv2d_s8 (53, format 1.6): TFLite's int8 CONV_2D / DEPTHWISE_CONV_2D
 * (NHWC, batch 1; per tensor or per channel, padded taps skipped) with its fused activation,
 * eh_conv2d_s8 (eh_conv2d.h). Input s8 [h_in][w_in][c_in] (n_in = h_in w_in c_in), output s8
 * [h_out][w_out][c_out] (n_out = h_out w_out c_out), channel-last.
 *   param 0 "geom" u32[15]: conv2d's (eh_op_conv2d_check_geom, eh_op_util.c: the same rules and
 *           messages as conv2d_f32), then (c_in / groups) k_h k_w <= 65536;
 *   param 1 "weight" i8[c_out][k_h][k_w][c_in / groups];
 *   param 2 "bias" s32[c_out] or absent;
 *   param 3 "requant" s32[2C + 4]: mult[C] in [0, 2^31) then shift[C] in [-31, 30] (C = 1 or
 *           c_out; per channel when C = c_out > 1), then x_offset in [-127, 128], y_offset in
 *           [-128, 127], act_min in [-128, 127], act_max in [act_min, 127].
 * The same checks in the same order with the same messages as edgehost/ops/conv2d_s8.py.
 */
#include "eh_conv2d.h"
#include "eh_op.h"

#define FAIL(...) eh_op_fail(c->m, EH_MODEL_E_PARAM, __VA_ARGS__)

static int32_t check_param(eh_check *c, uint32_t k, const uint8_t *p, uint32_t cnt)
{
    static const char *const qnames[4] = {"x_offset", "y_offset", "act_min", "act_max"};
    const uint32_t l = c->l;
    const char *nm = c->nm;
    eh_conv2d_dims d;
    uint64_t n;
    uint32_t i;
    if (k == 0) {
        int32_t st = eh_op_conv2d_check_geom(c, p, cnt);
        uint64_t row;
        if (st != EH_MODEL_OK) return st;
        eh_op_conv2d_dims_of(p, &d);
        row = (uint64_t)(d.c_in / d.groups) * d.k_h * d.k_w;
        if (row > (uint64_t)EH_CONV2D_S8_MAX_ROW)
            return FAIL("layer %u (%s): param 0 (geom): (c_in / groups) x k_h x k_w = %u x %u x %u = %U > 65536", l, nm,
                        d.c_in / d.groups, d.k_h, d.k_w, row);
        return EH_MODEL_OK;
    }
    eh_op_conv2d_dims_of(c->p[0], &d);
    if (k == 1) {
        n = (uint64_t)d.c_out * d.k_h * d.k_w * (d.c_in / d.groups);
        if ((uint64_t)cnt != n) return FAIL("layer %u (%s): param 1 (weight): %u entries, expected %U", l, nm, cnt, n);
    } else if (k == 2) {
        if (cnt != d.c_out) return FAIL("layer %u (%s): param 2 (bias): %u entries, expected %u or 0", l, nm, cnt, d.c_out);
    } else if (k == 3) {
        uint32_t h;
        int32_t q[4];
        n = 2u * (uint64_t)d.c_out + 4u;
        if (!(cnt == 6u || (uint64_t)cnt == n))
            return FAIL("layer %u (%s): param 3 (requant): %u entries, expected 6 or %U (mult then shift, per tensor or per channel, "
                        "then x_offset, y_offset, act_min, act_max)",
                        l, nm, cnt, n);
        h = (cnt - 4u) / 2u;
        for (i = 0; i < 2u * h; i++) {
            int32_t v = (int32_t)rd32(p + 4u * i);
            if (i < h && v < 0) return FAIL("layer %u (%s): param 3 (requant): entry %u (mult %d) outside [0, 2147483647]", l, nm, i, v);
            if (i >= h && (v < -31 || v > 30))
                return FAIL("layer %u (%s): param 3 (requant): entry %u (shift %d) outside [-31, 30]", l, nm, i, v);
        }
        for (i = 0; i < 4u; i++) q[i] = (int32_t)rd32(p + 4u * (2u * h + i));
        for (i = 0; i < 4u; i++) {
            int32_t lo = i == 0 ? -127 : i == 3 ? q[2] : -128, hi = i == 0 ? 128 : 127;
            if (q[i] < lo || q[i] > hi)
                return FAIL("layer %u (%s): param 3 (requant): entry %u (%s %d) outside [%d, %d]", l, nm, 2u * h + i, qnames[i], q[i],
                            lo, hi);
        }
    }
    return EH_MODEL_OK;
}

static eh_status step_conv2d_s8(eh_model *m, const eh_args *a)
{
    const uint8_t *r = a->r;
    const int32_t *rq = (const int32_t *)param(m, r, 3);
    uint32_t nq = (param_len(r, 3) / 4u - 4u) / 2u;
    const int32_t *q = rq + 2u * nq;
    eh_conv2d_dims d;
    eh_op_conv2d_dims_of((const uint8_t *)param(m, r, 0), &d);
    return eh_conv2d_s8(&d, (const int8_t *)a->x, q[0], (const int8_t *)param(m, r, 1), (const int32_t *)param(m, r, 2), rq, rq + nq,
                        nq == d.c_out && d.c_out > 1u, q[1], q[2], q[3], (int8_t *)a->y);
}

const eh_op eh_op_conv2d_s8[1] = {
    {.code = 53, .name = "conv2d_s8", .in_dt = {DT_S8}, .out_dt = DT_S8, .n_params = 4,
     .p = {{P_OP, 4, C_NONE, ABS_NO, "geom"}, {P_OP, 1, C_NONE, ABS_NO, "weight"}, {P_OP, 4, C_NONE, ABS_OK, "bias"},
           {P_OP, 4, C_NONE, ABS_NO, "requant"}},
     .check_param = check_param, .step = step_conv2d_s8},
};
