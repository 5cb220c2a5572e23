"""`edgehost stream`: stream a source to a board step by step and show the outputs live."""
from __future__ import annotations

import argparse
import json
import sys

from ..cli import UserError
from . import _args as A

#: paced rates: one sample per 100 s at the slowest (slower is a stalled stream), 1 MHz at most
MIN_RATE, MAX_RATE = 0.01, 1e6


def register(sub) -> None:
    p = sub.add_parser(
        "stream", help="stream a source to a board one step at a time and show the outputs live",
        description="Load the model, reset its state and send one STEP per sample of the source. "
                    "Sources: FILE.npy, FILE.npz[:KEY], FILE.csv, synthetic:sine, synthetic:noise, "
                    "serial:PORT[:BAUD] (a live sensor, one line of numbers per sample), har:test. "
                    "Reports frames/s, latency per step, link use and dropped frames.")
    p.add_argument("--board", "-b", help="board name (started when emulated and not running)")
    p.add_argument("--port", help="use the device on this pyserial URL or path")
    A.place_options(p)
    p.add_argument("--model", "-m", required=True, metavar="MODEL.ehm")
    p.add_argument("--source", "-s", required=True, metavar="S")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--rate", type=A.number(MIN_RATE, MAX_RATE), metavar="HZ",
                   help=f"pace the samples at HZ ({MIN_RATE:g} .. {MAX_RATE:g})")
    g.add_argument("--fast", action="store_true", help="as fast as the link allows (the default)")
    p.add_argument("--steps", type=A.integer(1, 10**9), metavar="N",
                   help="stop after N steps (required for the endless synthetic sources)")
    p.add_argument("--check", action="store_true",
                   help="run the host interpreter alongside and count mismatching steps")
    p.add_argument("--backend", choices=("kernels", "sim"), default="kernels", help="backend of --check")
    p.add_argument("--seed", type=A.seed, default=0, help=f"seed of synthetic:noise (0..{A.SEED_MAX})")
    p.add_argument("--json", action="store_true", help="print a JSON report at the end (no live view)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from .. import stream as S
    from .. import validate as V
    A.need_device(args.board, args.port, getattr(args, "place", None))
    if args.source.startswith("synthetic:") and args.steps is None:
        raise UserError(f"--source {args.source} never ends: give --steps N")
    blob, model = V.load_model_file(A.model_file(args.model, "--model"))
    _check_file_source(args.source, model)
    try:
        src = S.open_source(args.source, model, seed=args.seed)
    except UserError as e:
        raise UserError(f"--source {args.source!r}: {e}") from None
    except (OSError, ValueError, KeyError, IndexError, EOFError) as e:
        raise UserError(f"--source {args.source!r}: cannot read it ({type(e).__name__}: {e})") from None
    if src.length == 0:
        raise UserError(f"--source {args.source!r} holds no samples")
    board = None
    if args.board:
        from ..boards import get
        board = get(args.board)
    dev = A.open_device(args.board, A.place_port(args) or args.port)
    outputs: list = []
    try:
        V.load_on_device(dev, blob, model)
        total = args.steps if args.steps is not None else src.length
        if args.json or not sys.stdout.isatty():
            st = S.stream(dev, model, src, steps=args.steps, rate=args.rate,
                          check_backend=args.backend if args.check else None,
                          on_step=lambda i, y, lat, s: outputs.append(y.tolist()))
        else:
            st = _live(S, dev, model, src, args, total, outputs)
        rate = S.link_rate(dev, board)
        info = dev.info
    finally:
        dev.close()
    summ = st.summary(rate)
    doc = {"ok": st.error is None and st.dropped == 0 and not st.mismatches,
           "board": info.board if info else None, "source": src.name, **summ,
           "outputs": outputs, "last_output": outputs[-1] if outputs else None}
    if args.json:
        json.dump(doc, sys.stdout, indent=1)
        sys.stdout.write("\n")
    else:
        if not sys.stdout.isatty():
            for y in outputs[-5:]:
                print("output:", " ".join(f"{v:.5g}" for v in y))
        lat = summ["latency_ms"]
        print(f"{st.steps} steps in {st.elapsed:.2f} s: "
              f"{summ['frames_per_s'] or 0:.1f} frames/s, latency median {lat['median'] or 0:.3f} ms, "
              f"p95 {lat['p95'] or 0:.3f} ms, dropped {st.dropped}, late {st.late}")
        lk = summ["link"]
        print(f"link: {lk['payload_bytes_per_s'] or 0:.0f} payload bytes/s"
              + (f" of {lk['rate_bytes_per_s']:.0f} ({100 * lk['utilisation']:.1f} %)" if lk["utilisation"] is not None
                 else " (link rate unknown: emulated or virtual port)"))
        if st.mismatches is not None:
            print(f"check against the host ({args.backend}): {st.mismatches} mismatching step(s)")
        if st.error:
            print(f"stopped by a link error: {st.error}", file=sys.stderr)
    if st.error:
        return 1
    return 0 if doc["ok"] else 1


def _check_file_source(spec: str, model) -> None:
    """A file source (FILE.npy, FILE.npz[:KEY], FILE.csv) is read and checked before any device
    work: a file, numbers of the model's width, at least one sample, finite values."""
    import numpy as np

    from ..convert.validate_input import InputDataError, check_array
    if spec.split(":", 1)[0] in ("synthetic", "serial", "har"):
        return
    path, key = spec, None
    if ".npz:" in spec:
        path, key = spec.rsplit(":", 1)
    suf = path.lower().rsplit(".", 1)[-1] if "." in path else ""
    if suf not in ("npy", "npz", "csv"):
        raise UserError(f"--source {spec!r}: unknown source (sources: FILE.npy, FILE.npz[:KEY], FILE.csv, "
                        "synthetic:sine|noise, serial:PORT[:BAUD], har:test)")
    p = A.input_file(path, "--source", kinds=" (FILE.npy, FILE.npz[:KEY], FILE.csv)", noun="source")
    if suf == "csv":
        return                       # read line by line by the source, each line checked
    try:
        a = np.load(p, allow_pickle=False)
    except (OSError, ValueError, EOFError) as e:
        msg = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise UserError(f"--source {spec!r}: not a readable .{suf} ({msg})") from None
    if not isinstance(a, np.ndarray):        # an .npz archive
        with a:
            keys = list(a.keys())
            if not keys:
                raise UserError(f"--source {spec!r}: the archive holds no arrays")
            if key is None:
                if len(keys) != 1:
                    raise UserError(f"--source {spec!r}: the archive holds {len(keys)} arrays "
                                    f"({', '.join(keys)}): name one as {path}:KEY")
                key = keys[0]
            if key not in keys:
                raise UserError(f"--source {spec!r}: the archive has no array {key!r} (it has {', '.join(keys)})")
            try:
                a = a[key]
            except (OSError, ValueError, EOFError) as e:
                raise UserError(f"--source {spec!r}: array {key!r} is not readable ({e})") from None
    n = model.input_tensor.storage_len
    try:
        check_array(a, n, f"--source {spec!r}")
    except InputDataError as e:
        raise UserError(str(e)) from None


def _live(S, dev, model, src, args, total, outputs):
    from rich.live import Live
    from rich.table import Table

    def view(i, y, lat, st):
        t = Table(title=f"{src.name} -> {dev.info.board if dev.info else '?'}")
        t.add_column("step")
        t.add_column("output")
        t.add_column("argmax")
        t.add_column("latency")
        t.add_column("frames/s")
        el = sum(st.latencies)
        t.add_row(f"{i + 1}" + (f"/{total}" if total else ""), " ".join(f"{v:.4g}" for v in y[:12]),
                  str(int(y.argmax())) if y.size else "", f"{lat * 1e3:.2f} ms",
                  f"{st.steps / el:.1f}" if el > 0 else "")
        return t

    with Live(refresh_per_second=8, transient=False) as live:
        def on_step(i, y, lat, st):
            outputs.append(y.tolist())
            live.update(view(i, y, lat, st))
        return S.stream(dev, model, src, steps=args.steps, rate=args.rate,
                        check_backend=args.backend if args.check else None, on_step=on_step)
