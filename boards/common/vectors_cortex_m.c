/* The vector table of a Cortex-M board that takes no device interrupt: the reset sequence is
   eh_cm_reset, every fault goes to eh_cm_fault, SysTick drives the counter's extension. An
   ARMv6-M core (Cortex-M0) has no MemManage, BusFault, UsageFault or DebugMonitor: reserved. */
#include "cortex_m.h"

#if defined(__ARM_ARCH_6M__)
#define EH_V7M_FAULT 0
#else
#define EH_V7M_FAULT eh_cm_fault
#endif

__attribute__((section(".isr_vector"), used)) const eh_vector eh_vectors[16] = {
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
};
