/* LIF family: bad arguments are rejected without touching the outputs; exact-size buffers
 * (heap-allocated, so ASan catches any access one past the end) for sizes 1..70. */
#include <stdlib.h>
#include <string.h>
#include "eh_test.h"
#include "eh_lif.h"

static void test_bad_arguments(void)
{
    int16_t x[3] = {1, 2, 3}, v[3] = {0, 0, 0}, thr = 10, bad_thr = 0;
    uint8_t s[3] = {0, 0, 0}, sh = 3, bad_sh = 16;
    uint16_t dec = 30000, bad_dec = 40000;
    float fx[3] = {0}, fv[3] = {0}, fb = 0.5f, fbad = 1.5f, ft = 1.0f, fi[3] = {0};
    float fthr3[3] = {1.0f, 0.0f, 1.0f};
    eh_leak_q15 leak = {0, &sh, 1}, both = {&dec, &sh, 1}, none = {0, 0, 1};
    eh_leak_q15 badshift = {0, &bad_sh, 1}, baddec = {&bad_dec, 0, 1}, badlen = {0, &sh, 2};

    EH_CHECK_EQ(eh_lif_step_q15(3, 0, v, s, &leak, &thr, 1, EH_RESET_SUBTRACT), EH_ERR_NULL);
    EH_CHECK_EQ(eh_lif_step_q15(3, x, 0, s, &leak, &thr, 1, EH_RESET_SUBTRACT), EH_ERR_NULL);
    EH_CHECK_EQ(eh_lif_step_q15(3, x, v, 0, &leak, &thr, 1, EH_RESET_SUBTRACT), EH_ERR_NULL);
    EH_CHECK_EQ(eh_lif_step_q15(3, x, v, s, 0, &thr, 1, EH_RESET_SUBTRACT), EH_ERR_NULL);
    EH_CHECK_EQ(eh_lif_step_q15(3, x, v, s, &leak, 0, 1, EH_RESET_SUBTRACT), EH_ERR_NULL);
    EH_CHECK_EQ(eh_lif_step_q15(0, x, v, s, &leak, &thr, 1, EH_RESET_SUBTRACT), EH_ERR_SIZE);
    EH_CHECK_EQ(eh_lif_step_q15(3, x, v, s, &leak, &thr, 2, EH_RESET_SUBTRACT), EH_ERR_SIZE);
    EH_CHECK_EQ(eh_lif_step_q15(3, x, v, s, &badlen, &thr, 1, EH_RESET_SUBTRACT), EH_ERR_SIZE);
    EH_CHECK_EQ(eh_lif_step_q15(3, x, v, s, &leak, &bad_thr, 1, EH_RESET_SUBTRACT), EH_ERR_RANGE);
    EH_CHECK_EQ(eh_lif_step_q15(3, x, v, s, &badshift, &thr, 1, EH_RESET_SUBTRACT), EH_ERR_RANGE);
    EH_CHECK_EQ(eh_lif_step_q15(3, x, v, s, &baddec, &thr, 1, EH_RESET_SUBTRACT), EH_ERR_RANGE);
    EH_CHECK_EQ(eh_lif_step_q15(3, x, v, s, &both, &thr, 1, EH_RESET_SUBTRACT), EH_ERR_ARG);
    EH_CHECK_EQ(eh_lif_step_q15(3, x, v, s, &none, &thr, 1, EH_RESET_SUBTRACT), EH_ERR_ARG);
    EH_CHECK_EQ(eh_lif_step_q15(3, x, v, s, &leak, &thr, 1, (eh_reset)7), EH_ERR_ARG);
    EH_CHECK(v[0] == 0 && v[1] == 0 && v[2] == 0 && s[0] == 0);

    EH_CHECK_EQ(eh_lif_step_f32(3, fx, fv, s, &fbad, 1, &ft, 1, EH_RESET_ZERO), EH_ERR_RANGE);
    EH_CHECK_EQ(eh_lif_step_f32(3, fx, fv, s, &fb, 1, fthr3, 3, EH_RESET_ZERO), EH_ERR_RANGE);
    EH_CHECK_EQ(eh_cubalif_step_f32(3, fx, 0, fv, s, &fb, 1, &fb, 1, &ft, 1, EH_RESET_ZERO), EH_ERR_NULL);
    EH_CHECK_EQ(eh_cubalif_step_f32(3, fx, fi, fv, s, &fbad, 1, &fb, 1, &ft, 1, EH_RESET_ZERO), EH_ERR_RANGE);
    EH_CHECK_EQ(eh_cubalif_step_q15(3, x, v, v, s, &leak, &baddec, &thr, 1, EH_RESET_ZERO), EH_ERR_RANGE);
    EH_CHECK_EQ(eh_cubalif_step_q15(3, x, v, v, s, &leak, 0, &thr, 1, EH_RESET_ZERO), EH_ERR_NULL);
    EH_CHECK_EQ(eh_lif_adapt_step_q15(3, x, 0, v, v, s, &leak, &leak, &thr, 1, EH_RESET_ZERO), EH_ERR_NULL);
    EH_CHECK_EQ(eh_lif_adapt_step_q15(3, x, x, v, v, s, &leak, &both, &thr, 1, EH_RESET_ZERO), EH_ERR_ARG);
    EH_CHECK_EQ(eh_lif_adapt_step_q15(3, x, x, v, v, s, &leak, &leak, &bad_thr, 1, EH_RESET_ZERO), EH_ERR_RANGE);
    EH_CHECK_EQ(eh_lif_adapt_step_f32(3, fx, fx, fv, fi, s, &fb, 1, &fbad, 1, &ft, 1, EH_RESET_ZERO), EH_ERR_RANGE);
    EH_CHECK_EQ(eh_lif_adapt_step_f32(0, fx, fx, fv, fi, s, &fb, 1, &fb, 1, &ft, 1, EH_RESET_ZERO), EH_ERR_SIZE);
    EH_CHECK(v[0] == 0 && v[1] == 0 && v[2] == 0 && s[0] == 0);
}

static void test_exact_buffers(void)
{
    uint32_t n;
    for (n = 1; n <= 70; n++) {
        int16_t *x = malloc(n * sizeof *x), *v = malloc(n * sizeof *v), *i = malloc(n * sizeof *i);
        int16_t *thr = malloc(n * sizeof *thr);
        uint16_t *dec = malloc(n * sizeof *dec);
        uint8_t *s = malloc(n), *sh = malloc(n);
        float *fx = malloc(n * sizeof *fx), *fv = malloc(n * sizeof *fv), *fi = malloc(n * sizeof *fi);
        float *fb = malloc(n * sizeof *fb), *ft = malloc(n * sizeof *ft);
        uint32_t k;
        eh_leak_q15 lshift = {0, sh, n}, ldec = {dec, 0, n};
        for (k = 0; k < n; k++) {
            x[k] = (int16_t)eh_test_rand(); v[k] = (int16_t)eh_test_rand(); i[k] = (int16_t)eh_test_rand();
            thr[k] = (int16_t)(1 + eh_test_rand() % 32767u); dec[k] = (uint16_t)(eh_test_rand() % 32769u);
            s[k] = (uint8_t)(eh_test_rand() & 1u); sh[k] = (uint8_t)(1 + eh_test_rand() % 15u);
            fx[k] = (float)(int16_t)eh_test_rand(); fv[k] = fx[k] * 0.5f; fi[k] = 1.0f;
            fb[k] = (float)(eh_test_rand() % 1000u) / 1000.0f; ft[k] = 1.0f + (float)k;
        }
        EH_CHECK_EQ(eh_lif_step_q15(n, x, v, s, &lshift, thr, n, EH_RESET_SUBTRACT), EH_OK);
        EH_CHECK_EQ(eh_lif_step_q15(n, x, v, s, &ldec, thr, 1, EH_RESET_ZERO), EH_OK);
        EH_CHECK_EQ(eh_lif_step_q15(n, x, v, s, &lshift, thr, 1, EH_RESET_SUBTRACT), EH_OK);
        EH_CHECK_EQ(eh_cubalif_step_q15(n, x, i, v, s, &ldec, &lshift, thr, n, EH_RESET_SUBTRACT), EH_OK);
        EH_CHECK_EQ(eh_lif_step_f32(n, fx, fv, s, fb, n, ft, n, EH_RESET_SUBTRACT), EH_OK);
        EH_CHECK_EQ(eh_cubalif_step_f32(n, fx, fi, fv, s, fb, n, fb, 1, ft, n, EH_RESET_ZERO), EH_OK);
        EH_CHECK_EQ(eh_lif_adapt_step_q15(n, x, i, v, x, s, &ldec, &lshift, thr, n, EH_RESET_SUBTRACT), EH_OK);
        EH_CHECK_EQ(eh_lif_adapt_step_f32(n, fx, fi, fv, fb, s, fb, n, fb, 1, ft, n, EH_RESET_ZERO), EH_OK);
        for (k = 0; k < n; k++) EH_CHECK(s[k] <= 1u);
        free(x); free(v); free(i); free(thr); free(dec); free(s); free(sh);
        free(fx); free(fv); free(fi); free(fb); free(ft);
    }
}

int main(void)
{
    test_bad_arguments();
    test_exact_buffers();
    EH_TEST_DONE();
}
