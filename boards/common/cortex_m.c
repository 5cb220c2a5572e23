#include "cortex_m.h"

#include "eh_hal.h"

int main(void);

#define REG32(addr) (*(volatile uint32_t *)(uintptr_t)(addr))

#define SCB_ICSR 0xE000ED04u
#define SCB_VTOR 0xE000ED08u
#define SCB_AIRCR 0xE000ED0Cu
#define SCB_CPACR 0xE000ED88u
#define ICSR_PENDSTSET (1u << 26)
#define DEMCR 0xE000EDFCu
#define DEMCR_TRCENA (1u << 24)
#define DWT_CTRL 0xE0001000u
#define DWT_CYCCNT 0xE0001004u
#define DWT_CTRL_NOCYCCNT (1u << 25)
#define SYST_CSR 0xE000E010u
#define SYST_RVR 0xE000E014u
#define SYST_CVR 0xE000E018u
#define SYST_MAX 0x00FFFFFFu

void eh_cm_reset(void)
{
    uint32_t *src = _sidata;
    for (uint32_t *dst = _sdata; dst < _edata;)
        *dst++ = *src++;
    for (uint32_t *dst = _sbss; dst < _ebss;)
        *dst++ = 0;
#if defined(__ARM_FP)
    /* Full access to CP10 and CP11 (the FPU) before any floating-point instruction. */
    REG32(SCB_CPACR) |= 0xFu << 20;
    __asm__ volatile("dsb\n\tisb" ::: "memory");
#endif
#if __ARM_ARCH >= 7
    /* Our own table, also when a bootloader started us from another one (UF2 boards). */
    REG32(SCB_VTOR) = (uint32_t)(uintptr_t)eh_vectors;
    __asm__ volatile("dsb\n\tisb" ::: "memory");
#endif
    eh_hal_init();
    eh_hal_exit(main());
    for (;;) {
    }
}

void eh_cm_fault(void)
{
    eh_hal_exit(EH_CM_FAULT_EXIT);
    for (;;) {
    }
}

/* ---- counter ---- */

static volatile uint32_t systick_wraps;
static int counter_dwt;

void eh_cm_systick_handler(void)
{
    systick_wraps = systick_wraps + 1u;
}

int eh_cm_counter_start(int try_dwt)
{
    counter_dwt = 0;
    if (try_dwt) {
        REG32(DEMCR) |= DEMCR_TRCENA;
        if (!(REG32(DWT_CTRL) & DWT_CTRL_NOCYCCNT)) {
            REG32(DWT_CYCCNT) = 0;
            REG32(DWT_CTRL) |= 1u;
            uint32_t first = REG32(DWT_CYCCNT);
            for (volatile int i = 0; i < 16; i++) {
            }
            counter_dwt = REG32(DWT_CYCCNT) != first;
        }
    }
    if (!counter_dwt) {
        REG32(SYST_CSR) = 0;
        REG32(SYST_RVR) = SYST_MAX;
        REG32(SYST_CVR) = 0;
        systick_wraps = 0;
        /* ENABLE | TICKINT | CLKSOURCE (processor clock). */
        REG32(SYST_CSR) = 7u;
    }
    return counter_dwt;
}

uint32_t eh_cm_counter(void)
{
    if (counter_dwt)
        return REG32(DWT_CYCCNT);
    uint32_t w, w2, v, pending;
    do {
        w = systick_wraps;
        v = REG32(SYST_CVR);
        pending = REG32(SCB_ICSR) & ICSR_PENDSTSET;
        w2 = systick_wraps;
    } while (w != w2);
    /* A reload that has happened but whose interrupt has not run yet (interrupts masked):
       the current value is then near the top of the range. */
    if (pending && v > SYST_MAX / 2u)
        w++;
    return (w << 24) + (SYST_MAX - v);
}

const char *eh_cm_counter_kind(void)
{
    return counter_dwt ? "cycles" : "systick-ticks";
}

/* ---- leaving ---- */

void eh_cm_semihosting_exit(int code)
{
    /* SYS_EXIT_EXTENDED (0x20) with {ADP_Stopped_ApplicationExit, code}: QEMU exits with
       `code` (plain SYS_EXIT on AArch32 only tells success from failure). */
    static volatile uint32_t block[2];
    block[0] = 0x20026u;
    block[1] = (uint32_t)code;
    register uint32_t r0 __asm__("r0") = 0x20u;
    register volatile uint32_t *r1 __asm__("r1") = block;
    __asm__ volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
    for (;;) {
    }
}

void eh_cm_system_reset(void)
{
    __asm__ volatile("dsb" ::: "memory");
    REG32(SCB_AIRCR) = 0x05FA0004u;
    __asm__ volatile("dsb" ::: "memory");
    for (;;) {
    }
}
