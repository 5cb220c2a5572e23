/*
 * int8 2-D pooling, channel-last (format 1.6, eh_conv2d.h "int8 2-D convolution and pooling"):
 * maxpool2d_s8 (54) and avgpool2d_s8 (55), TFLite's int8 MAX_POOL_2D / AVERAGE_POOL_2D (NHWC,
 * batch 1; padding taps not counted, the mean rounded half away from zero) with the fused clamp.
 * Input s8 [h_in][w_in][c], output s8 [h_out][w_out][c].
 *   param 0 "geom" u32[11]: pool2d's (eh_op_pool2d_check_geom, eh_op_util.c: the same rules and
 *           messages as sumpool2d_f32);
 *   param 1 "act" s32[2]: act_min in [-128, 127], act_max in [act_min, 127].
 * The same checks in the same order with the same messages as edgehost/ops/pool2d_s8.py.
 */
#include "eh_conv2d.h"
#include "eh_op.h"

#define FAIL(...) eh_op_fail(c->m, EH_MODEL_E_PARAM, __VA_ARGS__)

static int32_t check_param(eh_check *c, uint32_t k, const uint8_t *p, uint32_t cnt)
{
    int32_t lo, hi;
    if (k == 0) return eh_op_pool2d_check_geom(c, p, cnt);
    if (cnt != 2u) return FAIL("layer %u (%s): param 1 (act): %u entries, expected 2", c->l, c->nm, cnt);
    lo = (int32_t)rd32(p);
    hi = (int32_t)rd32(p + 4);
    if (lo < -128 || lo > 127) return FAIL("layer %u (%s): param 1 (act): entry 0 (act_min %d) outside [-128, 127]", c->l, c->nm, lo);
    if (hi < lo || hi > 127) return FAIL("layer %u (%s): param 1 (act): entry 1 (act_max %d) outside [%d, 127]", c->l, c->nm, hi, lo);
    return EH_MODEL_OK;
}

#define STEP(name)                                                                                          \
    static eh_status step_##name(eh_model *m, const eh_args *a)                                             \
    {                                                                                                       \
        const int32_t *act = (const int32_t *)param(m, a->r, 1);                                            \
        eh_pool2d_dims d;                                                                                   \
        eh_op_pool2d_dims_of((const uint8_t *)param(m, a->r, 0), &d);                                       \
        return eh_##name(&d, (const int8_t *)a->x, act[0], act[1], (int8_t *)a->y);                         \
    }
STEP(maxpool2d_s8)
STEP(avgpool2d_s8)

#define POOL(c, nm) .code = c, .name = #nm, .in_dt = {DT_S8}, .out_dt = DT_S8, .n_params = 2,                         \
                    .p = {{P_OP, 4, C_NONE, ABS_NO, "geom"}, {P_OP, 4, C_NONE, ABS_NO, "act"}}, .check_param = check_param, \
                    .step = step_##nm

const eh_op eh_op_pool2d_s8[2] = {
    {POOL(54, maxpool2d_s8)},
    {POOL(55, avgpool2d_s8)},
};
