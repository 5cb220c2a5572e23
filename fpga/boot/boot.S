/* Boot ROM of the edgehost SoC on FPGA boards (BRAM at 0x00000000, the reset vector): loads the
   firmware image over the UART into the RAM at 0x80000000 and jumps to it.
   Protocol (host side: edgehost.fpga.ice40.upload):
     ROM  -> host  "EHBOOT\n"                      (at reset, and again after a bad image)
     host -> ROM   'L', length (4 bytes LE), the image's bytes, sum of the bytes (4 bytes LE)
     ROM  -> host  "OK\n" and jumps to 0x80000000, or "BAD\n" (checksum) and waits again
   The UART is the SoC's 16550-compatible one at 0x10000000 (LSR at +5: DR bit 0, THRE bit 5). */
    .section .text
    .globl _start
_start:
    li s0, 0x10000000           /* UART */
    li s1, 0x80000000           /* RAM */
restart:
    la a0, msg_boot
    call puts
1:  call getc
    li t0, 'L'
    bne a0, t0, 1b
    call get32
    mv s2, a0                   /* length */
    mv s3, s1                   /* write pointer */
    li s4, 0                    /* sum */
2:  beqz s2, 3f
    call getc
    sb a0, 0(s3)
    add s4, s4, a0
    addi s3, s3, 1
    addi s2, s2, -1
    j 2b
3:  call get32
    bne a0, s4, bad
    la a0, msg_ok
    call puts
    li t0, 0x10000000
4:  lbu t1, 5(t0)               /* wait until the "OK\n" has left */
    andi t1, t1, 0x40
    beqz t1, 4b
    jr s1
bad:
    la a0, msg_bad
    call puts
    j restart

getc:                           /* a0 = next byte */
    lbu t0, 5(s0)
    andi t0, t0, 1
    beqz t0, getc
    lbu a0, 0(s0)
    ret

get32:                          /* a0 = 4 bytes, little-endian */
    mv t3, ra
    li t4, 0
    li t5, 0
5:  call getc
    sll a0, a0, t5
    or t4, t4, a0
    addi t5, t5, 8
    li t6, 32
    bne t5, t6, 5b
    mv a0, t4
    mv ra, t3
    ret

puts:                           /* a0 = NUL-terminated string */
    lbu t0, 0(a0)
    beqz t0, 7f
6:  lbu t1, 5(s0)
    andi t1, t1, 0x20
    beqz t1, 6b
    sb t0, 0(s0)
    addi a0, a0, 1
    j puts
7:  ret

msg_boot: .asciz "EHBOOT\n"
msg_ok:   .asciz "OK\n"
msg_bad:  .asciz "BAD\n"
