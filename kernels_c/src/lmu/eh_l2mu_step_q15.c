#include "eh_lmu.h"
#include "eh_lmu_internal.h"

/*
 * Q15 L2MU step: eh_l2mu_check_q15 (the cell alone), eh_l2mu_step_q15_unchecked (the step) and
 * eh_l2mu_step_q15 = its original checks (cell and state, same codes in the same order) +
 * unchecked.
 *
 * The unchecked step forms every spike sum over lists of the active indices (built once per
 * spike vector, skipping silent neurons eight or four at a time), four weight rows per pass over
 * a list, rounds in 32 bits (eh_lmu_rs32, exact) and adds the terms in 32 bits when the sizes
 * bound every sum below 2^31 (int64 otherwise). When every sum is below 2^30 (at most 32767
 * columns in all), R(S, s) = (S + 2^(s-1)) >> s with 2^(s-1) as the accumulators' start value,
 * and only the terms with active inputs are visited. The populations run the unchecked LIF steps.
 */

/* The sizes and required pointers of the cell: the first part of both checks. */
static eh_status check_cell_head(const eh_l2mu_q15 *cell, uint32_t scratch_len, eh_l2mu_sizes *z)
{
    eh_status r;
    uint32_t k;
    const eh_l2mu_dims *d = &cell->dims;
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
    return EH_OK;
}

static eh_status check(const eh_l2mu_q15 *cell, const int16_t *x, const eh_l2mu_state_q15 *st,
                       const int16_t *scratch, uint32_t scratch_len, eh_l2mu_sizes *z)
{
    eh_status r;
    uint32_t k;
    const eh_l2mu_dims *d;
    if (cell == 0 || x == 0 || st == 0 || scratch == 0) return EH_ERR_NULL;
    d = &cell->dims;
    if ((r = check_cell_head(cell, scratch_len, z)) != EH_OK) return r;
    if ((r = eh_lmu_pop_q15_check(&cell->pop_in, &st->in, z->n_in)) != EH_OK) return r;
    for (k = 0; k < d->n_enc; k++)
        if ((r = eh_lmu_pop_q15_check(&cell->pop_enc[k], &st->enc[k], d->enc[k])) != EH_OK) return r;
    if ((r = eh_lmu_pop_q15_check(&cell->pop_u, &st->u, d->n_u)) != EH_OK) return r;
    if ((r = eh_lmu_pop_q15_check(&cell->pop_m, &st->m, z->n_m)) != EH_OK) return r;
    return eh_lmu_pop_q15_check(&cell->pop_h, &st->h, d->n_h);
}

eh_status eh_l2mu_check_q15(const eh_l2mu_q15 *cell, uint32_t scratch_len)
{
    eh_l2mu_sizes z;
    eh_status r;
    uint32_t k;
    const eh_l2mu_dims *d;
    if (cell == 0) return EH_ERR_NULL;
    d = &cell->dims;
    if ((r = check_cell_head(cell, scratch_len, &z)) != EH_OK) return r;
    if ((r = eh_lmu_pop_q15_param_check(&cell->pop_in, z.n_in)) != EH_OK) return r;
    for (k = 0; k < d->n_enc; k++)
        if ((r = eh_lmu_pop_q15_param_check(&cell->pop_enc[k], d->enc[k])) != EH_OK) return r;
    if ((r = eh_lmu_pop_q15_param_check(&cell->pop_u, d->n_u)) != EH_OK) return r;
    if ((r = eh_lmu_pop_q15_param_check(&cell->pop_m, z.n_m)) != EH_OK) return r;
    return eh_lmu_pop_q15_param_check(&cell->pop_h, d->n_h);
}

/* sat16 of a sum of int32 terms: in 32 bits when `wide` is 0 (the caller bounds the sum). */
static inline int16_t sum_sat16(int32_t a, int32_t b, int32_t c, int wide)
{
    if (wide) return eh_lmu_sat16_64((int64_t)a + b + c);
    return eh_sat16(a + b + c);
}

/* cur[o] = sat16(R(row o of w over idx, s) + bias[o]) for o < rows (bias may be NULL). */
static void spike_rows_bias(int16_t *cur, const int16_t *w, uint32_t cols, uint32_t rows,
                            const uint16_t *idx, uint32_t cnt, eh_lmu_rs rs, const int32_t *bias)
{
    uint32_t o = 0, j;
    int32_t acc[4];
    if (cols <= 32767u && cnt != 0u && bias != 0) {
        eh_lmu_rows_bias_small(cur, w, cols, rows, idx, cnt, rs.a + rs.b, bias);
        return;
    }
    for (; o + 4u <= rows; o += 4u) {
        eh_lmu_gather4_q15(w + o * cols, cols, idx, cnt, acc);
        for (j = 0; j < 4u; j++) {
            const int32_t r = eh_lmu_rs32(acc[j], rs);
            cur[o + j] = bias != 0 ? eh_lmu_add_sat16(r, bias[o + j]) : eh_sat16(r);
        }
    }
    for (; o < rows; o++) {
        const int32_t r = eh_lmu_rs32(eh_lmu_gather_q15(w + o * cols, idx, cnt), rs);
        cur[o] = bias != 0 ? eh_lmu_add_sat16(r, bias[o]) : eh_sat16(r);
    }
}

/* cur[o] = sat16(R(w1 row o over l1, s1) + R(w2 row o over l2, s2) + R(w3 row o over l3, s3)),
 * a NULL matrix being an absent term (w1 is always present). */
typedef struct {
    const int16_t *w;
    uint32_t cols;
    const uint16_t *idx;
    uint32_t cnt;
    eh_lmu_rs rs;
} spike_term;

/* The small case of spike_rows3 (every |sum| below 2^30): cur[o] = sat16(sum over the terms of
 * (S + 2^(s-1)) >> s), the rounding constant taken as the accumulators' start value; only the
 * terms with active inputs are passed (R(0) = 0). Four rows per pass over each list. */
typedef struct {
    const int16_t *w;
    uint32_t cols;
    const uint16_t *idx, *end;
    int32_t rnd;
    uint32_t s;
} small_term;

/* nt is a constant at each call below, so the loop over the terms unrolls. */
EH_LMU_INLINE void
rows_small_n(int16_t *cur, uint32_t rows, const small_term *t, const uint32_t nt)
{
    uint32_t o, j;
    for (o = 0; o + 4u <= rows; o += 4u) {
        int32_t r[4], q[4];
        eh_lmu_gather4_rs(t[0].w + o * t[0].cols, t[0].cols, t[0].idx, t[0].end, t[0].rnd, t[0].s, r);
        for (j = 1; j < nt; j++) {
            eh_lmu_gather4_rs(t[j].w + o * t[j].cols, t[j].cols, t[j].idx, t[j].end, t[j].rnd, t[j].s, q);
            r[0] += q[0];
            r[1] += q[1];
            r[2] += q[2];
            r[3] += q[3];
        }
        cur[o] = eh_sat16(r[0]);
        cur[o + 1u] = eh_sat16(r[1]);
        cur[o + 2u] = eh_sat16(r[2]);
        cur[o + 3u] = eh_sat16(r[3]);
    }
    for (; o < rows; o++) {
        int32_t r = 0;
        for (j = 0; j < nt; j++) {
            const int16_t *wr = t[j].w + o * t[j].cols;
            const uint16_t *ix = t[j].idx;
            int32_t a = t[j].rnd;
            do a += wr[*ix++]; while (ix != t[j].end);
            r += a >> t[j].s;
        }
        cur[o] = eh_sat16(r);
    }
}

static void spike_rows_small(int16_t *cur, uint32_t rows, const small_term *t, uint32_t nt)
{
    uint32_t o;
    if (nt == 3u) rows_small_n(cur, rows, t, 3u);
    else if (nt == 2u) rows_small_n(cur, rows, t, 2u);
    else if (nt == 1u) rows_small_n(cur, rows, t, 1u);
    else
        for (o = 0; o < rows; o++) cur[o] = 0;
}

static void spike_rows3(int16_t *cur, uint32_t rows, const spike_term *t1, const spike_term *t2,
                        const spike_term *t3, int wide)
{
    uint32_t o = 0, j;
    int32_t a1[4], a2[4] = {0, 0, 0, 0}, a3[4] = {0, 0, 0, 0};
    if (!wide && (uint64_t)t1->cols + (t2->w != 0 ? t2->cols : 0u) + (t3->w != 0 ? t3->cols : 0u) <= 32767u) {
        /* every |sum| <= 32767 * 32768 < 2^30: R as (S + 2^(s-1)) >> s (no overflow with the
         * rounding constant added), one 32-bit total; an empty list adds nothing to any row */
        const spike_term *all[3];
        small_term st[3];
        uint32_t nt = 0;
        all[0] = t1;
        all[1] = t2;
        all[2] = t3;
        for (j = 0; j < 3u; j++) {
            const spike_term *t = all[j];
            if (t->w == 0 || t->cnt == 0u) continue;
            st[nt].w = t->w;
            st[nt].cols = t->cols;
            st[nt].idx = t->idx;
            st[nt].end = t->idx + t->cnt;
            st[nt].s = t->rs.a + t->rs.b;
            st[nt].rnd = (int32_t)eh_lmu_rnd(st[nt].s);
            nt++;
        }
        spike_rows_small(cur, rows, st, nt);
        return;
    }
    for (; o + 4u <= rows; o += 4u) {
        eh_lmu_gather4_q15(t1->w + o * t1->cols, t1->cols, t1->idx, t1->cnt, a1);
        if (t2->w != 0) eh_lmu_gather4_q15(t2->w + o * t2->cols, t2->cols, t2->idx, t2->cnt, a2);
        if (t3->w != 0) eh_lmu_gather4_q15(t3->w + o * t3->cols, t3->cols, t3->idx, t3->cnt, a3);
        for (j = 0; j < 4u; j++)
            cur[o + j] = sum_sat16(eh_lmu_rs32(a1[j], t1->rs),
                                   t2->w != 0 ? eh_lmu_rs32(a2[j], t2->rs) : 0,
                                   t3->w != 0 ? eh_lmu_rs32(a3[j], t3->rs) : 0, wide);
    }
    for (; o < rows; o++) {
        const int32_t r1 = eh_lmu_rs32(eh_lmu_gather_q15(t1->w + o * t1->cols, t1->idx, t1->cnt), t1->rs);
        const int32_t r2 = t2->w != 0 ? eh_lmu_rs32(eh_lmu_gather_q15(t2->w + o * t2->cols, t2->idx, t2->cnt), t2->rs) : 0;
        const int32_t r3 = t3->w != 0 ? eh_lmu_rs32(eh_lmu_gather_q15(t3->w + o * t3->cols, t3->idx, t3->cnt), t3->rs) : 0;
        cur[o] = sum_sat16(r1, r2, r3, wide);
    }
}

void eh_l2mu_step_q15_unchecked(const eh_l2mu_q15 *cell, const int16_t *x,
                                eh_l2mu_state_q15 *state, int16_t *scratch)
{
    const eh_l2mu_dims *d = &cell->dims;
    const uint32_t n_in = d->n_ch * d->pop, n_m = d->n_u * d->order;
    uint32_t n_sx = n_in, q_max = n_in, p_max;
    int16_t *cur = scratch;
    uint16_t *idx_x, *idx_h, *idx_m;
    const uint8_t *prev;
    uint32_t c, k, r_, j, prev_n, cnt_x, cnt_h, cnt_m, p;
    spike_term t1, t2, t3;
    eh_lmu_rs rs;
    int wide;

    for (k = 0; k < d->n_enc; k++) {
        n_sx = d->enc[k];
        q_max = eh_lmu_max(q_max, d->enc[k]);
    }
    p_max = eh_lmu_max(eh_lmu_max(q_max, d->n_u), eh_lmu_max(n_m, eh_lmu_max(d->n_h, d->n_o)));
    /* Index lists share the int16 scratch: signed and unsigned variants may alias in C. */
    idx_x = (uint16_t *)(scratch + p_max);
    idx_h = idx_x + q_max;
    idx_m = idx_h + d->n_h;

    /* Input layer 1: per-channel Linear(1 -> pop) on the raw samples, then LIF. The product
     * fits int32 (|w x| <= 2^30), so R runs in 32 bits; the int32 bias is added in int64. */
    rs = eh_lmu_rs_make(cell->s_in);
    if (cell->s_in <= 30u && cell->b_in != 0) {
        /* |w x| + 2^(s-1) <= 2^30 + 2^29: R as (w x + 2^(s-1)) >> s in 32 bits */
        const int32_t rnd = (int32_t)eh_lmu_rnd(cell->s_in);
        const uint32_t sh = cell->s_in;
        const int16_t *wi = cell->w_in;
        const int32_t *bi = cell->b_in;
        for (c = 0; c < d->n_ch; c++) {
            const int32_t xc = x[c];
            int16_t *cc = cur + c * d->pop;
            for (k = 0; k < d->pop; k++)
                cc[k] = eh_lmu_add_sat16(((int32_t)*wi++ * xc + rnd) >> sh, *bi++);
        }
    } else {
        for (c = 0; c < d->n_ch; c++) {
            const int32_t xc = x[c];
            const uint32_t base = c * d->pop;
            for (k = 0; k < d->pop; k++) {
                const int32_t r = eh_lmu_rs32((int32_t)cell->w_in[base + k] * xc, rs);
                cur[base + k] = cell->b_in != 0 ? eh_lmu_add_sat16(r, cell->b_in[base + k]) : eh_sat16(r);
            }
        }
    }
    eh_lmu_pop_q15_step_unchecked(&cell->pop_in, &state->in, n_in, cur);

    /* Encoder layers: spike-driven Linear + LIF. */
    prev = state->in.s;
    prev_n = n_in;
    for (k = 0; k < d->n_enc; k++) {
        const uint32_t cnt = eh_lmu_spike_list_fast(prev, prev_n, idx_x);
        spike_rows_bias(cur, cell->w_enc[k], prev_n, d->enc[k], idx_x, cnt,
                        eh_lmu_rs_make(cell->s_enc[k]), cell->b_enc[k]);
        eh_lmu_pop_q15_step_unchecked(&cell->pop_enc[k], &state->enc[k], d->enc[k], cur);
        prev = state->enc[k].s;
        prev_n = d->enc[k];
    }

    /* The cell. prev now holds s_x (prev_n == n_sx). */
    cnt_x = eh_lmu_spike_list_fast(prev, prev_n, idx_x);
    cnt_h = eh_lmu_spike_list_fast(state->h.s, d->n_h, idx_h);
    cnt_m = eh_lmu_spike_list_fast(state->m.s, n_m, idx_m);

    /* Every sum of up to three spike sums is below 65535 * 32768 + 3 < 2^31 in magnitude when
     * the columns it spans are at most 65535 in all; otherwise add in int64. */
    wide = (uint64_t)n_sx + d->n_h + n_m > EH_LMU_MAX_DIM;

    /* I_u = E_x s_x + E_h s_h[t-1] + E_m s_m[t-1] */
    t1.w = cell->e_x; t1.cols = n_sx; t1.idx = idx_x; t1.cnt = cnt_x; t1.rs = eh_lmu_rs_make(cell->s_ex);
    t2.w = cell->e_h; t2.cols = d->n_h; t2.idx = idx_h; t2.cnt = cnt_h; t2.rs = eh_lmu_rs_make(cell->s_eh);
    t3.w = cell->e_m; t3.cols = n_m; t3.idx = idx_m; t3.cnt = cnt_m; t3.rs = eh_lmu_rs_make(cell->s_em);
    spike_rows3(cur, d->n_u, &t1, &t2, &t3, wide);
    eh_lmu_pop_q15_step_unchecked(&cell->pop_u, &state->u, d->n_u, cur);

    /* I_m[c][r] = sum_k A[r][k] s_m[t-1][c][k] + B[r] s_u[c]; idx_m is sorted, so channel c's
     * active coefficients are the entries in [c*order, (c+1)*order). |sum| <= order * 32768,
     * |R(B)| <= 32768: 32 bits suffice unless order is 65535. */
    {
        const eh_lmu_rs ra = eh_lmu_rs_make(cell->s_a), rb = eh_lmu_rs_make(cell->s_b);
        const int wide_m = d->order >= EH_LMU_MAX_DIM;
        p = 0;
        for (c = 0; c < d->n_u; c++) {
            const uint32_t base = c * d->order, end = base + d->order;
            const uint32_t first = p;
            const int su = state->u.s[c] != 0;
            while (p < cnt_m && idx_m[p] < end) p++;
            if (first == p) {
                /* no active coefficient: R(0, s_a) = 0, the B term alone (|R(B)| <= 32768) */
                for (r_ = 0; r_ < d->order; r_++)
                    cur[base + r_] = su ? eh_sat16(eh_lmu_rs32(cell->b[r_], rb)) : 0;
                continue;
            }
            for (r_ = 0; r_ < d->order; r_++) {
                const int16_t *arow = cell->a + r_ * d->order;
                int32_t s = 0;
                for (j = first; j < p; j++) s += arow[idx_m[j] - base];
                cur[base + r_] = sum_sat16(eh_lmu_rs32(s, ra), su ? eh_lmu_rs32(cell->b[r_], rb) : 0, 0,
                                           wide_m);
            }
        }
    }
    eh_lmu_pop_q15_step_unchecked(&cell->pop_m, &state->m, n_m, cur);

    /* I_h = W_x s_x + W_h s_h[t-1] + W_m s_m[t] (the order of the int sum does not matter) */
    cnt_m = eh_lmu_spike_list_fast(state->m.s, n_m, idx_m);
    t1.w = cell->w_m; t1.cols = n_m; t1.idx = idx_m; t1.cnt = cnt_m; t1.rs = eh_lmu_rs_make(cell->s_wm);
    t2.w = cell->w_x; t2.cols = n_sx; t2.idx = idx_x; t2.cnt = cnt_x; t2.rs = eh_lmu_rs_make(cell->s_wx);
    t3.w = cell->w_h; t3.cols = d->n_h; t3.idx = idx_h; t3.cnt = cnt_h; t3.rs = eh_lmu_rs_make(cell->s_wh);
    spike_rows3(cur, d->n_h, &t1, &t2, &t3, wide);
    eh_lmu_pop_q15_step_unchecked(&cell->pop_h, &state->h, d->n_h, cur);
}

eh_status eh_l2mu_step_q15(const eh_l2mu_q15 *cell, const int16_t *x, eh_l2mu_state_q15 *state,
                           int16_t *scratch, uint32_t scratch_len)
{
    eh_l2mu_sizes z;
    eh_status r;
    if ((r = check(cell, x, state, scratch, scratch_len, &z)) != EH_OK) return r;
    eh_l2mu_step_q15_unchecked(cell, x, state, scratch);
    return EH_OK;
}
