/* MST family: bad layouts rejected with nothing written; for K = 1..100 a random chain/forest
 * of channels (children = parent with random flips) in exact-size heap buffers gives the same
 * dot products as eh_fc_b1_s32 on the full weights. */
#include <stdlib.h>
#include <string.h>
#include "eh_test.h"
#include "eh_mst.h"
#include "../../kernels_c/src/binary/eh_b1_core.h"

static void test_bad_layouts(void)
{
    uint32_t x[2] = {0, 0}, root_w[2] = {0, 0};
    int32_t parent[3] = {-1, 0, 1}, y[3] = {7, 7, 7};
    uint32_t start[4] = {0, 0, 1, 2}, word[2] = {0, 1}, mask[2] = {1, 0xFF}, pb[2] = {0, 0};
    eh_mst_b1 good = {40, 3, 1, 2, parent, root_w, start, word, mask, pb};
    eh_mst_b1 l;

    EH_CHECK_EQ(eh_mst_fc_b1(&good, x, y), EH_OK);
    EH_CHECK_EQ(y[0], 40);
    y[0] = y[1] = y[2] = 7;
    EH_CHECK_EQ(eh_mst_fc_b1(0, x, y), EH_ERR_NULL);
    EH_CHECK_EQ(eh_mst_fc_b1(&good, 0, y), EH_ERR_NULL);
    EH_CHECK_EQ(eh_mst_fc_b1(&good, x, 0), EH_ERR_NULL);
    l = good; l.diff_mask = 0;
    EH_CHECK_EQ(eh_mst_fc_b1(&l, x, y), EH_ERR_NULL);
    l = good; l.n_in = 0;
    EH_CHECK_EQ(eh_mst_fc_b1(&l, x, y), EH_ERR_SIZE);
    l = good; l.n_out = 0;
    EH_CHECK_EQ(eh_mst_fc_b1(&l, x, y), EH_ERR_SIZE);
    l = good; l.n_roots = 2;
    EH_CHECK_EQ(eh_mst_fc_b1(&l, x, y), EH_ERR_SIZE);
    l = good; l.n_diff = 1;
    EH_CHECK_EQ(eh_mst_fc_b1(&l, x, y), EH_ERR_SIZE);
    parent[2] = 2;   /* parent not before the child */
    EH_CHECK_EQ(eh_mst_fc_b1(&good, x, y), EH_ERR_RANGE);
    parent[2] = 5;   /* out of range */
    EH_CHECK_EQ(eh_mst_fc_b1(&good, x, y), EH_ERR_RANGE);
    parent[2] = -2;
    EH_CHECK_EQ(eh_mst_fc_b1(&good, x, y), EH_ERR_RANGE);
    parent[2] = 1;
    word[1] = 2;     /* word index out of range (W = 2) */
    EH_CHECK_EQ(eh_mst_fc_b1(&good, x, y), EH_ERR_RANGE);
    word[1] = 1; mask[1] = 0x100; /* bit 40 of K = 40: padding */
    EH_CHECK_EQ(eh_mst_fc_b1(&good, x, y), EH_ERR_RANGE);
    mask[1] = 0xFF;
    start[1] = 1; start[2] = 1; /* the root owns an entry */
    EH_CHECK_EQ(eh_mst_fc_b1(&good, x, y), EH_ERR_ARG);
    start[1] = 0; start[2] = 3; /* decreasing offsets */
    EH_CHECK_EQ(eh_mst_fc_b1(&good, x, y), EH_ERR_SIZE);
    start[1] = 0; start[2] = 1;
    EH_CHECK(y[0] == 7 && y[1] == 7 && y[2] == 7);
    EH_CHECK_EQ(eh_mst_fc_b1(&good, x, y), EH_OK);
}

static void test_equals_fc(void)
{
    uint32_t k;
    for (k = 1; k <= 100; k++) {
        const uint32_t nw = eh_b1_nwords(k), n = 1 + k % 13, tail = eh_b1_tail(k);
        uint32_t *w = malloc(n * nw * 4), *x = malloc(nw * 4), *start = malloc((n + 1) * 4);
        uint32_t *word = malloc(n * nw * 4), *mask = malloc(n * nw * 4), *pb = malloc(n * nw * 4);
        uint32_t *root_w = malloc(n * nw * 4), nd = 0, nr = 0, p, j;
        int32_t *parent = malloc(n * 4), *y = malloc(n * 4), *ref = malloc(n * 4);
        eh_mst_b1 l;
        for (j = 0; j < nw; j++) x[j] = eh_test_rand();
        start[0] = 0;
        for (p = 0; p < n; p++) {
            if (p == 0 || eh_test_rand() % 4u == 0u) {
                parent[p] = -1;
                for (j = 0; j < nw; j++) w[p * nw + j] = eh_test_rand() & (j + 1 == nw ? tail : 0xFFFFFFFFu);
                memcpy(root_w + nr * nw, w + p * nw, nw * 4);
                nr++;
            } else {
                const uint32_t q = eh_test_rand() % p;
                parent[p] = (int32_t)q;
                for (j = 0; j < nw; j++) {
                    uint32_t flip = (eh_test_rand() % 3u == 0u) ? (1u << (eh_test_rand() % 32u)) : 0u;
                    flip &= (j + 1 == nw ? tail : 0xFFFFFFFFu);
                    w[p * nw + j] = w[q * nw + j] ^ flip;
                    if (flip) { word[nd] = j; mask[nd] = flip; pb[nd] = w[q * nw + j] & flip; nd++; }
                }
            }
            start[p + 1] = nd;
        }
        l.n_in = k; l.n_out = n; l.n_roots = nr; l.n_diff = nd; l.parent = parent; l.root_w = root_w;
        l.diff_start = start; l.diff_word = word; l.diff_mask = mask; l.diff_pbits = pb;
        EH_CHECK_EQ(eh_mst_fc_b1(&l, x, y), EH_OK);
        EH_CHECK_EQ(eh_fc_b1_s32(k, n, x, w, ref), EH_OK);
        for (p = 0; p < n; p++) EH_CHECK_EQ(y[p], ref[p]);
        free(w); free(x); free(start); free(word); free(mask); free(pb); free(root_w);
        free(parent); free(y); free(ref);
    }
}

int main(void)
{
    test_bad_layouts();
    test_equals_fc();
    EH_TEST_DONE();
}
