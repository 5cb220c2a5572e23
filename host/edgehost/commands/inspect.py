"""`edgehost inspect MODEL.ehm`: layers, sizes, operation counts, memory and board fit."""
from __future__ import annotations

import json

from ..cli import UserError
from . import _args as A


def register(sub) -> None:
    p = sub.add_parser(
        "inspect", help="describe an .ehm blob: layers, params, arena, MACs/ACE, boards it fits",
        description="Validate an .ehm blob (as the firmware loader does) and describe it.")
    p.add_argument("model", help="the .ehm blob")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..blob import BlobError, read
    from ..convert.analyze import summary
    from ..model_fit import Need, boards

    path = A.model_file(args.model, "MODEL")
    try:
        blob = path.read_bytes()
    except OSError as e:
        raise UserError(f"MODEL {args.model!r}: cannot read it ({e.strerror})") from None
    try:
        m = read(blob)
    except BlobError as e:
        raise UserError(f"MODEL {args.model!r} is not a valid .ehm blob: {e}") from None
    d = summary(m, blob)
    if "boards" in d:   # the full need (input and output per step too), as `build --model` checks it
        try:
            d["boards"] = boards(Need.of(blob, m))
        except UserError:
            pass
    d["file"] = args.model
    if args.json:
        print(json.dumps(d, indent=2))
        return 0
    print(f"{args.model}: {d['format']}, {d['bytes']} bytes, hash {d['hash']}")
    print(f"  input  {d['input']['dtype']} {d['input']['shape']}   output {d['output']['dtype']} "
          f"{d['output']['shape']} (scale {d['output']['scale']:.6g})")
    print(f"  params {d['param_bytes']} B   arena {d['arena_bytes']} B (state {d['state_bytes']} B)   "
          f"MACs/step {d['macs']}   ACE/step {d['ace']}")
    print(f"  {'#':>3} {'type':<15} {'in':>12} {'out':>12} {'params':>8} {'state':>6} {'MACs':>9} {'ACE':>12}")
    for r in d["layers"]:
        print(f"  {r['index']:3d} {r['type']:<15} {r['input']['dtype'] + str(r['input']['shape']):>12} "
              f"{r['output']['dtype'] + str(r['output']['shape']):>12} {r['param_bytes']:8d} "
              f"{r['state_bytes']:6d} {r['macs']:9d} {r['ace']:12d}")
    from ..convert.blob_graph import describe
    for line in describe(m, d["graph"]):
        print("  " + line)
    if "boards" in d:
        fits = [b["board"] for b in d["boards"] if b["fits"]]
        no = [b["board"] for b in d["boards"] if not b["fits"]]
        print(f"  fits: {', '.join(fits) or '-'}" + (f"   does not fit: {', '.join(no)}" if no else ""))
        for b in d["boards"]:
            if not b["fits"]:
                print(f"    {b['board']}: " + "; ".join(b["over"]))
    print(f"  ({d['boards_note']})")
    return 0
