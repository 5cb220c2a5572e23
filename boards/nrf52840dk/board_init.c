/* nRF52840 (the DK, and the Feather behind its bootloader): 64 MHz from the external crystal
   (the UART baud rate and the cycle counter's rate are then exact), instruction cache on, and,
   once UARTE0 is set up, interrupts on: its reception runs on its interrupt. The rest of eh_hal.h
   is boards/common/hal_cortex_m.c (DWT cycle counter, exit by system reset). Real hardware only. */
#include <stdint.h>

#define REG32(addr) (*(volatile uint32_t *)(uintptr_t)(addr))
#define CLOCK_TASKS_HFCLKSTART 0x40000000u
#define CLOCK_EVENTS_HFCLKSTARTED 0x40000100u
#define NVMC_ICACHECNF 0x4001E540u

void eh_board_init(void);
void eh_board_init_late(void);

void eh_board_init(void)
{
    REG32(CLOCK_EVENTS_HFCLKSTARTED) = 0;
    REG32(CLOCK_TASKS_HFCLKSTART) = 1;
    while (!REG32(CLOCK_EVENTS_HFCLKSTARTED)) {
    }
    REG32(NVMC_ICACHECNF) |= 1u;
}

void eh_board_init_late(void)
{
    __asm__ volatile("cpsie i" ::: "memory");
}
