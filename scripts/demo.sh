#!/usr/bin/env bash
# The main job on a fresh machine: set up, build the firmware, start (flash) the emulated default
# board, run the HAR demo end to end (600 held-out windows through the device, each checked against
# the host simulation), then stop the board. Extra arguments go to `edgehost demo har`
# (e.g. --all, --board virt-rv32, --json).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
board=mps2-an386
for ((i = 1; i <= $#; i++)); do
  if [[ "${!i}" == "--board" || "${!i}" == "-b" ]]; then j=$((i + 1)); board="${!j}"; fi
done
rc=0
edgehost demo har "$@" || rc=$?
edgehost stop --board "$board" >/dev/null 2>&1 || true
exit $rc
