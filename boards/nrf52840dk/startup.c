/* nRF52840: vector table with the chip's 48 interrupts. UARTE0 (IRQ 2) goes to the UARTE
   driver; every other interrupt is unexpected and ends in eh_cm_fault. Reset: eh_cm_reset. */
#include "cortex_m.h"
#include "eh_uart.h" /* eh_uart_irq_handler */

#define NRF52840_IRQS 48

__attribute__((section(".isr_vector"), used)) const eh_vector eh_vectors[16 + NRF52840_IRQS] = {
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
    [16 ... 16 + 1] = eh_cm_fault,
    [16 + 2] = eh_uart_irq_handler, /* UARTE0_UART0 */
    [16 + 3 ... 16 + NRF52840_IRQS - 1] = eh_cm_fault,
};
