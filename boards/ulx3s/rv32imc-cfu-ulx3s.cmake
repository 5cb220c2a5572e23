# RV32IMC for the edgehost SoC on the ULX3S (256 KiB of block RAM): the rv32-sim build (custom
# unit, -O2: the kernels are the same code as on rv32-sim, so their cycle counts are too) with the
# firmware runtime's buffers sized like the Cortex-M4 boards' (firmware/runtime/eh_fw_config.h):
# 48 KiB for a model blob, 32 KiB of arena (board.json: 128 KiB for the image, 128 KiB for data).
include(${CMAKE_CURRENT_LIST_DIR}/../rv32-sim/rv32imc-cfu.cmake)
set(CMAKE_C_FLAGS_INIT "${CMAKE_C_FLAGS_INIT} -DEH_FW_BLOB_SIZE=49152u -DEH_FW_ARENA_SIZE=32768u")
