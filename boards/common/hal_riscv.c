/* eh_hal.h for the RISC-V boards: the 16550-compatible UART at EH_UART_BASE
   (firmware/drivers/uart_16550.c), the counter, and exit through a SiFive-test-compatible
   register at 0x100000 (QEMU virt and the edgehost SoC's simulator exit with the code; on an FPGA
   board the register is ignored and the core spins).
   Counter: minstret or mcycle read with csrr (QEMU virt), or with EH_RV_RDCYCLE (the edgehost SoC,
   boards/rv32-sim/hal.c) PicoRV32's rdcycle: one per clock, so the counts are cycles of the real
   design. */
#include "eh_board_config.h"
#include "eh_hal.h"
#include "eh_uart.h"

#define EXIT_REG 0x100000u
#define EXIT_PASS 0x5555u
#define EXIT_FAIL 0x3333u

#if defined(EH_RV_RDCYCLE)
#if !EH_COUNTER_MCYCLE
#error "edgehost SoC boards: counter.source must be mcycle (read with rdcycle)"
#endif
#define COUNTER_KIND "cycles"
#elif EH_COUNTER_MINSTRET
#define COUNTER_KIND "instructions"
#elif EH_COUNTER_MCYCLE
#define COUNTER_KIND "cycles"
#else
#error "RISC-V boards: counter.source must be minstret or mcycle"
#endif

static const eh_board_info info = {EH_BOARD_NAME, EH_BOARD_CORE, EH_CLOCK_HZ, COUNTER_KIND};
static int initialised;

void eh_hal_init(void)
{
    if (initialised)
        return;
    initialised = 1;
    static const eh_uart_config uart = {EH_UART_BASE, EH_UART_CLOCK_HZ, EH_UART_BAUD,
                                        EH_UART_TX_PIN, EH_UART_RX_PIN};
    eh_uart_init(&uart);
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
    uint32_t v;
#if defined(EH_RV_RDCYCLE)
    __asm__ volatile("rdcycle %0" : "=r"(v));
#elif EH_COUNTER_MINSTRET
    __asm__ volatile("csrr %0, minstret" : "=r"(v));
#else
    __asm__ volatile("csrr %0, mcycle" : "=r"(v));
#endif
    return v;
}

void eh_hal_exit(int code)
{
    eh_uart_flush();
    volatile uint32_t *reg = (volatile uint32_t *)(uintptr_t)EXIT_REG;
    if (code == 0)
        *reg = EXIT_PASS;
    else
        *reg = ((uint32_t)code << 16) | EXIT_FAIL;
    for (;;) {
    }
}
