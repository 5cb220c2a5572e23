#include "eh_mst.h"
#include "binary/eh_b1_core.h"

static eh_status eh_mst_check(const eh_mst_b1 *l)
{
    eh_status st;
    uint32_t p, e, roots = 0, nw, tail;
    if (l->parent == 0 || l->root_w == 0 || l->diff_start == 0) return EH_ERR_NULL;
    if (l->n_diff != 0u && (l->diff_word == 0 || l->diff_mask == 0 || l->diff_pbits == 0))
        return EH_ERR_NULL;
    if ((st = eh_b1_check_k(l->n_in)) != EH_OK) return st;
    if (l->n_out == 0u || l->n_roots == 0u || l->n_roots > l->n_out) return EH_ERR_SIZE;
    if (l->diff_start[0] != 0u || l->diff_start[l->n_out] != l->n_diff) return EH_ERR_SIZE;
    for (p = 0; p < l->n_out; p++) {
        const int32_t par = l->parent[p];
        if (l->diff_start[p + 1u] < l->diff_start[p]) return EH_ERR_SIZE;
        if (par == -1) {
            roots++;
            if (l->diff_start[p + 1u] != l->diff_start[p]) return EH_ERR_ARG;
        } else if (par < -1 || (uint32_t)par >= p) {
            return EH_ERR_RANGE;
        }
    }
    if (roots != l->n_roots) return EH_ERR_SIZE;
    nw = eh_b1_nwords(l->n_in);
    tail = eh_b1_tail(l->n_in);
    for (e = 0; e < l->n_diff; e++) {
        const uint32_t j = l->diff_word[e];
        if (j >= nw) return EH_ERR_RANGE;
        if (j == nw - 1u && (l->diff_mask[e] & ~tail) != 0u) return EH_ERR_RANGE;
    }
    return EH_OK;
}

eh_status eh_mst_fc_b1(const eh_mst_b1 *l, const uint32_t *x, int32_t *y)
{
    eh_status st;
    uint32_t p, nw, tail, r = 0;
    uint32_t pos[4], nb = 0;
    if (l == 0 || x == 0 || y == 0) return EH_ERR_NULL;
    if ((st = eh_mst_check(l)) != EH_OK) return st;
    nw = eh_b1_nwords(l->n_in);
    tail = eh_b1_tail(l->n_in);

    /* Roots first, four at a time through the binary fc core (their rows are contiguous). */
    for (p = 0; p < l->n_out; p++) {
        if (l->parent[p] != -1) continue;
        pos[nb++] = p;
        if (nb == 4u || r + nb == l->n_roots) {
            uint32_t cnt[4] = {0, 0, 0, 0}, i;
            eh_b1_count_rows(x, l->root_w + (uint64_t)r * nw, nw, nb, nw, tail, cnt);
            for (i = 0; i < nb; i++) y[pos[i]] = eh_b1_dot(l->n_in, cnt[i]);
            r += nb;
            nb = 0;
        }
    }
    /* Then the children in node order: every parent (a root or an earlier child) is done. */
    for (p = 0; p < l->n_out; p++) {
        uint32_t e, end;
        int32_t delta = 0;
        if (l->parent[p] == -1) continue;
        end = l->diff_start[p + 1u];
        for (e = l->diff_start[p]; e < end; e++) {
            const uint32_t m = l->diff_mask[e];
            const uint32_t a = (x[l->diff_word[e]] ^ l->diff_pbits[e]) & m; /* parent mismatches */
            /* child mismatches in D are m & ~a: delta count = pc(m ^ a) - pc(a) */
            delta += (int32_t)eh_popcount32(m ^ a) - (int32_t)eh_popcount32(a);
        }
        y[p] = y[l->parent[p]] - 2 * delta;
    }
    return EH_OK;
}
