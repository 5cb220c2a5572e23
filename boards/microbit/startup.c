/* micro:bit v1 (nRF51822, Cortex-M0): vector table. An M0 has no MemManage, BusFault,
   UsageFault or DebugMonitor: those slots are reserved. Reset: eh_cm_reset (../common). */
#include "cortex_m.h"

__attribute__((section(".isr_vector"), used)) const eh_vector eh_vectors[16] = {
    (eh_vector)_estack, /* initial stack pointer: top of RAM */
    eh_cm_reset,        /* reset */
    eh_cm_fault,        /* NMI */
    eh_cm_fault,        /* HardFault */
    0, 0, 0, 0, 0, 0, 0,
    eh_cm_fault, /* SVCall */
    0, 0,
    eh_cm_fault,           /* PendSV */
    eh_cm_systick_handler, /* SysTick */
};
