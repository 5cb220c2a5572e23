#include "eh_lmu.h"
#include "eh_lmu_internal.h"

eh_status eh_l2mu_readout_f32(const eh_l2mu_f32 *cell, eh_l2mu_state_f32 *state,
                              float *scratch, uint32_t scratch_len)
{
    eh_l2mu_sizes z;
    const eh_l2mu_dims *d;
    eh_status r;
    uint32_t o;
    float *cur = scratch;

    if (cell == 0 || state == 0 || scratch == 0) return EH_ERR_NULL;
    d = &cell->dims;
    if ((r = eh_l2mu_dims_check(d, &z)) != EH_OK) return r;
    if (cell->w_o == 0 || state->h.s == 0) return EH_ERR_NULL;
    if (d->n_o > scratch_len) return EH_ERR_SIZE;
    if (cell->readout == EH_L2MU_READOUT_LIF) {
        if ((r = eh_lmu_pop_f32_check(&cell->pop_o, &state->o, d->n_o)) != EH_OK) return r;
    } else if (cell->readout == EH_L2MU_READOUT_LI) {
        if (state->o.v == 0) return EH_ERR_NULL;
        if (eh_lmu_pop_f32_is_cuba(&cell->pop_o)) return EH_ERR_ARG;
        if ((r = eh_lmu_unit_f32_check(cell->pop_o.beta, cell->pop_o.beta_len, d->n_o)) != EH_OK) return r;
    } else {
        return EH_ERR_ARG;
    }

    for (o = 0; o < d->n_o; o++) {
        float v = eh_lmu_spike_sum_f32(0.0f, cell->w_o + o * d->n_h, state->h.s, d->n_h);
        if (cell->b_o != 0) v = v + cell->b_o[o];
        cur[o] = v;
    }
    if (cell->readout == EH_L2MU_READOUT_LIF)
        return eh_lmu_pop_f32_step(&cell->pop_o, &state->o, d->n_o, cur);

    /* Leaky integrator: v = beta * v, then v = v + I. */
    for (o = 0; o < d->n_o; o++) {
        float v = cell->pop_o.beta[cell->pop_o.beta_len == 1u ? 0u : o] * state->o.v[o];
        state->o.v[o] = v + cur[o];
    }
    return EH_OK;
}
