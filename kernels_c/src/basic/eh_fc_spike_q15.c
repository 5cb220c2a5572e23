#include "eh_basic.h"
#include "eh_basic_internal.h"

eh_status eh_fc_spike_q15(uint32_t n_in, uint32_t n_out, const uint8_t *s, const int16_t *w,
                          const int32_t *b, uint32_t shift, int16_t *y)
{
    uint32_t o, i;
    eh_status st;
    if (s == 0 || w == 0 || y == 0) return EH_ERR_NULL;
    if ((st = eh_fc_size_check(n_in, n_out)) != EH_OK) return st;
    if (shift > 31u) return EH_ERR_RANGE;
    for (i = 0; i < n_in; i++)
        if (s[i] > 1u) return EH_ERR_RANGE;

    for (o = 0; o < n_out; o++) {
        const int16_t *row = w + (uint32_t)(o * n_in);
        int32_t acc = b != 0 ? b[o] : 0;
        i = 0;
        while (i < n_in) {
            /* While |acc| + 32768 * k stays inside int32, k more additions cannot saturate:
             * add them without checks, then continue with the saturating step. */
            const int64_t mag = acc < 0 ? -(int64_t)acc : (int64_t)acc;
            const int64_t room = ((int64_t)INT32_MAX - mag) >> 15;
            uint32_t k = room > 0 ? (uint32_t)room : 0u;
            uint32_t end;
            if (k > n_in - i) k = n_in - i;
            end = i + k;
            for (; i < end; i++)
                if (s[i]) acc += row[i];
            if (i < n_in) {
                if (s[i]) acc = eh_sat32((int64_t)acc + row[i]);
                i++;
            }
        }
        y[o] = eh_sat16(eh_rshift_round32(acc, shift));
    }
    return EH_OK;
}
