/*
 * Binary-coded quantisation fully connected layer, bcq_fc_q15 (41, format 1.4,
 * eh_bcq_fc_q15 in eh_shiftadd.h): n_in <= 65535; q bit planes per output, q in [1, 8].
 *   alpha_exp i8[n_out q] in [-24, 24], weight u32[n_out q W], bias i32[n_out] or absent; shift 0..62;
 *   state 0: the look-up tables, an s32 scratch [256 ceil(n_in / 8)].
 */
#include "eh_op.h"
#include "eh_shiftadd.h"

#define BCQ_MAX_K 65535u
#define BCQ_MAX_Q 8u

static int32_t check_param(eh_check *c, uint32_t k, const uint8_t *p, uint32_t cnt)
{
    uint32_t n_out = c->n_out;
    const char *pn = c->op->p[k].name;
    if (k == 0) { /* alpha_exp */
        if (!(cnt % n_out == 0 && cnt / n_out >= 1 && cnt / n_out <= BCQ_MAX_Q))
            return eh_op_fail(c->m, EH_MODEL_E_PARAM, "layer %u (%s): param %u (%s): %u entries, expected %u x q with q in [1, 8]",
                              c->l, c->nm, k, pn, cnt, n_out);
        for (uint32_t i = 0; i < cnt; i++) {
            int32_t v = (int32_t)(int8_t)p[i];
            if (v < -24 || v > 24)
                return eh_op_fail(c->m, EH_MODEL_E_PARAM, "layer %u (%s): param %u (%s): entry %u (%d) outside [-24, 24]", c->l, c->nm,
                                  k, pn, i, v);
        }
    } else if (k == 1) { /* weight: n_out x q x W */
        uint32_t q = c->cnt[0] / n_out;
        if ((uint64_t)cnt != (uint64_t)n_out * q * c->W)
            return eh_op_fail(c->m, EH_MODEL_E_PARAM, "layer %u (%s): param %u (%s): %u entries, expected %U (n_out x q x %u)", c->l,
                              c->nm, k, pn, cnt, (uint64_t)n_out * q * c->W, c->W);
    }
    return EH_MODEL_OK;
}

static int32_t check_post(eh_check *c) { return eh_op_check_scratch(c, 0, 256u * ((c->n_in + 7u) / 8u)); }

static eh_status step_bcq_fc_q15(eh_model *m, const eh_args *a)
{
    const uint8_t *r = a->r;
    uint32_t q = param_len(r, 0) / a->n_out;
    return eh_bcq_fc_q15(a->n_in, a->n_out, q, (const int16_t *)a->x, (const uint32_t *)param(m, r, 1), (const int8_t *)param(m, r, 0),
                         (const int32_t *)param(m, r, 2), rd32(r + 24), (int32_t *)a->s[0], t_n(m, rd16(r + 8)), (int16_t *)a->y);
}

const eh_op eh_op_bcq_fc[1] = {
    {.code = 41, .name = "bcq_fc_q15", .in_dt = {DT_Q15}, .out_dt = DT_Q15, .n_states = 1, .state_dt = DT_S32, .scratch = 1,
     .shift_max = 62, .max_n_in = BCQ_MAX_K, .n_params = 3,
     .p = {{P_OP, 1, C_NONE, ABS_NO, "alpha_exp"}, {P_OP, 4, C_NONE, ABS_NO, "weight"}, {P_BIAS, 4, C_NONE, ABS_OK, "bias"}},
     .check_param = check_param, .check_post = check_post, .step = step_bcq_fc_q15},
};
