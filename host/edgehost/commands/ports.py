"""`edgehost ports`: serial ports, debug probes and bootloaders by USB VID:PID, and sessions."""
from __future__ import annotations

import json


def register(sub) -> None:
    p = sub.add_parser("ports", help="list serial ports and debug probes (USB VID:PID)",
                       description="List serial ports with their USB VID:PID and the boards they belong "
                                   "to, known debug probes and bootloaders on USB, pyocd's probes, and the "
                                   "running board sessions.")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..flash.detect import list_ports, list_pyocd_probes, list_usb
    from ..flash.sessions import list_sessions

    ports = list_ports()
    usb = list_usb()
    probes, why = list_pyocd_probes()
    sessions = [dict(s.to_dict(), alive=a) for s, a in list_sessions()]
    if args.json:
        print(json.dumps({"ports": [p.to_dict() for p in ports], "usb": [u.to_dict() for u in usb],
                          "pyocd_probes": probes, "pyocd_note": why, "sessions": sessions}, indent=2))
        return 0
    print("serial ports:" if ports else "serial ports: none")
    for p in ports:
        extra = ", ".join(x for x in (p.known_as, ("board " + "/".join(p.boards)) if p.boards else None) if x)
        print(f"  {p.device:<22} {p.usb or 'no USB id':<10} {p.description}" + (f"  [{extra}]" if extra else ""))
    print("probes and bootloaders on USB:" if usb else "probes and bootloaders on USB: none")
    for u in usb:
        extra = ", ".join(x for x in (u.known_as, ("board " + "/".join(u.boards)) if u.boards else None) if x)
        print(f"  {u.usb:<10} {u.product or ''} {u.serial_number or ''}  [{extra}]")
    if why:
        print(f"pyocd probes: {why}")
    else:
        print("pyocd probes:" if probes else "pyocd probes: none")
        for pr in probes:
            print(f"  {pr['unique_id']}  {pr['description']}")
    print("sessions:" if sessions else "sessions: none")
    for s in sessions:
        print(f"  {s['board']:<16} {s['port']:<28} pid {s['pid']}  started {s['started_iso']}")
    return 0
