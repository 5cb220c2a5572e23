/* edgehost SoC (PicoRV32, machine mode, no interrupts): the reset vector is 0x80000000, the
   start of the RAM, where the linker script puts _start. Sets gp and sp, copies .data, zeroes
   .bss, then eh_hal_init(), main(), eh_hal_exit(main's result). PicoRV32 has no mtvec: a trap
   (illegal instruction, misaligned access, ebreak) halts the core, and the SoC reports it as
   exit code 99 (the testbench exits with 99, as virt-rv32's trap handler does). */
    .section .text.start, "ax"
    .globl _start
_start:
    .option push
    .option norelax
    la gp, __global_pointer$
    .option pop
    la sp, _estack

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
