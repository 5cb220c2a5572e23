#include "eh_b1_core.h"
#include "eh_b1_cfu.h" /* the custom unit (EH_HAVE_RV_CFU) or the Thumb-2 assembly */

eh_status eh_fc_b1_s32(uint32_t n_in, uint32_t n_out, const uint32_t *x, const uint32_t *w,
                       int32_t *y)
{
    eh_status st;
    uint32_t nw, tail, o, r;
    if (x == 0 || w == 0 || y == 0) return EH_ERR_NULL;
    if ((st = eh_b1_check_k(n_in)) != EH_OK) return st;
    if (n_out == 0u) return EH_ERR_SIZE;
    nw = eh_b1_nwords(n_in);
    tail = eh_b1_tail(n_in);
#if defined(EH_B1_FAST_DOTS)
    /* the custom unit (every row's dot product in one instruction) or the assembly (one call) */
    eh_b1_fast_dots(x, w, n_in, n_out, y);
    return EH_OK;
#endif
    for (o = 0; o < n_out; o += 4u) {
        const uint32_t nr = (n_out - o) < 4u ? (n_out - o) : 4u;
        uint32_t cnt[4] = {0, 0, 0, 0};
        eh_b1_count_rows(x, w + (uint64_t)o * nw, nw, nr, nw, tail, cnt);
        for (r = 0; r < nr; r++) y[o + r] = eh_b1_dot(n_in, cnt[r]);
    }
    return EH_OK;
}
