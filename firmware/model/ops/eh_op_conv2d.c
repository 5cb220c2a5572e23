/*
 * 2-D convolutions, channel-major (C, H, W) (format 1.6, eh_conv2d.h): conv2d_f32 (26),
 * conv2d_q15 (27, dense, for analog inputs), conv2d_spike_q15 (28, event-driven, for spikes).
 *   param 0 "geom" u32[15]: c_in, h_in, w_in, c_out, k_h, k_w, stride_h, stride_w, pad_top,
 *           pad_left, pad_bottom, pad_right, dil_h, dil_w, groups (checked below, in this order,
 *           with the same messages as edgehost/ops/conv2d.py);
 *   param 1 "weight" f32 / i16 [c_out][c_in / groups][k_h][k_w];
 *   param 2 "bias" f32 / i32 [c_out] or absent; q15: the record's shift 0..31;
 *   conv2d_spike_q15: state 0 is the kernel's scratch, an s32 activation tensor of n_out elements.
 */
#include "eh_conv2d.h"
#include "eh_op.h"

#define GEOM_N 15u
#define MAXD 65535u

static const char *const geom_names[GEOM_N] = {"c_in", "h_in", "w_in", "c_out", "k_h", "k_w", "stride_h", "stride_w",
                                               "pad_top", "pad_left", "pad_bottom", "pad_right", "dil_h", "dil_w", "groups"};

static void dims_of(const uint8_t *g, eh_conv2d_dims *d)
{
    d->c_in = rd32(g); d->h_in = rd32(g + 4); d->w_in = rd32(g + 8); d->c_out = rd32(g + 12);
    d->k_h = rd32(g + 16); d->k_w = rd32(g + 20); d->stride_h = rd32(g + 24); d->stride_w = rd32(g + 28);
    d->pad_top = rd32(g + 32); d->pad_left = rd32(g + 36); d->pad_bottom = rd32(g + 40); d->pad_right = rd32(g + 44);
    d->dil_h = rd32(g + 48); d->dil_w = rd32(g + 52); d->groups = rd32(g + 56);
}

#define FAIL(...) eh_op_fail(c->m, EH_MODEL_E_PARAM, __VA_ARGS__)

/* param 0: the geometry, then its sizes against n_in and n_out */
static int32_t check_geom(eh_check *c, const uint8_t *p, uint32_t cnt)
{
    static const uint8_t order[] = {0, 1, 2, 3, 4, 5, 6, 7, 12, 13, 14}; /* sizes, then strides and dilations, then groups */
    eh_conv2d_dims d;
    uint64_t span_h, span_w, ext_h, ext_w, n_w;
    uint32_t h_out, w_out, i;
    const uint32_t l = c->l;
    const char *nm = c->nm;
    if (cnt != GEOM_N) return FAIL("layer %u (%s): param 0 (geom): %u entries, expected 15", l, nm, cnt);
    for (i = 0; i < 10u; i++) {
        uint32_t f = order[i], v = rd32(p + 4u * f);
        if (v < 1u || v > MAXD) return FAIL("layer %u (%s): param 0 (geom): %s %u outside [1, 65535]", l, nm, geom_names[f], v);
    }
    dims_of(p, &d);
    span_h = (uint64_t)d.dil_h * (d.k_h - 1u) + 1u;
    span_w = (uint64_t)d.dil_w * (d.k_w - 1u) + 1u;
    if (span_h > MAXD || span_w > MAXD)
        return FAIL("layer %u (%s): param 0 (geom): kernel span %U x %U (dilation x (k - 1) + 1) > 65535", l, nm, span_h, span_w);
    if (d.groups < 1u || d.groups > MAXD) return FAIL("layer %u (%s): param 0 (geom): groups %u outside [1, 65535]", l, nm, d.groups);
    if (d.c_in % d.groups || d.c_out % d.groups)
        return FAIL("layer %u (%s): param 0 (geom): groups %u does not divide c_in %u and c_out %u", l, nm, d.groups, d.c_in, d.c_out);
    for (i = 8; i < 12u; i++) {
        uint32_t v = rd32(p + 4u * i);
        uint64_t span = (i % 2u) ? span_w : span_h;
        if (v >= span)
            return FAIL("layer %u (%s): param 0 (geom): %s %u outside [0, %U] (the kernel span - 1)", l, nm, geom_names[i], v, span - 1u);
    }
    ext_h = (uint64_t)d.h_in + d.pad_top + d.pad_bottom;
    ext_w = (uint64_t)d.w_in + d.pad_left + d.pad_right;
    if (ext_h < span_h || ext_w < span_w)
        return FAIL("layer %u (%s): param 0 (geom): kernel span %U x %U larger than the padded input %U x %U", l, nm, span_h, span_w,
                    ext_h, ext_w);
    if ((uint64_t)d.c_in * d.h_in * d.w_in != c->n_in)
        return FAIL("layer %u (%s): param 0 (geom): input c_in x h_in x w_in = %U, n_in is %u", l, nm,
                    (uint64_t)d.c_in * d.h_in * d.w_in, c->n_in);
    h_out = (uint32_t)((ext_h - span_h) / d.stride_h + 1u);
    w_out = (uint32_t)((ext_w - span_w) / d.stride_w + 1u);
    if ((uint64_t)d.c_out * h_out * w_out != c->n_out)
        return FAIL("layer %u (%s): param 0 (geom): output c_out x h_out x w_out = %u x %u x %u, n_out is %u", l, nm, d.c_out, h_out,
                    w_out, c->n_out);
    n_w = (uint64_t)d.c_out * (d.c_in / d.groups) * d.k_h * d.k_w;
    if (n_w > EH_CONV2D_MAX_ELEMS) return FAIL("layer %u (%s): param 0 (geom): %U weights > 268435456", l, nm, n_w);
    if (eh_conv2d_out_size(&d, &h_out, &w_out) != EH_OK) /* cannot fail after the checks above */
        return FAIL("layer %u (%s): param 0 (geom): rejected by eh_conv2d_out_size", l, nm);
    return EH_MODEL_OK;
}

static int32_t check_param(eh_check *c, uint32_t k, const uint8_t *p, uint32_t cnt)
{
    eh_conv2d_dims d;
    if (k == 0) return check_geom(c, p, cnt);
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
