/* eh_hal.h for the Netduino Plus 2 (STM32F405RG), under QEMU or on the board.
   The chip runs on its 16 MHz HSI (reset default, no PLL); USART1 on PA9 (TX) / PA10 (RX).
   Counter: DWT CYCCNT on silicon; QEMU does not model it, so SysTick there. Exit: semihosting
   under QEMU (the DWT did not count), a system reset on silicon. */
#include "cortex_m.h"
#include "eh_board_config.h"
#include "eh_hal.h"
#include "eh_uart.h"

#define REG32(addr) (*(volatile uint32_t *)(uintptr_t)(addr))
#define RCC_AHB1ENR 0x40023830u
#define RCC_APB2ENR 0x40023844u
#define GPIOA_MODER 0x40020000u
#define GPIOA_AFRH 0x40020024u

static eh_board_info info = {EH_BOARD_NAME, EH_BOARD_CORE, EH_CLOCK_HZ, "systick-ticks"};
static int initialised;
static int on_silicon;

static void pins_and_clocks(void)
{
    REG32(RCC_AHB1ENR) |= 1u << 0; /* GPIOA */
    REG32(RCC_APB2ENR) |= 1u << 4; /* USART1 */
    uint32_t tx = (uint32_t)EH_UART_TX_PIN, rx = (uint32_t)EH_UART_RX_PIN;
    uint32_t moder = REG32(GPIOA_MODER);
    moder &= ~((3u << (2u * tx)) | (3u << (2u * rx)));
    moder |= (2u << (2u * tx)) | (2u << (2u * rx)); /* alternate function */
    REG32(GPIOA_MODER) = moder;
    uint32_t afrh = REG32(GPIOA_AFRH);
    afrh &= ~((0xFu << (4u * (tx - 8u))) | (0xFu << (4u * (rx - 8u))));
    afrh |= (7u << (4u * (tx - 8u))) | (7u << (4u * (rx - 8u))); /* AF7 = USART1 */
    REG32(GPIOA_AFRH) = afrh;
}

void eh_hal_init(void)
{
    if (initialised)
        return;
    initialised = 1;
    pins_and_clocks();
    static const eh_uart_config uart = {EH_UART_BASE, EH_UART_CLOCK_HZ, EH_UART_BAUD,
                                        EH_UART_TX_PIN, EH_UART_RX_PIN};
    eh_uart_init(&uart);
    on_silicon = eh_cm_counter_start(EH_COUNTER_DWT);
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
#if EH_EXIT_SEMIHOSTING_OR_RESET
    if (!on_silicon)
        eh_cm_semihosting_exit(code);
#else
#error "netduinoplus2/hal.c implements the exit kind semihosting-or-reset only"
#endif
    eh_cm_system_reset();
}
