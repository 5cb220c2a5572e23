/* Binary conv2d (eh_conv2d_b1_s32 / _bits): bad arguments rejected with nothing written; exact-size
 * heap buffers over random geometries (odd channel counts with garbage padding bits, multiples of
 * 32 for the gathered-row path, strides, asymmetric padding, dilation, both pad values) so ASan
 * catches any out-of-bounds access; both kernels equal a naive loop over the +-1 values written
 * from eh_conv2d.h. */
#include <stdlib.h>
#include <string.h>
#include "eh_test.h"
#include "eh_conv2d.h"

static uint32_t rnd(uint32_t n) { return eh_test_rand() % n; }

static int bit(const uint32_t *v, uint32_t c) { return (int)((v[c >> 5] >> (c & 31u)) & 1u); }

/* The header's arithmetic on +-1 values, one tap and channel at a time. */
static int32_t naive(const eh_conv2d_dims *d, uint32_t pv, const uint32_t *x, const uint32_t *w,
                     uint32_t o, uint32_t oy, uint32_t ox)
{
    const uint32_t cw = (d->c_in + 31u) / 32u;
    int32_t acc = 0;
    uint32_t ky, kx, c;
    for (ky = 0; ky < d->k_h; ky++)
        for (kx = 0; kx < d->k_w; kx++) {
            const int32_t iy = (int32_t)(oy * d->stride_h + ky * d->dil_h) - (int32_t)d->pad_top;
            const int32_t ix = (int32_t)(ox * d->stride_w + kx * d->dil_w) - (int32_t)d->pad_left;
            const uint32_t *wt = w + ((o * d->k_h + ky) * d->k_w + kx) * cw;
            const int inside = iy >= 0 && ix >= 0 && iy < (int32_t)d->h_in && ix < (int32_t)d->w_in;
            if (!inside && pv == 0u) continue;
            for (c = 0; c < d->c_in; c++) {
                const int xv = inside ? 1 - 2 * bit(x + ((uint32_t)iy * d->w_in + (uint32_t)ix) * cw, c) : 1;
                acc += xv * (1 - 2 * bit(wt, c));
            }
        }
    return acc;
}

static eh_conv2d_dims base(void)
{
    eh_conv2d_dims d;
    memset(&d, 0, sizeof d);
    d.c_in = 40; d.h_in = 5; d.w_in = 6; d.c_out = 3; d.k_h = 3; d.k_w = 3;
    d.stride_h = 1; d.stride_w = 2; d.dil_h = 1; d.dil_w = 1; d.groups = 1;
    d.pad_top = 1; d.pad_left = 1; d.pad_bottom = 0; d.pad_right = 2;
    return d;
}

static void expect(const eh_conv2d_dims *d, uint32_t pv, const int32_t *thr, eh_status want)
{
    static uint32_t x[4096], w[4096], yb[512];
    static int32_t y[512];
    memset(y, 0xA5, sizeof y);
    memset(yb, 0xA5, sizeof yb);
    EH_CHECK_EQ(eh_conv2d_b1_s32(d, pv, x, w, y), want);
    EH_CHECK_EQ(eh_conv2d_b1_bits(d, pv, x, w, thr, yb), want);
    {
        size_t i;
        const unsigned char *a = (const unsigned char *)y, *b = (const unsigned char *)yb;
        for (i = 0; i < sizeof y; i++) EH_CHECK(a[i] == 0xA5 && b[i] == 0xA5);
    }
}

static void test_bad_arguments(void)
{
    static uint32_t x[64], w[64], yb[64];
    static int32_t y[64];
    int32_t thr[3] = {0, 0, 0};
    eh_conv2d_dims d = base();
    EH_CHECK_EQ(eh_conv2d_b1_s32(0, 0, x, w, y), EH_ERR_NULL);
    EH_CHECK_EQ(eh_conv2d_b1_s32(&d, 0, 0, w, y), EH_ERR_NULL);
    EH_CHECK_EQ(eh_conv2d_b1_s32(&d, 0, x, 0, y), EH_ERR_NULL);
    EH_CHECK_EQ(eh_conv2d_b1_s32(&d, 0, x, w, 0), EH_ERR_NULL);
    EH_CHECK_EQ(eh_conv2d_b1_bits(&d, 0, x, w, 0, yb), EH_ERR_NULL);
    EH_CHECK_EQ(eh_conv2d_b1_bits(&d, 0, x, w, thr, 0), EH_ERR_NULL);
    d = base(); d.c_in = 0; expect(&d, 0, thr, EH_ERR_SIZE);
    d = base(); d.stride_h = 0; expect(&d, 0, thr, EH_ERR_RANGE);
    d = base(); d.pad_right = 3; expect(&d, 0, thr, EH_ERR_RANGE);
    d = base(); d.groups = 0; expect(&d, 0, thr, EH_ERR_RANGE);
    d = base(); d.groups = 2; d.c_out = 4; expect(&d, 0, thr, EH_ERR_RANGE);
    d = base(); d.h_in = 1; d.pad_top = 0; expect(&d, 0, thr, EH_ERR_SIZE);
    d = base(); expect(&d, 2, thr, EH_ERR_RANGE);
    d = base(); d.c_in = 1u << 20; d.h_in = 1; d.w_in = 1; d.c_out = 1; d.k_h = 5; d.k_w = 5;
    d.pad_top = d.pad_bottom = d.pad_left = d.pad_right = 2; expect(&d, 0, thr, EH_ERR_SIZE);
    d = base(); /* thresholds: only _bits reads them; N = 360 */
    memset(yb, 0xA5, sizeof yb);
    thr[1] = 362; EH_CHECK_EQ(eh_conv2d_b1_bits(&d, 0, x, w, thr, yb), EH_ERR_RANGE);
    thr[1] = -361; EH_CHECK_EQ(eh_conv2d_b1_bits(&d, 1, x, w, thr, yb), EH_ERR_RANGE);
    EH_CHECK(yb[0] == 0xA5A5A5A5u && yb[63] == 0xA5A5A5A5u);
    thr[1] = 0;
}

/* The base geometry is valid (so each bad case above differs from a good call by one field). */
static void test_base_ok(void)
{
    static uint32_t x[64], w[64], yb[64];
    static int32_t y[64];
    int32_t thr[3] = {-360, 361, 0};
    eh_conv2d_dims d = base();
    memset(x, 0, sizeof x); memset(w, 0, sizeof w);
    EH_CHECK_EQ(eh_conv2d_b1_s32(&d, 0, x, w, y), EH_OK);
    EH_CHECK_EQ(eh_conv2d_b1_bits(&d, 1, x, w, thr, yb), EH_OK);
}

static void test_random_geometries(void)
{
    uint32_t it;
    for (it = 0; it < 400u; it++) {
        eh_conv2d_dims d;
        uint32_t ho, wo, cw, ow, pv, n_x, n_w, n, i, o, oy, ox;
        uint32_t *x, *w, *yb;
        int32_t *y, *thr;
        static const uint32_t cins[] = {1, 5, 31, 32, 33, 64, 96, 100, 128, 200};
        memset(&d, 0, sizeof d);
        d.groups = 1;
        d.c_in = cins[rnd(10)];
        d.c_out = 1u + rnd(it % 4u == 0u ? 70u : 9u);
        d.k_h = 1u + rnd(4); d.k_w = 1u + rnd(4);
        d.dil_h = 1u + rnd(2); d.dil_w = 1u + rnd(2);
        d.stride_h = 1u + rnd(3); d.stride_w = 1u + rnd(3);
        d.pad_top = rnd(d.dil_h * (d.k_h - 1u) + 1u); d.pad_bottom = rnd(d.dil_h * (d.k_h - 1u) + 1u);
        d.pad_left = rnd(d.dil_w * (d.k_w - 1u) + 1u); d.pad_right = rnd(d.dil_w * (d.k_w - 1u) + 1u);
        d.h_in = 1u + rnd(9); d.w_in = 1u + rnd(9);
        if (eh_conv2d_out_size(&d, &ho, &wo) != EH_OK) continue;
        pv = rnd(2);
        cw = (d.c_in + 31u) / 32u;
        ow = (d.c_out + 31u) / 32u;
        n = d.k_h * d.k_w * d.c_in;
        n_x = d.h_in * d.w_in * cw;
        n_w = d.c_out * d.k_h * d.k_w * cw;
        x = malloc(n_x * 4u); w = malloc(n_w * 4u); y = malloc(d.c_out * ho * wo * 4u);
        yb = malloc(ho * wo * ow * 4u); thr = malloc(d.c_out * 4u);
        for (i = 0; i < n_x; i++) x[i] = eh_test_rand();  /* padding bits random too */
        for (i = 0; i < n_w; i++) w[i] = eh_test_rand();
        for (o = 0; o < d.c_out; o++) thr[o] = (int32_t)rnd(2u * n + 2u) - (int32_t)n;
        EH_CHECK_EQ(eh_conv2d_b1_s32(&d, pv, x, w, y), EH_OK);
        EH_CHECK_EQ(eh_conv2d_b1_bits(&d, pv, x, w, thr, yb), EH_OK);
        for (o = 0; o < d.c_out; o++)
            for (oy = 0; oy < ho; oy++)
                for (ox = 0; ox < wo; ox++) {
                    const int32_t r = naive(&d, pv, x, w, o, oy, ox);
                    EH_CHECK_EQ(y[(o * ho + oy) * wo + ox], r);
                    EH_CHECK_EQ(bit(yb + (oy * wo + ox) * ow, o), r < thr[o]);
                }
        for (i = 0; i < ho * wo; i++)
            if (d.c_out % 32u) EH_CHECK_EQ(yb[i * ow + ow - 1u] >> (d.c_out % 32u), 0);
        free(x); free(w); free(y); free(yb); free(thr);
    }
}

int main(void)
{
    test_bad_arguments();
    test_base_ok();
    test_random_geometries();
    EH_TEST_DONE();
}
