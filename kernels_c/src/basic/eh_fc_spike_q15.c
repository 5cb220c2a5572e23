#include "eh_basic.h"
#include "eh_basic_internal.h"
#include "eh_spike_mask.h"

/*
 * Spike-driven dense layer. The inputs are 0/1, so row o's sum is the sum of its weights at the
 * active inputs. The inputs are read in blocks of 32 as bit masks (bit j of block q is
 * s[32 q + j]); the masks of the first EH_FC_SPIKE_CACHE blocks are made once per call (a fixed
 * 128-byte stack array), those of later blocks again for every group of four rows. A row whose
 * sum cannot leave int32 (|b[o]| + 32768 * active <= INT32_MAX: no partial sum can overflow, so
 * sat32 after each addition never acts) adds its active weights in 32 bits, four rows per pass
 * over the set bits; any other row takes the exact saturating path (increasing input order, the
 * sum saturated to int32 after each addition), so every row gets the header's result.
 */

#define EH_FC_SPIKE_CACHE 32u

/* acc[r] += sum of row r's active weights, rows at w, w + n_in, ... (four rows, 32 bits). */
static void gather4(const eh_spike_blocks *sb, const int16_t *w, int32_t acc[4])
{
    int32_t a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3];
    const uint32_t n = sb->n_in;
    uint32_t q;
    for (q = 0; q < sb->nb; q++) {
        uint32_t m = eh_spike_block(sb, q);
        const int16_t *p0 = w + q * 32u, *p1 = p0 + n, *p2 = p1 + n, *p3 = p2 + n;
        while (m != 0u) {
            const uint32_t k = eh_low_bit(m);
            m &= m - 1u;
            a0 += p0[k];
            a1 += p1[k];
            a2 += p2[k];
            a3 += p3[k];
        }
    }
    acc[0] = a0;
    acc[1] = a1;
    acc[2] = a2;
    acc[3] = a3;
}

/* acc + the sum of one row's active weights (32 bits). */
static int32_t gather1(const eh_spike_blocks *sb, const int16_t *row, int32_t acc)
{
    uint32_t q;
    for (q = 0; q < sb->nb; q++) {
        uint32_t m = eh_spike_block(sb, q);
        const int16_t *p = row + q * 32u;
        while (m != 0u) {
            acc += p[eh_low_bit(m)];
            m &= m - 1u;
        }
    }
    return acc;
}

/* One row with sat32 after each addition, in increasing input order. */
static int32_t row_exact(const uint8_t *s, const int16_t *row, uint32_t n_in, int32_t acc)
{
    uint32_t i = 0;
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
    return acc;
}

/* No partial sum of bias + `active` weights can leave int32. */
static inline int no_sat(int32_t bias, uint32_t active)
{
    const int64_t mag = bias < 0 ? -(int64_t)bias : (int64_t)bias;
    return mag + (int64_t)32768 * active <= (int64_t)INT32_MAX;
}

eh_status eh_fc_spike_q15(uint32_t n_in, uint32_t n_out, const uint8_t *s, const int16_t *w,
                          const int32_t *b, uint32_t shift, int16_t *y)
{
    uint32_t cache[EH_FC_SPIKE_CACHE];
    eh_spike_blocks sb;
    uint32_t o, active = 0;
    eh_status st;
    if (s == 0 || w == 0 || y == 0) return EH_ERR_NULL;
    if ((st = eh_fc_size_check(n_in, n_out)) != EH_OK) return st;
    if (shift > 31u) return EH_ERR_RANGE;
    /* every spike is 0 or 1; count the active ones */
    if ((st = eh_spike_check_count(s, n_in, &active)) != EH_OK) return st;

    eh_spike_blocks_init(&sb, s, n_in, cache, EH_FC_SPIKE_CACHE);

    for (o = 0; o < n_out; o += 4u) {
        const int16_t *row = w + (uint32_t)(o * n_in);
        const uint32_t nr = n_out - o < 4u ? n_out - o : 4u;
        int32_t acc[4];
        uint32_t r;
        int fast = nr == 4u;
        for (r = 0; r < nr; r++) {
            acc[r] = b != 0 ? b[o + r] : 0;
            fast = fast && no_sat(acc[r], active);
        }
        if (fast) {
            gather4(&sb, row, acc);
        } else {
            for (r = 0; r < nr; r++) {
                const int16_t *wr = row + (uint32_t)(r * n_in);
                acc[r] = no_sat(acc[r], active) ? gather1(&sb, wr, acc[r]) : row_exact(s, wr, n_in, acc[r]);
            }
        }
        for (r = 0; r < nr; r++) y[o + r] = eh_sat16(eh_rshift_round32(acc[r], shift));
    }
    return EH_OK;
}
