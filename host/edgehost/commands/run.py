"""`edgehost run`: one inference (INFER) of a model on a board."""
from __future__ import annotations

import argparse
import json
import sys

from ..cli import UserError
from . import _args as A


def register(sub) -> None:
    p = sub.add_parser(
        "run", help="run one inference of a model on a board and print its output",
        description="Load MODEL.ehm on the board (unless already loaded), run the input (INFER: state "
                    "reset, one step per row) and print the output of the last step, dequantised "
                    "where the output tensor has a scale, with the device's counter delta.")
    p.add_argument("model", metavar="MODEL.ehm")
    p.add_argument("--board", "-b", help="board name (started when emulated and not running)")
    p.add_argument("--port", help="use the device on this pyserial URL or path")
    A.place_options(p)
    p.add_argument("--input", required=True, metavar="X.npy",
                   help="(steps, features) or (features,) for one step; integers are device values, floats "
                        "are quantised with the input tensor's scale")
    p.add_argument("--json", action="store_true", help="print a JSON object")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from .. import validate as V
    from ..convert.validate_input import InputDataError, b1_entries, check_array, saturating_inputs
    from ..link import LinkError
    A.need_device(args.board, args.port, getattr(args, "place", None))
    blob, model = V.load_model_file(A.model_file(args.model, "MODEL"))
    x = A.load_array(args.input, "--input")
    n = model.input_tensor.storage_len
    what = f"--input {args.input!r}"
    try:
        x = b1_entries(x, model, what)
        x3 = check_array(x, n, what, max_steps=A.MAX_INFER_STEPS)
    except InputDataError as e:
        raise UserError(str(e)) from None
    if x3.shape[0] != 1:
        raise UserError(f"{what} has shape {x.shape}: one sequence, (steps, {n}) or ({n},), expected "
                        f"(validate takes several)")
    x = x3[0]
    over, total, lim = saturating_inputs(x, model)
    if over:
        print(f"edgehost run: warning: {over} of {total} input values lie outside the model's input range "
              f"({lim}) and saturate on the device", file=sys.stderr)
    xd = V.to_device_inputs(x, model, what)
    dev = A.open_device(args.board, A.place_port(args) or args.port)
    try:
        V.load_on_device(dev, blob, model)
        res = dev.infer(xd)
    except LinkError as e:
        raise UserError(f"link error: {e}") from None
    finally:
        dev.close()
    raw = V.decode(res.raw, model, model.output)
    ot = model.output_tensor
    val = V.dequantize(raw, model, model.output)
    doc = {"board": dev.info.board if dev.info else None, "steps": res.steps, "mode": res.mode,
           "output_dtype": ot.dtype, "output_scale": ot.scale,
           "output_raw": raw.tolist(), "output": val.tolist(),
           "counter_delta": res.counter_delta, "counter_kind": res.counter_kind}
    if args.json:
        json.dump(doc, sys.stdout, indent=1)
        sys.stdout.write("\n")
    else:
        print(f"board {doc['board']}: {res.steps} step(s) ({res.mode})")
        print("output" + (f" (x {ot.scale:g})" if ot.dtype == "q15" and ot.scale != 1 else "") + ": "
              + " ".join(f"{v:.6g}" for v in val))
        if ot.dtype != "f32":
            print("raw:", " ".join(str(int(v)) for v in raw))
        print(f"counter delta: {res.counter_delta} {res.counter_kind}")
    return 0
