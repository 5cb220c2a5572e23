/* eh_hal.h for the RISC-V boards: the 16550-compatible UART at EH_UART_BASE
   (firmware/drivers/uart_16550.c), the counter, and exit through a SiFive-test-compatible
   register at 0x100000 (QEMU virt and the edgehost SoC's simulator exit with the code; on an FPGA
   board the register is ignored and the core spins).
   Counter: minstret or mcycle read with csrr (QEMU virt), or with EH_RV_RDCYCLE (the edgehost SoC,
   boards/rv32-sim/hal.c) PicoRV32's rdcycle: one per clock, so the counts are cycles of the real
   design.
   Sleep (eh_hal_idle, boards with "uart": {"irq": N}, QEMU virt: N = 10): WFI with the UART's PLIC
   source enabled for hart 0's machine mode and mie.MEIE set but mstatus.MIE clear, so a byte
   wakes the core and no trap is taken. The edgehost SoC (PicoRV32 without its IRQ option) has
   no WFI: there the simulator's testbench notices the idle loop instead (fpga/sim/tb.cpp). */
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

#if defined(EH_UART_IRQ) && EH_UART_IRQ >= 0 && !defined(EH_RV_RDCYCLE)
/* The SiFive-compatible PLIC of QEMU virt; context 0 is hart 0 in machine mode. */
#define PLIC_BASE 0x0C000000u
#define PLIC_PRIORITY(src) (PLIC_BASE + 4u * (src))
#define PLIC_ENABLE0(src) (PLIC_BASE + 0x2000u + 4u * ((src) / 32u))
#define PLIC_THRESHOLD0 (PLIC_BASE + 0x200000u)
#define PLIC_CLAIM0 (PLIC_BASE + 0x200004u)
#define MIE_MEIE (1u << 11)
#define REG32(a) (*(volatile uint32_t *)(uintptr_t)(a))

void eh_hal_idle(void)
{
    const uint32_t src = (uint32_t)EH_UART_IRQ, bit = 1u << (src % 32u);
    uint32_t id;
    __asm__ volatile("csrc mstatus, %0" ::"r"(8u) : "memory"); /* MIE off: wake, never trap */
    REG32(PLIC_PRIORITY(src)) = 1u;
    REG32(PLIC_THRESHOLD0) = 0u;
    eh_uart_rx_wake(1);
    REG32(PLIC_ENABLE0(src)) |= bit;
    __asm__ volatile("csrs mie, %0" ::"r"(MIE_MEIE) : "memory");
    if (!eh_uart_rx_pending())
        __asm__ volatile("wfi" ::: "memory");
    __asm__ volatile("csrc mie, %0" ::"r"(MIE_MEIE) : "memory");
    eh_uart_rx_wake(0);
    /* A PLIC may keep a source pending until it is claimed: claim (while it is still enabled:
       a claim only returns enabled sources) and complete it, so this byte does not end the next
       sleep. */
    id = REG32(PLIC_CLAIM0);
    if (id)
        REG32(PLIC_CLAIM0) = id;
    REG32(PLIC_ENABLE0(src)) &= ~bit;
}
#else
void eh_hal_idle(void)
{
}
#endif

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
