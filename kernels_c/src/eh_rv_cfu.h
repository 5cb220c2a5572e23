/*
 * Private: the instructions of the edgehost SoC's custom unit (fpga/rtl/eh_cfu.v, on PicoRV32's
 * PCPI port), for the boards whose toolchain defines EH_HAVE_RV_CFU (boards/rv32-sim). Custom-0
 * opcode, R-type, the operation in funct3 (docs/fpga.md has the exact semantics):
 *   0 XPC     rd = popcount(rs1 ^ rs2)
 *   1 SETLEN  len = rs1, aux = rs2
 *   2 BDOT    rd = sum over j < len of popcount(((uint32*)rs1)[j] ^ ((uint32*)rs2)[j])
 *   5 SETFC   rows = rs1, k = rs2
 *   6 BFC     for r < rows: ((int32*)aux)[r] = k - 2 * mismatches between the k bits at rs2 and
 *             row r, the len words at rs1 + 4 * len * r (the last word masked to k mod 32 bits)
 *   3 LIFCFG  shift = rs1[3:0], reset to zero = rs1[8], threshold = rs2[15:0]
 *   4 LIF     the Q15 LIF step with a shift leak over len neurons: v = (int16*)rs1,
 *             x = (int16*)rs2, spikes = (uint8*)aux; rd = spikes written
 * BDOT and LIF read (and LIF writes) memory themselves: the asm says so with "memory".
 * Without EH_HAVE_RV_CFU this header defines nothing.
 */
#ifndef EH_RV_CFU_H
#define EH_RV_CFU_H

#if defined(EH_HAVE_RV_CFU) && defined(__riscv) && defined(__GNUC__)
#define EH_RV_CFU 1

#include <stdint.h>

static inline uint32_t eh_cfu_xpc(uint32_t a, uint32_t b)
{
    uint32_t r;
    __asm__(".insn r 0x0B, 0, 0, %0, %1, %2" : "=r"(r) : "r"(a), "r"(b));
    return r;
}

static inline void eh_cfu_setlen(uint32_t len, const void *aux)
{
    __asm__ volatile(".insn r 0x0B, 1, 0, x0, %0, %1" : : "r"(len), "r"(aux) : "memory");
}

static inline uint32_t eh_cfu_bdot(const uint32_t *a, const uint32_t *b)
{
    uint32_t r;
    __asm__ volatile(".insn r 0x0B, 2, 0, %0, %1, %2" : "=r"(r) : "r"(a), "r"(b) : "memory");
    return r;
}

static inline void eh_cfu_setfc(uint32_t rows, uint32_t k)
{
    __asm__ volatile(".insn r 0x0B, 5, 0, x0, %0, %1" : : "r"(rows), "r"(k) : "memory");
}

static inline void eh_cfu_bfc(const uint32_t *w, const uint32_t *x)
{
    __asm__ volatile(".insn r 0x0B, 6, 0, x0, %0, %1" : : "r"(w), "r"(x) : "memory");
}

static inline void eh_cfu_lifcfg(uint32_t shift_reset, uint32_t thr)
{
    __asm__ volatile(".insn r 0x0B, 3, 0, x0, %0, %1" : : "r"(shift_reset), "r"(thr) : "memory");
}

static inline uint32_t eh_cfu_lif(int16_t *v, const int16_t *x)
{
    uint32_t r;
    __asm__ volatile(".insn r 0x0B, 4, 0, %0, %1, %2" : "=r"(r) : "r"(v), "r"(x) : "memory");
    return r;
}

#endif

#endif /* EH_RV_CFU_H */
