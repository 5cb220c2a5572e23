/* MPS2 AN386 (Cortex-M4F): vector table. The reset sequence is eh_cm_reset (../common). */
#include "cortex_m.h"

__attribute__((section(".isr_vector"), used)) const eh_vector eh_vectors[16] = {
    (eh_vector)_estack, /* initial stack pointer: top of RAM */
    eh_cm_reset,        /* reset */
    eh_cm_fault,        /* NMI */
    eh_cm_fault,        /* HardFault */
    eh_cm_fault,        /* MemManage */
    eh_cm_fault,        /* BusFault */
    eh_cm_fault,        /* UsageFault */
    0, 0, 0, 0,
    eh_cm_fault, /* SVCall */
    eh_cm_fault, /* DebugMonitor */
    0,
    eh_cm_fault,           /* PendSV */
    eh_cm_systick_handler, /* SysTick */
};
