#include "eh_lmu.h"
#include "eh_lmu_internal.h"

static eh_status check(const eh_l2mu_q15 *cell, const int16_t *x, const eh_l2mu_state_q15 *st,
                       const int16_t *scratch, uint32_t scratch_len, eh_l2mu_sizes *z)
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
    if ((uint64_t)z->p_max + z->q_max + d->n_h + z->n_m > scratch_len) return EH_ERR_SIZE;
    if (cell->s_in > EH_LMU_MAX_SHIFT || cell->s_ex > EH_LMU_MAX_SHIFT || cell->s_eh > EH_LMU_MAX_SHIFT ||
        cell->s_em > EH_LMU_MAX_SHIFT || cell->s_a > EH_LMU_MAX_SHIFT || cell->s_b > EH_LMU_MAX_SHIFT ||
        cell->s_wx > EH_LMU_MAX_SHIFT || cell->s_wh > EH_LMU_MAX_SHIFT || cell->s_wm > EH_LMU_MAX_SHIFT)
        return EH_ERR_RANGE;
    for (k = 0; k < d->n_enc; k++)
        if (cell->s_enc[k] > EH_LMU_MAX_SHIFT) return EH_ERR_RANGE;
    if ((r = eh_lmu_pop_q15_check(&cell->pop_in, &st->in, z->n_in)) != EH_OK) return r;
    for (k = 0; k < d->n_enc; k++)
        if ((r = eh_lmu_pop_q15_check(&cell->pop_enc[k], &st->enc[k], d->enc[k])) != EH_OK) return r;
    if ((r = eh_lmu_pop_q15_check(&cell->pop_u, &st->u, d->n_u)) != EH_OK) return r;
    if ((r = eh_lmu_pop_q15_check(&cell->pop_m, &st->m, z->n_m)) != EH_OK) return r;
    return eh_lmu_pop_q15_check(&cell->pop_h, &st->h, d->n_h);
}

eh_status eh_l2mu_step_q15(const eh_l2mu_q15 *cell, const int16_t *x, eh_l2mu_state_q15 *state,
                           int16_t *scratch, uint32_t scratch_len)
{
    eh_l2mu_sizes z;
    const eh_l2mu_dims *d;
    eh_status r;
    int16_t *cur;
    uint16_t *idx_x, *idx_h, *idx_m;
    const uint8_t *prev;
    uint32_t c, k, o, r_, j, prev_n, cnt_x, cnt_h, cnt_m, p;

    if ((r = check(cell, x, state, scratch, scratch_len, &z)) != EH_OK) return r;
    d = &cell->dims;
    cur = scratch;
    /* Index lists share the int16 scratch: signed and unsigned variants may alias in C. */
    idx_x = (uint16_t *)(scratch + z.p_max);
    idx_h = idx_x + z.q_max;
    idx_m = idx_h + d->n_h;

    /* Input layer 1: per-channel Linear(1 -> pop) on the raw samples, then LIF. */
    for (c = 0; c < d->n_ch; c++) {
        for (k = 0; k < d->pop; k++) {
            const uint32_t n = c * d->pop + k;
            int64_t acc = eh_lmu_rs64((int32_t)cell->w_in[n] * (int32_t)x[c], cell->s_in);
            if (cell->b_in != 0) acc += cell->b_in[n];
            cur[n] = eh_lmu_sat16_64(acc);
        }
    }
    if ((r = eh_lmu_pop_q15_step(&cell->pop_in, &state->in, z.n_in, cur)) != EH_OK) return r;

    /* Encoder layers: spike-driven Linear + LIF. */
    prev = state->in.s;
    prev_n = z.n_in;
    for (k = 0; k < d->n_enc; k++) {
        const uint32_t cnt = eh_lmu_spike_list(prev, prev_n, idx_x);
        for (o = 0; o < d->enc[k]; o++) {
            int64_t acc = eh_lmu_rs64(eh_lmu_gather_q15(cell->w_enc[k] + o * prev_n, idx_x, cnt), cell->s_enc[k]);
            if (cell->b_enc[k] != 0) acc += cell->b_enc[k][o];
            cur[o] = eh_lmu_sat16_64(acc);
        }
        if ((r = eh_lmu_pop_q15_step(&cell->pop_enc[k], &state->enc[k], d->enc[k], cur)) != EH_OK) return r;
        prev = state->enc[k].s;
        prev_n = d->enc[k];
    }

    /* The cell. prev now holds s_x (prev_n == n_sx). */
    cnt_x = eh_lmu_spike_list(prev, prev_n, idx_x);
    cnt_h = eh_lmu_spike_list(state->h.s, d->n_h, idx_h);
    cnt_m = eh_lmu_spike_list(state->m.s, z.n_m, idx_m);

    /* I_u = E_x s_x + E_h s_h[t-1] + E_m s_m[t-1] */
    for (c = 0; c < d->n_u; c++) {
        int64_t acc = eh_lmu_rs64(eh_lmu_gather_q15(cell->e_x + c * z.n_sx, idx_x, cnt_x), cell->s_ex);
        if (cell->e_h != 0)
            acc += eh_lmu_rs64(eh_lmu_gather_q15(cell->e_h + c * d->n_h, idx_h, cnt_h), cell->s_eh);
        if (cell->e_m != 0)
            acc += eh_lmu_rs64(eh_lmu_gather_q15(cell->e_m + c * z.n_m, idx_m, cnt_m), cell->s_em);
        cur[c] = eh_lmu_sat16_64(acc);
    }
    if ((r = eh_lmu_pop_q15_step(&cell->pop_u, &state->u, d->n_u, cur)) != EH_OK) return r;

    /* I_m[c][r] = sum_k A[r][k] s_m[t-1][c][k] + B[r] s_u[c]; idx_m is sorted, so channel c's
     * active coefficients are the entries in [c*order, (c+1)*order). */
    p = 0;
    for (c = 0; c < d->n_u; c++) {
        const uint32_t base = c * d->order, end = base + d->order;
        const uint32_t first = p;
        while (p < cnt_m && idx_m[p] < end) p++;
        for (r_ = 0; r_ < d->order; r_++) {
            const int16_t *arow = cell->a + r_ * d->order;
            int32_t s = 0;
            int64_t acc;
            for (j = first; j < p; j++) s += arow[idx_m[j] - base];
            acc = eh_lmu_rs64(s, cell->s_a);
            if (state->u.s[c]) acc += eh_lmu_rs64(cell->b[r_], cell->s_b);
            cur[base + r_] = eh_lmu_sat16_64(acc);
        }
    }
    if ((r = eh_lmu_pop_q15_step(&cell->pop_m, &state->m, z.n_m, cur)) != EH_OK) return r;

    /* I_h = W_x s_x + W_h s_h[t-1] + W_m s_m[t] */
    cnt_m = eh_lmu_spike_list(state->m.s, z.n_m, idx_m);
    for (j = 0; j < d->n_h; j++) {
        int64_t acc = eh_lmu_rs64(eh_lmu_gather_q15(cell->w_m + j * z.n_m, idx_m, cnt_m), cell->s_wm);
        if (cell->w_x != 0)
            acc += eh_lmu_rs64(eh_lmu_gather_q15(cell->w_x + j * z.n_sx, idx_x, cnt_x), cell->s_wx);
        if (cell->w_h != 0)
            acc += eh_lmu_rs64(eh_lmu_gather_q15(cell->w_h + j * d->n_h, idx_h, cnt_h), cell->s_wh);
        cur[j] = eh_lmu_sat16_64(acc);
    }
    return eh_lmu_pop_q15_step(&cell->pop_h, &state->h, d->n_h, cur);
}
