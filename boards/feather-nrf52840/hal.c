/* eh_hal.h for the Adafruit Feather nRF52840, started by its UF2 bootloader: the same chip
   set-up as boards/nrf52840dk (64 MHz from the crystal, instruction cache on, UARTE0 with
   EasyDMA and interrupt-driven reception, DWT cycle counter, exit by system reset). The
   bootloader may have started the crystal already, which is harmless. Real hardware only. */
#include "cortex_m.h"
#include "eh_board_config.h"
#include "eh_hal.h"
#include "eh_uart.h"

#define REG32(addr) (*(volatile uint32_t *)(uintptr_t)(addr))
#define CLOCK_TASKS_HFCLKSTART 0x40000000u
#define CLOCK_EVENTS_HFCLKSTARTED 0x40000100u
#define NVMC_ICACHECNF 0x4001E540u

static eh_board_info info = {EH_BOARD_NAME, EH_BOARD_CORE, EH_CLOCK_HZ, "cycles"};
static int initialised;

void eh_hal_init(void)
{
    if (initialised)
        return;
    initialised = 1;
    /* The crystal: the UART baud rate and the counter's rate are then exact. */
    REG32(CLOCK_EVENTS_HFCLKSTARTED) = 0;
    REG32(CLOCK_TASKS_HFCLKSTART) = 1;
    while (!REG32(CLOCK_EVENTS_HFCLKSTARTED)) {
    }
    REG32(NVMC_ICACHECNF) |= 1u;
    static const eh_uart_config uart = {EH_UART_BASE, EH_UART_CLOCK_HZ, EH_UART_BAUD,
                                        EH_UART_TX_PIN, EH_UART_RX_PIN};
    eh_uart_init(&uart);
    eh_cm_counter_start(EH_COUNTER_DWT);
    info.counter_kind = eh_cm_counter_kind();
    __asm__ volatile("cpsie i" ::: "memory"); /* UARTE reception runs on its interrupt */
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
    (void)code;
    eh_cm_system_reset();
}
