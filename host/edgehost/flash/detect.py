"""Serial ports and debug probes, identified by USB VID:PID (never a guess by port name)."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

#: USB ids of debug probes and bootloaders (vid, pid or None for any product of the vendor)
KNOWN_USB = {
    (0x0D28, 0x0204): "Arm DAPLink (CMSIS-DAP)",
    (0x1366, None): "SEGGER J-Link",
    (0x0483, 0x3748): "ST-LINK/V2",
    (0x0483, 0x374B): "ST-LINK/V2-1",
    (0x0483, 0x374E): "STLINK-V3",
    (0x0483, 0x374F): "STLINK-V3",
    (0x0483, 0x3753): "STLINK-V3",
    (0x0483, 0xDF11): "STM32 USB DFU bootloader",
    (0x2E8A, 0x000C): "Raspberry Pi Debug Probe (CMSIS-DAP)",
    (0x03EB, 0x2111): "Microchip EDBG (CMSIS-DAP)",
    (0x1915, 0x521F): "Nordic nRF52840 Dongle bootloader",
    (0x239A, None): "Adafruit board or bootloader",
    (0xC251, 0xF002): "Keil ULINK / CMSIS-DAP",
}


def usb_name(vid: int | None, pid: int | None) -> str | None:
    if vid is None:
        return None
    return KNOWN_USB.get((vid, pid)) or KNOWN_USB.get((vid, None))


def _boards_for(vid: int | None, pid: int | None) -> list[str]:
    if vid is None:
        return []
    try:
        from ..boards import load_all
        boards = load_all()
    except Exception:  # noqa: BLE001 - listing ports must work without a boards/ folder
        return []
    return [b.name for b in boards if (vid, pid) in b.usb_vid_pids]


@dataclass
class PortInfo:
    device: str
    vid: int | None
    pid: int | None
    description: str = ""
    manufacturer: str | None = None
    serial_number: str | None = None
    usb: str | None = None           # "VVVV:PPPP"
    known_as: str | None = None      # probe / bootloader name from KNOWN_USB
    boards: list[str] = field(default_factory=list)  # boards whose usb_ids match

    def to_dict(self) -> dict:
        return asdict(self)


def list_ports() -> list[PortInfo]:
    from serial.tools import list_ports as lp
    out = []
    for p in sorted(lp.comports(), key=lambda p: p.device):
        vid, pid = p.vid, p.pid
        out.append(PortInfo(p.device, vid, pid, p.description or "", p.manufacturer, p.serial_number,
                            f"{vid:04X}:{pid:04X}" if vid is not None else None, usb_name(vid, pid),
                            _boards_for(vid, pid)))
    return out


@dataclass
class UsbDevice:
    usb: str
    vid: int
    pid: int
    product: str | None
    serial_number: str | None
    known_as: str | None
    boards: list[str]

    def to_dict(self) -> dict:
        return asdict(self)


def list_usb(sysfs: Path = Path("/sys/bus/usb/devices")) -> list[UsbDevice]:
    """USB devices of the known probes/bootloaders or of a board (Linux sysfs; [] elsewhere)."""
    out = []
    if not sysfs.exists():
        return out
    for d in sorted(sysfs.iterdir()):
        try:
            vid = int((d / "idVendor").read_text().strip(), 16)
            pid = int((d / "idProduct").read_text().strip(), 16)
        except (OSError, ValueError):
            continue
        known, boards = usb_name(vid, pid), _boards_for(vid, pid)
        if not known and not boards:
            continue

        def rd(name: str) -> str | None:
            try:
                return (d / name).read_text().strip()
            except OSError:
                return None
        out.append(UsbDevice(f"{vid:04X}:{pid:04X}", vid, pid, rd("product"), rd("serial"), known, boards))
    return out


def list_pyocd_probes() -> tuple[list[dict], str | None]:
    """Probes pyocd sees, and None; or [] and why none could be listed."""
    try:
        from pyocd.core.helpers import ConnectHelper  # type: ignore[import-not-found]
    except ImportError:
        return [], "pyocd is not installed (pip install pyocd)"
    try:
        probes = ConnectHelper.get_all_connected_probes(blocking=False, print_wait_message=False)
    except Exception as e:  # noqa: BLE001 - a USB backend error is a reason, not a crash
        return [], f"pyocd could not list probes: {e}"
    return [{"unique_id": p.unique_id, "description": p.description, "vendor": getattr(p, "vendor_name", None),
             "product": getattr(p, "product_name", None)} for p in probes], None


def find_board_port(board, ports: list[PortInfo] | None = None) -> tuple[str | None, str]:
    """The serial port of `board` by its USB ids: (device, "") or (None, why not)."""
    ids = board.usb_vid_pids
    if not ids:
        return None, f"board {board.name} lists no USB ids (board.json usb_ids)"
    ports = list_ports() if ports is None else ports
    hits = [p for p in ports if (p.vid, p.pid) in ids]
    if not hits:
        seen = ", ".join(f"{p.device} ({p.usb or 'no USB id'})" for p in ports) or "none"
        return None, (f"no serial port with USB id {', '.join(board.usb_ids)} of board {board.name} "
                      f"(ports seen: {seen})")
    if len(hits) > 1:
        return None, (f"several ports match board {board.name}: {', '.join(p.device for p in hits)}; "
                      "choose one with --port")
    return hits[0].device, ""
