# Cortex-M0 (nRF51 / QEMU microbit): Thumb-1, no FPU (soft float), no hardware divide.
set(EH_CORE cortex-m0)
set(EH_CPU_FLAGS "-mcpu=cortex-m0 -mthumb -mfloat-abi=soft")
include(${CMAKE_CURRENT_LIST_DIR}/arm-none-eabi.cmake)
