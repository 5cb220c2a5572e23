"""Flashing a real board on a labgrid place, through the place's exported resources and labgrid's
own drivers (they run the tool on the exporter host over SSH, as `labgrid-client` does):

| place resource (exporter YAML) | as the client sees it | edgehost uses |
|---|---|---|
| `USBDebugger` (the board's CMSIS-DAP / J-Link OB / ST-Link) | `NetworkUSBDebugger` | labgrid's OpenOCDDriver: `program ELF verify reset` |
| `USBMassStorage` (a UF2 bootloader's drive) | `NetworkUSBMassStorage` | labgrid's USBStorageDriver: writes the UF2 file |
| `NetworkService` + FPGA boards (iCEBreaker) | | iceprog on the exporter over SSH, then the firmware over the place's serial port (its boot ROM) |

Not tested on this machine (no boards): docs/farm.md says what is.
"""
from __future__ import annotations

import shlex
import subprocess
import tempfile
from pathlib import Path

from .errors import FarmError, MissingResource


def _image(place, elf) -> Path:
    from ..flash import FlashError, build_firmware
    if elf is not None:
        return Path(elf).resolve()
    try:
        return build_firmware(place.board)
    except FlashError as e:
        raise place.fail(f"cannot build its firmware: {e}") from None


def _target(place):
    """A labgrid Target holding the (already acquired) place as a RemotePlace."""
    from labgrid import Environment
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
        f.write(f"targets:\n  main:\n    resources:\n      RemotePlace:\n        name: {place.name}\n"
                f"options:\n  coordinator_address: '{place.coordinator.address}'\n")
        path = f.name
    env = Environment(path)
    return env.get_target("main")


def flash_real(place, elf) -> str:
    """Flashes the real board on `place`; returns the method used. Every missing piece is a
    MissingResource naming the place and what to export."""
    from ..flash.methods import chip
    board = place.board
    res = place.resources
    tried = []
    if "NetworkUSBDebugger" in res and chip(board, "openocd"):
        from labgrid.driver import OpenOCDDriver
        image = _image(place, elf)
        t = _target(place)
        cfg = chip(board, "openocd")
        # the probe: SEGGER J-Link OB (nRF52840-DK, USB 1366:xxxx), ST-Link (STM32), else CMSIS-DAP
        if any(u.lower().startswith("1366:") for u in board.usb_ids):
            iface = "jlink.cfg"
        else:
            iface = "stlink.cfg" if "stm32" in cfg else "cmsis-dap.cfg"
        drv = OpenOCDDriver(t, name=None, interface_config=iface,
                            load_commands=["transport select swd", f"source [find {cfg}]", "init",
                                           "program {filename} verify reset", "shutdown"])
        t.activate(drv)
        try:
            drv.load(str(image))
        except Exception as e:  # noqa: BLE001 - labgrid's ExecutionError and SSH errors: one line
            raise place.fail(f"openocd on the exporter failed: {str(e).splitlines()[0] if str(e) else e}") from None
        return "openocd (labgrid OpenOCDDriver)"
    tried.append("a USBDebugger (openocd)" + ("" if chip(board, "openocd") else
                                              f": no openocd target known for {board.name}"))
    if "NetworkUSBMassStorage" in res and "uf2" in board.flash_methods:
        from labgrid.driver import USBStorageDriver
        from ..flash.methods import build_uf2
        data = build_uf2(board, _image(place, elf))[0]
        with tempfile.TemporaryDirectory() as td:
            f = Path(td) / "firmware.uf2"
            f.write_bytes(data)
            t = _target(place)
            drv = USBStorageDriver(t, name=None)
            t.activate(drv)
            try:
                drv.write_files([str(f)], target="/", partition=None, target_is_directory=True)
            except Exception as e:  # noqa: BLE001
                raise place.fail(f"writing the UF2 file to its drive failed: {e}") from None
        return "uf2 (labgrid USBStorageDriver)"
    tried.append("a USBMassStorage (UF2 drive)")
    if any(m in board.flash_methods for m in ("iceprog", "openfpgaloader")) and "NetworkService" in res:
        return _flash_fpga_over_ssh(place, _image(place, elf))
    tried.append("a NetworkService (SSH to the exporter, for an FPGA board's programmer)")
    raise MissingResource(f"place {place.name} ({board.name}): cannot flash it: it exports none of "
                          f"{'; '.join(tried)} (it has: {', '.join(sorted(res)) or 'nothing'}; "
                          f"last completed step: {place.step})")


def _flash_fpga_over_ssh(place, image: Path) -> str:
    from ..fpga import bitstream
    svc = place.resources["NetworkService"][0]
    host = f"{svc.get('username', 'root')}@{svc['address']}"
    bit = bitstream.build_bitstream(place.board)
    remote = f"/tmp/edgehost-{place.name}.bin"
    for argv in (["scp", "-q", str(bit.path), f"{host}:{remote}"], ["ssh", host, f"iceprog {shlex.quote(remote)}"]):
        r = subprocess.run(argv, capture_output=True, text=True, timeout=300)
        if r.returncode != 0:
            raise FarmError(f"place {place.name}: {' '.join(argv[:2])} failed: {(r.stderr or r.stdout).strip()[:300]}")
    import serial
    place.refresh()
    with serial.serial_for_url(place.serial_url, baudrate=place.board.uart.baud or 115200, timeout=0.2) as ser:
        bitstream.upload(ser, bitstream.image_bytes(image))
    return "iceprog over ssh, firmware over the place's serial port"
