/* Netduino Plus 2 (STM32F405RG), under QEMU or on the board: the chip runs on its 16 MHz HSI
   (reset default, no PLL); USART1 on PA9 (TX) / PA10 (RX) needs its GPIO clock, pins in
   alternate function 7 and the USART clock. The rest of eh_hal.h is boards/common/hal_cortex_m.c
   (DWT CYCCNT on silicon, SysTick under QEMU; semihosting exit under QEMU, reset on silicon). */
#include <stdint.h>

#include "eh_board_config.h"

#define REG32(addr) (*(volatile uint32_t *)(uintptr_t)(addr))
#define RCC_AHB1ENR 0x40023830u
#define RCC_APB2ENR 0x40023844u
#define GPIOA_MODER 0x40020000u
#define GPIOA_AFRH 0x40020024u

void eh_board_init(void);

void eh_board_init(void)
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
