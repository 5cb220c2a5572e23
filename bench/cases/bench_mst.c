/* Benchmark cases of the MST family, 1024 -> 256 (units: the MACs of the equivalent plain layer).
 *
 * mst_fc_b1 "trained":   a layer trained with the MST regulariser (bench_mst_trained.h, made by
 *                        host/edgehost/bench/mst_train.py), layout from edgehost.sim.mst_build.
 * mst_fc_b1 "flips8":    synthetic: 16 random roots, then 240 children each equal to an earlier
 *                        channel with 8 random weight bits flipped; the generation tree is the
 *                        layout (built on target in setup()).
 * mst_fc_b1 timed as an interpreter runs it once the layout passed eh_mst_check_b1 at load
 * (eh_mst_fc_b1_unchecked); mst_fc_b1_checked: eh_mst_fc_b1 (check + the same run).
 * setup() compares every result with eh_fc_b1_s32 on the full weights (eh_bench_check). */
#include "eh_bench.h"
#include "eh_binary.h"
#include "eh_mst.h"
#include "bench_mst_trained.h"

#define MST_IN 1024u
#define MST_OUT 256u
#define MST_W (MST_IN / 32u)
#define MST_ROOTS 16u
#define MST_FLIPS 8u

static uint32_t mst_x[MST_W];
static uint32_t mst_full[MST_OUT][MST_W]; /* full weights, for the layout and the self-check */
static uint32_t mst_root_w[MST_ROOTS * MST_W];
static int32_t mst_parent[MST_OUT];
static uint32_t mst_start[MST_OUT + 1u];
static uint16_t mst_diff[MST_OUT * MST_FLIPS];
static int32_t mst_y[MST_OUT], mst_ref[MST_OUT];
static uint32_t mst_xx_words[MST_IN / 2u]; /* the kernel's scratch: 2 K bytes, word-aligned */
#define mst_xx ((uint8_t *)mst_xx_words)
static eh_mst_b1 mst_flips, mst_trained;

static void mst_compare(const char *name, const eh_mst_b1 *l, const uint32_t *w)
{
    uint32_t o, bad = 0;
    const eh_status st = eh_mst_fc_b1(l, mst_x, mst_xx, 2u * MST_IN, mst_y);
    (void)eh_fc_b1_s32(l->n_in, l->n_out, mst_x, w, mst_ref);
    for (o = 0; o < l->n_out; o++) bad += (st != EH_OK || mst_y[o] != mst_ref[o]);
    eh_bench_check(name, l->n_out, bad);
}

static void mst_setup_x(void)
{
    uint32_t j;
    for (j = 0; j < MST_W; j++) mst_x[j] = eh_bench_rand();
}

static void mst_setup_trained(void)
{
    if (mst_trained.n_out != 0u) return; /* the checked case runs on the same data */
    mst_setup_x();
    mst_trained.n_in = MSTT_IN;
    mst_trained.n_out = MSTT_OUT;
    mst_trained.n_roots = MSTT_ROOTS;
    mst_trained.n_diff = MSTT_DIFF;
    mst_trained.parent = mstt_parent;
    mst_trained.root_w = mstt_root_w;
    mst_trained.diff_start = mstt_start;
    mst_trained.diff = mstt_diff;
    mst_compare("mst_fc_b1_trained", &mst_trained, mstt_w);
}

static void mst_setup_flips(void)
{
    uint32_t p, j, f, nd = 0;
    if (mst_flips.n_out != 0u) return; /* the checked case runs on the same data */
    mst_setup_x();
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
                uint32_t b;
                mst_full[p][j] = mst_full[q][j] ^ flip[j];
                for (b = 0; b < 32u; b++) {
                    if ((flip[j] >> b) & 1u) {
                        const uint32_t pos = j * 32u + b;
                        mst_diff[nd++] = (uint16_t)((pos << 1) | ((mst_full[p][j] >> b) & 1u));
                    }
                }
            }
        }
        mst_start[p + 1u] = nd;
    }
    mst_flips.n_in = MST_IN;
    mst_flips.n_out = MST_OUT;
    mst_flips.n_roots = MST_ROOTS;
    mst_flips.n_diff = nd;
    mst_flips.parent = mst_parent;
    mst_flips.root_w = mst_root_w;
    mst_flips.diff_start = mst_start;
    mst_flips.diff = mst_diff;
    mst_compare("mst_fc_b1_flips8", &mst_flips, &mst_full[0][0]);
}

static void mst_run_trained(void) { eh_mst_fc_b1_unchecked(&mst_trained, mst_x, mst_xx, mst_y); }
static void mst_run_trained_checked(void) { (void)eh_mst_fc_b1(&mst_trained, mst_x, mst_xx, 2u * MST_IN, mst_y); }
static void mst_run_flips(void) { eh_mst_fc_b1_unchecked(&mst_flips, mst_x, mst_xx, mst_y); }
static void mst_run_flips_checked(void) { (void)eh_mst_fc_b1(&mst_flips, mst_x, mst_xx, 2u * MST_IN, mst_y); }

const eh_bench_case eh_bench_cases_mst[] = {
    {"mst_fc_b1", "1024x256_trained", "mac", MST_IN * MST_OUT, mst_setup_trained, mst_run_trained},
    {"mst_fc_b1_checked", "1024x256_trained", "mac", MST_IN * MST_OUT, mst_setup_trained,
     mst_run_trained_checked},
    {"mst_fc_b1_flips8", "1024x256", "mac", MST_IN * MST_OUT, mst_setup_flips, mst_run_flips},
    {"mst_fc_b1_flips8_checked", "1024x256", "mac", MST_IN * MST_OUT, mst_setup_flips,
     mst_run_flips_checked},
};
const uint32_t eh_bench_n_mst = sizeof eh_bench_cases_mst / sizeof eh_bench_cases_mst[0];
