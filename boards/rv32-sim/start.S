/* edgehost SoC (PicoRV32, machine mode, no interrupts): the RISC-V start-up without a trap handler
   (PicoRV32 has no mtvec; a trap halts the core and the SoC reports exit code 99). */
#define EH_RV_NO_MTVEC 1
#include "../common/start_riscv.S"
