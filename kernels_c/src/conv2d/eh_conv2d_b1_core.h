/* Private: the binary conv2d kernels' shared core (eh_conv2d_b1_core.c): argument checks and the
 * dot products of one output pixel for a block of output channels. */
#ifndef EH_CONV2D_B1_CORE_H
#define EH_CONV2D_B1_CORE_H

#include "eh_conv2d_internal.h"

/* Output channels per block of dot products (the callers' local buffer). */
#define EH_CONV2D_B1_CHUNK 32u

typedef struct {
    const eh_conv2d_dims *d;
    eh_conv2d_geom g;
    const uint32_t *x, *w;
    uint32_t cw;      /* words per pixel, ceil(c_in / 32) */
    uint32_t tail;    /* mask of the real bits of a pixel's last word */
    uint32_t rs;      /* words per output channel of w: k_h * k_w * cw */
    uint32_t pad_one; /* padding taps are +1 (else excluded) */
    uint32_t use_col; /* the gathered-row path: c_in % 32 == 0 and rs <= EH_CONV2D_B1_COL_WORDS */
} eh_conv2d_b1_ctx;

/* One output pixel: the valid tap ranges and, on the gathered-row path, its taps' words. */
typedef struct {
    uint32_t ky0, ky1, kx0, kx1; /* taps inside the input: [ky0, ky1) x [kx0, kx1) */
    uint32_t n;                  /* taps counted: all (PAD_ONE) or the ones inside */
    uint32_t full;               /* every tap inside the input */
    const uint32_t *xpix;        /* x at tap (ky0, kx0), NULL when no tap is inside */
    uint32_t col[EH_CONV2D_B1_COL_WORDS]; /* the taps' words in w's order, padding taps 0 (+1) */
} eh_conv2d_b1_px;

/* Checks in the header's order (pointers are checked by the kernel); fills c. */
eh_status eh_conv2d_b1_init(eh_conv2d_b1_ctx *c, const eh_conv2d_dims *d, uint32_t pad_value,
                            const uint32_t *x, const uint32_t *w);
/* Prepares output pixel (oy, ox). */
void eh_conv2d_b1_pixel(const eh_conv2d_b1_ctx *c, uint32_t oy, uint32_t ox, eh_conv2d_b1_px *p);
/* dot[r] for output channels o0 .. o0 + rows - 1 (rows <= EH_CONV2D_B1_CHUNK) of pixel p. */
void eh_conv2d_b1_dots(const eh_conv2d_b1_ctx *c, const eh_conv2d_b1_px *p, uint32_t o0,
                       uint32_t rows, int32_t *dot);

#endif /* EH_CONV2D_B1_CORE_H */
