/*
 * Streaming binary 1-D convolutions (format 1.4, eh_binary.h): conv1d_b1_bits (33), conv1d_b1_f32
 * (37), conv1d_b1_s32 (38), conv1d_b1_s8 (39). One b1 frame of n_in channels per step; state 0 is
 * the window, u32 [taps W] (W = ceil(n_in / 32)), the last taps frames, oldest first: the new frame
 * is shifted in and one output frame computed (t_in = taps, stride 1, no padding).
 *   weight u32[n_out taps W];
 *   bits: threshold s32[n_out] in [-taps n_in, taps n_in + 1]; f32: scale f32[n_out] finite, bias
 *   f32[n_out] or absent; s32: nothing more; s8: mult s32[n_out], bias s32[n_out] or absent, shift 0..62.
 */
#include "eh_binary.h"
#include "eh_op.h"

#define TAPS aux[0]

/* state 0: the window, which gives taps */
static int32_t check_states(eh_check *c)
{
    eh_model *m = c->m;
    uint32_t t = c->st[0], taps;
    if (t_dt(m, t) != DT_U32 || t_kind(m, t) != 1 || t_n(m, t) % c->W)
        return eh_op_fail(m, EH_MODEL_E_LAYER, "layer %u (%s): state 0 tensor %u must be a u32 state tensor of taps x %u elements (the window)",
                          c->l, c->nm, t, c->W);
    taps = t_n(m, t) / c->W;
    if ((uint64_t)taps * c->n_in > EH_MAX_ELEMS)
        return eh_op_fail(m, EH_MODEL_E_LAYER, "layer %u (%s): taps %u x n_in %u > 16777216", c->l, c->nm, taps, c->n_in);
    c->TAPS = taps;
    c->thr_lim = taps * c->n_in; /* the threshold's range */
    return EH_MODEL_OK;
}

/* weight: n_out x taps x W words */
static int32_t check_param(eh_check *c, uint32_t k, const uint8_t *p, uint32_t cnt)
{
    uint64_t want = (uint64_t)c->n_out * c->TAPS * c->W;
    (void)p;
    if (k == 0 && (uint64_t)cnt != want)
        return eh_op_fail(c->m, EH_MODEL_E_PARAM, "layer %u (%s): param %u (%s): %u entries, expected %U", c->l, c->nm, k,
                          c->op->p[k].name, cnt, want);
    return EH_MODEL_OK;
}

/* shift the new frame into the window; the dims of one output frame */
static const uint32_t *window(eh_model *m, const eh_args *a, eh_conv1d_b1_dims *d)
{
    uint32_t W = (a->n_in + 31u) / 32u, taps = t_n(m, rd16(a->r + 8)) / W;
    uint32_t *win = (uint32_t *)a->s[0];
    memmove(win, win + W, 4u * W * (taps - 1u));
    memcpy(win + W * (taps - 1u), a->x, 4u * W);
    d->n_in = a->n_in; d->t_in = taps; d->n_out = a->n_out; d->taps = taps; d->stride = 1; d->pad = 0; d->t_out = 1;
    return win;
}

static eh_status step_bits(eh_model *m, const eh_args *a)
{
    eh_conv1d_b1_dims d;
    const uint32_t *win = window(m, a, &d);
    return eh_conv1d_b1_bits(&d, win, (const uint32_t *)param(m, a->r, 0), (const int32_t *)param(m, a->r, 1), (uint32_t *)a->y);
}

static eh_status step_f32(eh_model *m, const eh_args *a)
{
    eh_conv1d_b1_dims d;
    const uint32_t *win = window(m, a, &d);
    return eh_conv1d_b1_f32(&d, win, (const uint32_t *)param(m, a->r, 0), (const float *)param(m, a->r, 1),
                            (const float *)param(m, a->r, 2), (float *)a->y);
}

static eh_status step_s32(eh_model *m, const eh_args *a)
{
    eh_conv1d_b1_dims d;
    const uint32_t *win = window(m, a, &d);
    return eh_conv1d_b1_s32(&d, win, (const uint32_t *)param(m, a->r, 0), (int32_t *)a->y);
}

static eh_status step_s8(eh_model *m, const eh_args *a)
{
    eh_conv1d_b1_dims d;
    const uint32_t *win = window(m, a, &d);
    return eh_conv1d_b1_s8(&d, win, (const uint32_t *)param(m, a->r, 0), (const int32_t *)param(m, a->r, 1),
                           (const int32_t *)param(m, a->r, 2), rd32(a->r + 24), (int8_t *)a->y);
}

#define WCONV {P_OP, 4, C_NONE, ABS_NO, "weight"}
#define CONV(c, nm, odt) .code = c, .name = nm, .in_dt = {DT_B1}, .out_dt = odt, .n_states = 1, .state_dt = DT_U32, \
                         .check_states = check_states, .check_param = check_param

const eh_op eh_op_conv1d_b1[4] = {
    {CONV(33, "conv1d_b1_bits", DT_B1), .n_params = 2, .p = {WCONV, {P_VEC, 4, C_THRB1, ABS_NO, "threshold"}}, .step = step_bits},
    {CONV(37, "conv1d_b1_f32", DT_F32), .n_params = 3,
     .p = {WCONV, {P_VEC, 4, C_FINITE, ABS_NO, "scale"}, {P_BIAS, 4, C_NONE, ABS_OK, "bias"}}, .step = step_f32},
    {CONV(38, "conv1d_b1_s32", DT_S32), .n_params = 1, .p = {WCONV}, .step = step_s32},
    {CONV(39, "conv1d_b1_s8", DT_S8), .shift_max = 62, .n_params = 3,
     .p = {WCONV, {P_VEC, 4, C_NONE, ABS_NO, "mult"}, {P_BIAS, 4, C_NONE, ABS_OK, "bias"}}, .step = step_s8},
};
