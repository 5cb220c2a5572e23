/* eh_hal.h for the MPS2 AN386 under QEMU: CMSDK UART0, SysTick counter (the DWT is tried
   first and does not count in QEMU), semihosting exit. */
#include "cortex_m.h"
#include "eh_board_config.h"
#include "eh_hal.h"
#include "eh_uart.h"

static eh_board_info info = {EH_BOARD_NAME, EH_BOARD_CORE, EH_CLOCK_HZ, "systick-ticks"};
static int initialised;

void eh_hal_init(void)
{
    if (initialised)
        return;
    initialised = 1;
    static const eh_uart_config uart = {EH_UART_BASE, EH_UART_CLOCK_HZ, EH_UART_BAUD,
                                        EH_UART_TX_PIN, EH_UART_RX_PIN};
    eh_uart_init(&uart);
    eh_cm_counter_start(EH_COUNTER_DWT);
    info.counter_kind = eh_cm_counter_kind();
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
    eh_cm_semihosting_exit(code);
}
