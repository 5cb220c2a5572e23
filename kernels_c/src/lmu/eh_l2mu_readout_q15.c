#include "eh_lmu.h"
#include "eh_lmu_internal.h"

/* Q15 L2MU readout: eh_l2mu_readout_check_q15 (the cell alone), eh_l2mu_readout_q15_unchecked
 * and eh_l2mu_readout_q15 = its checks (cell and state, the original codes and order) +
 * unchecked. */

static eh_status check_cell_head(const eh_l2mu_q15 *cell, uint32_t scratch_len)
{
    eh_l2mu_sizes z;
    eh_status r;
    const eh_l2mu_dims *d = &cell->dims;
    if ((r = eh_l2mu_dims_check(d, &z)) != EH_OK) return r;
    if (cell->w_o == 0) return EH_ERR_NULL;
    if ((uint64_t)d->n_o + d->n_h > scratch_len) return EH_ERR_SIZE;
    if (cell->s_o > EH_LMU_MAX_SHIFT) return EH_ERR_RANGE;
    return EH_OK;
}

eh_status eh_l2mu_readout_check_q15(const eh_l2mu_q15 *cell, uint32_t scratch_len)
{
    eh_status r;
    if (cell == 0) return EH_ERR_NULL;
    if ((r = check_cell_head(cell, scratch_len)) != EH_OK) return r;
    if (cell->readout == EH_L2MU_READOUT_LIF)
        return eh_lmu_pop_q15_param_check(&cell->pop_o, cell->dims.n_o);
    if (cell->readout == EH_L2MU_READOUT_LI) {
        if (eh_lmu_pop_q15_is_cuba(&cell->pop_o)) return EH_ERR_ARG;
        return eh_lmu_leak_check(&cell->pop_o.leak, cell->dims.n_o);
    }
    return EH_ERR_ARG;
}

void eh_l2mu_readout_q15_unchecked(const eh_l2mu_q15 *cell, eh_l2mu_state_q15 *state,
                                   int16_t *scratch)
{
    const eh_l2mu_dims *d = &cell->dims;
    const eh_lmu_rs rs = eh_lmu_rs_make(cell->s_o);
    uint16_t *idx = (uint16_t *)(scratch + d->n_o);
    int16_t *cur = scratch;
    const uint32_t cnt = eh_lmu_spike_list_fast(state->h.s, d->n_h, idx);
    uint32_t o, j;
    int32_t acc[4];
    if (d->n_h <= 32767u && cnt != 0u && cell->b_o != 0) {
        eh_lmu_rows_bias_small(cur, cell->w_o, d->n_h, d->n_o, idx, cnt, rs.a + rs.b, cell->b_o);
        o = d->n_o;
    } else {
        o = 0;
    }
    for (; o + 4u <= d->n_o; o += 4u) {
        eh_lmu_gather4_q15(cell->w_o + o * d->n_h, d->n_h, idx, cnt, acc);
        for (j = 0; j < 4u; j++) {
            const int32_t r = eh_lmu_rs32(acc[j], rs);
            cur[o + j] = cell->b_o != 0 ? eh_lmu_add_sat16(r, cell->b_o[o + j]) : eh_sat16(r);
        }
    }
    for (; o < d->n_o; o++) {
        const int32_t r = eh_lmu_rs32(eh_lmu_gather_q15(cell->w_o + o * d->n_h, idx, cnt), rs);
        cur[o] = cell->b_o != 0 ? eh_lmu_add_sat16(r, cell->b_o[o]) : eh_sat16(r);
    }
    if (cell->readout == EH_L2MU_READOUT_LIF) {
        eh_lmu_pop_q15_step_unchecked(&cell->pop_o, &state->o, d->n_o, cur);
        return;
    }
    /* Leaky integrator: v = sat16(leak(v) + I), the leak of eh_lif.h. */
    {
        const eh_leak_q15 *lk = &cell->pop_o.leak;
        const uint32_t step = lk->len == 1u ? 0u : 1u;
        int16_t *v = state->o.v;
        if (lk->decay != 0) {
            const uint16_t *dk = lk->decay;
            for (o = 0; o < d->n_o; o++, dk += step)
                v[o] = eh_sat16(eh_mul_q15(v[o], (int32_t)*dk) + cur[o]);
        } else {
            const uint8_t *sh = lk->shift;
            for (o = 0; o < d->n_o; o++, sh += step) {
                const int32_t y = v[o];
                v[o] = eh_sat16(y - (y >> *sh) + cur[o]);
            }
        }
    }
}

eh_status eh_l2mu_readout_q15(const eh_l2mu_q15 *cell, eh_l2mu_state_q15 *state,
                              int16_t *scratch, uint32_t scratch_len)
{
    eh_l2mu_sizes z;
    const eh_l2mu_dims *d;
    eh_status r;

    if (cell == 0 || state == 0 || scratch == 0) return EH_ERR_NULL;
    d = &cell->dims;
    if ((r = eh_l2mu_dims_check(d, &z)) != EH_OK) return r;
    if (cell->w_o == 0 || state->h.s == 0) return EH_ERR_NULL;
    if ((uint64_t)d->n_o + d->n_h > scratch_len) return EH_ERR_SIZE;
    if (cell->s_o > EH_LMU_MAX_SHIFT) return EH_ERR_RANGE;
    if (cell->readout == EH_L2MU_READOUT_LIF) {
        if ((r = eh_lmu_pop_q15_check(&cell->pop_o, &state->o, d->n_o)) != EH_OK) return r;
    } else if (cell->readout == EH_L2MU_READOUT_LI) {
        if (state->o.v == 0) return EH_ERR_NULL;
        if (eh_lmu_pop_q15_is_cuba(&cell->pop_o)) return EH_ERR_ARG;
        if ((r = eh_lmu_leak_check(&cell->pop_o.leak, d->n_o)) != EH_OK) return r;
    } else {
        return EH_ERR_ARG;
    }
    eh_l2mu_readout_q15_unchecked(cell, state, scratch);
    return EH_OK;
}
