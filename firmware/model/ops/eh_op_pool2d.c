/*
 * 2-D pooling, channel-major (C, H, W) (format 1.6, eh_conv2d.h "2-D pooling"): sumpool2d_f32 (29),
 * sumpool2d_q15 (30), sumpool2d_spike_q15 (31, spikes -> counts), avgpool2d_f32 (49),
 * avgpool2d_q15 (50), avgpool2d_spike_q15 (51, spikes -> the Q15 fraction of the window).
 *   param 0 "geom" u32[11]: c, h_in, w_in, k_h, k_w, stride_h, stride_w, pad_top, pad_left,
 *           pad_bottom, pad_right (checked by eh_op_pool2d_check_geom, eh_op_util.c, in this
 *           order, with the same messages as edgehost/ops/pool2d.py).
 */
#include "eh_conv2d.h"
#include "eh_op.h"

#define dims_of eh_op_pool2d_dims_of

/* the only parameter: the geometry (eh_op_util.c, shared with maxpool2d_s8 / avgpool2d_s8) */
static int32_t check_param(eh_check *c, uint32_t k, const uint8_t *p, uint32_t cnt)
{
    (void)k;
    return eh_op_pool2d_check_geom(c, p, cnt);
}

#define STEP(name, xt, yt)                                                                        \
    static eh_status step_##name(eh_model *m, const eh_args *a)                                   \
    {                                                                                             \
        eh_pool2d_dims d;                                                                         \
        dims_of((const uint8_t *)param(m, a->r, 0), &d);                                          \
        return eh_##name(&d, (const xt *)a->x, (yt *)a->y);                                       \
    }
STEP(sumpool2d_f32, float, float)
STEP(sumpool2d_q15, int16_t, int16_t)
STEP(sumpool2d_spike_q15, uint8_t, int16_t)
STEP(avgpool2d_f32, float, float)
STEP(avgpool2d_q15, int16_t, int16_t)
STEP(avgpool2d_spike_q15, uint8_t, int16_t)

#define POOL(c, nm, idt, odt) .code = c, .name = #nm, .in_dt = {idt}, .out_dt = odt, .n_params = 1, \
                              .p = {{P_OP, 4, C_NONE, ABS_NO, "geom"}}, .check_param = check_param, .step = step_##nm

const eh_op eh_op_pool2d[6] = {
    {POOL(29, sumpool2d_f32, DT_F32, DT_F32)},
    {POOL(30, sumpool2d_q15, DT_Q15, DT_Q15)},
    {POOL(31, sumpool2d_spike_q15, DT_SPK, DT_Q15)},
    {POOL(49, avgpool2d_f32, DT_F32, DT_F32)},
    {POOL(50, avgpool2d_q15, DT_Q15, DT_Q15)},
    {POOL(51, avgpool2d_spike_q15, DT_SPK, DT_Q15)},
};
