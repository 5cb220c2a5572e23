/* eh_hal.h for the edgehost SoC (fpga/rtl/eh_soc.v) in RTL simulation and on FPGAs: the RISC-V
   HAL with the counter read by rdcycle (PicoRV32 has no mcycle CSR). */
#define EH_RV_RDCYCLE 1
#include "../common/hal_riscv.c"
