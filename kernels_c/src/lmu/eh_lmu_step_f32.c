#include "eh_lmu.h"
#include "eh_lmu_internal.h"

eh_status eh_lmu_step_f32(const eh_lmu_f32 *cell, const float *x, float *m, float *h,
                          float *scratch, uint32_t scratch_len)
{
    uint32_t c, r, j, n_m;
    float *u, *mc, *hn;
    if (cell == 0 || x == 0 || m == 0 || h == 0 || scratch == 0) return EH_ERR_NULL;
    if (cell->e_x == 0 || cell->a == 0 || cell->b == 0 || cell->w_m == 0) return EH_ERR_NULL;
    if (!eh_lmu_dim_ok(cell->n_x) || !eh_lmu_dim_ok(cell->n_h) || !eh_lmu_dim_ok(cell->n_u) ||
        !eh_lmu_dim_ok(cell->order) || !eh_lmu_mem_ok(cell->n_u, cell->order))
        return EH_ERR_SIZE;
    if ((uint64_t)cell->n_u + cell->order + cell->n_h > scratch_len) return EH_ERR_SIZE;
    if ((uint32_t)cell->act > (uint32_t)EH_LMU_ACT_TANH) return EH_ERR_ARG;

    n_m = cell->n_u * cell->order;
    u = scratch;
    mc = scratch + cell->n_u;
    hn = mc + cell->order;

    /* u = E_x x + E_h h + E_m m, one accumulator per channel */
    for (c = 0; c < cell->n_u; c++) {
        float acc = eh_lmu_dot_f32(0.0f, cell->e_x + (uint32_t)c * cell->n_x, x, cell->n_x);
        if (cell->e_h != 0) acc = eh_lmu_dot_f32(acc, cell->e_h + c * cell->n_h, h, cell->n_h);
        if (cell->e_m != 0) acc = eh_lmu_dot_f32(acc, cell->e_m + c * n_m, m, n_m);
        u[c] = acc;
    }
    /* m[c] = Abar m[c] + Bbar u[c], through a copy of the channel's old memory */
    for (c = 0; c < cell->n_u; c++) {
        float *mrow = m + c * cell->order;
        eh_lmu_copy_f32(mc, mrow, cell->order);
        for (r = 0; r < cell->order; r++) {
            float acc = eh_lmu_dot_f32(0.0f, cell->a + r * cell->order, mc, cell->order);
            float p = cell->b[r] * u[c];
            mrow[r] = acc + p;
        }
    }
    /* h = f(W_x x + W_h h + W_m m + b_h) */
    for (j = 0; j < cell->n_h; j++) {
        float acc = 0.0f;
        if (cell->w_x != 0) acc = eh_lmu_dot_f32(acc, cell->w_x + j * cell->n_x, x, cell->n_x);
        if (cell->w_h != 0) acc = eh_lmu_dot_f32(acc, cell->w_h + j * cell->n_h, h, cell->n_h);
        acc = eh_lmu_dot_f32(acc, cell->w_m + j * n_m, m, n_m);
        if (cell->b_h != 0) acc = acc + cell->b_h[j];
        hn[j] = eh_lmu_act_f32(cell->act, acc);
    }
    eh_lmu_copy_f32(h, hn, cell->n_h);
    return EH_OK;
}
