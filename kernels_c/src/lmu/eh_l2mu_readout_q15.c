#include "eh_lmu.h"
#include "eh_lmu_internal.h"

eh_status eh_l2mu_readout_q15(const eh_l2mu_q15 *cell, eh_l2mu_state_q15 *state,
                              int16_t *scratch, uint32_t scratch_len)
{
    eh_l2mu_sizes z;
    const eh_l2mu_dims *d;
    eh_status r;
    uint16_t *idx;
    uint32_t o, cnt;
    int16_t *cur = scratch;

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

    idx = (uint16_t *)(scratch + d->n_o);
    cnt = eh_lmu_spike_list(state->h.s, d->n_h, idx);
    for (o = 0; o < d->n_o; o++) {
        int64_t acc = eh_lmu_rs64(eh_lmu_gather_q15(cell->w_o + o * d->n_h, idx, cnt), cell->s_o);
        if (cell->b_o != 0) acc += cell->b_o[o];
        cur[o] = eh_lmu_sat16_64(acc);
    }
    if (cell->readout == EH_L2MU_READOUT_LIF)
        return eh_lmu_pop_q15_step(&cell->pop_o, &state->o, d->n_o, cur);

    /* Leaky integrator: v = sat16(leak(v) + I), the leak of eh_lif.h. */
    for (o = 0; o < d->n_o; o++) {
        const eh_leak_q15 *lk = &cell->pop_o.leak;
        const uint32_t i = lk->len == 1u ? 0u : o;
        int32_t v = state->o.v[o];
        v = lk->decay != 0 ? eh_mul_q15(v, (int32_t)lk->decay[i]) : v - (v >> lk->shift[i]);
        state->o.v[o] = eh_sat16(v + cur[o]);
    }
    return EH_OK;
}
