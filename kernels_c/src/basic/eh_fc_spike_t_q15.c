#include "eh_basic.h"
#include "eh_basic_internal.h"
#include "eh_spike_mask.h"

/*
 * Spike-driven dense layer over input-major weights wt[i][o]: the row of an active input is
 * n_out contiguous weights, added to the outputs' accumulators. The outputs are taken in chunks
 * of EH_FC_T_CHUNK int32 accumulators (a fixed stack array); for each chunk the active inputs are
 * walked in increasing order through 32-bit spike masks (those of the first EH_FC_T_CACHE blocks
 * of 32 inputs made once per call, later ones again per chunk).
 *
 * A chunk whose accumulators cannot leave int32 (|b[o]| + 32768 * active <= INT32_MAX for each
 * of its outputs: no partial sum overflows, so sat32 after each addition never acts) adds its
 * rows in 32 bits (on 64-bit hosts four rows per pass: the sum of four rows, then the
 * accumulator). Any other chunk follows the header's order: while every accumulator has room
 * for k more additions (|acc| + 32768 k <= INT32_MAX) they are added unchecked, otherwise one
 * input is added with sat32 per output and the room is measured again. So every output gets
 * the header's result, which is eh_fc_spike_q15's on the transposed matrix.
 *
 * Chunk size: on 64-bit hosts (SSE2, NEON) 256 accumulators (1 KiB of stack), which the
 * compiler vectorises (fixed-count inner loops over contiguous int16 rows); on microcontrollers
 * 8, which it keeps in registers (the loops over them unrolled), with 128 bytes of mask cache.
 */

/* EH_FC_T_CORE_PATH: the cores' chunking on a host too (tests/c/test_basic.c builds it so). */
#if (defined(__x86_64__) || defined(__aarch64__)) && !defined(EH_FC_T_CORE_PATH)
#define EH_FC_T_CHUNK 256u
#define EH_FC_T_WIDE 1
#else
#define EH_FC_T_CHUNK 8u
#define EH_FC_T_WIDE 0
#endif

#define EH_FC_T_CACHE 32u

#if defined(__GNUC__) && !defined(__clang__)
#define EH_FC_T_INLINE static inline __attribute__((always_inline))
#define EH_FC_T_NOINLINE static __attribute__((noinline, noclone))
#elif defined(__GNUC__)
#define EH_FC_T_INLINE static inline __attribute__((always_inline))
#define EH_FC_T_NOINLINE static __attribute__((noinline))
#else
#define EH_FC_T_INLINE static inline
#define EH_FC_T_NOINLINE static
#endif

typedef struct {
    eh_spike_blocks sb;       /* the inputs' spikes, blocks of 32 */
    const int16_t *wt;
    uint32_t n_out;
    uint32_t active;          /* inputs that spiked */
} fc_t_layer;

/* The active inputs in increasing order: the block q being walked and its remaining bits m. */
typedef struct {
    uint32_t q, m;
} fc_t_walk;

static inline void walk_start(const fc_t_layer *L, fc_t_walk *it)
{
    it->q = 0u;
    it->m = eh_spike_block(&L->sb, 0u);
}

/* The next active input; the caller asks for no more than L->active of them. */
static inline uint32_t walk_next(const fc_t_layer *L, fc_t_walk *it)
{
    uint32_t k;
    while (it->m == 0u) it->m = eh_spike_block(&L->sb, ++it->q);
    k = eh_low_bit(it->m);
    it->m &= it->m - 1u;
    return it->q * 32u + k;
}

/* Additions that cannot saturate any of acc[0..nc): (INT32_MAX - max |acc|) / 32768. */
EH_FC_T_INLINE uint32_t chunk_room(const int32_t *acc, uint32_t nc)
{
    uint32_t c, mag = 0u;
    for (c = 0; c < nc; c++) {
        const uint32_t a = acc[c] < 0 ? 0u - (uint32_t)acc[c] : (uint32_t)acc[c];
        mag = a > mag ? a : mag;
    }
    return mag >= (uint32_t)INT32_MAX ? 0u : ((uint32_t)INT32_MAX - mag) >> 15;
}

EH_FC_T_INLINE void add_row(int32_t *acc, const int16_t *p, uint32_t nc)
{
    uint32_t c;
#if defined(__GNUC__) && !EH_FC_T_WIDE
#pragma GCC unroll 8
#endif
    for (c = 0; c < nc; c++) acc[c] += p[c];
}

/* Chunk at column o: acc[c] += the sum of the active rows' weights (no saturation possible). */
EH_FC_T_INLINE void chunk_fast(const fc_t_layer *L, uint32_t o, int32_t *acc, uint32_t nc)
{
    const int16_t *col = L->wt + o;
    const uint32_t n_out = L->n_out;
#if EH_FC_T_WIDE
    uint32_t r = 0;
    fc_t_walk it;
    if (L->active == 0u) return;
    walk_start(L, &it);
    for (; r + 4u <= L->active; r += 4u) {
        const int16_t *p0 = col + walk_next(L, &it) * n_out;
        const int16_t *p1 = col + walk_next(L, &it) * n_out;
        const int16_t *p2 = col + walk_next(L, &it) * n_out;
        const int16_t *p3 = col + walk_next(L, &it) * n_out;
        uint32_t c;
        for (c = 0; c < nc; c++) acc[c] += ((int32_t)p0[c] + p1[c]) + ((int32_t)p2[c] + p3[c]);
    }
    for (; r < L->active; r++) add_row(acc, col + walk_next(L, &it) * n_out, nc);
#else
    /* block by block, the accumulators in registers */
    uint32_t q;
    for (q = 0; q < L->sb.nb; q++) {
        uint32_t m = eh_spike_block(&L->sb, q);
        const int16_t *base = col + q * 32u * n_out;
        while (m != 0u) {
            const int16_t *p = base + eh_low_bit(m) * n_out;
            m &= m - 1u;
            add_row(acc, p, nc);
        }
    }
#endif
}

/* Chunk at column o, the header's order: sat32 after each addition once it could act (the rare
 * path: one copy of it). */
EH_FC_T_NOINLINE void chunk_exact(const fc_t_layer *L, uint32_t o, int32_t *acc, uint32_t nc)
{
    const int16_t *col = L->wt + o;
    uint32_t r, c, room = chunk_room(acc, nc);
    fc_t_walk it;
    if (L->active == 0u) return;
    walk_start(L, &it);
    for (r = 0; r < L->active; r++) {
        const int16_t *p = col + walk_next(L, &it) * L->n_out;
        if (room > 0u) {
            for (c = 0; c < nc; c++) acc[c] += p[c];
            room--;
        } else {
            for (c = 0; c < nc; c++) acc[c] = eh_sat32((int64_t)acc[c] + p[c]);
            room = chunk_room(acc, nc);
        }
    }
}

/* Outputs o .. o + nc - 1 (nc <= EH_FC_T_CHUNK). */
EH_FC_T_INLINE void chunk(const fc_t_layer *L, const int32_t *b, uint32_t shift, int16_t *y, uint32_t o,
                          uint32_t nc)
{
    int32_t acc[EH_FC_T_CHUNK];
    int16_t *yo = y + o;
    uint32_t c;
    if (b != 0) {
        const int32_t *bo = b + o;
        for (c = 0; c < nc; c++) acc[c] = bo[c];
    } else {
        for (c = 0; c < nc; c++) acc[c] = 0;
    }
    if (chunk_room(acc, nc) >= L->active)
        chunk_fast(L, o, acc, nc);
    else
        chunk_exact(L, o, acc, nc);
    /* rshift(a, s) = floor((a + 2^(s-1)) / 2^s) = (a >> s) + bit s-1 of a: no 64-bit sum */
    if (shift == 0u) {
        for (c = 0; c < nc; c++) yo[c] = eh_sat16(acc[c]);
    } else {
        for (c = 0; c < nc; c++) yo[c] = eh_sat16((acc[c] >> shift) + ((acc[c] >> (shift - 1u)) & 1));
    }
}

eh_status eh_fc_spike_t_q15(uint32_t n_in, uint32_t n_out, const uint8_t *s, const int16_t *wt,
                            const int32_t *b, uint32_t shift, int16_t *y)
{
    uint32_t cache[EH_FC_T_CACHE];
    fc_t_layer L;
    uint32_t o;
    eh_status st;
    if (s == 0 || wt == 0 || y == 0) return EH_ERR_NULL;
    if ((st = eh_fc_size_check(n_in, n_out)) != EH_OK) return st;
    if (shift > 31u) return EH_ERR_RANGE;
    if ((st = eh_spike_check_count(s, n_in, &L.active)) != EH_OK) return st;

    eh_spike_blocks_init(&L.sb, s, n_in, cache, EH_FC_T_CACHE);
    L.wt = wt;
    L.n_out = n_out;

    for (o = 0; n_out - o >= EH_FC_T_CHUNK; o += EH_FC_T_CHUNK) chunk(&L, b, shift, y, o, EH_FC_T_CHUNK);
    if (o < n_out) chunk(&L, b, shift, y, o, n_out - o);
    return EH_OK;
}
