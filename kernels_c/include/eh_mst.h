/*
 * MST-compressed binary fully connected layer (after Vo et al., "MST-compression", ICCV 2023).
 *
 * The output channels are computed in the order of a spanning forest over the channels: a root
 * channel is computed like eh_fc_b1_s32 from its full packed weights; a child reuses its
 * parent's dot product and corrects it only at the positions D where their weights differ
 * (packing and dot product as in eh_binary.h: bit 1 = -1, dot = K - 2 * count).
 *
 * A child stores D as a list of 16-bit codes, one per differing position i, in strictly
 * increasing order of i:
 *   code = (i << 1) | c_i        where c_i is the child's weight bit at i (the parent's is 1 - c_i)
 * Since the child differs from its parent exactly on D:
 *   count_c = count_p + sum_{i in D} ([x_i != c_i] - [x_i == c_i]) = count_p - |D| + 2 * S
 *   dot_c   = dot_p + 2 * |D| - 4 * S,       S = sum_{i in D} (x_i XOR c_i)
 * where x_i is bit (i % 32) of x[i / 32]. This equation (not the parent's weights) defines the
 * kernel's result for any codes; the host tool (edgehost.sim.mst.mst_build) emits codes whose
 * child bits are the child's real weights, so y equals eh_fc_b1_s32 on the full weights.
 *
 * Work: a root costs one row of eh_fc_b1_s32 (about 0.3 instructions per bit on Cortex-M4);
 * a child costs about 3 instructions per differing position (load the code, load a byte, add)
 * plus a constant: each call first expands x into the caller's scratch, two bytes per input
 *   scratch[2 * i + b] = x_i XOR b          (i < K, b in {0, 1}; 2 * K bytes; a word-aligned
 *                                            scratch is written faster on little-endian cores)
 * so that a code indexes its term of S directly. The host tool chooses roots and parents with
 * that cost model (edgehost.sim.mst).
 *
 * Layout (eh_mst_b1), nodes numbered p = 0 .. n_out-1 in computation order:
 *   parent[p]      -1 for a root, else the node number of the parent, which must be < p.
 *   root_w         n_roots rows of ceil(K / 32) packed words: the i-th root in node order uses row i.
 *   diff_start     n_out + 1 offsets into diff: node p owns diff[diff_start[p] .. diff_start[p+1]-1]
 *                  (non-decreasing, diff_start[0] = 0, diff_start[n_out] = n_diff); a root owns none.
 *   diff           n_diff codes (above).
 * Limits: K = n_in in [1, EH_MST_MAX_K] (positions fit the 15 bits of a code), n_out >= 1.
 *
 * Output: y[p] = the dot product of node p (int32), i.e. the channels in node order; the host
 * tool returns the channel of each node (a converter permutes the consumers of this layer).
 *
 * Prepare once, run often: eh_mst_check_b1 checks a layout and a scratch length (O(n_out +
 * n_diff)) and returns what eh_mst_fc_b1 would return for them (x, scratch and y not NULL);
 * eh_mst_fc_b1_unchecked then runs without any check (a layout that did not pass the check is
 * undefined behaviour); eh_mst_fc_b1 is both. x, scratch and y must not overlap.
 * Checks, in this order (before anything is written): NULL pointers (EH_ERR_NULL; diff may be
 * NULL when n_diff = 0), K in [1, EH_MST_MAX_K], scratch_len (bytes) < 2 * K, n_out >= 1, n_roots in
 * [1, n_out], diff_start[0] = 0 and diff_start[n_out] = n_diff (EH_ERR_SIZE); then per node in
 * order: decreasing offsets
 * (EH_ERR_SIZE), a parent < -1 or >= p (EH_ERR_RANGE), a root owning codes (EH_ERR_ARG); then the
 * number of -1 parents != n_roots (EH_ERR_SIZE); then per node, its codes: a position >= K or
 * not greater than the one before it (EH_ERR_RANGE).
 */
#ifndef EH_MST_H
#define EH_MST_H

#include "eh_common.h"
#include "eh_binary.h"

enum { EH_MST_MAX_K = 32768 };

typedef struct {
    uint32_t n_in;              /* K */
    uint32_t n_out;             /* nodes (channels) */
    uint32_t n_roots;
    uint32_t n_diff;            /* codes */
    const int32_t *parent;      /* [n_out] */
    const uint32_t *root_w;     /* [n_roots][ceil(K/32)] */
    const uint32_t *diff_start; /* [n_out + 1] */
    const uint16_t *diff;       /* [n_diff]: (position << 1) | child bit */
} eh_mst_b1;

eh_status eh_mst_check_b1(const eh_mst_b1 *layout, uint32_t scratch_len);
void eh_mst_fc_b1_unchecked(const eh_mst_b1 *layout, const uint32_t *x, uint8_t *scratch, int32_t *y);
eh_status eh_mst_fc_b1(const eh_mst_b1 *layout, const uint32_t *x, uint8_t *scratch,
                       uint32_t scratch_len, int32_t *y);

#endif /* EH_MST_H */
