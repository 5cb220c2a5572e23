/* shiftadd family: bad arguments (NULLs, sizes, shifts, reserved code bits, exponents, short
 * table) are rejected without writing; exact-size heap buffers for many odd sizes. */
#include <stdlib.h>
#include <string.h>
#include "eh_test.h"
#include "eh_shiftadd.h"

static void test_bad_arguments(void)
{
    int16_t x[20] = {0}, y[3] = {7, 7, 7};
    uint8_t w[60];
    uint32_t bw[6] = {0};
    int8_t e[6] = {0}, ebad[6] = {0, 0, 0, 0, 25, 0}, ebad2[6] = {-25, 0, 0, 0, 0, 0};
    int32_t t[768], b[3] = {0};
    memset(w, 0x10, sizeof w);
    EH_CHECK_EQ(eh_shiftadd_fc_q15(20, 3, 0, w, b, 0, y), EH_ERR_NULL);
    EH_CHECK_EQ(eh_shiftadd_fc_q15(20, 3, x, 0, b, 0, y), EH_ERR_NULL);
    EH_CHECK_EQ(eh_shiftadd_fc_q15(20, 3, x, w, b, 0, 0), EH_ERR_NULL);
    EH_CHECK_EQ(eh_shiftadd_fc_q15(0, 3, x, w, b, 0, y), EH_ERR_SIZE);
    EH_CHECK_EQ(eh_shiftadd_fc_q15(20, 0, x, w, b, 0, y), EH_ERR_SIZE);
    EH_CHECK_EQ(eh_shiftadd_fc_q15(20, 3, x, w, b, 32, y), EH_ERR_RANGE);
    w[59] = 0x20;
    EH_CHECK_EQ(eh_shiftadd_fc_q15(20, 3, x, w, b, 0, y), EH_ERR_RANGE);
    w[59] = 0xC5;
    EH_CHECK_EQ(eh_shiftadd_fc_q15(20, 3, x, w, b, 0, y), EH_ERR_RANGE);
    w[59] = 0x80; /* a signed zero is a valid zero */
    EH_CHECK_EQ(eh_bcq_table_len(0), 0);
    EH_CHECK_EQ(eh_bcq_table_len(65536), 0);
    EH_CHECK_EQ(eh_bcq_table_len(20), 768);
    EH_CHECK_EQ(eh_bcq_tables_q15(20, x, t, 767), EH_ERR_SIZE);
    EH_CHECK_EQ(eh_bcq_tables_q15(20, 0, t, 768), EH_ERR_NULL);
    EH_CHECK_EQ(eh_bcq_fc_q15(20, 3, 2, x, bw, e, b, 0, t, 767, y), EH_ERR_SIZE);
    EH_CHECK_EQ(eh_bcq_fc_q15(20, 3, 0, x, bw, e, b, 0, t, 768, y), EH_ERR_SIZE);
    EH_CHECK_EQ(eh_bcq_fc_q15(20, 3, 9, x, bw, e, b, 0, t, 768, y), EH_ERR_SIZE);
    EH_CHECK_EQ(eh_bcq_fc_q15(65536, 3, 2, x, bw, e, b, 0, t, 768, y), EH_ERR_SIZE);
    EH_CHECK_EQ(eh_bcq_fc_q15(20, 3, 2, x, bw, e, b, 63, t, 768, y), EH_ERR_RANGE);
    t[0] = 12345;
    EH_CHECK_EQ(eh_bcq_fc_q15(20, 3, 2, x, bw, ebad, b, 0, t, 768, y), EH_ERR_RANGE);
    EH_CHECK_EQ(eh_bcq_fc_q15(20, 3, 2, x, bw, ebad2, b, 0, t, 768, y), EH_ERR_RANGE);
    EH_CHECK_EQ(eh_bcq_fc_q15(20, 3, 2, x, bw, 0, b, 0, t, 768, y), EH_ERR_NULL);
    EH_CHECK_EQ(eh_bcq_fc_q15(20, 3, 2, x, bw, e, b, 0, 0, 768, y), EH_ERR_NULL);
    EH_CHECK(y[0] == 7 && y[1] == 7 && y[2] == 7 && t[0] == 12345); /* nothing written */
    EH_CHECK_EQ(eh_shiftadd_fc_q15(20, 3, x, w, b, 0, y), EH_OK);
    EH_CHECK_EQ(eh_bcq_fc_q15(20, 3, 2, x, bw, e, 0, 0, t, 768, y), EH_OK);
}

static void test_exact_buffers(void)
{
    uint32_t n_in, n_out, q, k;
    for (n_in = 1; n_in <= 99; n_in += 7) {
        for (n_out = 1; n_out <= 5; n_out++) {
            for (q = 1; q <= 8; q += 3) {
                const uint32_t n_words = (n_in + 31u) / 32u, tl = eh_bcq_table_len(n_in);
                int16_t *x = malloc(n_in * 2), *y = malloc(n_out * 2);
                uint8_t *w = malloc(n_in * n_out);
                uint32_t *bw = malloc(n_out * q * n_words * 4);
                int8_t *e = malloc(n_out * q);
                int32_t *t = malloc(tl * 4), *b = malloc(n_out * 4);
                int64_t want;
                for (k = 0; k < n_in; k++) x[k] = (int16_t)eh_test_rand();
                for (k = 0; k < n_in * n_out; k++) {
                    uint32_t c = eh_test_rand() & 0x9Fu;
                    w[k] = (uint8_t)c;
                }
                for (k = 0; k < n_out * q * n_words; k++) bw[k] = eh_test_rand();
                for (k = 0; k < n_out * q; k++) e[k] = (int8_t)((int32_t)(eh_test_rand() % 49u) - 24);
                for (k = 0; k < n_out; k++) b[k] = (int32_t)eh_test_rand();
                EH_CHECK_EQ(eh_shiftadd_fc_q15(n_in, n_out, x, w, b, 7, y), EH_OK);
                EH_CHECK_EQ(eh_bcq_fc_q15(n_in, n_out, q, x, bw, e, b, 30, t, tl, y), EH_OK);
                /* the first table entry against its definition */
                want = 0;
                for (k = 0; k < 8u && k < n_in; k++) want += x[k]; /* T[0]: all weights +1 */
                EH_CHECK_EQ(t[0], want);
                free(x); free(y); free(w); free(bw); free(e); free(t); free(b);
            }
        }
    }
}

static void test_values(void)
{
    /* x = 5: p = -1 -> rshift(5, 1) = 3 (half up), negated -> -3; p = 2 -> 20; p = -15 -> 0 */
    int16_t x[3] = {5, 5, 5}, y[1];
    uint8_t w[3] = {0x80 | 15, 18, 1};
    uint32_t bw[1] = {0x5u}; /* inputs 0 and 2 are -1, input 1 is +1 */
    int8_t e[1] = {1};
    int32_t t[256];
    EH_CHECK_EQ(eh_shiftadd_fc_q15(3, 1, x, w, 0, 0, y), EH_OK);
    EH_CHECK_EQ(y[0], 17);
    x[1] = -7;
    EH_CHECK_EQ(eh_bcq_fc_q15(3, 1, 1, x, bw, e, 0, 0, t, 256, y), EH_OK);
    EH_CHECK_EQ(y[0], 2 * (-5 - 7 - 5));
    EH_CHECK_EQ(t[0], 5 - 7 + 5);
    EH_CHECK_EQ(t[255], -(5 - 7 + 5));
}

int main(void)
{
    test_bad_arguments();
    test_exact_buffers();
    test_values();
    EH_TEST_DONE();
}
