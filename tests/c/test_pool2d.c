/* 2-D pooling (eh_conv2d.h, "2-D pooling"): bad arguments rejected with the header's codes and
 * nothing written; exact-size heap buffers over random geometries (odd sizes, strides, asymmetric
 * padding) so ASan catches any out-of-bounds access; every kernel equals a naive loop written from
 * the header (float32 bit for bit: the same order of additions, one division). */
#include <stdlib.h>
#include <string.h>
#include "eh_test.h"
#include "eh_conv2d.h"

static uint32_t rnd(uint32_t n) { return eh_test_rand() % n; }

static eh_pool2d_dims base_dims(void)
{
    eh_pool2d_dims d;
    memset(&d, 0, sizeof d);
    d.c = 2; d.h_in = 5; d.w_in = 6; d.k_h = 3; d.k_w = 2; d.stride_h = 2; d.stride_w = 1;
    d.pad_top = 1; d.pad_left = 1; d.pad_bottom = 0; d.pad_right = 0;
    return d;
}

static int all_bytes(const void *p, size_t n, unsigned char v)
{
    const unsigned char *c = p;
    size_t i;
    for (i = 0; i < n; i++)
        if (c[i] != v) return 0;
    return 1;
}

static void expect_all(const eh_pool2d_dims *d, eh_status want)
{
    static int16_t x[128], y[256];
    static uint8_t s[128];
    static float xf[128], yf[256];
    uint32_t h = 77, w = 77;
    memset(y, 0xA5, sizeof y);
    memset(yf, 0xA5, sizeof yf);
    EH_CHECK_EQ(eh_pool2d_out_size(d, &h, &w), want);
    EH_CHECK_EQ(eh_sumpool2d_q15(d, x, y), want);
    EH_CHECK_EQ(eh_avgpool2d_q15(d, x, y), want);
    EH_CHECK_EQ(eh_sumpool2d_spike_q15(d, s, y), want);
    EH_CHECK_EQ(eh_avgpool2d_spike_q15(d, s, y), want);
    EH_CHECK_EQ(eh_sumpool2d_f32(d, xf, yf), want);
    EH_CHECK_EQ(eh_avgpool2d_f32(d, xf, yf), want);
    EH_CHECK(h == 77 && w == 77);
    EH_CHECK(all_bytes(y, sizeof y, 0xA5) && all_bytes(yf, sizeof yf, 0xA5));
}

static void test_bad_arguments(void)
{
    eh_pool2d_dims d = base_dims();
    int16_t x[60] = {0}, y[60];
    uint8_t s[60] = {0};
    float xf[60] = {0}, yf[60];
    uint32_t h, w;
    EH_CHECK_EQ(eh_pool2d_out_size(&d, &h, &w), EH_OK);
    EH_CHECK(h == 2 && w == 6); /* (5 + 1 - 3) / 2 + 1, (6 + 1 - 2) / 1 + 1 */
    /* NULL first */
    EH_CHECK_EQ(eh_pool2d_out_size(0, &h, &w), EH_ERR_NULL);
    EH_CHECK_EQ(eh_pool2d_out_size(&d, 0, &w), EH_ERR_NULL);
    EH_CHECK_EQ(eh_sumpool2d_q15(&d, 0, y), EH_ERR_NULL);
    EH_CHECK_EQ(eh_avgpool2d_q15(&d, x, 0), EH_ERR_NULL);
    EH_CHECK_EQ(eh_sumpool2d_spike_q15(0, s, y), EH_ERR_NULL);
    EH_CHECK_EQ(eh_avgpool2d_spike_q15(&d, 0, y), EH_ERR_NULL);
    EH_CHECK_EQ(eh_sumpool2d_f32(&d, xf, 0), EH_ERR_NULL);
    EH_CHECK_EQ(eh_avgpool2d_f32(&d, 0, yf), EH_ERR_NULL);
    d = base_dims(); d.c = 0; expect_all(&d, EH_ERR_SIZE);
    d = base_dims(); d.k_w = 0; expect_all(&d, EH_ERR_SIZE);
    d = base_dims(); d.h_in = 65536; expect_all(&d, EH_ERR_SIZE);
    d = base_dims(); d.stride_h = 0; expect_all(&d, EH_ERR_RANGE);
    d = base_dims(); d.stride_w = 65536; expect_all(&d, EH_ERR_RANGE);
    d = base_dims(); d.pad_top = 3; expect_all(&d, EH_ERR_RANGE);
    d = base_dims(); d.pad_right = 2; expect_all(&d, EH_ERR_RANGE);
    d = base_dims(); d.h_in = 1; d.pad_top = 1; d.pad_bottom = 0; expect_all(&d, EH_ERR_SIZE); /* 2 rows < 3 */
    /* the order: a zero size before a bad stride, a bad stride before a bad pad */
    d = base_dims(); d.c = 0; d.stride_h = 0; expect_all(&d, EH_ERR_SIZE);
    d = base_dims(); d.stride_h = 0; d.pad_top = 9; expect_all(&d, EH_ERR_RANGE);
    /* too many elements: 65535 x 65535 x 1 > 2^28 */
    d = base_dims(); d.c = 1; d.h_in = 65535; d.w_in = 65535; d.k_h = 1; d.k_w = 1; d.pad_top = d.pad_left = 0;
    expect_all(&d, EH_ERR_SIZE);
    /* not a spike: range, nothing written */
    d = base_dims();
    s[7] = 2;
    memset(y, 0xA5, sizeof y);
    EH_CHECK_EQ(eh_sumpool2d_spike_q15(&d, s, y), EH_ERR_RANGE);
    EH_CHECK_EQ(eh_avgpool2d_spike_q15(&d, s, y), EH_ERR_RANGE);
    EH_CHECK(all_bytes(y, sizeof y, 0xA5));
}

static int64_t window_sum(const eh_pool2d_dims *d, const int16_t *x, uint32_t ch, uint32_t oy, uint32_t ox)
{
    int64_t acc = 0;
    uint32_t ky, kx;
    for (ky = 0; ky < d->k_h; ky++)
        for (kx = 0; kx < d->k_w; kx++) {
            const int32_t iy = (int32_t)(oy * d->stride_h + ky) - (int32_t)d->pad_top;
            const int32_t ix = (int32_t)(ox * d->stride_w + kx) - (int32_t)d->pad_left;
            if (iy < 0 || ix < 0 || iy >= (int32_t)d->h_in || ix >= (int32_t)d->w_in) continue;
            acc += x[(ch * d->h_in + (uint32_t)iy) * d->w_in + (uint32_t)ix];
        }
    return acc;
}

static float window_sum_f32(const eh_pool2d_dims *d, const float *x, uint32_t ch, uint32_t oy, uint32_t ox)
{
    float acc = 0.0f;
    uint32_t ky, kx;
    for (ky = 0; ky < d->k_h; ky++)
        for (kx = 0; kx < d->k_w; kx++) {
            const int32_t iy = (int32_t)(oy * d->stride_h + ky) - (int32_t)d->pad_top;
            const int32_t ix = (int32_t)(ox * d->stride_w + kx) - (int32_t)d->pad_left;
            if (iy < 0 || ix < 0 || iy >= (int32_t)d->h_in || ix >= (int32_t)d->w_in) continue;
            acc = acc + x[(ch * d->h_in + (uint32_t)iy) * d->w_in + (uint32_t)ix];
        }
    return acc;
}

static int16_t sat16(int64_t a) { return (int16_t)(a > 32767 ? 32767 : a < -32768 ? -32768 : a); }

/* floor(a / b) for b > 0 */
static int64_t floordiv(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

static void test_random_geometries(void)
{
    uint32_t it;
    for (it = 0; it < 600; it++) {
        eh_pool2d_dims d;
        uint32_t ho, wo, n_in, n_out, i, ch, oy, ox, n;
        int16_t *x, *xs, *ys, *ya, *yss, *ysa;
        uint8_t *s;
        float *xf, *yfs, *yfa;
        memset(&d, 0, sizeof d);
        d.c = 1u + rnd(4);
        d.k_h = 1u + rnd(5); d.k_w = 1u + rnd(5);
        d.stride_h = 1u + rnd(4); d.stride_w = 1u + rnd(4);
        d.pad_top = rnd(d.k_h); d.pad_bottom = rnd(d.k_h); d.pad_left = rnd(d.k_w); d.pad_right = rnd(d.k_w);
        d.h_in = 1u + rnd(d.k_h + 9u); d.w_in = 1u + rnd(d.k_w + 9u);
        if (eh_pool2d_out_size(&d, &ho, &wo) != EH_OK) continue;
        n_in = d.c * d.h_in * d.w_in; n_out = d.c * ho * wo; n = d.k_h * d.k_w;
        x = malloc(n_in * sizeof *x); xs = malloc(n_in * sizeof *xs); s = malloc(n_in); xf = malloc(n_in * sizeof *xf);
        ys = malloc(n_out * sizeof *ys); ya = malloc(n_out * sizeof *ya);
        yss = malloc(n_out * sizeof *yss); ysa = malloc(n_out * sizeof *ysa);
        yfs = malloc(n_out * sizeof *yfs); yfa = malloc(n_out * sizeof *yfa);
        for (i = 0; i < n_in; i++) {
            x[i] = it % 4 == 0 ? (int16_t)(rnd(2) ? 32767 : -32768) : (int16_t)eh_test_rand();
            s[i] = (uint8_t)(rnd(3) == 0);
            xs[i] = s[i];
            xf[i] = (float)(int16_t)eh_test_rand() / 256.0f;
        }
        EH_CHECK_EQ(eh_sumpool2d_q15(&d, x, ys), EH_OK);
        EH_CHECK_EQ(eh_avgpool2d_q15(&d, x, ya), EH_OK);
        EH_CHECK_EQ(eh_sumpool2d_spike_q15(&d, s, yss), EH_OK);
        EH_CHECK_EQ(eh_avgpool2d_spike_q15(&d, s, ysa), EH_OK);
        EH_CHECK_EQ(eh_sumpool2d_f32(&d, xf, yfs), EH_OK);
        EH_CHECK_EQ(eh_avgpool2d_f32(&d, xf, yfa), EH_OK);
        for (ch = 0; ch < d.c; ch++)
            for (oy = 0; oy < ho; oy++)
                for (ox = 0; ox < wo; ox++) {
                    const uint32_t k = (ch * ho + oy) * wo + ox;
                    const int64_t sum = window_sum(&d, x, ch, oy, ox), cnt = window_sum(&d, xs, ch, oy, ox);
                    const float sf = window_sum_f32(&d, xf, ch, oy, ox), af = sf / (float)n;
                    EH_CHECK_EQ(ys[k], sat16(sum));
                    EH_CHECK_EQ(ya[k], sat16(floordiv(2 * sum + n, 2 * (int64_t)n)));
                    EH_CHECK_EQ(yss[k], sat16(cnt));
                    EH_CHECK_EQ(ysa[k], sat16(floordiv(65536 * cnt + n, 2 * (int64_t)n)));
                    EH_CHECK(memcmp(&yfs[k], &sf, sizeof sf) == 0);
                    EH_CHECK(memcmp(&yfa[k], &af, sizeof af) == 0);
                }
        free(x); free(xs); free(s); free(xf); free(ys); free(ya); free(yss); free(ysa); free(yfs); free(yfa);
    }
}

int main(void)
{
    test_bad_arguments();
    test_random_geometries();
    EH_TEST_DONE();
}
