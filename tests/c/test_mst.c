/* MST family: bad layouts rejected with nothing written (and eh_mst_check_b1 gives the same
 * codes); for K = 1..100 and a few wide K a random forest of channels (children = parent with
 * random flips, in exact-size heap buffers) gives the same dot products as eh_fc_b1_s32 on the
 * full weights, through eh_mst_fc_b1 and eh_mst_fc_b1_unchecked. */
#include <stdlib.h>
#include <string.h>
#include "eh_test.h"
#include "eh_mst.h"
#include "../../kernels_c/src/binary/eh_b1_core.h"

static void test_bad_layouts(void)
{
    uint32_t x[2] = {0, 0}, root_w[2] = {0, 0};
    uint8_t xx[81]; /* 80 needed; the fc calls use xx + 1 (unaligned) and xx */
    int32_t parent[3] = {-1, 0, 1}, y[3] = {7, 7, 7};
    uint32_t start[4] = {0, 0, 1, 3};
    uint16_t diff[3] = {(3u << 1) | 1u, (5u << 1), (39u << 1) | 1u};
    eh_mst_b1 good = {40, 3, 1, 3, parent, root_w, start, diff};
    eh_mst_b1 l;

    EH_CHECK_EQ(eh_mst_check_b1(&good, 80), EH_OK);
    EH_CHECK_EQ(eh_mst_fc_b1(&good, x, xx + 1, 80, y), EH_OK);
    /* x and the root all +1 (bits 0): dot 40. Child 1 flips position 3 to -1: S = 1, 40 + 2 - 4
     * = 38. Child 2 (of child 1): positions 5 (bit 0) and 39 (bit 1): S = 1, 38 + 4 - 4 = 38. */
    EH_CHECK_EQ(y[0], 40);
    EH_CHECK_EQ(y[1], 38);
    EH_CHECK_EQ(y[2], 38);
    y[0] = y[1] = y[2] = 7;
    EH_CHECK_EQ(eh_mst_fc_b1(0, x, xx, 80, y), EH_ERR_NULL);
    EH_CHECK_EQ(eh_mst_check_b1(0, 80), EH_ERR_NULL);
    EH_CHECK_EQ(eh_mst_fc_b1(&good, 0, xx, 80, y), EH_ERR_NULL);
    EH_CHECK_EQ(eh_mst_fc_b1(&good, x, xx, 80, 0), EH_ERR_NULL);
    l = good; l.diff = 0;
    EH_CHECK_EQ(eh_mst_fc_b1(&l, x, xx, 80, y), EH_ERR_NULL);
    EH_CHECK_EQ(eh_mst_fc_b1(&good, x, 0, 80, y), EH_ERR_NULL);
    EH_CHECK_EQ(eh_mst_fc_b1(&good, x, xx, 79, y), EH_ERR_SIZE);
    EH_CHECK_EQ(eh_mst_check_b1(&good, 79), EH_ERR_SIZE);
    l = good; l.parent = 0;
    EH_CHECK_EQ(eh_mst_check_b1(&l, 80), EH_ERR_NULL);
    l = good; l.n_in = 0;
    EH_CHECK_EQ(eh_mst_fc_b1(&l, x, xx, 80, y), EH_ERR_SIZE);
    l = good; l.n_in = EH_MST_MAX_K + 1u;
    EH_CHECK_EQ(eh_mst_check_b1(&l, 0xFFFFFFFFu), EH_ERR_SIZE);
    l = good; l.n_out = 0;
    EH_CHECK_EQ(eh_mst_fc_b1(&l, x, xx, 80, y), EH_ERR_SIZE);
    l = good; l.n_roots = 2;
    EH_CHECK_EQ(eh_mst_fc_b1(&l, x, xx, 80, y), EH_ERR_SIZE);
    l = good; l.n_diff = 2;
    EH_CHECK_EQ(eh_mst_fc_b1(&l, x, xx, 80, y), EH_ERR_SIZE);
    parent[2] = 2;   /* parent not before the child */
    EH_CHECK_EQ(eh_mst_fc_b1(&good, x, xx, 80, y), EH_ERR_RANGE);
    parent[2] = 5;   /* out of range */
    EH_CHECK_EQ(eh_mst_fc_b1(&good, x, xx, 80, y), EH_ERR_RANGE);
    parent[2] = -2;
    EH_CHECK_EQ(eh_mst_fc_b1(&good, x, xx, 80, y), EH_ERR_RANGE);
    EH_CHECK_EQ(eh_mst_check_b1(&good, 80), EH_ERR_RANGE);
    parent[2] = 1;
    diff[2] = (40u << 1);           /* position 40 >= K */
    EH_CHECK_EQ(eh_mst_fc_b1(&good, x, xx, 80, y), EH_ERR_RANGE);
    diff[2] = (5u << 1) | 1u;       /* not increasing (5 after 5) */
    EH_CHECK_EQ(eh_mst_fc_b1(&good, x, xx, 80, y), EH_ERR_RANGE);
    diff[2] = (4u << 1);            /* decreasing */
    EH_CHECK_EQ(eh_mst_fc_b1(&good, x, xx, 80, y), EH_ERR_RANGE);
    diff[2] = (39u << 1) | 1u;
    start[1] = 1; start[2] = 1;     /* the root owns a code */
    EH_CHECK_EQ(eh_mst_fc_b1(&good, x, xx, 80, y), EH_ERR_ARG);
    start[1] = 0; start[2] = 4;     /* decreasing offsets (start[3] = 3) */
    EH_CHECK_EQ(eh_mst_fc_b1(&good, x, xx, 80, y), EH_ERR_SIZE);
    start[1] = 0; start[2] = 1;
    EH_CHECK(y[0] == 7 && y[1] == 7 && y[2] == 7);
    EH_CHECK_EQ(eh_mst_fc_b1(&good, x, xx, 80, y), EH_OK);
}

static void check_k(uint32_t k)
{
    const uint32_t nw = eh_b1_nwords(k), n = 1 + k % 13, tail = eh_b1_tail(k);
    uint32_t *w = malloc(n * nw * 4), *x = malloc(nw * 4), *start = malloc((n + 1) * 4);
    uint16_t *diff = malloc(n * k * 2 + 2);
    uint8_t *xx = malloc(2 * k + 1);
    uint32_t *root_w = malloc(n * nw * 4), nd = 0, nr = 0, p, j;
    int32_t *parent = malloc(n * 4), *y = malloc(n * 4), *y2 = malloc(n * 4), *ref = malloc(n * 4);
    eh_mst_b1 l;
    for (j = 0; j < nw; j++) x[j] = eh_test_rand();   /* padding bits of x set: must not matter */
    start[0] = 0;
    for (p = 0; p < n; p++) {
        if (p == 0 || eh_test_rand() % 4u == 0u) {
            parent[p] = -1;
            for (j = 0; j < nw; j++) w[p * nw + j] = eh_test_rand() & (j + 1 == nw ? tail : 0xFFFFFFFFu);
            memcpy(root_w + nr * nw, w + p * nw, nw * 4);
            nr++;
        } else {
            const uint32_t q = eh_test_rand() % p;
            uint32_t i;
            parent[p] = (int32_t)q;
            memcpy(w + p * nw, w + q * nw, nw * 4);
            for (i = 0; i < k; i++) {
                if (eh_test_rand() % 7u == 0u) {
                    w[p * nw + i / 32u] ^= 1u << (i % 32u);
                    diff[nd++] = (uint16_t)((i << 1) | ((w[p * nw + i / 32u] >> (i % 32u)) & 1u));
                }
            }
        }
        start[p + 1] = nd;
    }
    l.n_in = k; l.n_out = n; l.n_roots = nr; l.n_diff = nd; l.parent = parent; l.root_w = root_w;
    l.diff_start = start; l.diff = nd ? diff : 0;
    EH_CHECK_EQ(eh_mst_fc_b1(&l, x, xx, 2 * k, y), EH_OK);        /* aligned (malloc) */
    eh_mst_fc_b1_unchecked(&l, x, xx + 1, y2);                     /* unaligned: byte path */
    EH_CHECK_EQ(eh_fc_b1_s32(k, n, x, w, ref), EH_OK);
    for (p = 0; p < n; p++) {
        EH_CHECK_EQ(y[p], ref[p]);
        EH_CHECK_EQ(y2[p], ref[p]);
    }
    free(w); free(x); free(start); free(diff); free(root_w); free(parent); free(y); free(y2); free(ref); free(xx);
}

static void test_equals_fc(void)
{
    uint32_t k;
    for (k = 1; k <= 100; k++) check_k(k);
    check_k(1024);
    check_k(4099);
    check_k(EH_MST_MAX_K);
}

int main(void)
{
    test_bad_layouts();
    test_equals_fc();
    EH_TEST_DONE();
}
