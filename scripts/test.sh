#!/usr/bin/env bash
# The test command: set up a fresh machine, build the kernels for every target (host tests under
# ASan+UBSan), then run the Python test suite (kernels vs numpy twins, emulated boards).
# Long runs are marked `slow` and excluded; run them with: scripts/test.sh -m slow
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build-kernels.sh
"${PYTHON:-python3}" -m pytest "$@"
