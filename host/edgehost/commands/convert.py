"""`edgehost convert IN -o OUT.ehm`: import a model (NIR, npz), quantise, plan, write the blob."""
from __future__ import annotations

import json
import os
import sys
import warnings

from ..cli import UserError
from . import _args as A


def register(sub) -> None:
    p = sub.add_parser(
        "convert", help="convert a model (.nir, .npz, .pt, .tflite) to an .ehm blob",
        description="Import a model, lower it to the kernels (float32 or Q15), plan the static "
                    "arena and write the .ehm blob (docs/model-format.md).")
    p.add_argument("input", help="model file: .nir (NIR graph), .npz (weights + layer list), .pt/.pth "
                                 "(PyTorch/snnTorch module or state dict), .tflite (int8 MLP or CNN)")
    p.add_argument("-o", "--output", required=True, help="the .ehm blob to write")
    p.add_argument("--quantize", choices=["none", "q15"], default="none",
                   help="none: float32 kernels; q15: int16 fixed point with per-layer scales")
    p.add_argument("--reset", choices=["subtract", "zero", "none"], default=None,
                   help="spiking reset for NIR graphs (NIR's v_reset cannot tell them apart); "
                        "default subtract, snnTorch's default; none: never reset (snnTorch reset_mechanism='none'); "
                        ".pt files record it (an error if it differs)")
    p.add_argument("--reset-timing", choices=["next", "same", "same-snntorch"], default=None,
                   help="when a spike's reset applies: next (the next step, snnTorch's default; the "
                        "default) or same (the step that spiked: NIR's equations, Norse, Sinabs, Rockpool, Lava); "
                        "same-snntorch: snnTorch's reset_delay=False (NIR graphs and .pt state dicts)")
    p.add_argument("--delay", action="append", default=[], metavar="SRC:DST",
                   help="NIR graphs: delay this edge (it carries the previous step's value); repeatable. "
                        "Without it the converter delays the edge that closes each cycle (docs/graphs.md)")
    p.add_argument("--trust", action="store_true",
                   help=".pt/.pth: allow unpickling a whole module (torch.load(weights_only=False) runs code "
                        "from the file: only for files you trust); state dicts need no --trust")
    p.add_argument("--arch", metavar="KINDS", type=A.nonempty("a comma-separated list of layer kinds"),
                   help=".pt/.pth state dicts: the layer kinds in forward order, e.g. linear,leaky,linear,leaky "
                        "(kinds: linear, leaky, synaptic, rleaky, rsynaptic, relu, flatten, identity, dropout, "
                        "conv2d, avgpool2d). Geometry as kind:key=value (N or HxW): conv2d:stride=2:padding=1 "
                        "(keys stride, padding (also same/valid), dilation, groups; defaults PyTorch's: stride 1, "
                        "padding 0, dilation 1, groups = input channels / the weight's), avgpool2d:K or "
                        "avgpool2d:kernel=K:stride=S:padding=P (stride = kernel by default); conv2d and avgpool2d "
                        "need --input-shape")
    p.add_argument("--input-shape", metavar="C,H,W", type=_shape, default=None,
                   help=".pt/.pth: the (channels, height, width) of one input step, for a state dict (or "
                        "module) starting with conv2d / avgpool2d; required when --arch has them")
    p.add_argument("--dt", type=A.number(0, 1, lo_open=True, unit=" (seconds)"), default=None,
                   help="time step in seconds for NIR's continuous-time neurons (forward Euler); "
                        "default 1e-4, what snnTorch assumes when exporting")
    p.add_argument("--if-dt", type=A.number(0, 1e6, lo_open=True), default=None,
                   help="NIR graphs: the time step of IF nodes only (input gain r x it); default --dt. Sinabs "
                        "exports IAF as IF with r = 1 for a unit step: --if-dt 1")
    p.add_argument("--spike-input", action="store_true",
                   help="the input is events (0/1 spikes, e.g. an event camera's pixels x polarities): the "
                        "model takes them packed, 1 bit each (b1), and a Conv2d/Affine on them runs event-"
                        "driven; Q15 calibrates on generated spike trains")
    p.add_argument("--calib", metavar="NPY|spikes|analog",
                   help="calibration inputs (.npy, (steps, n_in) or (seqs, steps, n_in)) for the Q15 "
                        "scales and the per-layer quantisation error; without it Q15 calibrates on generated "
                        "spike trains and analog signals, 'spikes' / 'analog' on one kind only")
    p.add_argument("--strict", action="store_true",
                   help="Q15: fail (exit 1, no output written) when the Q15 model departs from the float one on "
                        "the calibration inputs (a spiking layer below 99.5 %% spike agreement, a readout that "
                        "saturates); without it convert warns")
    p.add_argument("--headroom", type=A.number(1, MAX_HEADROOM), default=8.0,
                   help=f"Q15: membrane range as a multiple of the threshold (default 8, 1..{MAX_HEADROOM:g})")
    p.add_argument("--input-range", type=A.number(0, 1e30, lo_open=True), default=None,
                   help="Q15: largest |normalised input| (default: from --calib, else 1.0)")
    p.add_argument("--binarize", action="store_true",
                   help="fc layers fed by spikes get binary weights (alpha sign(W) per output row): "
                        "pack_spikes_b1 + fc_b1_f32 (XNOR/popcount); the report gives the error and the work")
    p.add_argument("--shiftadd", metavar="pow2|bcq:K", default=None,
                   help="Q15: fc layers on q15 values become multiplication-free: pow2 (power-of-two "
                        "weights, shiftadd_fc_q15) or bcq:K (K binary planes, bcq_fc_q15, K in 1..8)")
    p.add_argument("--mst-depth", type=A.integer(0, 1 << 16), default=None, metavar="N",
                   help="MST-compress every binary fc layer (lossless) over a spanning forest of depth <= N")
    p.add_argument("--strip-softmax", action="store_true",
                   help=".tflite: leave out a SOFTMAX that ends the model: the blob outputs the int8 scores "
                        "that go into it (same argmax, the class); the notes say so")
    p.add_argument("--no-reuse", action="store_true",
                   help="give every activation its own arena bytes (every layer output can be traced on "
                        "the device, at the cost of RAM)")
    p.add_argument("--emit-c", metavar="OUT.h", help="also write the blob as a C header")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(func=run)


def _shape(text):
    import argparse
    try:
        vals = tuple(int(v) for v in str(text).replace("x", ",").split(","))
    except ValueError:
        vals = ()
    if len(vals) != 3 or min(vals) < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: expected C,H,W, three integers >= 1 (e.g. 2,16,16)")
    return vals


def _delays(items) -> list:
    out = []
    for it in items:
        a, sep, b = str(it).rpartition(":")
        if not sep or not a or not b:
            raise UserError(f"--delay {it!r}: expected SRC:DST, two node names of the NIR graph")
        out.append((a, b))
    return out


#: the Q15 threshold is 32767 / headroom: at least a few counts of resolution must remain
MAX_HEADROOM = 4096.0


def run(args) -> int:
    from ..atomic import check_writable, write_files
    from ..blob import BlobError
    from ..convert import ConvertError, FidelityError, Q15FidelityWarning, build, load
    from ..convert.lower import Compress
    from ..convert.analyze import emit_c, summary
    from ..convert.validate_input import InputDataError, check_calib, check_scales, input_range_notes

    A.input_file(args.input, "INPUT", max_bytes=4 << 30,
                 kinds=" (.nir, .npz, .pt/.pth, .tflite)", noun="model")
    out = check_writable(args.output, "--output")
    if args.emit_c is not None:
        hdr = check_writable(args.emit_c, "--emit-c")
        if hdr.resolve() == out.resolve():
            raise UserError(f"--emit-c {args.emit_c!r} is the --output file: give another name")
    kinds = ("spikes", "analog")
    raw_calib = A.load_array(args.calib, "--calib") if args.calib and args.calib not in kinds else None
    try:
        comp = Compress(binarize=args.binarize, shiftadd=args.shiftadd, mst_depth=args.mst_depth)
        graph = load(args.input, dt=args.dt, reset=args.reset, trust=args.trust, arch=args.arch,
                     timing=args.reset_timing, delays=_delays(args.delay), if_dt=args.if_dt,
                     input_shape=args.input_shape, strip_softmax=args.strip_softmax)
        calib = ((args.calib if args.calib in kinds else "auto") if raw_calib is None
                 else check_calib(raw_calib, graph.n_in, f"--calib {args.calib!r}"))
        if args.spike_input:
            graph.input_kind = "spikes"
            if isinstance(calib, str) and calib == "auto":
                calib = "spikes"
            elif not isinstance(calib, str):
                bad = (calib != 0) & (calib != 1)
                if bad.any():
                    raise InputDataError(f"--calib {args.calib!r}: with --spike-input the inputs are events, 0 or 1; "
                                         f"{int(bad.sum())} of {bad.size} values are not (the first "
                                         f"{float(calib[bad][0]):g})")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Q15FidelityWarning)       # printed below, from the report
            model, report = build(graph, quantize=args.quantize, calib=calib, headroom=args.headroom,
                                  input_range=args.input_range, reuse=not args.no_reuse, compress=comp,
                                  strict=args.strict)
        if args.quantize == "q15":
            check_scales(report, calibrated=True,
                         what=f"--calib {args.calib!r}" if raw_calib is not None else "the generated calibration inputs")
            report.setdefault("notes", [])
            report["notes"] = list(report["notes"]) + input_range_notes(graph, None if raw_calib is None else calib,
                                                                      args.input_range)
        blob = model.to_bytes()
    except FidelityError as e:
        raise UserError(f"--strict: Q15 loses fidelity, {args.output} not written:\n  "
                        + "\n  ".join(e.report.get("warnings", [])), code=1) from None
    except (ConvertError, BlobError, InputDataError) as e:
        raise UserError(str(e)) from None
    files = [(out, blob, "--output")]
    if args.emit_c:
        base = os.path.splitext(os.path.basename(args.emit_c))[0]
        name = "".join(c if c.isalnum() else "_" for c in base) or "eh_model_blob"
        if name[0].isdigit():
            name = "_" + name
        files.append((args.emit_c, emit_c(blob, model, name), "--emit-c"))
    write_files(files)                       # both or neither, each written atomically
    info = summary(model, blob)
    out = {"input": args.input, "output": args.output, "quantize": args.quantize,
           "notes": report.get("notes", []), "quantization": report.get("layers"),
           "bytes": len(blob), "hash": info["hash"], "param_bytes": info["param_bytes"],
           "arena_bytes": info["arena_bytes"], "macs": info["macs"], "ace": info["ace"],
           "layers": [f"{r['type']} {r['input']['shape']}->{r['output']['shape']}" for r in info["layers"]]}
    comp_rows = [dict(graph_layer=q["graph_layer"], **q["compress"]) for q in (report.get("layers") or [])
                 if "compress" in q]
    if comp.any:
        out["compress"] = comp_rows
    if args.emit_c:
        out["emit_c"] = args.emit_c
    if args.quantize == "q15":
        out["calibration"] = report.get("calibration")
        out["fidelity"] = report.get("fidelity")
        out["range_choice"] = report.get("range_choice")
        out["warnings"] = report.get("warnings", [])
    for w in out.get("warnings", []):
        print(f"edgehost convert: warning: {w}", file=sys.stderr)
    if args.json:
        print(json.dumps(out, indent=2, default=float))
        return 0
    print(f"{args.input} -> {args.output}: {len(blob)} bytes, hash {info['hash']}, "
          f"params {info['param_bytes']} B, arena {info['arena_bytes']} B")
    for note in out["notes"]:
        print(f"  note: {note}")
    for r in info["layers"]:
        print(f"  {r['index']:3d} {r['type']:<13} {str(r['input']['shape']):>8} -> {str(r['output']['shape']):<8}")
    if args.quantize == "q15":
        print("  quantisation (per graph layer):")
        for q in report["layers"]:
            bits = [f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}"
                    for k, v in q.items() if k not in ("graph_layer", "kind", "blob_layer", "saturation", "agreement",
                                                       "max_abs_error", "max_rel_error", "rms_rel_error",
                                                       "float_spikes", "q15_spikes", "agreement_min")]
            print(f"    {q['graph_layer']:3d} {q['kind']:<8} " + " ".join(bits))
        _print_fidelity(report)
    if comp.any:
        print("  compression (per graph layer: weight error, work per step before -> after):")
        for c in comp_rows:
            line = (f"    {c['graph_layer']:3d} -> {c['to']:<16} MACs {c.get('macs_before', '?')} -> {c.get('macs_after', '?')}, "
                    f"ACE {c.get('ace_before', '?')} -> {c.get('ace_after', '?')}")
            if "weight_sqnr_db" in c:
                line += f", weight SQNR {c['weight_sqnr_db']:.1f} dB (RMS {100 * c['weight_rel_rms']:.1f} %)"
            if "mst_roots" in c:
                line += (f", MST roots {c['mst_roots']} children {c['mst_children']} codes {c['mst_n_diff']} "
                         f"depth {c['mst_depth']} (est. x{c['mst_est_speedup']:.2f} on Cortex-M4)")
            print(line)
        for q in report.get("layers") or []:
            if "compress" in q and ("max_rel_error" in q or "agreement" in q):
                what = (f"agreement {100 * q['agreement']:.1f} %" if "agreement" in q
                        else f"max error {100 * q['max_rel_error']:.2f} % of the range")
                print(f"    {q['graph_layer']:3d} output vs the float model on --calib: {what}")
    if args.emit_c:
        print(f"  C header: {args.emit_c}")
    return 0


def _print_fidelity(report: dict) -> None:
    """The fidelity check in words: the calibration inputs, then per graph layer the spike agreement
    (or readout error) with the float model and the saturation counts per state."""
    fid, cal = report.get("fidelity"), report.get("calibration") or {}
    if not fid:
        return
    if cal.get("source") == "generated":
        what = (f"generated calibration inputs ({cal['sequences']} sequences x {cal['steps']} steps, seed "
                f"{cal['seed']}: {', '.join(cal['signals'])})")
    else:
        what = f"--calib inputs ({fid['sequences']} sequence(s) x {fid['steps']} steps)"
    rc = report.get("range_choice") or {}
    cap = rc.get("chosen")
    print(f"  Q15 vs float on the {what}; neuron ranges "
          + ("1.25 x the largest value seen" if cap is None else f"capped at {cap:g} thresholds (best spike agreement)")
          + f"; warning below {100 * fid['threshold']:.1f} % spike agreement on any one sequence:")
    for r in fid["layers"]:
        if "agreement" in r and "float_spikes" in r:
            head = (f"spikes agree {100 * r['agreement']:.2f} % (worst sequence {100 * r['agreement_min']:.2f} %; "
                    f"float {r['float_spikes']:,}, "
                    f"Q15 {r['q15_spikes']:,} spikes)")
        elif "agreement" in r:
            head = f"values agree {100 * r['agreement']:.2f} %"
        else:
            head = (f"error max {100 * r['max_rel_error']:.2f} % / RMS {100 * r['rms_rel_error']:.3f} % of its range")
        sat = ", ".join(f"{k} {v['saturated']:,}/{v['values']:,}" for k, v in r["saturation"].items())
        name = "" if r["name"] == f"layer {r['graph_layer']}" else f" {r['name']}"
        print(f"    {r['graph_layer']:3d} {r['kind']:<8}{name} {head}; saturated: {sat or '-'}")
