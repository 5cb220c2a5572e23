# RV32IMC for the edgehost SoC on the iCEBreaker (128 KiB of SPRAM for code and data): the
# custom unit (EH_HAVE_RV_CFU), code optimised for size, and the firmware runtime's buffers cut
# to fit (firmware/runtime/eh_fw_config.h): 16 KiB for a model blob, 16 KiB of arena, 512-byte frames
# (board.json: 80 KiB for the image, 48 KiB for data and the stack).
include(${CMAKE_CURRENT_LIST_DIR}/../../cmake/toolchains/rv32imc.cmake)
set(CMAKE_C_FLAGS_INIT "${CMAKE_C_FLAGS_INIT} -DEH_HAVE_RV_CFU=1 -DEH_FW_BLOB_SIZE=16384u -DEH_FW_ARENA_SIZE=16384u -DEH_FW_MAX_PAYLOAD=512u")
set(CMAKE_C_FLAGS_RELEASE "-Os -DNDEBUG" CACHE STRING "size first: the image shares 128 KiB with its data")
