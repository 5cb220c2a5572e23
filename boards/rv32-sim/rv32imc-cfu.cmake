# RV32IMC for the edgehost SoC with its custom unit (fpga/rtl/eh_cfu.v): the rv32imc toolchain
# plus EH_HAVE_RV_CFU, which switches the binary and LIF kernels to the unit's instructions
# (kernels_c/src/eh_rv_cfu.h). Only the boards with the unit use this file.
include(${CMAKE_CURRENT_LIST_DIR}/../../cmake/toolchains/rv32imc.cmake)
set(CMAKE_C_FLAGS_INIT "${CMAKE_C_FLAGS_INIT} -DEH_HAVE_RV_CFU=1")
