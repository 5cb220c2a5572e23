/*
 * Strided, padded 1-D convolutions over a whole sequence per step (format 1.6), the HAR
 * baselines' layers. conv s32[5]: c_in, c_out, taps, stride, pad (checked in this order, then
 * t_in + 2 pad >= taps and t_out = (t_in + 2 pad - taps) / stride + 1).
 *   conv1d_b1_seq_bits (45): b1 [t_in][Wi] -> b1 [t_out][Wo] (frames of whole words, Wi =
 *     ceil(c_in / 32), n_in = 32 Wi t_in, n_out = 32 Wo t_out), eh_conv1d_b1_bits with stride
 *     and pad (+1 padding frames, Larq's "same"); taps c_in <= 2^24. weight u32[c_out taps Wi],
 *     threshold s32[c_out] in [-taps c_in, taps c_in + 1].
 *   shiftadd_conv1d_q15 (46): q15 [t_in][c_in] -> q15 [t_out][c_out] (position-major), each
 *     output frame eh_shiftadd_fc_q15 on the im2col frame of taps x c_in values (zero padding
 *     frames); taps c_in <= 65536. weight u8[c_out taps c_in] power-of-two codes (bits 6..5
 *     clear), bias s32[c_out] or absent, the record's shift 0..31. A zero input adds nothing to
 *     the saturating accumulator, so a frame that overlaps the padding runs the kernel over its
 *     real taps only (one output at a time): the same bits as a zero-padded frame.
 */
#include "eh_binary.h"
#include "eh_op.h"
#include "eh_shiftadd.h"

#define C_OUT aux[0]
#define ROW aux[1] /* weights of one filter (taps x words or taps x c_in) */

static int32_t check_conv(eh_check *c, const uint8_t *p, uint32_t cnt, int b1)
{
    eh_model *m = c->m;
    int32_t v[5];
    uint32_t i, t_in, t_out, want;
    uint64_t gi, go;
    if (cnt != 5)
        return eh_op_fail(m, EH_MODEL_E_PARAM, "layer %u (%s): param 0 (conv): %u entries, expected 5", c->l, c->nm, cnt);
    for (i = 0; i < 5; i++) v[i] = (int32_t)rd32(p + 4 * i);
    gi = v[0] < 1 ? 1 : b1 ? 32u * (((uint64_t)v[0] + 31u) / 32u) : (uint64_t)v[0];
    go = v[1] < 1 ? 1 : b1 ? 32u * (((uint64_t)v[1] + 31u) / 32u) : (uint64_t)v[1];
    if (v[0] < 1 || c->n_in % gi)
        return eh_op_fail(m, EH_MODEL_E_PARAM, "layer %u (%s): param 0 (conv): entry 0 (c_in %d) must be >= 1 with %s dividing n_in %u",
                          c->l, c->nm, v[0], b1 ? "32 ceil(c_in / 32)" : "c_in", c->n_in);
    if (v[1] < 1 || c->n_out % go)
        return eh_op_fail(m, EH_MODEL_E_PARAM, "layer %u (%s): param 0 (conv): entry 1 (c_out %d) must be >= 1 with %s dividing n_out %u",
                          c->l, c->nm, v[1], b1 ? "32 ceil(c_out / 32)" : "c_out", c->n_out);
    if (v[2] < 1 || (uint64_t)v[2] * (uint32_t)v[0] > (b1 ? EH_MAX_ELEMS : 65536u))
        return eh_op_fail(m, EH_MODEL_E_PARAM, "layer %u (%s): param 0 (conv): entry 2 (taps %d) must be >= 1 with taps x c_in <= %u",
                          c->l, c->nm, v[2], b1 ? EH_MAX_ELEMS : 65536u);
    if (v[3] < 1)
        return eh_op_fail(m, EH_MODEL_E_PARAM, "layer %u (%s): param 0 (conv): entry 3 (stride %d) must be >= 1", c->l, c->nm, v[3]);
    if (v[4] < 0 || v[4] >= v[2])
        return eh_op_fail(m, EH_MODEL_E_PARAM, "layer %u (%s): param 0 (conv): entry 4 (pad %d) outside [0, %d]", c->l, c->nm, v[4],
                          v[2] - 1);
    t_in = (uint32_t)(c->n_in / gi);
    t_out = (uint32_t)(c->n_out / go);
    if ((uint64_t)t_in + 2u * (uint32_t)v[4] < (uint32_t)v[2])
        return eh_op_fail(m, EH_MODEL_E_PARAM, "layer %u (%s): param 0 (conv): t_in %u + 2 pad %d < taps %d", c->l, c->nm, t_in, v[4],
                          v[2]);
    want = (t_in + 2u * (uint32_t)v[4] - (uint32_t)v[2]) / (uint32_t)v[3] + 1u;
    if (t_out != want)
        return eh_op_fail(m, EH_MODEL_E_PARAM, "layer %u (%s): param 0 (conv): t_out %u, expected %u ((t_in %u + 2 pad %d - taps %d) / stride %d + 1)",
                          c->l, c->nm, t_out, want, t_in, v[4], v[2], v[3]);
    c->C_OUT = (uint32_t)v[1];
    c->ROW = (uint32_t)v[2] * (b1 ? (uint32_t)(gi / 32u) : (uint32_t)v[0]);
    c->thr_lim = (uint32_t)v[2] * (uint32_t)v[0];
    return EH_MODEL_OK;
}

static int32_t check_count(eh_check *c, uint32_t k, uint32_t cnt, uint64_t want, int opt)
{
    if ((uint64_t)cnt != want)
        return eh_op_fail(c->m, EH_MODEL_E_PARAM, "layer %u (%s): param %u (%s): %u entries, expected %U%s", c->l, c->nm, k,
                          c->op->p[k].name, cnt, want, opt ? " or 0" : "");
    return EH_MODEL_OK;
}

static int32_t check_b1(eh_check *c, uint32_t k, const uint8_t *p, uint32_t cnt)
{
    int32_t rc;
    uint32_t i, lim = c->thr_lim;
    if (k == 0) return check_conv(c, p, cnt, 1);
    if (k == 1) return check_count(c, k, cnt, (uint64_t)c->C_OUT * c->ROW, 0);
    rc = check_count(c, k, cnt, c->C_OUT, 0);
    if (rc) return rc;
    for (i = 0; i < cnt; i++) {
        int32_t v = (int32_t)rd32(p + 4 * i);
        if (v < -(int32_t)lim || v > (int32_t)lim + 1)
            return eh_op_fail(c->m, EH_MODEL_E_PARAM, "layer %u (%s): param %u (%s): entry %u (%d) outside [-%u, %u]", c->l, c->nm, k,
                              c->op->p[k].name, i, v, lim, lim + 1u);
    }
    return EH_MODEL_OK;
}

static int32_t check_sa(eh_check *c, uint32_t k, const uint8_t *p, uint32_t cnt)
{
    int32_t rc;
    if (k == 0) return check_conv(c, p, cnt, 0);
    if (k == 2) return check_count(c, k, cnt, c->C_OUT, 1);
    rc = check_count(c, k, cnt, (uint64_t)c->C_OUT * c->ROW, 0);
    if (rc) return rc;
    for (uint32_t i = 0; i < cnt; i++)
        if (p[i] & 0x60u)
            return eh_op_fail(c->m, EH_MODEL_E_PARAM, "layer %u (%s): param %u (%s): entry %u (%u) has reserved bits 6..5 set", c->l,
                              c->nm, k, c->op->p[k].name, i, (uint32_t)p[i]);
    return EH_MODEL_OK;
}

static eh_status step_b1(eh_model *m, const eh_args *a)
{
    const int32_t *cv = (const int32_t *)param(m, a->r, 0);
    eh_conv1d_b1_dims d;
    d.n_in = (uint32_t)cv[0];
    d.n_out = (uint32_t)cv[1];
    d.taps = (uint32_t)cv[2];
    d.stride = (uint32_t)cv[3];
    d.pad = (uint32_t)cv[4];
    d.t_in = a->n_in / (32u * ((d.n_in + 31u) / 32u));
    d.t_out = a->n_out / (32u * ((d.n_out + 31u) / 32u));
    return eh_conv1d_b1_bits(&d, (const uint32_t *)a->x, (const uint32_t *)param(m, a->r, 1), (const int32_t *)param(m, a->r, 2),
                             (uint32_t *)a->y);
}

static eh_status step_sa(eh_model *m, const eh_args *a)
{
    const uint8_t *r = a->r;
    const int32_t *cv = (const int32_t *)param(m, r, 0), *b = (const int32_t *)param(m, r, 2);
    const uint8_t *w = (const uint8_t *)param(m, r, 1);
    const int16_t *x = (const int16_t *)a->x;
    int16_t *y = (int16_t *)a->y;
    uint32_t c_in = (uint32_t)cv[0], c_out = (uint32_t)cv[1], taps = (uint32_t)cv[2], stride = (uint32_t)cv[3];
    uint32_t t_in = a->n_in / c_in, t_out = a->n_out / c_out, row = taps * c_in, shift = rd32(r + 24), t, o;
    int32_t pad = cv[4];
    eh_status st;
    for (t = 0; t < t_out; t++, y += c_out) {
        int32_t s = (int32_t)(t * stride) - pad;
        uint32_t k0 = s < 0 ? (uint32_t)-s : 0u;
        uint32_t k1 = (uint32_t)(s + (int32_t)taps) > t_in ? t_in - (uint32_t)s : taps; /* s < t_in always */
        if (k0 == 0u && k1 == taps) {
            st = eh_shiftadd_fc_q15(row, c_out, x + (uint32_t)s * c_in, w, b, shift, y);
            if (st) return st;
            continue;
        }
        for (o = 0; o < c_out; o++) {
            st = eh_shiftadd_fc_q15((k1 - k0) * c_in, 1u, x + (uint32_t)(s + (int32_t)k0) * c_in, w + o * row + k0 * c_in,
                                    b ? b + o : b, shift, y + o);
            if (st) return st;
        }
    }
    return EH_OK;
}

const eh_op eh_op_conv1d_seq[2] = {
    {.code = 45, .name = "conv1d_b1_seq_bits", .in_dt = {DT_B1}, .out_dt = DT_B1, .n_params = 3,
     .p = {{P_OP, 4, C_NONE, ABS_NO, "conv"}, {P_OP, 4, C_NONE, ABS_NO, "weight"}, {P_OP, 4, C_NONE, ABS_NO, "threshold"}},
     .check_param = check_b1, .step = step_b1},
    {.code = 46, .name = "shiftadd_conv1d_q15", .in_dt = {DT_Q15}, .out_dt = DT_Q15, .shift_max = 31, .n_params = 3,
     .p = {{P_OP, 4, C_NONE, ABS_NO, "conv"}, {P_OP, 1, C_NONE, ABS_NO, "weight"}, {P_OP, 4, C_NONE, ABS_OK, "bias"}},
     .check_param = check_sa, .step = step_sa},
};
