/* Benchmark case of the MST family: mst_fc_b1 at 1024x256.
 *
 * The weights are generated with the structure of an MST-trained layer: 16 random root channels,
 * then 240 children each equal to an earlier channel (chosen at random) with 8 random weight
 * bits flipped, so every child differs from its parent in at most 8 positions. The tree is the
 * generation tree itself (each child's parent is the channel it was copied from), written
 * directly in the kernel's layout in setup(): nodes in generation order, one diff entry per
 * differing word. */
#include "eh_bench.h"
#include "eh_mst.h"

#define MST_IN 1024u
#define MST_OUT 256u
#define MST_W (MST_IN / 32u)
#define MST_ROOTS 16u
#define MST_FLIPS 8u

static uint32_t mst_x[MST_W];
static uint32_t mst_full[MST_OUT][MST_W]; /* full weights, only used to build the layout */
static uint32_t mst_root_w[MST_ROOTS * MST_W];
static int32_t mst_parent[MST_OUT];
static uint32_t mst_start[MST_OUT + 1u];
static uint32_t mst_word[MST_OUT * MST_FLIPS], mst_mask[MST_OUT * MST_FLIPS], mst_pbits[MST_OUT * MST_FLIPS];
static int32_t mst_y[MST_OUT];
static eh_mst_b1 mst_layout;

static void mst_setup(void)
{
    uint32_t p, j, f, nd = 0;
    for (j = 0; j < MST_W; j++) mst_x[j] = eh_bench_rand();
    mst_start[0] = 0;
    for (p = 0; p < MST_OUT; p++) {
        if (p < MST_ROOTS) {
            mst_parent[p] = -1;
            for (j = 0; j < MST_W; j++) mst_root_w[p * MST_W + j] = mst_full[p][j] = eh_bench_rand();
        } else {
            const uint32_t q = eh_bench_rand() % p;
            uint32_t flip[MST_W];
            for (j = 0; j < MST_W; j++) flip[j] = 0;
            for (f = 0; f < MST_FLIPS; f++) {
                const uint32_t bit = eh_bench_rand() % MST_IN;
                flip[bit >> 5] ^= 1u << (bit & 31u);
            }
            mst_parent[p] = (int32_t)q;
            for (j = 0; j < MST_W; j++) {
                mst_full[p][j] = mst_full[q][j] ^ flip[j];
                if (flip[j] != 0u) {
                    mst_word[nd] = j;
                    mst_mask[nd] = flip[j];
                    mst_pbits[nd] = mst_full[q][j] & flip[j];
                    nd++;
                }
            }
        }
        mst_start[p + 1u] = nd;
    }
    mst_layout.n_in = MST_IN;
    mst_layout.n_out = MST_OUT;
    mst_layout.n_roots = MST_ROOTS;
    mst_layout.n_diff = nd;
    mst_layout.parent = mst_parent;
    mst_layout.root_w = mst_root_w;
    mst_layout.diff_start = mst_start;
    mst_layout.diff_word = mst_word;
    mst_layout.diff_mask = mst_mask;
    mst_layout.diff_pbits = mst_pbits;
}

static void mst_run(void) { (void)eh_mst_fc_b1(&mst_layout, mst_x, mst_y); }

const eh_bench_case eh_bench_cases_mst[] = {
    /* units: the MACs of the equivalent plain layer */
    {"mst_fc_b1", "1024x256", "mac", MST_IN * MST_OUT, mst_setup, mst_run},
};
const uint32_t eh_bench_n_mst = sizeof eh_bench_cases_mst / sizeof eh_bench_cases_mst[0];
