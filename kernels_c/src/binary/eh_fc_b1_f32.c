#include "eh_b1_core.h"
#include "eh_b1_cfu.h" /* the custom unit (EH_HAVE_RV_CFU) or the Thumb-2 assembly */

eh_status eh_fc_b1_f32(uint32_t n_in, uint32_t n_out, const uint32_t *x, const uint32_t *w,
                       const float *scale, const float *bias, float *y)
{
    eh_status st;
    uint32_t nw, tail, o, r;
    if (x == 0 || w == 0 || scale == 0 || y == 0) return EH_ERR_NULL;
    if ((st = eh_b1_check_k(n_in)) != EH_OK) return st;
    if (n_out == 0u) return EH_ERR_SIZE;
    nw = eh_b1_nwords(n_in);
    tail = eh_b1_tail(n_in);
#if defined(EH_B1_FAST_DOTS)
    /* the custom unit or the assembly: dot products of up to EH_B1_FAST_CHUNK rows per call */
    for (o = 0; o < n_out; o += EH_B1_FAST_CHUNK) {
        int32_t dot[EH_B1_FAST_CHUNK];
        const uint32_t nr = (n_out - o) < EH_B1_FAST_CHUNK ? (n_out - o) : EH_B1_FAST_CHUNK;
        eh_b1_fast_dots(x, w + (uint64_t)o * nw, n_in, nr, dot);
        for (r = 0; r < nr; r++) y[o + r] = eh_b1_out_f32(dot[r], scale, bias, o + r);
    }
    return EH_OK;
#endif
    for (o = 0; o < n_out; o += 4u) {
        const uint32_t nr = (n_out - o) < 4u ? (n_out - o) : 4u;
        uint32_t cnt[4] = {0, 0, 0, 0};
        eh_b1_count_rows(x, w + (uint64_t)o * nw, nw, nr, nw, tail, cnt);
        for (r = 0; r < nr; r++) y[o + r] = eh_b1_out_f32(eh_b1_dot(n_in, cnt[r]), scale, bias, o + r);
    }
    return EH_OK;
}
