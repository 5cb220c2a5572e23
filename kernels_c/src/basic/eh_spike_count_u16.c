#include "eh_basic.h"

eh_status eh_spike_count_u16(uint32_t n, const uint8_t *s, uint16_t *counts)
{
    uint32_t k;
    if (s == 0 || counts == 0) return EH_ERR_NULL;
    if (n == 0) return EH_ERR_SIZE;
    for (k = 0; k < n; k++) {
        const uint32_t c = (uint32_t)counts[k] + s[k];
        counts[k] = (uint16_t)(c > UINT16_MAX ? UINT16_MAX : c);
    }
    return EH_OK;
}
