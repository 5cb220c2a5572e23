/* Start-up of the RISC-V boards (machine mode): the reset vector is 0x80000000, where the linker
   script (riscv.ld) puts _start. Sets gp and sp, installs the trap handler, copies .data, zeroes
   .bss, then eh_hal_init(), main(), eh_hal_exit(main's result).
   EH_RV_NO_MTVEC (the edgehost SoC's boards, boards/rv32-sim/start.S): PicoRV32 has no mtvec; a
   trap (illegal instruction, misaligned access, ebreak) halts the core and the SoC reports it as
   exit code 99, which is what the handler below does on cores that have one (QEMU virt). */
    .section .text.start, "ax"
    .globl _start
_start:
    .option push
    .option norelax
    la gp, __global_pointer$
    .option pop
    la sp, _estack
#ifndef EH_RV_NO_MTVEC
    la t0, eh_trap
    csrw mtvec, t0
#endif

    la t0, _sidata
    la t1, _sdata
    la t2, _edata
1:  bgeu t1, t2, 2f
    lw t3, 0(t0)
    sw t3, 0(t1)
    addi t0, t0, 4
    addi t1, t1, 4
    j 1b
2:  la t1, _sbss
    la t2, _ebss
3:  bgeu t1, t2, 4f
    sw zero, 0(t1)
    addi t1, t1, 4
    j 3b
4:  call eh_hal_init
    call main
    call eh_hal_exit
5:  j 5b

#ifndef EH_RV_NO_MTVEC
/* Any trap (illegal instruction, misaligned or faulting access, ecall) ends the run with
   exit code 99, like eh_cm_fault on the Cortex-M boards. mtvec needs 4-byte alignment. */
    .balign 4
    .globl eh_trap
eh_trap:
    la sp, _estack
    li a0, 99
    call eh_hal_exit
6:  j 6b
#endif
