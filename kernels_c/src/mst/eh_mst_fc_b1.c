#include "eh_mst.h"
#include "binary/eh_b1_core.h"
#include "eh_mst_t2.h" /* Thumb-2: the children loop in assembly */

eh_status eh_mst_check_b1(const eh_mst_b1 *l, uint32_t scratch_len)
{
    uint32_t p, roots = 0;
    if (l == 0 || l->parent == 0 || l->root_w == 0 || l->diff_start == 0) return EH_ERR_NULL;
    if (l->n_diff != 0u && l->diff == 0) return EH_ERR_NULL;
    if (l->n_in == 0u || l->n_in > (uint32_t)EH_MST_MAX_K) return EH_ERR_SIZE;
    if (scratch_len < 2u * l->n_in) return EH_ERR_SIZE;
    if (l->n_out == 0u || l->n_roots == 0u || l->n_roots > l->n_out) return EH_ERR_SIZE;
    if (l->diff_start[0] != 0u || l->diff_start[l->n_out] != l->n_diff) return EH_ERR_SIZE;
    for (p = 0; p < l->n_out; p++) {
        const int32_t par = l->parent[p];
        if (l->diff_start[p + 1u] < l->diff_start[p]) return EH_ERR_SIZE;
        if (par == -1) {
            roots++;
            if (l->diff_start[p + 1u] != l->diff_start[p]) return EH_ERR_ARG;
        } else if (par < -1 || (uint32_t)par >= p) {
            return EH_ERR_RANGE;
        }
    }
    if (roots != l->n_roots) return EH_ERR_SIZE;
    for (p = 0; p < l->n_out; p++) {
        const uint32_t b = l->diff_start[p], end = l->diff_start[p + 1u];
        uint32_t e, lim = 0; /* positions increase strictly: the next code is >= (code | 1) + 1 */
        if (b == end) continue;
        for (e = b; e < end; e++) {
            const uint32_t c = l->diff[e];
            if (c < lim) return EH_ERR_RANGE;
            lim = (c | 1u) + 1u;
        }
        if (((uint32_t)l->diff[end - 1u] >> 1) >= l->n_in) return EH_ERR_RANGE; /* the largest */
    }
    return EH_OK;
}

/* Expansion of x into the scratch: bytes xx[2 i + b] = x_i ^ b (i < K). A little-endian core
 * with a word-aligned scratch writes it a word at a time (eh_mst_nib: the two words of the eight
 * bytes of one nibble; the bytes are only ever read back as bytes); otherwise byte by byte. The
 * same bytes either way. */
#if defined(__BYTE_ORDER__) && defined(__ORDER_LITTLE_ENDIAN__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define EH_MST_LE 1
#define EH_MST_W2(n) ((uint32_t)((n) & 1u) | ((uint32_t)(((n) & 1u) ^ 1u) << 8) \
                      | ((uint32_t)(((n) >> 1) & 1u) << 16) | ((uint32_t)((((n) >> 1) & 1u) ^ 1u) << 24))
#define EH_MST_NIB(n) {EH_MST_W2(n), EH_MST_W2((n) >> 2)}
static const uint32_t eh_mst_nib[16][2] = {
    EH_MST_NIB(0u), EH_MST_NIB(1u), EH_MST_NIB(2u), EH_MST_NIB(3u), EH_MST_NIB(4u), EH_MST_NIB(5u),
    EH_MST_NIB(6u), EH_MST_NIB(7u), EH_MST_NIB(8u), EH_MST_NIB(9u), EH_MST_NIB(10u), EH_MST_NIB(11u),
    EH_MST_NIB(12u), EH_MST_NIB(13u), EH_MST_NIB(14u), EH_MST_NIB(15u),
};
#endif

static void eh_mst_expand(const uint32_t *x, uint32_t k, uint8_t *xx)
{
    uint32_t i = 0;
#if defined(EH_MST_LE)
    uint32_t *w = (uint32_t *)(void *)xx;
    if (((uintptr_t)xx & 3u) == 0u) {
      for (; i + 32u <= k; i += 32u) {    /* a whole input word: 16 scratch words */
        const uint32_t v = x[i >> 5];
        uint32_t n;
        for (n = 0; n < 32u; n += 4u) {
            const uint32_t *t = eh_mst_nib[(v >> n) & 15u];
            w[0] = t[0];
            w[1] = t[1];
            w += 2;
        }
      }
    }
#endif
    for (; i < k; i++) {
        const uint8_t b = (uint8_t)((x[i >> 5] >> (i & 31u)) & 1u);
        xx[2u * i] = b;
        xx[2u * i + 1u] = (uint8_t)(b ^ 1u);
    }
}

/* The pending roots pos[0..nb-1] (consecutive rows r.. of root_w), through the binary fc core. */
static void eh_mst_roots(const eh_mst_b1 *l, const uint32_t *x, const uint32_t *pos, uint32_t nb,
                         uint32_t r, int32_t *y)
{
    const uint32_t nw = eh_b1_nwords(l->n_in);
    uint32_t i;
#if defined(EH_B1_HS)
    int32_t dot[4];
    eh_b1_hs(x, l->root_w + (uint64_t)r * nw, nw, eh_b1_tail(l->n_in), nb, nw, dot, (int32_t)l->n_in);
    for (i = 0; i < nb; i++) y[pos[i]] = dot[i];
#else
    uint32_t cnt[4] = {0, 0, 0, 0};
    eh_b1_count_rows(x, l->root_w + (uint64_t)r * nw, nw, nb, nw, eh_b1_tail(l->n_in), cnt);
    for (i = 0; i < nb; i++) y[pos[i]] = eh_b1_dot(l->n_in, cnt[i]);
#endif
}

/* One pass in node order (every parent comes before its children): consecutive roots are
 * computed up to four at a time, flushed before the next child. */
void eh_mst_fc_b1_unchecked(const eh_mst_b1 *l, const uint32_t *x, uint8_t *xx, int32_t *y)
{
    const uint32_t n = l->n_out;
    const int32_t *parent = l->parent;
    const uint32_t *start = l->diff_start;
    const uint16_t *diff = l->diff;
    uint32_t p, r = 0, pos[4], nb = 0;

    if (l->n_diff != 0u) eh_mst_expand(x, l->n_in, xx);
    for (p = 0; p < n; p++) {
        const int32_t par = parent[p];
        const uint16_t *c, *end;
        uint32_t s = 0, nd;
        if (par < 0) {
            pos[nb++] = p;
            if (nb == 4u) {
                eh_mst_roots(l, x, pos, nb, r, y);
                r += nb;
                nb = 0;
            }
            continue;
        }
        if (nb != 0u) {
            eh_mst_roots(l, x, pos, nb, r, y);
            r += nb;
            nb = 0;
        }
#if defined(EH_MST_T2)
        {   /* the run of children from p, up to the next root (the loop's p++ then skips none) */
            const uint32_t a[7] = {p, n, (uint32_t)(uintptr_t)parent, (uint32_t)(uintptr_t)start,
                                   (uint32_t)(uintptr_t)diff, (uint32_t)(uintptr_t)xx,
                                   (uint32_t)(uintptr_t)y};
            p = eh_mst_kids_t2(a) - 1u;
            (void)c; (void)end; (void)s; (void)nd;
            continue;
        }
#endif
        c = diff + start[p];
        end = diff + start[p + 1u];
        nd = (uint32_t)(end - c);
        while (end - c >= 8) {
            s += (uint32_t)xx[c[0]] + xx[c[1]] + xx[c[2]] + xx[c[3]]
                 + xx[c[4]] + xx[c[5]] + xx[c[6]] + xx[c[7]];
            c += 8;
        }
        if (end - c >= 4) {
            s += (uint32_t)xx[c[0]] + xx[c[1]] + xx[c[2]] + xx[c[3]];
            c += 4;
        }
        while (c < end) s += xx[*c++];
        y[p] = y[par] + 2 * (int32_t)nd - 4 * (int32_t)s;
    }
    if (nb != 0u) eh_mst_roots(l, x, pos, nb, r, y);
}

eh_status eh_mst_fc_b1(const eh_mst_b1 *l, const uint32_t *x, uint8_t *scratch, uint32_t scratch_len,
                       int32_t *y)
{
    eh_status st;
    if (l == 0 || x == 0 || scratch == 0 || y == 0) return EH_ERR_NULL;
    if ((st = eh_mst_check_b1(l, scratch_len)) != EH_OK) return st;
    eh_mst_fc_b1_unchecked(l, x, scratch, y);
    return EH_OK;
}
