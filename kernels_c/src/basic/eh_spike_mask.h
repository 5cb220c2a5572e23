/* Private helpers of the spike-driven dense layers: spike bytes (0/1) as 32-bit masks and the
 * walk over their set bits. */
#ifndef EH_SPIKE_MASK_H
#define EH_SPIKE_MASK_H

#include "../eh_internal.h"

/* Little-endian cores with GCC/Clang read four spike bytes at a time (not the Arm cores without
 * unaligned loads, such as Cortex-M0, where the word copy would be a memcpy call). */
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ && \
    (!defined(__arm__) || defined(__ARM_FEATURE_UNALIGNED))
#define EH_SPIKE_WORDS 1
#else
#define EH_SPIKE_WORDS 0
#endif

/* Checks that s[0..n) are all 0 or 1 (else EH_ERR_RANGE) and counts the ones into *active. */
static inline eh_status eh_spike_check_count(const uint8_t *s, uint32_t n, uint32_t *active)
{
    uint32_t i = 0, a = 0;
#if EH_SPIKE_WORDS
    for (; i + 4u <= n; i += 4u) {
        uint32_t v;
        __builtin_memcpy(&v, s + i, 4);
        if ((v & 0xFEFEFEFEu) != 0u) return EH_ERR_RANGE;
        a += (v * 0x01010101u) >> 24; /* the four bytes' sum (at most 4) in the top byte */
    }
#endif
    for (; i < n; i++) {
        if (s[i] > 1u) return EH_ERR_RANGE;
        a += s[i];
    }
    *active = a;
    return EH_OK;
}

/* The mask of n <= 32 spike bytes, each 0 or 1: bit j = s[j]. For four bytes b0..b3 of a
 * little-endian word w, w * 0x01020408 holds b_j at bit 24 + j and every other partial product
 * at a distinct bit outside 24..31 (no carries), so its top byte is b0 | b1 << 1 | b2 << 2 | b3 << 3. */
static inline uint32_t eh_spike_mask32(const uint8_t *s, uint32_t n)
{
    uint32_t m = 0, j = 0;
#if EH_SPIKE_WORDS
    for (; j + 4u <= n; j += 4u) {
        uint32_t w;
        __builtin_memcpy(&w, s + j, 4);
        m |= ((w * 0x01020408u) >> 24) << j;
    }
#endif
    for (; j < n; j++) m |= (uint32_t)s[j] << j;
    return m;
}

/* The index of the lowest set bit of m != 0. */
static inline uint32_t eh_low_bit(uint32_t m)
{
#if defined(__GNUC__) && (defined(__ARM_FEATURE_CLZ) || defined(__x86_64__) || defined(__i386__) || \
                          defined(__aarch64__))
    return (uint32_t)__builtin_ctz(m);
#else
    /* de Bruijn multiply: no libgcc call on cores without a count-zeros instruction */
    static const uint8_t pos[32] = {0,  1,  28, 2,  29, 14, 24, 3, 30, 22, 20, 15, 25, 17, 4,  8,
                                    31, 27, 13, 23, 21, 19, 16, 7, 26, 12, 18, 6,  11, 5,  10, 9};
    return pos[((m & (0u - m)) * 0x077CB531u) >> 27];
#endif
}

/* The spikes of a layer as blocks of 32 inputs (block q = s[32 q .. 32 q + 31], the last one
 * shorter): the masks of the first nc blocks made once (a caller's array), later ones when asked. */
typedef struct {
    const uint8_t *s;
    uint32_t n_in, nb;     /* inputs, blocks */
    const uint32_t *cache; /* masks of blocks 0 .. nc-1 */
    uint32_t nc;
} eh_spike_blocks;

static inline void eh_spike_blocks_init(eh_spike_blocks *sb, const uint8_t *s, uint32_t n_in, uint32_t *cache,
                                        uint32_t cache_len)
{
    uint32_t q;
    sb->s = s;
    sb->n_in = n_in;
    sb->nb = (n_in >> 5) + ((n_in & 31u) != 0u);
    sb->nc = sb->nb < cache_len ? sb->nb : cache_len;
    sb->cache = cache;
    for (q = 0; q < sb->nc; q++) {
        const uint32_t left = n_in - q * 32u;
        cache[q] = eh_spike_mask32(s + q * 32u, left < 32u ? left : 32u);
    }
}

/* The mask of block q < nb. */
static inline uint32_t eh_spike_block(const eh_spike_blocks *sb, uint32_t q)
{
    const uint32_t base = q * 32u, left = sb->n_in - base;
    if (q < sb->nc) return sb->cache[q];
    return eh_spike_mask32(sb->s + base, left < 32u ? left : 32u);
}

#endif
