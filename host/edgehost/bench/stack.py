"""Worst stack depth of the runtime firmware, measured on the emulator while it runs a model.

The firmware image of a board (edgehost.build, target "firmware") runs under QEMU with the
project's second TCG plugin, bench/qemu_plugin/eh_stack.c, which records the lowest address any
guest store instruction writes between the end of .bss (`_ebss`) and the initial stack pointer
(`_estack`, the top of RAM): the stack's high-water mark, with no change to the firmware. The host
then drives the real protocol: HELLO, PING, ECHO of the largest payload, LOAD of the model blob
and INFER of whole windows, so every path of a normal session is on the stack at least once.

Not counted by the plugin: the exception entry frame the core pushes itself (Cortex-M: 32 bytes,
104 with the FP context); `depth_with_frame` adds the larger one on Cortex-M4F boards (32 on
other Cortex-M, 0 on RISC-V, whose trap entry is ordinary stores).
"""
from __future__ import annotations

import re
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np

from .elf import Elf
from .plugin import build_plugin

_DEPTH = re.compile(r"eh_stack: (?:exit )?depth=(\d+)")


def har_blob_and_inputs(windows: int = 2):
    """The HAR demo's blob (as `edgehost demo har` makes it) and `windows` synthetic windows."""
    from ..convert.l2mu_layer import l2mu_blob
    from ..demos.har.demo import load_model
    meta, _, cell_q = load_model()
    blob = l2mu_blob(cell_q, float(meta["input_scale"]),
                     output_scale=1.0 / meta["calibration"]["scales"]["o"], input="q15")
    rng = np.random.default_rng(0)
    steps, ch = int(meta["steps"]), int(meta["channels"])
    xs = [np.clip(np.round(rng.normal(0, 0.6, (steps, ch)) * float(meta["input_scale"])), -32768, 32767)
          .astype(np.int16) for _ in range(windows)]
    return blob, xs


def _frame_bytes(core: str) -> int:
    if not core.startswith("cortex"):
        return 0
    return 104 if core.endswith("f") else 32


def measure(board_name: str, blob: bytes | None = None, inputs=None, timeout: float = 60.0,
            model: str = "har", build_dir=None) -> dict:
    """Run the firmware of an emulated board with the stack plugin through a session that loads
    `blob` (default: the HAR demo's) and infers `inputs`; returns the depth in bytes."""
    from .. import boards
    from ..build import build
    from ..flash.emulator import _nodelay, free_port
    from ..flash.sessions import terminate
    from ..link import Device, LinkError

    board = boards.get(board_name)
    if not board.emulated or board.is_host:
        raise RuntimeError(f"board {board.name}: the stack measurement needs a QEMU-emulated board")
    if blob is None:
        blob, inputs = har_blob_and_inputs()
    fw = build(board, target="firmware", build_dir=build_dir)
    elf_path = Path(fw.elf)
    elf = Elf.read(elf_path)
    syms = elf.symbols()
    if "_ebss" not in syms or "_estack" not in syms:
        raise RuntimeError(f"{elf_path}: no _ebss/_estack symbols (linker script)")
    lo, hi = syms["_ebss"].value, syms["_estack"].value
    plugin = build_plugin(Path(getattr(fw, "build_dir", None) or elf_path.parent), source="eh_stack.c")
    with tempfile.TemporaryDirectory(prefix="eh-stack-") as tmp:
        log = Path(tmp) / "stack.log"
        port = free_port()
        argv = _nodelay(board.emulator_argv(str(elf_path), port))
        argv += ["-plugin", f"{plugin},lo={lo:#x},hi={hi:#x}", "-d", "plugin", "-D", str(log)]
        out = open(Path(tmp) / "qemu.out", "wb")
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True, close_fds=True)
        steps = 0
        try:
            deadline = time.monotonic() + timeout
            dev = None
            while dev is None:
                if proc.poll() is not None:
                    raise RuntimeError(f"QEMU exited with code {proc.returncode}: "
                                       f"{(Path(tmp) / 'qemu.out').read_text(errors='replace')[-2000:]}")
                try:
                    dev = Device.open(f"socket://127.0.0.1:{port}", open_timeout=5.0)
                except LinkError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.2)
            with dev:
                for _ in range(5):
                    dev.ping()
                payload = bytes(range(256)) * (dev.max_payload // 256 + 1)
                if dev.echo(payload[:dev.max_payload]) != payload[:dev.max_payload]:
                    raise RuntimeError("ECHO returned different bytes")
                load = dev.load_model(blob)
                for x in inputs:
                    dev.infer(x)
                    steps += len(x)
        finally:
            terminate(proc.pid, timeout=10)
            out.close()
        text = log.read_text(errors="replace") if log.exists() else ""
    depths = [int(m) for m in _DEPTH.findall(text)]
    if not depths:
        raise RuntimeError(f"the stack plugin reported nothing (log: {text[-500:]!r})")
    depth = max(depths)
    frame = _frame_bytes(board.core)
    return {"board": board.name, "core": board.core, "model": model, "steps": steps,
            "stack_region": [lo, hi], "stack_reserved": int(board.stack_bytes),
            "depth": depth, "exception_frame": frame, "depth_with_frame": depth + frame,
            "arena_used": int(load.arena_used)}


def render(rows: list[dict]) -> list[str]:
    if not rows:
        return []
    out = ["## Stack depth", "",
           "Deepest stack of the runtime firmware on the emulator (QEMU plugin `bench/qemu_plugin/eh_stack.c`:",
           "lowest address written by a store between `_ebss` and `_estack`) through a session of HELLO,",
           "PING, ECHO of the largest payload, LOAD of the model and INFER of whole windows. The core's own",
           "exception entry frame is not a store the plugin sees: the last column adds it (Cortex-M4F with",
           "FP context 104 B, other Cortex-M 32 B, RISC-V 0).", "",
           "| board | core | model | steps run | stack depth (B) | with exception frame (B) | reserved (board.json) |",
           "|---|---|---|---:|---:|---:|---:|"]
    out += [f"| {r['board']} | {r['core']} | {r['model']} | {r['steps']} | {r['depth']} | {r['depth_with_frame']} | "
            f"{r['stack_reserved']} |" for r in rows]
    out.append("")
    return out
