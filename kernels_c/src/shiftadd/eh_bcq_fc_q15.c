#include "eh_shiftadd.h"
#include "eh_shiftadd_internal.h"

eh_status eh_bcq_fc_q15(uint32_t n_in, uint32_t n_out, uint32_t q, const int16_t *x,
                        const uint32_t *w, const int8_t *alpha_exp, const int32_t *b,
                        uint32_t shift, int32_t *table, uint32_t table_len, int16_t *y)
{
    uint32_t m, k, j, groups, n_words, full, rest, total;
    eh_status st;
    if (x == 0 || w == 0 || alpha_exp == 0 || table == 0 || y == 0) return EH_ERR_NULL;
    if ((st = eh_sa_size_check(n_in, n_out)) != EH_OK) return st;
    if (n_in > EH_BCQ_MAX_IN || table_len < eh_bcq_table_len(n_in)) return EH_ERR_SIZE;
    if (q == 0u || q > EH_BCQ_MAX_Q || n_out > UINT32_MAX / q) return EH_ERR_SIZE;
    n_words = (n_in + 31u) / 32u;
    if (n_out * q > UINT32_MAX / n_words) return EH_ERR_SIZE;
    if (shift > 62u) return EH_ERR_RANGE;
    total = n_out * q;
    for (k = 0; k < total; k++)
        if (alpha_exp[k] < -EH_BCQ_EXP_MAX || alpha_exp[k] > EH_BCQ_EXP_MAX) return EH_ERR_RANGE;

    if ((st = eh_bcq_tables_q15(n_in, x, table, table_len)) != EH_OK) return st;

    groups = (n_in + 7u) / 8u;
    full = groups / 4u; /* words whose four bytes all index a table */
    rest = groups % 4u; /* groups in the last, partial word */
    for (m = 0; m < n_out; m++) {
        int64_t acc = b != 0 ? (int64_t)b[m] : 0;
        for (k = 0; k < q; k++) {
            const uint32_t *row = w + (m * q + k) * n_words;
            const int32_t *t = table;
            const int32_t e = alpha_exp[m * q + k];
            int32_t s = 0; /* |s| <= n_in * 32768 < 2^31 */
            for (j = 0; j < full; j++) {
                const uint32_t v = row[j];
                s += t[v & 0xFFu];
                s += t[256u + ((v >> 8) & 0xFFu)];
                s += t[512u + ((v >> 16) & 0xFFu)];
                s += t[768u + (v >> 24)];
                t += 1024;
            }
            if (rest) {
                const uint32_t v = row[full];
                uint32_t r;
                for (r = 0; r < rest; r++) s += t[256u * r + ((v >> (8u * r)) & 0xFFu)];
            }
            if (e >= 0) acc += (int64_t)s * ((int64_t)1 << e);
            else acc += eh_rshift_round64(s, (uint32_t)(-e));
        }
        acc = eh_rshift_round64(acc, shift);
        y[m] = (int16_t)(acc > INT16_MAX ? INT16_MAX : acc < INT16_MIN ? INT16_MIN : acc);
    }
    return EH_OK;
}
