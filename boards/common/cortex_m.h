/*
 * Support shared by the Cortex-M boards (M0 and M4F): the reset sequence, fault handlers,
 * the cycle/tick counter (DWT CYCCNT, or SysTick where the DWT does not count), ARM
 * semihosting exit and the system reset. Each board's startup.c holds its vector table and
 * its hal.c calls these helpers.
 */
#ifndef EH_CORTEX_M_H
#define EH_CORTEX_M_H

#include <stdint.h>

/* Symbols from boards/common/cortex-m.ld. */
extern uint32_t _sidata[], _sdata[], _edata[], _sbss[], _ebss[], _estack[];

typedef void (*eh_vector)(void);

/* The board's vector table (its startup.c), in section .isr_vector at the start of flash. */
extern const eh_vector eh_vectors[];

/* Reset handler: copies .data, zeroes .bss, enables the FPU (CP10/CP11) when the core has
   one, calls eh_hal_init(), then main(); main's return value goes to eh_hal_exit(). */
void eh_cm_reset(void);
/* Default handler for faults and unexpected interrupts: leaves with code EH_CM_FAULT_EXIT. */
void eh_cm_fault(void);
void eh_cm_systick_handler(void);

#define EH_CM_FAULT_EXIT 99

/* Counter. eh_cm_counter_start(1) enables the DWT cycle counter and checks that it
   advances; if it does not (QEMU does not model it) or try_dwt is 0, SysTick runs instead,
   reloading every 2^24 ticks with an interrupt that extends it to 32 bits.
   Returns 1 when the DWT counts (that is: real silicon), 0 for SysTick. */
int eh_cm_counter_start(int try_dwt);
uint32_t eh_cm_counter(void);
/* "cycles" (DWT) or "systick-ticks" (SysTick on the processor clock), after start. */
const char *eh_cm_counter_kind(void);

/* ARM semihosting SYS_EXIT_EXTENDED: the emulator (QEMU with -semihosting-config
   enable=on,target=native) exits with `code`. On silicon without a debugger this traps. */
void eh_cm_semihosting_exit(int code) __attribute__((noreturn));
/* SCB AIRCR SYSRESETREQ. */
void eh_cm_system_reset(void) __attribute__((noreturn));

#endif
