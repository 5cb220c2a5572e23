#!/bin/sh
# The local labgrid farm (docs/farm.md): one coordinator and two exporters on 127.0.0.1 exporting
# emulated boards (mps2-an386 x2, virt-rv32, netduinoplus2) as places, serial through ser2net.
#   scripts/farm.sh up        # prints: export LG_COORDINATOR=127.0.0.1:PORT
#   scripts/farm.sh status
#   scripts/farm.sh down
# Needs: pip install -e '.[farm]' (labgrid, pytest-xdist) and apt-get install ser2net
# (scripts/setup.sh installs both).
set -eu
exec python3 -m edgehost.farm "$@"
