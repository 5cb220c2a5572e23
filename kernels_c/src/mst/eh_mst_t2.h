/* Private: the Thumb-2 assembly children loop of the MST kernel (eh_mst_t2.c). EH_MST_NO_ASM
 * keeps the C loop. */
#ifndef EH_MST_T2_H
#define EH_MST_T2_H

#include <stdint.h>

#if defined(__GNUC__) && defined(__thumb2__) && !defined(EH_MST_NO_ASM)
#define EH_MST_T2 1
/* a = {p, n, parent, start, diff, xx, y}; returns the first root at or after p, or n. */
uint32_t eh_mst_kids_t2(const uint32_t *a);
#endif

#endif
