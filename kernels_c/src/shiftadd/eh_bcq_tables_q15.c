#include "eh_shiftadd.h"
#include "eh_shiftadd_internal.h"

uint32_t eh_bcq_table_len(uint32_t n_in)
{
    if (n_in == 0u || n_in > EH_BCQ_MAX_IN) return 0u;
    return 256u * ((n_in + 7u) / 8u);
}

eh_status eh_bcq_tables_q15(uint32_t n_in, const int16_t *x, int32_t *table, uint32_t table_len)
{
    uint32_t g, groups, j, s, i;
    if (x == 0 || table == 0) return EH_ERR_NULL;
    if (n_in == 0u || n_in > EH_BCQ_MAX_IN || table_len < eh_bcq_table_len(n_in)) return EH_ERR_SIZE;

    groups = (n_in + 7u) / 8u;
    for (g = 0; g < groups; g++) {
        int32_t *t = table + 256u * g;
        int32_t xs[8];
        int32_t sum = 0;
        for (j = 0; j < 8u; j++) {
            const uint32_t k = 8u * g + j;
            xs[j] = k < n_in ? (int32_t)x[k] : 0; /* padding inputs are 0: they add nothing */
            sum += xs[j];
        }
        t[0] = sum; /* every bit clear: all weights +1 */
        for (s = 0; s < 8u; s++) {
            const uint32_t half = 1u << s;
            const int32_t d = 2 * xs[s]; /* flipping bit s turns +x_s into -x_s */
            for (i = 0; i < half; i++) t[half + i] = t[i] - d;
        }
    }
    return EH_OK;
}
