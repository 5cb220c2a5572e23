/*
 * eh_hal.h for every Cortex-M board, from the board's generated eh_board_config.h (its
 * board.json): the UART driver at its base address, the counter (the DWT cycle counter where it
 * counts, otherwise SysTick; counter_kind says which), the exit kind and, with "uart": {"irq": N},
 * sleeping while the link is quiet (eh_hal_idle). A board with chip set-up
 * to do (clocks, pins, caches) defines eh_board_init(), run before the UART is set up, and
 * eh_board_init_late(), run last; both default to nothing.
 */
#include "cortex_m.h"
#include "eh_board_config.h"
#include "eh_hal.h"
#include "eh_uart.h"

__attribute__((weak)) void eh_board_init(void) {}
__attribute__((weak)) void eh_board_init_late(void) {}

static eh_board_info info = {EH_BOARD_NAME, EH_BOARD_CORE, EH_CLOCK_HZ, "systick-ticks"};
static int initialised;
static int dwt_counts; /* the DWT counts cycles: real silicon, not QEMU */

void eh_hal_init(void)
{
    if (initialised)
        return;
    initialised = 1;
    eh_board_init();
    static const eh_uart_config uart = {EH_UART_BASE, EH_UART_CLOCK_HZ, EH_UART_BAUD,
                                        EH_UART_TX_PIN, EH_UART_RX_PIN};
    eh_uart_init(&uart);
    dwt_counts = eh_cm_counter_start(EH_COUNTER_DWT);
    info.counter_kind = eh_cm_counter_kind();
    eh_board_init_late();
}

const eh_board_info *eh_hal_board(void)
{
    return &info;
}

void eh_hal_uart_write(const uint8_t *buf, uint32_t n)
{
    eh_uart_write(buf, n);
}

int eh_hal_uart_read(uint8_t *byte)
{
    return eh_uart_read(byte);
}

/*
 * Sleep until a byte arrives, with interrupts masked (PRIMASK) the whole time: WFI wakes on an
 * interrupt that is enabled in the NVIC and pending, whatever PRIMASK says, but the UART's
 * handler is never entered. The UART's receive interrupt is on only inside this function, and
 * its line is low and its NVIC state clear when it returns, so nothing of it reaches the
 * inference (no extra instructions in a counted INFER). SysTick also wakes the core (once per
 * 2^24 ticks); its handler runs after PRIMASK is cleared, as it would have.
 */
#define NVIC_ISER 0xE000E100u
#define NVIC_ICER 0xE000E180u
#define NVIC_ICPR 0xE000E280u

void eh_hal_idle(void)
{
#if defined(EH_UART_IRQ) && EH_UART_IRQ >= 0
    volatile uint32_t *iser = (volatile uint32_t *)(uintptr_t)(NVIC_ISER + 4u * ((uint32_t)EH_UART_IRQ / 32u));
    volatile uint32_t *icer = (volatile uint32_t *)(uintptr_t)(NVIC_ICER + 4u * ((uint32_t)EH_UART_IRQ / 32u));
    volatile uint32_t *icpr = (volatile uint32_t *)(uintptr_t)(NVIC_ICPR + 4u * ((uint32_t)EH_UART_IRQ / 32u));
    const uint32_t bit = 1u << ((uint32_t)EH_UART_IRQ % 32u);
    __asm__ volatile("cpsid i" ::: "memory");
    *icpr = bit;
    eh_uart_rx_wake(1);
    *iser = bit;
    __asm__ volatile("dsb" ::: "memory");
    if (!eh_uart_rx_pending())
        __asm__ volatile("wfi" ::: "memory");
    eh_uart_rx_wake(0);
    *icer = bit;
    *icpr = bit;
    __asm__ volatile("dsb\n\tisb" ::: "memory");
    __asm__ volatile("cpsie i" ::: "memory");
#endif
}

uint32_t eh_hal_counter(void)
{
    return eh_cm_counter();
}

void eh_hal_exit(int code)
{
    eh_uart_flush();
#if EH_EXIT_SEMIHOSTING
    eh_cm_semihosting_exit(code);
#elif EH_EXIT_SEMIHOSTING_OR_RESET
    /* Under an emulator (the DWT does not count) semihosting ends it with the code; on silicon
       a semihosting call without a debugger would fault, so reset instead. */
    if (!dwt_counts)
        eh_cm_semihosting_exit(code);
    eh_cm_system_reset();
#elif EH_EXIT_RESET
    (void)code;
    eh_cm_system_reset();
#else
#error "boards/common/hal_cortex_m.c: the board's exit kind is not one a Cortex-M board supports"
#endif
}
