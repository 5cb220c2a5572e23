/* The vector table of a Cortex-M board that takes no device interrupt: the reset sequence is
   eh_cm_reset, every fault goes to eh_cm_fault, SysTick drives the counter's extension. An
   ARMv6-M core (Cortex-M0) has no MemManage, BusFault, UsageFault or DebugMonitor: reserved.
   A board whose UART wakes the core from sleep (board.json "uart": {"irq": N}, eh_hal_idle)
   gets entries for device interrupts 0..N as well, all eh_cm_fault: that interrupt only wakes
   the core (it is never taken), so taking it, or any other, is a firmware error (exit 99). */
#include "cortex_m.h"
#include "eh_board_config.h"

#if defined(__ARM_ARCH_6M__)
#define EH_V7M_FAULT 0
#else
#define EH_V7M_FAULT eh_cm_fault
#endif

#if defined(EH_UART_IRQ) && EH_UART_IRQ >= 0
#define EH_CM_DEVICE_VECTORS (EH_UART_IRQ + 1)
#else
#define EH_CM_DEVICE_VECTORS 0
#endif
#if EH_CM_DEVICE_VECTORS > 127
#error "boards/common/vectors_cortex_m.c: uart.irq above 126"
#endif

#define EH_CM_F1 eh_cm_fault,
#define EH_CM_F2 EH_CM_F1 EH_CM_F1
#define EH_CM_F4 EH_CM_F2 EH_CM_F2
#define EH_CM_F8 EH_CM_F4 EH_CM_F4
#define EH_CM_F16 EH_CM_F8 EH_CM_F8
#define EH_CM_F32 EH_CM_F16 EH_CM_F16
#define EH_CM_F64 EH_CM_F32 EH_CM_F32

__attribute__((section(".isr_vector"), used)) const eh_vector eh_vectors[16 + EH_CM_DEVICE_VECTORS] = {
    (eh_vector)_estack, /* initial stack pointer: top of RAM */
    eh_cm_reset,        /* reset */
    eh_cm_fault,        /* NMI */
    eh_cm_fault,        /* HardFault */
    EH_V7M_FAULT,       /* MemManage */
    EH_V7M_FAULT,       /* BusFault */
    EH_V7M_FAULT,       /* UsageFault */
    0, 0, 0, 0,
    eh_cm_fault,  /* SVCall */
    EH_V7M_FAULT, /* DebugMonitor */
    0,
    eh_cm_fault,           /* PendSV */
    eh_cm_systick_handler, /* SysTick */
    /* device interrupts 0 .. EH_CM_DEVICE_VECTORS - 1 */
#if EH_CM_DEVICE_VECTORS & 64
    EH_CM_F64
#endif
#if EH_CM_DEVICE_VECTORS & 32
    EH_CM_F32
#endif
#if EH_CM_DEVICE_VECTORS & 16
    EH_CM_F16
#endif
#if EH_CM_DEVICE_VECTORS & 8
    EH_CM_F8
#endif
#if EH_CM_DEVICE_VECTORS & 4
    EH_CM_F4
#endif
#if EH_CM_DEVICE_VECTORS & 2
    EH_CM_F2
#endif
#if EH_CM_DEVICE_VECTORS & 1
    EH_CM_F1
#endif
};
