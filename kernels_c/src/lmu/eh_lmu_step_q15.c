#include "eh_lmu.h"
#include "eh_lmu_internal.h"

eh_status eh_lmu_step_q15(const eh_lmu_q15 *cell, const int16_t *x, int16_t *m, int16_t *h,
                          int16_t *scratch, uint32_t scratch_len)
{
    uint32_t c, r, j, n_m;
    int16_t *u, *mc, *hn;
    if (cell == 0 || x == 0 || m == 0 || h == 0 || scratch == 0) return EH_ERR_NULL;
    if (cell->e_x == 0 || cell->a == 0 || cell->b == 0 || cell->w_m == 0) return EH_ERR_NULL;
    if (!eh_lmu_dim_ok(cell->n_x) || !eh_lmu_dim_ok(cell->n_h) || !eh_lmu_dim_ok(cell->n_u) ||
        !eh_lmu_dim_ok(cell->order) || !eh_lmu_mem_ok(cell->n_u, cell->order))
        return EH_ERR_SIZE;
    if ((uint64_t)cell->n_u + cell->order + cell->n_h > scratch_len) return EH_ERR_SIZE;
    if (cell->s_ex > EH_LMU_MAX_SHIFT || cell->s_eh > EH_LMU_MAX_SHIFT || cell->s_em > EH_LMU_MAX_SHIFT ||
        cell->s_a > EH_LMU_MAX_SHIFT || cell->s_b > EH_LMU_MAX_SHIFT || cell->s_wx > EH_LMU_MAX_SHIFT ||
        cell->s_wh > EH_LMU_MAX_SHIFT || cell->s_wm > EH_LMU_MAX_SHIFT)
        return EH_ERR_RANGE;
    if (cell->act != EH_LMU_ACT_IDENTITY && cell->act != EH_LMU_ACT_RELU &&
        cell->act != EH_LMU_ACT_HARDTANH)
        return EH_ERR_ARG;
    if (cell->act == EH_LMU_ACT_HARDTANH && cell->clamp < 1) return EH_ERR_RANGE;

    n_m = cell->n_u * cell->order;
    u = scratch;
    mc = scratch + cell->n_u;
    hn = mc + cell->order;

    for (c = 0; c < cell->n_u; c++) {
        int64_t acc = eh_lmu_rs64(eh_lmu_dot_q15(cell->e_x + c * cell->n_x, x, cell->n_x), cell->s_ex);
        if (cell->e_h != 0)
            acc += eh_lmu_rs64(eh_lmu_dot_q15(cell->e_h + c * cell->n_h, h, cell->n_h), cell->s_eh);
        if (cell->e_m != 0)
            acc += eh_lmu_rs64(eh_lmu_dot_q15(cell->e_m + c * n_m, m, n_m), cell->s_em);
        u[c] = eh_lmu_sat16_64(acc);
    }
    for (c = 0; c < cell->n_u; c++) {
        int16_t *mrow = m + c * cell->order;
        eh_lmu_copy_q15(mc, mrow, cell->order);
        for (r = 0; r < cell->order; r++) {
            int64_t acc = eh_lmu_rs64(eh_lmu_dot_q15(cell->a + r * cell->order, mc, cell->order), cell->s_a);
            acc += eh_lmu_rs64((int32_t)cell->b[r] * (int32_t)u[c], cell->s_b);
            mrow[r] = eh_lmu_sat16_64(acc);
        }
    }
    for (j = 0; j < cell->n_h; j++) {
        int64_t acc = eh_lmu_rs64(eh_lmu_dot_q15(cell->w_m + j * n_m, m, n_m), cell->s_wm);
        if (cell->w_x != 0)
            acc += eh_lmu_rs64(eh_lmu_dot_q15(cell->w_x + j * cell->n_x, x, cell->n_x), cell->s_wx);
        if (cell->w_h != 0)
            acc += eh_lmu_rs64(eh_lmu_dot_q15(cell->w_h + j * cell->n_h, h, cell->n_h), cell->s_wh);
        if (cell->b_h != 0) acc += cell->b_h[j];
        hn[j] = eh_lmu_act_q15(cell->act, eh_lmu_sat16_64(acc), cell->clamp);
    }
    eh_lmu_copy_q15(h, hn, cell->n_h);
    return EH_OK;
}
