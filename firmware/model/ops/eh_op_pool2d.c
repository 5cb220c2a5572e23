/*
 * 2-D pooling, channel-major (C, H, W) (format 1.6, eh_conv2d.h "2-D pooling"): sumpool2d_f32 (29),
 * sumpool2d_q15 (30), sumpool2d_spike_q15 (31, spikes -> counts), avgpool2d_f32 (49),
 * avgpool2d_q15 (50), avgpool2d_spike_q15 (51, spikes -> the Q15 fraction of the window).
 *   param 0 "geom" u32[11]: c, h_in, w_in, k_h, k_w, stride_h, stride_w, pad_top, pad_left,
 *           pad_bottom, pad_right (checked below, in this order, with the same messages as
 *           edgehost/ops/pool2d.py).
 */
#include "eh_conv2d.h"
#include "eh_op.h"

#define GEOM_N 11u
#define MAXD 65535u

static const char *const geom_names[GEOM_N] = {"c", "h_in", "w_in", "k_h", "k_w", "stride_h", "stride_w",
                                               "pad_top", "pad_left", "pad_bottom", "pad_right"};

static void dims_of(const uint8_t *g, eh_pool2d_dims *d)
{
    d->c = rd32(g); d->h_in = rd32(g + 4); d->w_in = rd32(g + 8); d->k_h = rd32(g + 12); d->k_w = rd32(g + 16);
    d->stride_h = rd32(g + 20); d->stride_w = rd32(g + 24); d->pad_top = rd32(g + 28); d->pad_left = rd32(g + 32);
    d->pad_bottom = rd32(g + 36); d->pad_right = rd32(g + 40);
}

#define FAIL(...) eh_op_fail(c->m, EH_MODEL_E_PARAM, __VA_ARGS__)

static int32_t check_param(eh_check *c, uint32_t k, const uint8_t *p, uint32_t cnt)
{
    eh_pool2d_dims d;
    uint64_t ext_h, ext_w;
    uint32_t h_out, w_out, i;
    const uint32_t l = c->l;
    const char *nm = c->nm;
    (void)k; /* the only parameter */
    if (cnt != GEOM_N) return FAIL("layer %u (%s): param 0 (geom): %u entries, expected 11", l, nm, cnt);
    for (i = 0; i < 7u; i++) {
        uint32_t v = rd32(p + 4u * i);
        if (v < 1u || v > MAXD) return FAIL("layer %u (%s): param 0 (geom): %s %u outside [1, 65535]", l, nm, geom_names[i], v);
    }
    dims_of(p, &d);
    for (i = 7; i < 11u; i++) {
        uint32_t v = rd32(p + 4u * i), kk = (i % 2u) ? d.k_h : d.k_w;
        if (v >= kk) return FAIL("layer %u (%s): param 0 (geom): %s %u outside [0, %u] (the window - 1)", l, nm, geom_names[i], v, kk - 1u);
    }
    ext_h = (uint64_t)d.h_in + d.pad_top + d.pad_bottom;
    ext_w = (uint64_t)d.w_in + d.pad_left + d.pad_right;
    if (ext_h < d.k_h || ext_w < d.k_w)
        return FAIL("layer %u (%s): param 0 (geom): window %u x %u larger than the padded input %U x %U", l, nm, d.k_h, d.k_w, ext_h,
                    ext_w);
    if ((uint64_t)d.c * d.h_in * d.w_in != c->n_in)
        return FAIL("layer %u (%s): param 0 (geom): input c x h_in x w_in = %U, n_in is %u", l, nm, (uint64_t)d.c * d.h_in * d.w_in,
                    c->n_in);
    h_out = (uint32_t)((ext_h - d.k_h) / d.stride_h + 1u);
    w_out = (uint32_t)((ext_w - d.k_w) / d.stride_w + 1u);
    if ((uint64_t)d.c * h_out * w_out != c->n_out)
        return FAIL("layer %u (%s): param 0 (geom): output c x h_out x w_out = %u x %u x %u, n_out is %u", l, nm, d.c, h_out, w_out,
                    c->n_out);
    if (eh_pool2d_out_size(&d, &h_out, &w_out) != EH_OK) /* cannot fail after the checks above */
        return FAIL("layer %u (%s): param 0 (geom): rejected by eh_pool2d_out_size", l, nm);
    return EH_MODEL_OK;
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
