/*
 * Private: the Q15 LIF step for a shared shift leak, a shared threshold and reset by subtraction
 * on cores with the Arm DSP extension (Cortex-M4/M7/M33), sixteen neurons per iteration (two
 * blocks of eight; an odd count of eight-blocks enters at the second), in hand-written assembly
 * (file-scope, one copy in the image). The arithmetic is lif_dsp_run's (eh_lif_step_q15.c), lane
 * for lane; blocks of four neurons with no spike on entry cost 18 instructions (4.875 per neuron
 * with the loop), a block with a spike 13 more: its spikes become lane pairs (UXTB16,
 * PKHBT/PKHTB), are checked against v < 0 (two TSTs), and each lane's threshold is added to its
 * 32-bit leak product by one SMLABB/SMLATB (spike bit times the low half of thr2): with v >= 0
 * on the spiking lanes, -leak + s thr lies in [-32767, 32767], so the packed sum equals
 * lif_dsp_run's QADD16 of -leak and s thr, before the one saturating subtraction.
 *
 * a = {spikes, v, x, spikes + 8 * blocks, m, thr2} (addresses as uint32_t; spikes, v and x
 * 4-byte aligned; m and thr2 as in lif_dsp_shift_t1_sub_fast). Returns the spikes address where it
 * stopped: the end, or the start of four neurons holding a spike on v < 0 that it did not touch
 * (everything before that address is done).
 */
#include "eh_lif_dsp.h"

#if EH_LIF_HAVE_DSP
__asm__(
    "    .syntax unified\n"
    "    .thumb\n"
    "    .pushsection .text.eh_lif_sub8_m4, \"ax\", %progbits\n"
    "    .align 2\n"
    "@ HALF w, tmp: four neurons (v at r1, x at r2) with their spike word in \\w (a low register);\n"
    "@ leaves the four output spikes in \\w and advances r1, r2 by 8 bytes. \\bail: where to go when\n"
    "@ a spike sits on a neuron with v < 0.\n"
    "    .macro EHL_HALF w, bail\n"
    "    ldrd r10, r11, [r1]\n"
    "    cbz \\w, 1f\n"
    "    uxtb16 r12, \\w\n"
    "    uxtb16 lr, \\w, ror #8\n"
    "    pkhbt \\w, r12, lr, lsl #16\n"
    "    pkhtb lr, lr, r12, asr #16\n"
    "    tst r10, \\w, lsl #15\n"
    "    it eq\n"
    "    tsteq r11, lr, lsl #15\n"
    "    bne \\bail\n"
    "    smulwb r12, r4, r10\n"
    "    smlabb r12, \\w, r5, r12\n"
    "    smulwt r10, r4, r10\n"
    "    smlatb r10, \\w, r5, r10\n"
    "    pkhbt \\w, r12, r10, lsl #16\n"
    "    smulwb r12, r4, r11\n"
    "    smlabb r12, lr, r5, r12\n"
    "    smulwt r11, r4, r11\n"
    "    smlatb r11, lr, r5, r11\n"
    "    pkhbt lr, r12, r11, lsl #16\n"
    "    ldrd r10, r11, [r2], #8\n"
    "    qsub16 r10, r10, \\w\n"
    "    qsub16 r11, r11, lr\n"
    "    b 2f\n"
    "1:\n"
    "    smulwb r12, r4, r10\n"
    "    smulwt \\w, r4, r10\n"
    "    pkhbt r12, r12, \\w, lsl #16\n"
    "    smulwb lr, r4, r11\n"
    "    smulwt \\w, r4, r11\n"
    "    pkhbt lr, lr, \\w, lsl #16\n"
    "    ldrd r10, r11, [r2], #8\n"
    "    qsub16 r10, r10, r12\n"
    "    qsub16 r11, r11, lr\n"
    "2:\n"
    "    strd r10, r11, [r1], #8\n"
    "    ssub16 r12, r5, r10\n"
    "    sel r12, r8, r9\n"
    "    ssub16 lr, r5, r11\n"
    "    sel lr, r8, r9\n"
    "    lsrs r12, r12, #8\n"
    "    orr \\w, r12, lr, lsl #8\n"
    "    .endm\n"
    "\n"
    "    .global eh_lif_sub8_m4\n"
    "    .type eh_lif_sub8_m4, %function\n"
    "    .thumb_func\n"
    "eh_lif_sub8_m4:\n"
    "    push {r4-r11, lr}\n"
    "    ldmia r0, {r0-r5}\n"
    "    movs r8, #0\n"
    "    movw r9, #0x0100\n"
    "    movt r9, #0x0001\n"
    "    subs r12, r3, r0\n"
    "    beq .Lel_ret\n"
    "    tst r12, #8\n"
    "    bne .Lel_mid\n"
    ".Lel_loop:\n"
    "    ldrd r6, r7, [r0]\n"
    "    EHL_HALF r6, .Lel_ret\n"
    "    EHL_HALF r7, .Lel_bail1\n"
    "    strd r6, r7, [r0], #8\n"
    ".Lel_mid:\n"
    "    ldrd r6, r7, [r0]\n"
    "    EHL_HALF r6, .Lel_ret\n"
    "    EHL_HALF r7, .Lel_bail1\n"
    "    strd r6, r7, [r0], #8\n"
    "    cmp r0, r3\n"
    "    bne .Lel_loop\n"
    ".Lel_ret:\n"
    "    pop {r4-r11, pc}\n"
    ".Lel_bail1:\n"
    "    str r6, [r0], #4\n"
    "    pop {r4-r11, pc}\n"
    "    .size eh_lif_sub8_m4, . - eh_lif_sub8_m4\n"
    "    .purgem EHL_HALF\n"
    "    .popsection\n"
);
#else
typedef int eh_lif_sub8_m4_unused; /* other cores: eh_lif_step_q15.c's loops */
#endif
