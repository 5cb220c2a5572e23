/* eh_hal.h for QEMU riscv32 virt: NS16550A UART at 0x10000000, the minstret (or mcycle)
   counter read with csrr, exit through the SiFive test device at 0x100000 (QEMU exits with
   the code). */
#include "eh_board_config.h"
#include "eh_hal.h"
#include "eh_uart.h"

#define SIFIVE_TEST 0x100000u
#define SIFIVE_TEST_PASS 0x5555u
#define SIFIVE_TEST_FAIL 0x3333u

#if EH_COUNTER_MINSTRET
#define COUNTER_KIND "instructions"
#elif EH_COUNTER_MCYCLE
#define COUNTER_KIND "cycles"
#else
#error "virt-rv32: counter.source must be minstret or mcycle"
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
#if EH_COUNTER_MINSTRET
    __asm__ volatile("csrr %0, minstret" : "=r"(v));
#else
    __asm__ volatile("csrr %0, mcycle" : "=r"(v));
#endif
    return v;
}

void eh_hal_exit(int code)
{
    eh_uart_flush();
    volatile uint32_t *test = (volatile uint32_t *)(uintptr_t)SIFIVE_TEST;
    if (code == 0)
        *test = SIFIVE_TEST_PASS;
    else
        *test = ((uint32_t)code << 16) | SIFIVE_TEST_FAIL;
    for (;;) {
    }
}
