/*
 * MST-compressed binary fully connected layer (Vo et al., "MST-compression", ICCV 2023).
 *
 * The output channels are computed in the order of a spanning forest over the channels: a root
 * channel is computed like eh_fc_b1 from its full packed weights; a child reuses its parent's
 * result and corrects only the positions D where their weights differ:
 *   count_c = count_p + |D| - 2 * popcount over D of (x XOR w_p)
 *   dot_c   = dot_p - 2 * sum_{e} (popcount(m_e) - 2 * popcount((x[word_e] XOR pbits_e) AND m_e))
 * (dot = K - 2 * count, packing as in eh_binary.h).
 *
 * Layout (eh_mst_b1), nodes numbered p = 0 .. n_out-1 in computation order:
 *   parent[p]      -1 for a root, else the node number of the parent, which must be < p.
 *   root_w         n_roots rows of ceil(K / 32) packed words: the i-th root in node order uses row i.
 *   diff_start     n_out + 1 offsets into the diff arrays: node p owns entries
 *                  diff_start[p] .. diff_start[p+1]-1 (non-decreasing, diff_start[0] = 0,
 *                  diff_start[n_out] = n_diff); a root owns none.
 *   diff_word[e]   the word index (< ceil(K / 32)) of entry e;
 *   diff_mask[e]   the bits of that word where child and parent differ (only real positions:
 *                  no padding bit of the last word);
 *   diff_pbits[e]  the parent's weight bits of that word (only the bits under the mask are used).
 * A child's work is one entry per differing word, whatever the number of bits in it (the host
 * tool edgehost.sim.mst counts the work in those units).
 *
 * Output: y[p] = the dot product of node p (int32), i.e. the channels in node order; the host
 * tool returns the channel of each node (a converter permutes the consumers of this layer).
 *
 * Checks (before anything is written): NULL pointers (EH_ERR_NULL; the diff arrays may be NULL
 * when n_diff = 0), K in [1, EH_B1_MAX_K], n_out >= 1, n_roots in [1, n_out] equal to the number of
 * -1 parents, the diff_start offsets (EH_ERR_SIZE); a parent < -1 or >= p, a word index out of
 * range, a mask with padding bits (EH_ERR_RANGE); a root owning entries (EH_ERR_ARG).
 */
#ifndef EH_MST_H
#define EH_MST_H

#include "eh_common.h"
#include "eh_binary.h"

typedef struct {
    uint32_t n_in;             /* K */
    uint32_t n_out;            /* nodes (channels) */
    uint32_t n_roots;
    uint32_t n_diff;           /* diff entries */
    const int32_t *parent;     /* [n_out] */
    const uint32_t *root_w;    /* [n_roots][ceil(K/32)] */
    const uint32_t *diff_start; /* [n_out + 1] */
    const uint32_t *diff_word;  /* [n_diff] */
    const uint32_t *diff_mask;  /* [n_diff] */
    const uint32_t *diff_pbits; /* [n_diff] */
} eh_mst_b1;

eh_status eh_mst_fc_b1(const eh_mst_b1 *layout, const uint32_t *x, int32_t *y);

#endif /* EH_MST_H */
