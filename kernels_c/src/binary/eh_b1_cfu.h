/*
 * Private: the binary FC core on the edgehost SoC's custom unit (EH_HAVE_RV_CFU, see
 * ../eh_rv_cfu.h). eh_b1_cfu_dots() writes dot[r] = eh_b1_dot(k, count(x, row r)) -- exactly
 * what eh_b1_count_rows() (eh_b1_core.h) and eh_b1_dot() give on the portable path -- for
 * `rows` rows of nw = ceil(k / 32) words each, consecutive from w, with one BFC instruction:
 * the unit streams x and the rows from RAM (2 cycles per word), masks the last word to the
 * k mod 32 real bits and writes the int32 dot products.
 */
#ifndef EH_B1_CFU_H
#define EH_B1_CFU_H

#include "../eh_rv_cfu.h"
#include "eh_b1_core.h"

#if defined(EH_RV_CFU)
#define EH_B1_CFU 1

static inline void eh_b1_cfu_dots(const uint32_t *x, const uint32_t *w, uint32_t k, uint32_t rows,
                                  int32_t *dot)
{
    eh_cfu_setlen(eh_b1_nwords(k), dot);
    eh_cfu_setfc(rows, k);
    eh_cfu_bfc(w, x);
}

/* Rows per BFC call in the kernels whose outputs are not the int32 dot products themselves. */
#define EH_B1_CFU_CHUNK 32u
#endif

/* The fc kernels' fast dot products, where a core has one: the custom unit (EH_B1_CFU) or the
 * Thumb-2 assembly (EH_B1_HS, eh_b1_core.h). eh_b1_fast_dots() writes dot[r] = eh_b1_dot(k,
 * count(x, row r)) for `rows` consecutive rows of ceil(k / 32) words, like eh_b1_cfu_dots(). */
#if defined(EH_B1_CFU) || defined(EH_B1_HS)
#define EH_B1_FAST_DOTS 1
#define EH_B1_FAST_CHUNK 32u /* rows per call when the outputs are not the dots themselves */
static inline void eh_b1_fast_dots(const uint32_t *x, const uint32_t *w, uint32_t k,
                                   uint32_t rows, int32_t *dot)
{
#if defined(EH_B1_CFU)
    eh_b1_cfu_dots(x, w, k, rows, dot);
#else
    eh_b1_hs(x, w, eh_b1_nwords(k), eh_b1_tail(k), rows, eh_b1_nwords(k), dot, (int32_t)k);
#endif
}
#endif

#endif /* EH_B1_CFU_H */
