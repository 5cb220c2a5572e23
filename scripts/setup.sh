#!/usr/bin/env bash
# Everything edgehost needs on a fresh Debian 12 machine: the cross compilers and emulators from
# Debian, then the Python package (its C kernels compiled with cffi) and its test tools from PyPI.
# Safe to run again: it installs only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  cmake gcc make pkg-config
  gcc-arm-none-eabi libnewlib-arm-none-eabi binutils-arm-none-eabi
  gcc-riscv64-unknown-elf
  qemu-system-arm qemu-system-misc
  verilator iverilog yosys nextpnr-ice40 fpga-icestorm
  clang libclang-rt-14-dev   # libFuzzer + ASan/UBSan runtimes: bench/fuzz/run.sh, tests/test_fuzz_short.py
  ser2net                    # the labgrid exporters publish serial ports through it (docs/farm.md)
)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

PY=${PYTHON:-python3}
PIP="$PY -m pip install -q --disable-pip-version-check"
# PyTorch first, pinned to the CPU build this machine kind keeps on disk: an unpinned torch
# (asked for by snntorch users' tools) would pull a multi-GB CUDA build.
if ! $PY -c "import torch" 2>/dev/null; then
  echo "setup: installing PyTorch (CPU)"
  $PIP "torch==2.13.0"
fi
echo "setup: installing the edgehost Python package, its test tools, importers, training and HAR data"
echo "setup: (pip may report that norse lacks torchvision and sinabs samna / nir<=1.0.4: they are installed without them on purpose, below)"
$PIP -e ".[test,import,train,har,blimp,tflite-test,boards,fpga,nir-frameworks,farm]"
# Norse and Sinabs for the NIR cross-checks (tests/test_convert_nir_frameworks.py), without their
# declared dependencies: norse's torchvision would replace the CPU torch with a CUDA build, sinabs'
# samna pins an older nir. What the tests use of them needs nothing more than the packages above.
$PY -c "import norse, sinabs" 2>/dev/null || $PIP --no-deps "norse==1.1.0" "sinabs==3.1.3" "pbr"
# The editable install builds the C kernels into the source tree; rebuild them in place so a
# changed kernel source is always what the tests import.
$PY host/edgehost/kernels/_build.py >/dev/null
echo "setup: done ($($PY -c 'import edgehost; print("edgehost", edgehost.__version__)'))"
