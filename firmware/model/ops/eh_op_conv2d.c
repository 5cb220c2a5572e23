/*
 * 2-D convolutions, channel-major (C, H, W) (format 1.6, eh_conv2d.h): conv2d_f32 (26),
 * conv2d_q15 (27, dense, for analog inputs), conv2d_spike_q15 (28, event-driven, for spikes).
 *   param 0 "geom" u32[15]: c_in, h_in, w_in, c_out, k_h, k_w, stride_h, stride_w, pad_top,
 *           pad_left, pad_bottom, pad_right, dil_h, dil_w, groups (checked by eh_op_conv2d_check_geom,
 *           eh_op_util.c, in this order, with the same messages as edgehost/ops/conv2d.py);
 *   param 1 "weight" f32 / i16 [c_out][c_in / groups][k_h][k_w];
 *   param 2 "bias" f32 / i32 [c_out] or absent; q15: the record's shift 0..31;
 *   conv2d_spike_q15: state 0 is the kernel's scratch, an s32 activation tensor of n_out elements.
 */
#include "eh_conv2d.h"
#include "eh_op.h"

#define FAIL(...) eh_op_fail(c->m, EH_MODEL_E_PARAM, __VA_ARGS__)
#define dims_of eh_op_conv2d_dims_of

static int32_t check_param(eh_check *c, uint32_t k, const uint8_t *p, uint32_t cnt)
{
    eh_conv2d_dims d;
    if (k == 0) return eh_op_conv2d_check_geom(c, p, cnt); /* eh_op_util.c, shared with conv2d_s8 */
    dims_of(c->p[0], &d);
    if (k == 1) {
        uint64_t want = (uint64_t)d.c_out * (d.c_in / d.groups) * d.k_h * d.k_w;
        if ((uint64_t)cnt != want)
            return FAIL("layer %u (%s): param 1 (weight): %u entries, expected %U", c->l, c->nm, cnt, want);
    } else if (k == 2 && cnt != d.c_out) {
        return FAIL("layer %u (%s): param 2 (bias): %u entries, expected %u or 0", c->l, c->nm, cnt, d.c_out);
    }
    return EH_MODEL_OK;
}

static int32_t check_post(eh_check *c) { return eh_op_check_scratch(c, 0, c->n_out); }

static eh_status step_f32(eh_model *m, const eh_args *a)
{
    eh_conv2d_dims d;
    dims_of((const uint8_t *)param(m, a->r, 0), &d);
    return eh_conv2d_f32(&d, (const float *)a->x, (const float *)param(m, a->r, 1), (const float *)param(m, a->r, 2), (float *)a->y);
}

static eh_status step_q15(eh_model *m, const eh_args *a)
{
    eh_conv2d_dims d;
    dims_of((const uint8_t *)param(m, a->r, 0), &d);
    return eh_conv2d_q15(&d, (const int16_t *)a->x, (const int16_t *)param(m, a->r, 1), (const int32_t *)param(m, a->r, 2),
                         rd32(a->r + 24), (int16_t *)a->y);
}

static eh_status step_spike_q15(eh_model *m, const eh_args *a)
{
    eh_conv2d_dims d;
    dims_of((const uint8_t *)param(m, a->r, 0), &d);
    return eh_conv2d_spike_q15(&d, (const uint8_t *)a->x, (const int16_t *)param(m, a->r, 1), (const int32_t *)param(m, a->r, 2),
                               rd32(a->r + 24), (int32_t *)a->s[0], (int16_t *)a->y);
}

#define GEOM {P_OP, 4, C_NONE, ABS_NO, "geom"}
#define PARAMS(es) .n_params = 3, .p = {GEOM, {P_OP, es, C_NONE, ABS_NO, "weight"}, {P_OP, 4, C_NONE, ABS_OK, "bias"}}, \
                   .check_param = check_param

const eh_op eh_op_conv2d[3] = {
    {.code = 26, .name = "conv2d_f32", .in_dt = {DT_F32}, .out_dt = DT_F32, PARAMS(4), .step = step_f32},
    {.code = 27, .name = "conv2d_q15", .in_dt = {DT_Q15}, .out_dt = DT_Q15, .shift_max = 31, PARAMS(2), .step = step_q15},
    {.code = 28, .name = "conv2d_spike_q15", .in_dt = {DT_SPK}, .out_dt = DT_Q15, .shift_max = 31, .n_states = 1, .state_dt = DT_S32,
     .scratch = 1, PARAMS(2), .check_post = check_post, .step = step_spike_q15},
};
