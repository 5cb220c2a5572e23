#include "eh_lmu.h"
#include "eh_lmu_internal.h"

static eh_status check(const eh_l2mu_f32 *cell, const float *x, const eh_l2mu_state_f32 *st,
                       const float *scratch, uint32_t scratch_len, eh_l2mu_sizes *z)
{
    eh_status r;
    uint32_t k;
    const eh_l2mu_dims *d;
    if (cell == 0 || x == 0 || st == 0 || scratch == 0) return EH_ERR_NULL;
    d = &cell->dims;
    if ((r = eh_l2mu_dims_check(d, z)) != EH_OK) return r;
    if (cell->w_in == 0 || cell->e_x == 0 || cell->a == 0 || cell->b == 0 || cell->w_m == 0)
        return EH_ERR_NULL;
    for (k = 0; k < d->n_enc; k++)
        if (cell->w_enc[k] == 0) return EH_ERR_NULL;
    if (z->p_max > scratch_len) return EH_ERR_SIZE;
    if ((r = eh_lmu_pop_f32_check(&cell->pop_in, &st->in, z->n_in)) != EH_OK) return r;
    for (k = 0; k < d->n_enc; k++)
        if ((r = eh_lmu_pop_f32_check(&cell->pop_enc[k], &st->enc[k], d->enc[k])) != EH_OK) return r;
    if ((r = eh_lmu_pop_f32_check(&cell->pop_u, &st->u, d->n_u)) != EH_OK) return r;
    if ((r = eh_lmu_pop_f32_check(&cell->pop_m, &st->m, z->n_m)) != EH_OK) return r;
    return eh_lmu_pop_f32_check(&cell->pop_h, &st->h, d->n_h);
}

eh_status eh_l2mu_step_f32(const eh_l2mu_f32 *cell, const float *x, eh_l2mu_state_f32 *state,
                           float *scratch, uint32_t scratch_len)
{
    eh_l2mu_sizes z;
    const eh_l2mu_dims *d;
    eh_status r;
    float *cur = scratch;
    const uint8_t *prev, *sx;
    uint32_t c, k, o, r_, j, prev_n;

    if ((r = check(cell, x, state, scratch, scratch_len, &z)) != EH_OK) return r;
    d = &cell->dims;

    /* Input layer 1: per-channel Linear(1 -> pop) on the raw samples, then LIF. */
    for (c = 0; c < d->n_ch; c++) {
        for (k = 0; k < d->pop; k++) {
            const uint32_t n = c * d->pop + k;
            float v = cell->w_in[n] * x[c];
            if (cell->b_in != 0) v = v + cell->b_in[n];
            cur[n] = v;
        }
    }
    if ((r = eh_lmu_pop_f32_step(&cell->pop_in, &state->in, z.n_in, cur)) != EH_OK) return r;

    /* Encoder layers: spike-driven Linear + LIF. */
    prev = state->in.s;
    prev_n = z.n_in;
    for (k = 0; k < d->n_enc; k++) {
        for (o = 0; o < d->enc[k]; o++) {
            float v = eh_lmu_spike_sum_f32(0.0f, cell->w_enc[k] + o * prev_n, prev, prev_n);
            if (cell->b_enc[k] != 0) v = v + cell->b_enc[k][o];
            cur[o] = v;
        }
        if ((r = eh_lmu_pop_f32_step(&cell->pop_enc[k], &state->enc[k], d->enc[k], cur)) != EH_OK) return r;
        prev = state->enc[k].s;
        prev_n = d->enc[k];
    }
    sx = prev;

    /* I_u = E_x s_x + E_h s_h[t-1] + E_m s_m[t-1] */
    for (c = 0; c < d->n_u; c++) {
        float acc = eh_lmu_spike_sum_f32(0.0f, cell->e_x + c * z.n_sx, sx, z.n_sx);
        if (cell->e_h != 0) acc = eh_lmu_spike_sum_f32(acc, cell->e_h + c * d->n_h, state->h.s, d->n_h);
        if (cell->e_m != 0) acc = eh_lmu_spike_sum_f32(acc, cell->e_m + c * z.n_m, state->m.s, z.n_m);
        cur[c] = acc;
    }
    if ((r = eh_lmu_pop_f32_step(&cell->pop_u, &state->u, d->n_u, cur)) != EH_OK) return r;

    /* I_m[c][r] = sum_k A[r][k] s_m[t-1][c][k] + B[r] s_u[c] */
    for (c = 0; c < d->n_u; c++) {
        const uint8_t *sm = state->m.s + c * d->order;
        for (r_ = 0; r_ < d->order; r_++) {
            float acc = eh_lmu_spike_sum_f32(0.0f, cell->a + r_ * d->order, sm, d->order);
            if (state->u.s[c]) acc = acc + cell->b[r_];
            cur[c * d->order + r_] = acc;
        }
    }
    if ((r = eh_lmu_pop_f32_step(&cell->pop_m, &state->m, z.n_m, cur)) != EH_OK) return r;

    /* I_h = W_x s_x + W_h s_h[t-1] + W_m s_m[t] */
    for (j = 0; j < d->n_h; j++) {
        float acc = 0.0f;
        if (cell->w_x != 0) acc = eh_lmu_spike_sum_f32(acc, cell->w_x + j * z.n_sx, sx, z.n_sx);
        if (cell->w_h != 0) acc = eh_lmu_spike_sum_f32(acc, cell->w_h + j * d->n_h, state->h.s, d->n_h);
        acc = eh_lmu_spike_sum_f32(acc, cell->w_m + j * z.n_m, state->m.s, z.n_m);
        cur[j] = acc;
    }
    return eh_lmu_pop_f32_step(&cell->pop_h, &state->h, d->n_h, cur);
}
