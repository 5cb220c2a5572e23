"""`edgehost stream`: feed a source to a board one STEP at a time (docs/validate.md, "stream").

Sources (`open_source(spec, model)`), each an iterator of float or integer rows of the model's
input size, converted to device inputs with edgehost.validate.to_device_inputs:
  FILE.npy                 (steps, features) or (sequences, steps, features), rows in order
  FILE.npz[:KEY]           one array of the archive (KEY may be left out when it holds one)
  FILE.csv                 one row of comma/space separated numbers per step ('#' comments)
  synthetic:sine           sines of a few periods per input (half the input's full scale)
  synthetic:noise          seeded Gaussian noise (a quarter of the full scale)
  serial:PORT[:BAUD]       a live sensor: one line of comma/space separated numbers per sample
  har:test                 the HAR demo's held-out HAPT windows concatenated (raw g, rad/s),
                           quantised like the demo (edgehost.convert.l2mu.quantize_input) for a
                           q15 input, as they are for an f32 input

Every sample read is stepped exactly once: the link delivers each STEP once or raises an error
naming the last delivered step, so `dropped` (samples read but not delivered) is 0 unless the
run ends with a link error, and the report says which step was last delivered.
"""
from __future__ import annotations

import re
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from .blob import Model
from .cli import UserError
from .validate import dequantize, to_device_inputs

_NUM_SPLIT = re.compile(r"[,\s;]+")


def parse_numbers(line: str, n: int, where: str) -> np.ndarray:
    parts = [p for p in _NUM_SPLIT.split(line.strip()) if p]
    try:
        vals = [float(p) for p in parts]
    except ValueError:
        raise UserError(f"{where}: not a row of numbers: {line.strip()[:60]!r}") from None
    if len(vals) != n:
        raise UserError(f"{where}: {len(vals)} numbers, the model takes {n} per step")
    return np.array(vals)


@dataclass
class Source:
    """An iterator of input rows plus what the user should see about it."""
    name: str
    rows: Iterator[np.ndarray]
    length: int | None = None            # rows available, when known
    close: Callable[[], None] = field(default=lambda: None)


def _full_scale(model: Model) -> float:
    t = model.input_tensor
    return 32767 * t.scale if t.dtype == "q15" else 1.0


def _array_rows(a: np.ndarray, n: int, what: str) -> np.ndarray:
    if a.ndim == 1 and n == 1:
        a = a[:, None]
    if a.ndim == 3:
        a = a.reshape(-1, a.shape[-1])
    if a.ndim != 2 or a.shape[-1] != n:
        raise UserError(f"{what} has shape {a.shape}: expected (steps, {n}) or (sequences, steps, {n})")
    return a


def open_source(spec: str, model: Model, *, seed: int = 0) -> Source:
    n = model.input_tensor.storage_len
    if spec.startswith("synthetic:"):
        kind = spec.split(":", 1)[1]
        amp = _full_scale(model)
        if kind == "sine":
            periods = 8.0 + 3.0 * np.arange(n)

            def sine():
                t = 0
                while True:
                    yield 0.5 * amp * np.sin(2 * np.pi * t / periods + np.arange(n))
                    t += 1
            return Source(spec, sine())
        if kind == "noise":
            rng = np.random.default_rng(seed)

            def noise():
                while True:
                    yield np.clip(rng.normal(0, 0.25 * amp, size=n), -amp, amp)
            return Source(spec, noise())
        raise UserError(f"unknown synthetic source {kind!r}: synthetic:sine or synthetic:noise")
    if spec.startswith("serial:"):
        return _serial_source(spec, n)
    if spec.startswith("har:"):
        part = spec.split(":", 1)[1]
        if part != "test":
            raise UserError(f"unknown HAR source {spec!r}: har:test")
        try:
            from .demos.har.data import hapt_split
            X = hapt_split().test_raw.X
        except (OSError, FileNotFoundError, RuntimeError, ValueError) as e:
            raise UserError(f"the HAPT data set is not available: {e}") from None
        rows = X.reshape(-1, X.shape[-1]).astype(np.float64)
        if rows.shape[1] != n:
            raise UserError(f"HAR samples have {rows.shape[1]} channels, the model takes {n}")
        t = model.input_tensor
        if t.dtype == "q15":
            from .convert.l2mu import quantize_input
            rows = quantize_input(rows, 1.0 / t.scale)
        return Source(f"{spec} ({X.shape[0]} windows)", iter(rows), len(rows))
    # a file, with an optional ':KEY' for npz
    path, key = spec, None
    if ".npz:" in spec:
        path, key = spec.rsplit(":", 1)
    p = Path(path)
    if not p.exists():
        raise UserError(f"source {spec!r}: no such file (sources: FILE.npy, FILE.npz[:KEY], FILE.csv, "
                        "synthetic:sine|noise, serial:PORT[:BAUD], har:test)")
    suf = p.suffix.lower()
    try:
        if suf == ".npy":
            a = np.load(p, allow_pickle=False)
        elif suf == ".npz":
            with np.load(p, allow_pickle=False) as z:
                keys = list(z.keys())
                if key is None:
                    if len(keys) != 1:
                        raise UserError(f"{p} holds {len(keys)} arrays ({', '.join(keys)}): name one as {p}:KEY")
                    key = keys[0]
                if key not in keys:
                    raise UserError(f"{p} has no array {key!r} (it has {', '.join(keys)})")
                a = z[key]
        elif suf == ".csv":
            rows = []
            for i, line in enumerate(p.read_text().splitlines(), 1):
                s = line.split("#", 1)[0].strip()
                if s:
                    rows.append(parse_numbers(s, n, f"{p}:{i}"))
            if not rows:
                raise UserError(f"{p} holds no rows")
            a = np.array(rows)
        else:
            raise UserError(f"source {p}: unknown file type {suf!r} (.npy, .npz, .csv)")
    except (OSError, ValueError) as e:
        raise UserError(f"cannot read source {p}: {e}") from None
    a = _array_rows(np.asarray(a), n, f"source {spec}")
    return Source(spec, iter(a), len(a))


def _serial_source(spec: str, n: int, timeout: float = 5.0) -> Source:
    import serial
    rest = spec.split(":", 1)[1]
    baud = 115200
    m = re.match(r"^(.*):(\d+)$", rest)
    if m:   # a trailing :BAUD, unless it is the TCP port of socket://HOST:PORT
        head = m.group(1)
        if "://" not in head or ":" in head.split("://", 1)[1]:
            rest, baud = head, int(m.group(2))
    if not rest:
        raise UserError("serial source needs a port: serial:PORT[:BAUD]")
    try:
        ser = serial.serial_for_url(rest, baudrate=baud, timeout=timeout)
    except (serial.SerialException, ValueError, OSError) as e:
        raise UserError(f"cannot open sensor port {rest}: {e}") from None

    def rows():
        buf = b""
        line_no = 0
        while True:
            try:
                chunk = ser.readline()
            except serial.SerialException:
                return                       # the sensor went away: end of stream
            if not chunk:
                return                       # no sample for `timeout` seconds: end of stream
            buf += chunk
            if not buf.endswith(b"\n"):
                continue
            line, buf = buf.decode(errors="replace"), b""
            line_no += 1
            s = line.split("#", 1)[0].strip()
            if s:
                yield parse_numbers(s, n, f"sensor {rest} line {line_no}")
    return Source(f"serial {rest} @ {baud}", rows(), None, ser.close)


@dataclass
class StreamStats:
    steps: int = 0
    read: int = 0
    dropped: int = 0
    late: int = 0
    elapsed: float = 0.0
    latencies: list = field(default_factory=list)
    bytes_out: int = 0            # payload bytes host -> device
    bytes_in: int = 0             # payload bytes device -> host
    mismatches: int | None = None
    error: str | None = None
    last_delivered: str | None = None

    def summary(self, link_rate: float | None) -> dict:
        lat = sorted(self.latencies)
        fps = self.steps / self.elapsed if self.elapsed > 0 else None
        bps = (self.bytes_out + self.bytes_in) / self.elapsed if self.elapsed > 0 else None
        return {"steps": self.steps, "read": self.read, "dropped": self.dropped, "late": self.late,
                "seconds": round(self.elapsed, 4), "frames_per_s": fps,
                "latency_ms": {"median": statistics.median(lat) * 1e3 if lat else None,
                               "p95": lat[min(len(lat) - 1, int(0.95 * len(lat)))] * 1e3 if lat else None},
                "link": {"payload_bytes_out": self.bytes_out, "payload_bytes_in": self.bytes_in,
                         "payload_bytes_per_s": bps, "rate_bytes_per_s": link_rate,
                         "utilisation": (bps / link_rate) if (bps is not None and link_rate) else None},
                "check_mismatches": self.mismatches, "error": self.error,
                "last_delivered": self.last_delivered}


def link_rate(dev, board=None) -> float | None:
    """Bytes/s of the link in one direction when known: a real UART's baud / 10."""
    baud = getattr(getattr(board, "uart", None), "baud", None) if board is not None else None
    if board is not None and getattr(board, "emulated", False):
        return None                        # emulated UARTs run at the emulator's pace
    if baud:
        return baud / 10.0
    port = getattr(dev, "port", "") or ""
    if getattr(dev, "byte_time", None) and not port.startswith(("socket://", "loop://")) and "/pts/" not in port:
        return 1.2 / dev.byte_time        # byte_time = 12 / baud
    return None


def stream(dev, model: Model, source: Source, *, steps: int | None = None, rate: float | None = None,
           check_backend: str | None = None,
           on_step: Callable[[int, np.ndarray, float, StreamStats], None] | None = None) -> StreamStats:
    """Step every row of `source` (up to `steps`) on the device, paced at `rate` Hz when given.
    `on_step(i, dequantised output, latency s, stats)` is called after each step."""
    from .link import LinkError
    host = None
    st = StreamStats()
    if check_backend:
        from .runtime import HostModel
        host = HostModel(model, backend=check_backend)
        st.mismatches = 0
    ot = model.output_tensor
    dev.reset_state()
    period = 1.0 / rate if rate else None
    t0 = time.perf_counter()
    try:
        for i, row in enumerate(source.rows):
            if steps is not None and i >= steps:
                break
            st.read += 1
            x = to_device_inputs(np.asarray(row)[None], model, f"sample {i} of {source.name}")[0]
            if period is not None:
                due = t0 + i * period
                now = time.perf_counter()
                if now < due:
                    time.sleep(due - now)
                elif now - due > period:
                    st.late += 1
            ts = time.perf_counter()
            try:
                r = dev.step(x)
            except LinkError as e:
                st.dropped += 1
                st.error = str(e)
                st.last_delivered = e.last_delivered
                break
            lat = time.perf_counter() - ts
            st.latencies.append(lat)
            st.steps += 1
            st.bytes_out += len(x.tobytes())
            st.bytes_in += 4 + len(r.raw)
            y = np.frombuffer(r.raw, dtype=ot.np_dtype)       # decoded with `model`, whatever dev knows
            if host is not None:
                hy = host.step(x)
                if hy.tobytes() != y.tobytes():
                    st.mismatches += 1
            if on_step:
                on_step(i, dequantize(y, model, model.output), lat, st)
    finally:
        st.elapsed = time.perf_counter() - t0
        st.last_delivered = st.last_delivered or dev.last_delivered
        source.close()
    return st
