# Cortex-M4F (nRF52840, STM32F4, QEMU mps2-an386 / netduinoplus2): hard float, DSP extension.
set(EH_CORE cortex-m4f)
set(EH_CPU_FLAGS "-mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16")
include(${CMAKE_CURRENT_LIST_DIR}/arm-none-eabi.cmake)
