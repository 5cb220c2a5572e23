/*
 * Private: popcount cores of the binary kernels (also used by the MST family).
 *
 * eh_b1_count_rows() adds to cnt[r] (r < nrows <= 4) the number of positions where x and row r
 * of the weights differ, over nw words whose last word is masked with `tail`. Row r starts at
 * w + r * rs.
 *
 * Implementations, bit-exact with each other (the C test runs the portable ones on random data;
 * the bench image's self-check and the HIL tests run the assembly against them on the cores):
 *  - the reference loop: one popcount per word and row (EH_B1_REFERENCE forces it);
 *  - the portable fast path: four rows at a time so each input word is loaded once, and, on cores
 *    without a popcount instruction, SWAR counts summed per nibble over three words and per byte
 *    over up to 30 words before one horizontal add (at most 8 * 30 = 240 per byte lane);
 *  - Thumb-2 with the DSP extension (Cortex-M4/M7/M33): eh_b1_hs(), Harley-Seal carry-save
 *    adders in hand-written assembly (eh_b1_hs_t2.c), for the fc kernels and the MST roots
 *    (eh_b1_count_rows keeps the C paths, which conv1d's short per-tap rows favour).
 *    EH_B1_NO_ASM keeps the C paths everywhere.
 */
#ifndef EH_B1_CORE_H
#define EH_B1_CORE_H

#include "../eh_internal.h"
#include "eh_binary.h"

static inline uint32_t eh_b1_nwords(uint32_t k)
{
    return (k + 31u) >> 5;
}

/* Mask of the real bits of the last word. */
static inline uint32_t eh_b1_tail(uint32_t k)
{
    return (k & 31u) ? ((1u << (k & 31u)) - 1u) : 0xFFFFFFFFu;
}

#if defined(__GNUC__) && defined(__thumb2__) && defined(__ARM_FEATURE_DSP) && \
    !defined(EH_B1_NO_ASM) && !defined(EH_B1_REFERENCE)
#define EH_B1_HS 1
/* eh_b1_hs_t2.c: the assembly core (frame layout there) and its entry points. */
void eh_b1_hs_rows(const uint32_t *frame);
extern const uint32_t eh_b1_hs_entries[16];

/* For r < rows, with row r at w + r * rs (rs >= nw, in words) and nw >= 1 words, the last masked
 * with tail: count = popcount of (x ^ row r) over the real bits; out[r] = k - 2 * count if
 * k != 0 (the dot product when k = K), else out[r] += count. */
static inline void eh_b1_hs(const uint32_t *x, const uint32_t *w, uint32_t nw, uint32_t tail,
                            uint32_t rows, uint32_t rs, int32_t *out, int32_t k)
{
    uint32_t f[13], h = nw & 15u, q = nw >> 4, n = 0, term, last, first;
    if (rows == 0u) return;
    if (h == 0u) { /* a whole last block: it is the first item (it masks the last word) */
        term = last = eh_b1_hs_entries[q != 1u ? 9 : 10];
        first = eh_b1_hs_entries[4];
    } else {
        term = last = eh_b1_hs_entries[q != 0u ? 9 : 10];
        first = nw == 8u ? eh_b1_hs_entries[11] : eh_b1_hs_entries[__builtin_ctz(h)];
        if (h < 8u && q != 0u) {
            /* under 8 head words then a block: the first block is v2 or v3, which skip the
             * adders of the levels the items left unset (no zeroing); a lone head word is 1v */
            last = eh_b1_hs_entries[h < 4u ? 13 : 14];
            if (q == 1u) term = eh_b1_hs_entries[10];
            if ((h & 1u) != 0u) first = eh_b1_hs_entries[12];
        } else if (h > 8u && (h & 1u) != 0u) {
            first = eh_b1_hs_entries[15]; /* a lone word before i8n: the eights need no zero */
        }
    }
    f[0] = (uint32_t)(uintptr_t)(x + nw);
    f[1] = (rs - nw) * 4u;
    f[2] = (uint32_t)(uintptr_t)out;
    f[3] = (uint32_t)(uintptr_t)(out + rows);
    f[4] = (uint32_t)k;
    f[5] = tail;
    f[6] = (uint32_t)(uintptr_t)x;
    f[7] = first;
    f[8] = f[9] = f[10] = f[11] = term; /* f[11] is always term: 16f, v2 and v3 end there */
    for (h &= h - 1u; h != 0u; h &= h - 1u) f[8u + n++] = eh_b1_hs_entries[5 + __builtin_ctz(h)];
    f[8u + n] = last;
    f[12] = (uint32_t)(uintptr_t)(w + (uint64_t)(rows - 1u) * rs + nw);
    eh_b1_hs_rows(f);
}
#endif

/* Reference: one popcount per word. */
static inline uint32_t eh_b1_count_ref(const uint32_t *x, const uint32_t *w, uint32_t nw,
                                       uint32_t tail)
{
    uint32_t j, c = 0;
    for (j = 0; j + 1u < nw; j++) c += eh_popcount32(x[j] ^ w[j]);
    return c + eh_popcount32((x[nw - 1u] ^ w[nw - 1u]) & tail);
}

#if !defined(EH_HAVE_POPCOUNT_INSN)
/* Keep a constant in a register: Thumb-2 then folds the shifts into the AND/SUB operands. */
#if defined(__GNUC__)
#define EH_B1_OPAQUE(v) __asm__("" : "+r"(v))
#else
#define EH_B1_OPAQUE(v) ((void)0)
#endif

/* Per-nibble counts (each <= 4) of the bits of v. */
static inline uint32_t eh_b1_nib(uint32_t v, uint32_t m1, uint32_t m2)
{
    v = v - ((v >> 1) & m1);
    return (v & m2) + ((v >> 2) & m2);
}

/* Per-byte sums of the nibble counts in s (each nibble <= 15, so each byte <= 30). */
static inline uint32_t eh_b1_byte(uint32_t s, uint32_t m4)
{
    return (s & m4) + ((s >> 4) & m4);
}

/* Sum of the four bytes of a. */
static inline uint32_t eh_b1_hsum(uint32_t a)
{
    a = (a & 0x00FF00FFu) + ((a >> 8) & 0x00FF00FFu);
    return (a + (a >> 16)) & 0xFFFFu;
}

/* Two rows over n full words (no mask); groups of three words summed per nibble, up to ten
 * groups per byte lane (10 * 24 = 240 <= 255). */
static inline void eh_b1_count2_full(const uint32_t *x, const uint32_t *w, uint32_t rs,
                                     uint32_t n, uint32_t *cnt)
{
    const uint32_t *w0 = w, *w1 = w + rs;
    uint32_t c0 = 0, c1 = 0;
    uint32_t m1 = 0x55555555u, m2 = 0x33333333u, m4 = 0x0F0F0F0Fu;
    EH_B1_OPAQUE(m1);
    EH_B1_OPAQUE(m2);
    EH_B1_OPAQUE(m4);
    while (n >= 3u) {
        uint32_t g = n / 3u;
        uint32_t a0 = 0, a1 = 0;
        if (g > 10u) g = 10u;
        n -= 3u * g;
        do {
            const uint32_t x0 = x[0], x1 = x[1], x2 = x[2];
            a0 += eh_b1_byte(eh_b1_nib(x0 ^ w0[0], m1, m2) + eh_b1_nib(x1 ^ w0[1], m1, m2)
                             + eh_b1_nib(x2 ^ w0[2], m1, m2), m4);
            a1 += eh_b1_byte(eh_b1_nib(x0 ^ w1[0], m1, m2) + eh_b1_nib(x1 ^ w1[1], m1, m2)
                             + eh_b1_nib(x2 ^ w1[2], m1, m2), m4);
            x += 3; w0 += 3; w1 += 3;
        } while (--g);
        c0 += eh_b1_hsum(a0);
        c1 += eh_b1_hsum(a1);
    }
    while (n--) {
        const uint32_t xj = *x++;
        c0 += eh_popcount32(xj ^ *w0++);
        c1 += eh_popcount32(xj ^ *w1++);
    }
    cnt[0] += c0; cnt[1] += c1;
}


#if defined(__GNUC__) && defined(__thumb2__) && !defined(EH_B1_NO_ASM)
#define EH_B1_ASM 1
/* Thumb-2 (Cortex-M3/M4/M7): g >= 1 groups of three words of one row, 28 instructions per
 * group (two LDMs, three EORs, the SWAR steps with the shifts folded into the operands). It
 * computes exactly eh_b1_byte(nib(x0^w0) + nib(x1^w1) + nib(x2^w2)) per group, like the C loop. */
static inline uint32_t eh_b1_groups_asm(const uint32_t **xp, const uint32_t **wp, uint32_t g,
                                        uint32_t a)
{
    const uint32_t *x = *xp, *w = *wp;
    const uint32_t m1 = 0x55555555u, m2 = 0x33333333u, m4 = 0x0F0F0F0Fu;
    __asm__ volatile(
        "1:\n\t"
        "ldmia %[x]!, {r0, r1, r2}\n\t"
        "ldmia %[w]!, {r3, r4, r5}\n\t"
        "eor r3, r3, r0\n\t"
        "eor r4, r4, r1\n\t"
        "eor r5, r5, r2\n\t"
        "and r0, %[m1], r3, lsr #1\n\t"
        "sub r3, r3, r0\n\t"
        "and r0, %[m1], r4, lsr #1\n\t"
        "sub r4, r4, r0\n\t"
        "and r0, %[m1], r5, lsr #1\n\t"
        "sub r5, r5, r0\n\t"
        "and r0, r3, %[m2]\n\t"
        "and r3, %[m2], r3, lsr #2\n\t"
        "add r0, r0, r3\n\t"
        "and r3, r4, %[m2]\n\t"
        "add r0, r0, r3\n\t"
        "and r4, %[m2], r4, lsr #2\n\t"
        "add r0, r0, r4\n\t"
        "and r3, r5, %[m2]\n\t"
        "add r0, r0, r3\n\t"
        "and r5, %[m2], r5, lsr #2\n\t"
        "add r0, r0, r5\n\t"
        "and r3, %[m4], r0, lsr #4\n\t"
        "and r0, r0, %[m4]\n\t"
        "add %[a], %[a], r0\n\t"
        "add %[a], %[a], r3\n\t"
        "subs %[g], %[g], #1\n\t"
        "bne 1b\n\t"
        : [x] "+r"(x), [w] "+r"(w), [g] "+r"(g), [a] "+r"(a)
        : [m1] "r"(m1), [m2] "r"(m2), [m4] "r"(m4)
        : "r0", "r1", "r2", "r3", "r4", "r5", "cc", "memory");
    *xp = x;
    *wp = w;
    return a;
}
#endif

/* One row over n full words (no mask). */
static inline uint32_t eh_b1_count1_full(const uint32_t *x, const uint32_t *w, uint32_t n)
{
    uint32_t c = 0;
#if !defined(EH_B1_ASM)
    uint32_t m1 = 0x55555555u, m2 = 0x33333333u, m4 = 0x0F0F0F0Fu;
    EH_B1_OPAQUE(m1);
    EH_B1_OPAQUE(m2);
    EH_B1_OPAQUE(m4);
#endif
    while (n >= 3u) {
        uint32_t g = n / 3u, a = 0;
        if (g > 10u) g = 10u;
        n -= 3u * g;
#if defined(EH_B1_ASM)
        a = eh_b1_groups_asm(&x, &w, g, a);
#else
        do {
            a += eh_b1_byte(eh_b1_nib(x[0] ^ w[0], m1, m2) + eh_b1_nib(x[1] ^ w[1], m1, m2)
                            + eh_b1_nib(x[2] ^ w[2], m1, m2), m4);
            x += 3; w += 3;
        } while (--g);
#endif
        c += eh_b1_hsum(a);
    }
    while (n--) c += eh_popcount32(*x++ ^ *w++);
    return c;
}

/* Four rows: on Thumb-2 one row at a time through the assembly loop (its LDMs make re-reading
 * the input cheaper than keeping it in registers); elsewhere two pairs of rows. */
static inline void eh_b1_count4_full(const uint32_t *x, const uint32_t *w, uint32_t rs,
                                     uint32_t n, uint32_t *cnt)
{
#if defined(EH_B1_ASM)
    cnt[0] += eh_b1_count1_full(x, w, n);
    cnt[1] += eh_b1_count1_full(x, w + rs, n);
    cnt[2] += eh_b1_count1_full(x, w + 2u * rs, n);
    cnt[3] += eh_b1_count1_full(x, w + 3u * rs, n);
#else
    eh_b1_count2_full(x, w, rs, n, cnt);
    eh_b1_count2_full(x, w + 2u * rs, rs, n, cnt + 2);
#endif
}
#else
/* The core has a popcount instruction: one per word, four rows sharing each input load. */
static inline void eh_b1_count4_full(const uint32_t *x, const uint32_t *w, uint32_t rs,
                                     uint32_t n, uint32_t *cnt)
{
    const uint32_t *w0 = w, *w1 = w + rs, *w2 = w1 + rs, *w3 = w2 + rs;
    uint32_t j, c0 = 0, c1 = 0, c2 = 0, c3 = 0;
    for (j = 0; j < n; j++) {
        const uint32_t xj = x[j];
        c0 += eh_popcount32(xj ^ w0[j]);
        c1 += eh_popcount32(xj ^ w1[j]);
        c2 += eh_popcount32(xj ^ w2[j]);
        c3 += eh_popcount32(xj ^ w3[j]);
    }
    cnt[0] += c0; cnt[1] += c1; cnt[2] += c2; cnt[3] += c3;
}

static inline uint32_t eh_b1_count1_full(const uint32_t *x, const uint32_t *w, uint32_t n)
{
    uint32_t j, c = 0;
    for (j = 0; j < n; j++) c += eh_popcount32(x[j] ^ w[j]);
    return c;
}
#endif

/* cnt[r] += count(x, w + r * rs) for r < nrows (1..4), nw >= 1 words, last word masked. */
static inline void eh_b1_count_rows(const uint32_t *x, const uint32_t *w, uint32_t rs,
                                    uint32_t nrows, uint32_t nw, uint32_t tail, uint32_t cnt[4])
{
    uint32_t r;
#if defined(EH_B1_REFERENCE)
    for (r = 0; r < nrows; r++) cnt[r] += eh_b1_count_ref(x, w + r * rs, nw, tail);
#else
    /* Full words are handled unmasked; a partial last word separately with its mask. */
    const uint32_t nfull = (tail == 0xFFFFFFFFu) ? nw : nw - 1u;
    if (nrows == 4u) {
        eh_b1_count4_full(x, w, rs, nfull, cnt);
    } else {
        for (r = 0; r < nrows; r++) cnt[r] += eh_b1_count1_full(x, w + r * rs, nfull);
    }
    if (nfull != nw) {
        const uint32_t xl = x[nw - 1u] & tail;
        for (r = 0; r < nrows; r++) cnt[r] += eh_popcount32((xl ^ w[r * rs + nw - 1u]) & tail);
    }
#endif
}

/* Count of the real bits of w (the mismatches against an all-+1 padding frame). */
static inline uint32_t eh_b1_count_zero(const uint32_t *w, uint32_t nw, uint32_t tail)
{
    uint32_t j, c = 0;
    for (j = 0; j + 1u < nw; j++) c += eh_popcount32(w[j]);
    return c + eh_popcount32(w[nw - 1u] & tail);
}

/* --- argument checks and output stages shared by the fc and conv1d kernels --- */

static inline eh_status eh_b1_check_k(uint32_t k)
{
    if (k == 0u || k > (uint32_t)EH_B1_MAX_K) return EH_ERR_SIZE;
    return EH_OK;
}

static inline eh_status eh_b1_check_thr(const int32_t *thr, uint32_t n, uint32_t k)
{
    uint32_t o;
    for (o = 0; o < n; o++) {
        if (thr[o] < -(int32_t)k || thr[o] > (int32_t)k + 1) return EH_ERR_RANGE;
    }
    return EH_OK;
}

static inline int32_t eh_b1_dot(uint32_t k, uint32_t count)
{
    return (int32_t)k - 2 * (int32_t)count;
}

static inline float eh_b1_out_f32(int32_t dot, const float *scale, const float *bias, uint32_t o)
{
    float y = (float)dot * scale[o];
    if (bias != 0) y = y + bias[o];
    return y;
}

static inline int8_t eh_b1_out_s8(int32_t dot, const int32_t *mult, const int32_t *bias,
                                  uint32_t shift, uint32_t o)
{
    int64_t a = (int64_t)dot * mult[o] + (bias != 0 ? bias[o] : 0);
    a = eh_rshift_round64(a, shift);
    if (a > INT8_MAX) return INT8_MAX;
    if (a < INT8_MIN) return INT8_MIN;
    return (int8_t)a;
}

/* Check a conv1d shape (the dims pointer is not NULL). */
static inline eh_status eh_conv1d_b1_check(const eh_conv1d_b1_dims *d)
{
    eh_status st;
    uint64_t span;
    if ((st = eh_b1_check_k(d->n_in)) != EH_OK) return st;
    if (d->t_in == 0u || d->n_out == 0u || d->taps == 0u || d->stride == 0u || d->t_out == 0u)
        return EH_ERR_SIZE;
    if ((uint64_t)d->taps * d->n_in > (uint64_t)EH_B1_MAX_K) return EH_ERR_SIZE;
    if (d->pad >= d->taps) return EH_ERR_RANGE;
    span = (uint64_t)d->t_in + 2u * (uint64_t)d->pad;
    if (span < d->taps) return EH_ERR_SIZE;
    if ((span - d->taps) / d->stride + 1u != d->t_out) return EH_ERR_SIZE;
    return EH_OK;
}

/* Counts of output frame t for output channels o0 .. o0 + nrows - 1 (nrows <= 4) of a conv1d:
 * cnt[r] = sum over taps of mismatches, padding frames counting the set bits of the weights. */
static inline void eh_conv1d_b1_counts(const eh_conv1d_b1_dims *d, const uint32_t *x,
                                       const uint32_t *w, uint32_t t, uint32_t o0,
                                       uint32_t nrows, uint32_t cnt[4])
{
    const uint32_t nw = eh_b1_nwords(d->n_in), tail = eh_b1_tail(d->n_in);
    const uint32_t rs = d->taps * nw; /* words between two output channels' weights */
    const uint32_t *wo = w + (uint64_t)o0 * rs;
    uint32_t k, r;
    cnt[0] = cnt[1] = cnt[2] = cnt[3] = 0;
    for (k = 0; k < d->taps; k++) {
        /* position of tap k in the unpadded input (may be out of range: a padding frame) */
        const uint64_t pos = (uint64_t)t * d->stride + k;
        if (pos < d->pad || pos - d->pad >= d->t_in) {
            for (r = 0; r < nrows; r++) cnt[r] += eh_b1_count_zero(wo + r * rs + k * nw, nw, tail);
        } else {
            eh_b1_count_rows(x + (pos - d->pad) * nw, wo + k * nw, rs, nrows, nw, tail, cnt);
        }
    }
}

#endif /* EH_B1_CORE_H */
