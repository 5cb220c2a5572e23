/* Binary family: bad arguments rejected with nothing written; exact-size heap buffers over odd
 * sizes (K = 1..100); the fast popcount path equals the reference loop on random data. */
#include <stdlib.h>
#include <string.h>
#include "eh_test.h"
#include "eh_binary.h"
#include "../../kernels_c/src/binary/eh_b1_core.h"

static uint32_t *rand_words(uint32_t n)
{
    uint32_t *p = malloc(n * sizeof *p), i;
    for (i = 0; i < n; i++) p[i] = eh_test_rand();
    return p;
}

/* Plain dot product straight from the definition, bit by bit. */
static int32_t slow_dot(uint32_t k, const uint32_t *x, const uint32_t *w)
{
    int32_t d = 0;
    uint32_t i;
    for (i = 0; i < k; i++) d += (((x[i >> 5] ^ w[i >> 5]) >> (i & 31u)) & 1u) ? -1 : 1;
    return d;
}

static void test_bad_arguments(void)
{
    uint32_t x[8] = {1, 2}, w[12] = {0}, yb[1] = {0xABCDu};
    int32_t y[3] = {7, 7, 7}, thr[3] = {0, 0, 0}, badthr[3] = {0, 42, 0}, m[3] = {1, 1, 1};
    float sc[3] = {1, 1, 1}, yf[3] = {7, 7, 7};
    int8_t y8[3] = {7, 7, 7};
    uint8_t s[3] = {0, 1, 2};
    eh_conv1d_b1_dims d = {40, 4, 3, 2, 1, 0, 3};
    eh_conv1d_b1_dims bad = d;

    EH_CHECK_EQ(eh_fc_b1_s32(40, 3, 0, w, y), EH_ERR_NULL);
    EH_CHECK_EQ(eh_fc_b1_s32(40, 3, x, 0, y), EH_ERR_NULL);
    EH_CHECK_EQ(eh_fc_b1_s32(40, 3, x, w, 0), EH_ERR_NULL);
    EH_CHECK_EQ(eh_fc_b1_s32(0, 3, x, w, y), EH_ERR_SIZE);
    EH_CHECK_EQ(eh_fc_b1_s32(40, 0, x, w, y), EH_ERR_SIZE);
    EH_CHECK_EQ(eh_fc_b1_s32(EH_B1_MAX_K + 1u, 3, x, w, y), EH_ERR_SIZE);
    EH_CHECK_EQ(eh_fc_b1_f32(40, 3, x, w, 0, 0, yf), EH_ERR_NULL);
    EH_CHECK_EQ(eh_fc_b1_f32(40, 0, x, w, sc, 0, yf), EH_ERR_SIZE);
    EH_CHECK_EQ(eh_fc_b1_s8(40, 3, x, w, m, 0, 63, y8), EH_ERR_RANGE);
    EH_CHECK_EQ(eh_fc_b1_s8(40, 3, x, w, 0, 0, 3, y8), EH_ERR_NULL);
    EH_CHECK_EQ(eh_fc_b1_bits(40, 3, x, w, badthr, yb), EH_ERR_RANGE);
    badthr[1] = -41;
    EH_CHECK_EQ(eh_fc_b1_bits(40, 3, x, w, badthr, yb), EH_ERR_RANGE);
    EH_CHECK_EQ(eh_fc_b1_bits(40, 3, x, w, 0, yb), EH_ERR_NULL);
    EH_CHECK_EQ(eh_pack_spikes_b1(3, s, yb), EH_ERR_RANGE);
    EH_CHECK_EQ(eh_pack_spikes_b1(0, s, yb), EH_ERR_SIZE);
    EH_CHECK_EQ(eh_pack_signs_b1(3, 0, yb), EH_ERR_NULL);
    EH_CHECK_EQ(eh_conv1d_b1_s32(0, x, w, y), EH_ERR_NULL);
    bad.t_out = 2;
    EH_CHECK_EQ(eh_conv1d_b1_s32(&bad, x, w, y), EH_ERR_SIZE);
    bad = d; bad.pad = 2;
    EH_CHECK_EQ(eh_conv1d_b1_s32(&bad, x, w, y), EH_ERR_RANGE);
    bad = d; bad.stride = 0;
    EH_CHECK_EQ(eh_conv1d_b1_s32(&bad, x, w, y), EH_ERR_SIZE);
    bad = d; bad.t_in = 1; bad.t_out = 1;
    EH_CHECK_EQ(eh_conv1d_b1_s32(&bad, x, w, y), EH_ERR_SIZE);
    bad = d; bad.taps = 1u << 20; bad.pad = 0; bad.t_in = 1u << 20; bad.t_out = 1;
    EH_CHECK_EQ(eh_conv1d_b1_s32(&bad, x, w, y), EH_ERR_SIZE);
    EH_CHECK_EQ(eh_conv1d_b1_s8(&d, x, w, m, 0, 99, y8), EH_ERR_RANGE);
    thr[2] = 82;
    EH_CHECK_EQ(eh_conv1d_b1_bits(&d, x, w, thr, yb), EH_ERR_RANGE);
    EH_CHECK(y[0] == 7 && y[1] == 7 && y[2] == 7 && yf[0] == 7 && y8[0] == 7 && yb[0] == 0xABCDu);
}

static void test_exact_buffers_and_paths(void)
{
    uint32_t k;
    for (k = 1; k <= 100; k++) {
        const uint32_t nw = eh_b1_nwords(k), n = 1 + k % 11, taps = 1 + k % 4, t_in = 3 + k % 5;
        const uint32_t pad = k % taps, stride = 1 + k % 2;
        const uint32_t t_out = (t_in + 2 * pad - taps) / stride + 1, ow = eh_b1_nwords(n);
        uint32_t *x = rand_words(nw), *w = rand_words(n * nw), *xc = rand_words(t_in * nw);
        uint32_t *wc = rand_words(n * taps * nw), *yb = malloc(ow * sizeof *yb);
        uint32_t *ycb = malloc(t_out * ow * sizeof *ycb), *packed = malloc(nw * sizeof *packed);
        int32_t *y = malloc(n * sizeof *y), *yc = malloc(t_out * n * sizeof *yc);
        int32_t *thr = malloc(n * sizeof *thr), *mult = malloc(n * sizeof *mult);
        float *sc = malloc(n * sizeof *sc), *yf = malloc(n * sizeof *yf), *ycf = malloc(t_out * n * sizeof *ycf);
        int8_t *y8 = malloc(n * sizeof *y8), *yc8 = malloc(t_out * n * sizeof *yc8), *sg = malloc(k);
        uint8_t *sp = malloc(k);
        eh_conv1d_b1_dims d;
        uint32_t o, r, i, rows;
        d.n_in = k; d.t_in = t_in; d.n_out = n; d.taps = taps; d.stride = stride; d.pad = pad; d.t_out = t_out;
        for (o = 0; o < n; o++) {
            thr[o] = (int32_t)(eh_test_rand() % (2 * k + 2)) - (int32_t)k;
            mult[o] = (int32_t)eh_test_rand();
            sc[o] = 0.5f;
        }
        EH_CHECK_EQ(eh_fc_b1_s32(k, n, x, w, y), EH_OK);
        for (o = 0; o < n; o++) {
            uint32_t xm[4], wm[4]; /* padding masked copies for the slow definition */
            memcpy(xm, x, nw * 4); memcpy(wm, w + o * nw, nw * 4);
            xm[nw - 1] &= eh_b1_tail(k); wm[nw - 1] &= eh_b1_tail(k);
            EH_CHECK_EQ(y[o], slow_dot(k, xm, wm));
        }
        EH_CHECK_EQ(eh_fc_b1_f32(k, n, x, w, sc, 0, yf), EH_OK);
        EH_CHECK_EQ(eh_fc_b1_s8(k, n, x, w, mult, 0, 20, y8), EH_OK);
        EH_CHECK_EQ(eh_fc_b1_bits(k, n, x, w, thr, yb), EH_OK);
        for (o = 0; o < n; o++) {
            EH_CHECK(yf[o] == (float)y[o] * 0.5f);
            EH_CHECK_EQ((yb[o >> 5] >> (o & 31u)) & 1u, (uint32_t)(y[o] < thr[o]));
        }
        EH_CHECK_EQ(yb[ow - 1] & ~eh_b1_tail(n), 0u);
        for (o = 0; o < n; o++) thr[o] = (int32_t)(eh_test_rand() % (2 * k * taps + 2)) - (int32_t)(k * taps);
        EH_CHECK_EQ(eh_conv1d_b1_s32(&d, xc, wc, yc), EH_OK);
        EH_CHECK_EQ(eh_conv1d_b1_f32(&d, xc, wc, sc, sc, ycf), EH_OK);
        EH_CHECK_EQ(eh_conv1d_b1_s8(&d, xc, wc, mult, mult, 31, yc8), EH_OK);
        EH_CHECK_EQ(eh_conv1d_b1_bits(&d, xc, wc, thr, ycb), EH_OK);
        for (i = 0; i < k; i++) { sp[i] = (uint8_t)(eh_test_rand() & 1u); sg[i] = (int8_t)eh_test_rand(); }
        EH_CHECK_EQ(eh_pack_spikes_b1(k, sp, packed), EH_OK);
        for (i = 0; i < k; i++) EH_CHECK_EQ((packed[i >> 5] >> (i & 31u)) & 1u, sp[i]);
        EH_CHECK_EQ(packed[nw - 1] & ~eh_b1_tail(k), 0u);
        EH_CHECK_EQ(eh_pack_signs_b1(k, sg, packed), EH_OK);
        for (i = 0; i < k; i++) EH_CHECK_EQ((packed[i >> 5] >> (i & 31u)) & 1u, (uint32_t)(sg[i] < 0));
        /* fast core == reference loop, for 1..4 rows and any stride between rows */
        for (rows = 1; rows <= 4 && rows <= n; rows++) {
            uint32_t cnt[4] = {0, 0, 0, 0};
            eh_b1_count_rows(x, w, nw, rows, nw, eh_b1_tail(k), cnt);
            for (r = 0; r < rows; r++) EH_CHECK_EQ(cnt[r], eh_b1_count_ref(x, w + r * nw, nw, eh_b1_tail(k)));
        }
        free(x); free(w); free(xc); free(wc); free(yb); free(ycb); free(packed); free(y); free(yc);
        free(thr); free(mult); free(sc); free(yf); free(ycf); free(y8); free(yc8); free(sg); free(sp);
    }
}

/* Long rows (several 30-word chunks of the byte accumulators) against the reference. */
static void test_long_rows(void)
{
    uint32_t nw;
    for (nw = 1; nw <= 140; nw += 7) {
        uint32_t *x = rand_words(nw), *w = rand_words(4 * nw), cnt[4] = {0, 0, 0, 0}, r;
        if (nw == 71) { memset(x, 0xFF, nw * 4); memset(w, 0, 4 * nw * 4); } /* all differ */
        eh_b1_count_rows(x, w, nw, 4, nw, 0xFFFFFFFFu, cnt);
        for (r = 0; r < 4; r++) EH_CHECK_EQ(cnt[r], eh_b1_count_ref(x, w + r * nw, nw, 0xFFFFFFFFu));
        if (nw == 71) EH_CHECK_EQ(cnt[0], 71u * 32u);
        free(x); free(w);
    }
}

int main(void)
{
    test_bad_arguments();
    test_exact_buffers_and_paths();
    test_long_rows();
    EH_TEST_DONE();
}
