#include "eh_b1_core.h"

eh_status eh_pack_spikes_b1(uint32_t n, const uint8_t *s, uint32_t *words)
{
    uint32_t i, word = 0;
    if (s == 0 || words == 0) return EH_ERR_NULL;
    if (n == 0u || n > (uint32_t)EH_B1_MAX_K) return EH_ERR_SIZE;
    for (i = 0; i < n; i++) {
        if (s[i] > 1u) return EH_ERR_RANGE;
    }
    for (i = 0; i < n; i++) {
        word |= (uint32_t)s[i] << (i & 31u);
        if ((i & 31u) == 31u || i + 1u == n) {
            words[i >> 5] = word;
            word = 0;
        }
    }
    return EH_OK;
}
