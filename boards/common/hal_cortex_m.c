/*
 * eh_hal.h for every Cortex-M board, from the board's generated eh_board_config.h (its
 * board.json): the UART driver at its base address, the counter (the DWT cycle counter where it
 * counts, otherwise SysTick; counter_kind says which) and the exit kind. A board with chip set-up
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
