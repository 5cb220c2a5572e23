#include "eh_basic.h"
#include "../lif/eh_lif_leak_q15.h"

eh_status eh_li_step_q15(uint32_t n, const int16_t *x, int16_t *y, const eh_leak_q15 *leak)
{
    uint32_t k;
    eh_status st;
    if (x == 0 || y == 0) return EH_ERR_NULL;
    if (n == 0) return EH_ERR_SIZE;
    if ((st = eh_leak_q15_check(leak, n)) != EH_OK) return st;
    for (k = 0; k < n; k++) y[k] = eh_sat16(eh_leak_q15_apply(leak, k, y[k]) + x[k]);
    return EH_OK;
}
