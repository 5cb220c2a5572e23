/*
 * Float LMU over a whole sequence per step, lmu_f32 (52, format 1.6): f32 [t n_x] (position-major)
 * -> f32 [n_h], the hidden state after t steps of eh_lmu_step_f32 from m = 0, h = 0 (every matrix
 * present; eh_lmu.h's arithmetic).
 *   dims s32[5]: n_x (>= 1, divides n_in), n_u in [1, 65535], order in [1, 65535] with
 *     n_u order <= 65535, n_h (= n_out, <= 65535), act in [0, 3] (eh_lmu_act: 3 is tanh);
 *   weight f32, finite: e_x [n_u n_x], e_h [n_u n_h], e_m [n_u n_m], a [order order], b [order],
 *     w_x [n_h n_x], w_h [n_h n_h], w_m [n_h n_m] (n_m = n_u order), one after the other;
 *   bias f32[n_h] finite or absent (b_h);
 *   state 0: scratch, an s32 activation of n_m + n_u + order + n_h elements (m, then the kernel's).
 */
#include "eh_lmu.h"
#include "eh_op.h"

static uint64_t weight_count(const int32_t *d)
{
    uint64_t nx = (uint32_t)d[0], nu = (uint32_t)d[1], o = (uint32_t)d[2], nh = (uint32_t)d[3], nm = nu * o;
    return nu * nx + nu * nh + nu * nm + o * o + o + nh * nx + nh * nh + nh * nm;
}

static int32_t check_param(eh_check *c, uint32_t k, const uint8_t *p, uint32_t cnt)
{
    eh_model *m = c->m;
    const char *pn = c->op->p[k].name;
    if (k == 0) {
        static const char *const nm[5] = {"n_x", "n_u", "order", "n_h", "act"};
        int32_t v[5];
        uint32_t i;
        if (cnt != 5)
            return eh_op_fail(m, EH_MODEL_E_PARAM, "layer %u (%s): param 0 (%s): %u entries, expected 5", c->l, c->nm, pn, cnt);
        for (i = 0; i < 5; i++) v[i] = (int32_t)rd32(p + 4 * i);
        if (v[0] < 1 || v[0] > 65535 || c->n_in % (uint32_t)v[0])
            return eh_op_fail(m, EH_MODEL_E_PARAM, "layer %u (%s): param 0 (%s): entry 0 (n_x %d) must be in [1, 65535] and divide n_in %u",
                              c->l, c->nm, pn, v[0], c->n_in);
        for (i = 1; i < 3; i++)
            if (v[i] < 1 || v[i] > 65535)
                return eh_op_fail(m, EH_MODEL_E_PARAM, "layer %u (%s): param 0 (%s): entry %u (%s %d) outside [1, 65535]", c->l, c->nm,
                                  pn, i, nm[i], v[i]);
        if ((uint64_t)v[1] * (uint32_t)v[2] > 65535u)
            return eh_op_fail(m, EH_MODEL_E_PARAM, "layer %u (%s): param 0 (%s): n_u %d x order %d > 65535", c->l, c->nm, pn, v[1], v[2]);
        if (v[3] < 1 || v[3] > 65535 || (uint32_t)v[3] != c->n_out)
            return eh_op_fail(m, EH_MODEL_E_PARAM, "layer %u (%s): param 0 (%s): entry 3 (n_h %d) must be in [1, 65535] and equal n_out %u",
                              c->l, c->nm, pn, v[3], c->n_out);
        if (v[4] < 0 || v[4] > 3)
            return eh_op_fail(m, EH_MODEL_E_PARAM, "layer %u (%s): param 0 (%s): entry 4 (act %d) outside [0, 3]", c->l, c->nm, pn, v[4]);
        return EH_MODEL_OK;
    }
    {
        uint64_t want = k == 1 ? weight_count((const int32_t *)c->p[0]) : c->n_out;
        if ((uint64_t)cnt != want)
            return eh_op_fail(m, EH_MODEL_E_PARAM, "layer %u (%s): param %u (%s): %u entries, expected %U%s", c->l, c->nm, k, pn, cnt,
                              want, k == 2 ? " or 0" : "");
    }
    {
        static const eh_pspec fin = {P_OP, 4, C_FINITE, ABS_NO, 0};
        eh_pspec ps = fin;
        ps.name = pn;
        return eh_op_check_values(c, k, &ps, 0, p, cnt, 0);
    }
}

static int32_t check_post(eh_check *c)
{
    const int32_t *d = (const int32_t *)c->p[0];
    uint32_t nu = (uint32_t)d[1], o = (uint32_t)d[2];
    return eh_op_check_scratch(c, 0, nu * o + nu + o + (uint32_t)d[3]);
}

static eh_status step_lmu_f32(eh_model *m, const eh_args *a)
{
    const int32_t *d = (const int32_t *)param(m, a->r, 0);
    const float *w = (const float *)param(m, a->r, 1), *x = (const float *)a->x;
    eh_lmu_f32 cell;
    uint32_t nx = (uint32_t)d[0], nu = (uint32_t)d[1], o = (uint32_t)d[2], nh = (uint32_t)d[3], nm = nu * o, t, T = a->n_in / nx;
    float *mem = (float *)a->s[0], *h = (float *)a->y;
    eh_status st;
    cell.n_x = nx; cell.n_u = nu; cell.order = o; cell.n_h = nh;
    cell.e_x = w; w += nu * nx;
    cell.e_h = w; w += nu * nh;
    cell.e_m = w; w += nu * nm;
    cell.a = w; w += o * o;
    cell.b = w; w += o;
    cell.w_x = w; w += nh * nx;
    cell.w_h = w; w += nh * nh;
    cell.w_m = w;
    cell.b_h = (const float *)param(m, a->r, 2);
    cell.act = (eh_lmu_act)d[4];
    memset(mem, 0, 4u * nm);
    memset(h, 0, 4u * nh);
    for (t = 0; t < T; t++, x += nx) {
        st = eh_lmu_step_f32(&cell, x, mem, h, mem + nm, nu + o + nh);
        if (st) return st;
    }
    return EH_OK;
}

const eh_op eh_op_lmu[1] = {
    {.code = 52, .name = "lmu_f32", .in_dt = {DT_F32}, .out_dt = DT_F32, .n_states = 1, .state_dt = DT_S32, .scratch = 1, .n_params = 3,
     .p = {{P_OP, 4, C_NONE, ABS_NO, "dims"}, {P_OP, 4, C_NONE, ABS_NO, "weight"}, {P_OP, 4, C_NONE, ABS_OK, "bias"}},
     .check_param = check_param, .check_post = check_post, .step = step_lmu_f32},
};
