#!/usr/bin/env bash
# Build the kernels for the host (with ASan+UBSan, and run the C tests) and cross-compile them
# for Cortex-M0, Cortex-M4F and RV32IMC, all with -Wall -Wextra -Werror.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)
cmake -S . -B build/host -DCMAKE_BUILD_TYPE=Debug >/dev/null
cmake --build build/host -j "$jobs"
ctest --test-dir build/host --output-on-failure
for core in cortex-m0 cortex-m4f rv32imc; do
  cmake -S . -B "build/$core" -DCMAKE_TOOLCHAIN_FILE="cmake/toolchains/$core.cmake" >/dev/null
  cmake --build "build/$core" -j "$jobs" --target eh_kernels
  echo "built build/$core/kernels_c/libeh_kernels.a"
done
