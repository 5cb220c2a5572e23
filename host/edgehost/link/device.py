"""`Device`: the commands of docs/protocol.md over a Transport, with retries by sequence number.

Which calls keep the network's state, with the host interpreter's equivalent
(edgehost.runtime.HostModel) beside each:

    device                         resets state?   host
    dev.infer(xs)       INFER        yes, first     HostModel.run(xs)[0][-1]  (run resets; outputs[-1])
    dev.step(x)         STEP         no (keeps it)  HostModel.step(x)
    dev.reset_state()   RESET_STATE  yes            HostModel.reset()
    dev.trace()         TRACE        no (reads)     the list HostModel.step(x, trace=[]) fills
    dev.load_model(b)   LOAD_*       yes (zeroed)   HostModel(b)

So a step-by-step comparison is `dev.reset_state(); host.reset()` then `dev.step(x)` /
`host.step(x)` per row; `dev.infer(xs)` after some steps starts again from zero, as `host.run`.
Results are decoded with the loaded model's tensors (edgehost.link.results): `.output` is a
numpy array of the output tensor's dtype and shape, `.raw` the bytes, `.dequantized()` floats.

One request is outstanding at a time. A request is retransmitted unchanged (same seq) when its
answer does not come in time, comes corrupted, or the device NAKs a frame it could not read;
the device answers a retransmission from its cache without executing it again. Answers to other
sequence numbers (late duplicates) are dropped. So each call returns exactly one answer, or
raises a typed error (edgehost.link.errors) that names the last delivered request.
"""
from __future__ import annotations

import math
import random
import struct
import time
from dataclasses import dataclass, field, replace
from typing import Callable

from . import protocol as P
from .errors import (BoardAbsent, BoardReset, ConnectionLost, DeviceError, FirmwareVersionMismatch,
                     LinkTimeout, ProtocolError)
from .results import InferResult, LayerTrace, StepResult
from .transport import Transport

#: protocol-level default before HELLO told the device's real limit
_DEFAULT_MAX_PAYLOAD = 64


@dataclass
class LoadResult:
    model_hash: int
    arena_used: int
    input_bytes: int
    output_bytes: int
    n_layers: int


@dataclass
class LinkStats:
    requests: int = 0
    retransmits: int = 0
    stale_dropped: int = 0
    corrupt_frames: int = 0
    transport_naks: int = 0
    chunk_shrinks: int = 0     # model chunks halved because the link kept damaging them
    infer_shrinks: int = 0     # INFER frame limit halved because the link kept damaging them
    infer_pieces: int = 0      # INFER frames sent for inputs split over several frames
    timeouts: int = 0          # tries that ended without any answer in time
    staged: int = 0            # staged INFER transfers (fragments + RUN, docs/protocol.md)
    staged_rounds: int = 0     # RUN rounds of those (fragments sent, RUN copies, one answer awaited)
    fragments_sent: int = 0    # fragment frames sent (copies counted)
    fragments_lost: int = 0    # fragments a staged RUN reported missing after they were sent
    extra: dict = field(default_factory=dict)


class Device:
    """A connected edgehost firmware. Use `Device.open(port)` or `edgehost.link.connect()`."""

    #: smallest model chunk load_model falls back to on a noisy link
    MIN_CHUNK = 32
    #: an INFER frame of several rows that starts an input gets FRAME_RETRIES before the input is
    #: split into smaller frames (see infer()); a frame of one row gets the full retry budget
    FRAME_RETRIES = 3

    def __init__(self, transport: Transport, *, timeout: float = 0.5, retries: int = 8,
                 byte_time: float = 1 / 4000):
        self.t = transport
        self.port = transport.port
        self.timeout = timeout
        self.retries = retries
        self.byte_time = byte_time
        self.info: P.DeviceInfo | None = None
        self._model = None          # edgehost.blob.Model of the blob given to load_model / use_model
        self.stats = LinkStats()
        self._seq = random.randrange(1, 0x10000)
        self._delivered = 0
        self._last: str | None = None
        self.steps_since_reset = 0
        #: largest INFER payload this link currently gets through (None: the device's maximum);
        #: halved when a frame keeps failing, grown again after frames that pass at once
        self.infer_limit: int | None = None
        #: how infer() sends an input: "auto" (staged INFER while the link has damaged something in
        #: the last `damage_memory` requests, when the firmware has it; INFER frames otherwise),
        #: "frames" or "staged"
        self.infer_mode = "auto"
        #: requests after the last damage seen before "auto" goes back to INFER frames
        self.damage_memory = 100
        self._damage_req: int | None = None   # stats.requests when the link last damaged something
        # staged INFER's adaptive state: fragment data size, the estimated probability that one
        # fragment arrives whole, seconds per wire byte of a round trip (mean, deviation)
        self.frag_k = 24
        self._frag_ok = 0.9
        self._rt_byte: float | None = None
        self._rt_dev = 0.0
        self._xid = random.randrange(0, 128)
        self.last_run: tuple | None = None

    # ---- opening ----------------------------------------------------------------------------

    @classmethod
    def open(cls, port: str, *, hello: bool = True, open_timeout: float = 2.0,
             baudrate: int = 115200, **kw) -> "Device":
        """Open `port` (pyserial URL or path) and, by default, check the device with HELLO."""
        t = Transport.open(port, baudrate=baudrate, open_timeout=open_timeout)
        if "byte_time" not in kw and not port.startswith(("socket://", "loop://")) and "/pts/" not in port:
            kw["byte_time"] = 12.0 / baudrate  # a real UART: 10 bits a byte, with margin
        dev = cls(t, **kw)
        if hello:
            try:
                dev.hello()
            except LinkTimeout as e:
                dev.close()
                raise BoardAbsent(f"no answer to HELLO after {dev.retries + 1} tries: is the edgehost "
                                  "firmware running there (edgehost flash)?", port=port) from e
            except Exception:
                dev.close()
                raise
        return dev

    def close(self) -> None:
        self.t.close()

    def __enter__(self) -> "Device":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def last_delivered(self) -> str | None:
        return self._last

    @property
    def max_payload(self) -> int:
        return self.info.max_payload if self.info else _DEFAULT_MAX_PAYLOAD

    # ---- the loaded model, as this host knows it ---------------------------------------------

    @property
    def model(self):
        """The loaded model (edgehost.blob.Model, read from the blob given to load_model or
        use_model, or loaded through another connection of this process), or None when this
        host does not know it. Results are decoded with its tensors."""
        info = self.info
        if info is None or not info.model_loaded:
            return None
        if self._model is not None and self._model.model_hash == info.model_hash:
            return self._model
        return _KNOWN_MODELS.get(info.model_hash)

    @property
    def input_dtype(self):
        """numpy dtype of the loaded model's input, None when the model is unknown."""
        m = self.model
        return m.input_tensor.np_dtype if m is not None else None

    def use_model(self, blob_or_model) -> None:
        """Tell this Device which model the board holds (loaded earlier, e.g. by `edgehost run`
        or another connection) without uploading it again, so results are decoded. Raises
        DeviceError when the board holds another model (a different hash) or none."""
        from ..blob import Model, read
        m = blob_or_model if isinstance(blob_or_model, Model) else read(bytes(blob_or_model))
        info = self.hello()
        if not info.model_loaded or info.model_hash != m.model_hash:
            held = f"model {info.model_hash:#010x}" if info.model_loaded else "no model"
            raise self._err(DeviceError, f"the board holds {held}, not this one ({m.model_hash:#010x}): "
                            "load it with load_model(blob)", status=P.Status.NO_MODEL)
        self._model = m
        _remember(m)

    # ---- the request engine -----------------------------------------------------------------

    def _next_seq(self) -> int:
        self._seq = (self._seq % 0xFFFF) + 1  # 1..65535; 0 is the BOOT event's
        return self._seq

    def _err(self, cls, msg: str, **kw):
        return cls(msg, port=self.port, last_delivered=self._last, **kw)

    def request(self, cmd: int, payload: bytes = b"", *, timeout: float | None = None,
                retries: int | None = None) -> P.Frame:
        """Send one request and return its (OK) answer frame; retransmits as needed (up to
        `retries` times, the link's setting by default)."""
        try:
            return self._request(cmd, payload, timeout, retries)
        except ConnectionLost as e:
            if e.last_delivered is not None or self._last is None:
                raise
            raise self._err(ConnectionLost, f"connection lost while {P.code_name(cmd)} was outstanding "
                            f"(its answer was not delivered): {e.detail}") from e

    def _request(self, cmd: int, payload: bytes, timeout: float | None, retries: int | None = None) -> P.Frame:
        name = P.code_name(cmd)
        retries = self.retries if retries is None else retries
        if len(payload) > self.max_payload and not (cmd == P.Cmd.HELLO):
            raise ValueError(f"{name} payload of {len(payload)} bytes exceeds the device's "
                             f"maximum of {self.max_payload}")
        seq = self._next_seq()
        wire = P.encode(P.Frame(cmd, seq, payload=bytes(payload)))
        per_try = (timeout if timeout is not None else self.timeout) + \
            (len(wire) + len(payload) + 64) * self.byte_time
        self.stats.requests += 1
        tries = 1
        timeouts = damaged = 0
        self.t.write(wire)
        t_start = time.monotonic()
        deadline = t_start + per_try
        while True:
            item = self.t.next_item(deadline)
            resend = False
            if item is None:
                timeouts += 1
                self.stats.timeouts += 1
                resend = True
            elif isinstance(item, P.FrameError):
                self._damage("corrupt_frames")
                damaged += 1
                resend = True
            elif item[:1] != bytes((P.VERSION,)) and P.parse_staged_answer(item) is not None:
                self.stats.stale_dropped += 1      # a late copy of a staged INFER answer
                continue
            else:
                try:
                    fr = P.parse_frame(item)
                except P.FrameError as e:
                    if e.status == P.Status.VERSION:
                        raise self._err(FirmwareVersionMismatch,
                                        f"the device sends protocol version {e.header.version if e.header else '?'}, "
                                        f"this host speaks {P.VERSION}: flash a matching firmware")
                    self._damage("corrupt_frames")
                    damaged += 1
                    resend = True
                else:
                    if fr.code == P.EVT_BOOT:
                        if self._delivered:
                            raise self._err(BoardReset, f"the device restarted while {name} seq={seq} "
                                            "was outstanding (its model and state are gone)")
                        continue
                    if fr.code == P.RSP_NAK and not fr.seq_valid:
                        self._damage("transport_naks")
                        damaged += 1
                        resend = True
                    elif fr.seq != seq:
                        self.stats.stale_dropped += 1
                        continue
                    else:
                        if tries == 1 and fr.code != P.RSP_NAK:   # a clean round trip: staged INFER's
                            self._rt_sample(time.monotonic() - t_start, len(wire) + len(fr.payload) + 16)
                        return self._answer(cmd, seq, fr)
            if resend:
                if tries > retries:
                    spent = time.monotonic() - t_start
                    raise self._err(LinkTimeout, f"no valid answer to {name} seq={seq} ({len(wire)} bytes "
                                    f"on the wire) after {tries} tries in {spent:.2f} s: {timeouts} "
                                    f"timed out (after {per_try:.2f} s without an answer), {damaged} "
                                    "answered with a damaged frame or a NAK of a damaged request")
                tries += 1
                self.stats.retransmits += 1
                self.t.write(wire)
                deadline = time.monotonic() + per_try

    def _answer(self, cmd: int, seq: int, fr: P.Frame) -> P.Frame:
        name = P.code_name(cmd)
        self._delivered += 1
        desc = f"{name} seq={seq} (request #{self._delivered})"
        if fr.code == P.RSP_NAK:
            req, msg = fr.nak_info()
            self._last = desc + " refused"
            if fr.status == P.Status.VERSION:
                raise self._err(FirmwareVersionMismatch, f"the device refused protocol version {P.VERSION}")
            raise self._err(DeviceError, f"{name} refused: {P.status_name(fr.status)}"
                            + (f": {msg}" if msg else ""), status=fr.status, device_message=msg)
        if fr.code != (cmd | P.RSP_BIT):
            self._last = desc + " (unexpected answer)"
            raise self._err(ProtocolError, f"{name} seq={seq} answered with {P.code_name(fr.code)}")
        self._last = desc
        return fr

    # ---- commands ---------------------------------------------------------------------------

    def hello(self) -> P.DeviceInfo:
        fr = self.request(P.Cmd.HELLO)
        try:
            info = P.parse_info(fr.payload)
        except ValueError as e:
            raise self._err(ProtocolError, f"bad HELLO payload: {e}") from e
        if info.protocol_version != P.VERSION:
            raise self._err(FirmwareVersionMismatch, f"firmware {info.firmware_version} speaks protocol "
                            f"{info.protocol_version}, this host speaks {P.VERSION}: flash a matching firmware")
        self.info = info
        return info

    def ping(self) -> float:
        """One PING round trip; returns its duration in seconds."""
        t0 = time.perf_counter()
        fr = self.request(P.Cmd.PING)
        dt = time.perf_counter() - t0
        if fr.payload:
            raise self._err(ProtocolError, "PING answered with a payload")
        return dt

    def echo(self, data: bytes) -> bytes:
        fr = self.request(P.Cmd.ECHO, bytes(data))
        if fr.payload != bytes(data):
            raise self._err(ProtocolError, f"ECHO of {len(data)} bytes came back different")
        return fr.payload

    def _u32s(self, fr: P.Frame, n: int, what: str) -> tuple:
        if len(fr.payload) != 4 * n:
            raise self._err(ProtocolError, f"{what} answer of {len(fr.payload)} bytes, expected {4 * n}")
        return struct.unpack(f"<{n}I", fr.payload)

    def load_model(self, blob: bytes, progress: Callable[[int, int], None] | None = None) -> LoadResult:
        """Upload a model blob in chunks (each CRC-checked by its frame), commit it with the whole
        blob's CRC-32; the device then validates it with eh_model_load and starts from a zeroed
        state (host equivalent: `HostModel(blob)`). From then on this Device knows the model's
        tensors: infer/step/trace results are decoded with them."""
        blob = bytes(blob)
        if not blob:
            raise ValueError("empty model blob")
        if self.info is None:
            self.hello()
        assert self.info is not None
        if self.info.blob_capacity and len(blob) > self.info.blob_capacity:
            raise self._err(DeviceError, f"model blob of {len(blob)} bytes does not fit the device's "
                            f"{self.info.blob_capacity}-byte blob buffer", status=P.Status.TOO_BIG)
        # from here the board's model is in flux: ask it again (HELLO) before trusting a hash
        self.info = replace(self.info, model_loaded=False)
        self._model = None
        self._u32s(self.request(P.Cmd.LOAD_BEGIN, struct.pack("<I", len(blob))), 1, "LOAD_BEGIN")
        # Chunks start as large as a frame allows. On a noisy link a long frame rarely arrives
        # whole, so a chunk that keeps failing is halved (the device accepts a chunk at any offset
        # up to what it holds, so a resend of bytes it already has is harmless) down to MIN_CHUNK,
        # where the link's full retry budget applies.
        chunk = self.max_payload - 4
        off = 0
        if progress:
            progress(0, len(blob))
        while off < len(blob):
            part = blob[off:off + chunk]
            small = chunk <= self.MIN_CHUNK
            try:
                fr = self.request(P.Cmd.LOAD_CHUNK, struct.pack("<I", off) + part,
                                  retries=None if small else min(self.retries, 3))
            except LinkTimeout:
                if small:
                    raise
                chunk = max(self.MIN_CHUNK, chunk // 2)
                self.stats.chunk_shrinks += 1
                continue
            (got,) = self._u32s(fr, 1, "LOAD_CHUNK")
            # more than this chunk when a longer one sent earlier arrived but its answer did not:
            # those bytes are this blob's too (LOAD_COMMIT checks the whole blob's CRC)
            if not off + len(part) <= got <= len(blob):
                raise self._err(ProtocolError, f"device holds {got} bytes after the chunk at {off}, "
                                f"expected {off + len(part)}")
            off = got
            if progress:
                progress(off, len(blob))
        fr = self.request(P.Cmd.LOAD_COMMIT, struct.pack("<II", len(blob), P.crc32(blob)),
                          timeout=max(self.timeout, 5.0))
        res = LoadResult(*self._u32s(fr, 5, "LOAD_COMMIT"))
        self.steps_since_reset = 0
        self._model = _read_blob(blob)
        if self._model is not None:
            _remember(self._model)
        self.hello()  # refresh info (model hash, arena use, sizes)
        return res

    def _model_info(self) -> P.DeviceInfo:
        if self.info is None or not self.info.model_loaded:
            self.hello()
        assert self.info is not None
        if not self.info.model_loaded:
            raise self._err(DeviceError, "no model loaded on the device (load_model first)",
                            status=P.Status.NO_MODEL)
        return self.info

    def _as_bytes(self, x) -> bytes:
        """Input bytes. An array must have the loaded model's input dtype: the device sees only
        bytes, so an array of another dtype would be reinterpreted silently; it is refused with
        the conversion to use (for real values and a q15 input: edgehost.validate.to_device_inputs)."""
        if isinstance(x, (bytes, bytearray, memoryview)):
            return bytes(x)
        import numpy as np
        x = np.asarray(x)
        want = self.input_dtype
        m = self.model
        if m is not None and m.input_tensor.dtype == "b1":     # 0/1 entries of a b1 input: packed
            from ..blob.bits import as_b1_rows
            x = as_b1_rows(x, m.input_tensor.n)
        if want is not None and x.dtype != want:
            raise ValueError(_wrong_input_dtype(x, want, self.model.input_tensor))
        return np.ascontiguousarray(x).tobytes()

    def infer(self, x, *, steps: int | None = None, timeout: float | None = None) -> InferResult:
        """Run a whole input of T steps (INFER): **reset the state**, step T times, return the
        last step's output. `x` is bytes or an array whose C-order bytes are T * input_bytes
        (T = steps, or len(x) for a (T, features) array).
        Host equivalent: `HostModel.run(x)[0][-1]` (run resets the host state too).
        The result's `.output` is a numpy array of the output tensor's dtype and shape,
        `.raw` the bytes, `.dequantized()` the real values.
        An input larger than a frame, or than the link currently carries whole, is sent as
        several INFER frames, all but the first with CONTINUE (docs/protocol.md, "INFER over a
        lossy link"); firmware without CONTINUE gets RESET_STATE + one STEP per row."""
        info = self._model_info()
        data = self._as_bytes(x)
        ib = info.input_bytes
        if ib == 0 or len(data) % ib:
            raise ValueError(f"input of {len(data)} bytes is not a whole number of "
                             f"{ib}-byte steps")
        t = len(data) // ib
        if steps is not None and steps != t:
            raise ValueError(f"input holds {t} steps, {steps} requested")
        if t == 0 or t > 0xFFFF:
            raise ValueError(f"{t} steps: 1..65535 allowed")
        if self._use_staged(info, ib):
            return self._infer_staged(data, t, ib, info)
        if not info.infer_continue and 4 + len(data) > self.max_payload:
            return self._infer_steps(data, t, ib, info, timeout)
        # Pieces of the input, each one INFER frame; all but the first carry CONTINUE (the state
        # is kept), so the device steps each row once, as one INFER would. A piece of several rows
        # that keeps failing gets FRAME_RETRIES: when it is the first piece (it resets
        # the state, so nothing is lost by sending it again smaller) the frame limit is halved and
        # it is sent again; a later piece keeps the full retry budget (its answer may be lost
        # after the device ran it: only a retransmission of the same frame is safe) and the limit
        # is halved for the next pieces when it needed several tries.
        total = 0
        row = 0
        fr = None
        pieces = 0
        while row < t:
            limit = min(self.max_payload, self.infer_limit or self.max_payload)
            if not info.infer_continue:   # old firmware: one frame or RESET_STATE + STEPs
                if 4 + len(data) > limit:
                    return self._infer_steps(data, t, ib, info, timeout)
                limit = self.max_payload
            rows = min(t - row, max(1, (limit - 4) // ib))
            first = row == 0
            payload = struct.pack("<HH", rows, 0 if first else P.INFER_CONTINUE) + \
                data[row * ib:(row + rows) * ib]
            big = rows > 1
            # the whole input in one frame: as long as ever (slow devices); a piece of a split
            # input: the link's timeout plus 1/16 of it per row, so that a lost answer costs little
            tmo = timeout if timeout is not None else (
                max(self.timeout, 2.0) if rows == t else
                min(max(self.timeout, 2.0), self.timeout * (1 + rows / 16)))
            before = self.stats.retransmits
            try:
                fr = self.request(P.Cmd.INFER, payload, timeout=tmo,
                                  retries=min(self.retries, self.FRAME_RETRIES) if big and first else None)
            except LinkTimeout:
                if not (big and first):
                    raise
                self._shrink_infer(len(payload), ib)
                continue
            tries = 1 + self.stats.retransmits - before
            if tries > 3 and big:
                self._shrink_infer(len(payload), ib)
            elif tries == 1 and self.infer_limit is not None and len(payload) >= self.infer_limit - ib:
                self.infer_limit = min(self.max_payload, self.infer_limit + max(ib, self.infer_limit // 4))
                if self.infer_limit >= self.max_payload:
                    self.infer_limit = None
            if len(fr.payload) < 8:
                raise self._err(ProtocolError, "INFER answer shorter than 8 bytes")
            delta, st, olen = struct.unpack_from("<IHH", fr.payload)
            if st != rows or olen != len(fr.payload) - 8:
                raise self._err(ProtocolError, f"INFER answer says {st} steps / {olen} bytes, "
                                f"carries {len(fr.payload) - 8} bytes for {rows} steps")
            total += delta
            row += rows
            pieces += 1
            self.steps_since_reset = row
        if pieces > 1:
            self.stats.infer_pieces += pieces
            self._last = f"{self._last} (INFER of {t} steps in {pieces} frames)"
        assert fr is not None
        return InferResult(fr.payload[8:], total & 0xFFFFFFFF, info.counter_kind, t,
                           "frame" if pieces == 1 else "frames", self._output_tensor())

    # ---- staged INFER (docs/protocol.md, "Staged INFER") ---------------------------------------

    def link_damaged(self) -> bool:
        """True while this connection has seen the link damage something in the last
        `damage_memory` requests: a damaged frame, a NAK of a damaged request, or a staged fragment
        that did not arrive. Timeouts and the retransmissions after them alone do not count: a slow
        device (an RTL simulation, a loaded host) times out on a clean link, and bytes lost on a
        lossy one show up as damaged frames and NAKs. Damage is forgotten after `damage_memory`
        clean requests, so one glitch (garbage at boot, a cable touched) does not keep a clean link
        on staged transfers for good."""
        return self._damage_req is not None and self.stats.requests - self._damage_req < self.damage_memory

    def _damage(self, what: str, n: int = 1) -> None:
        """Counts damage the link did (a LinkStats field) and when: at the current request."""
        setattr(self.stats, what, getattr(self.stats, what) + n)
        self._damage_req = self.stats.requests

    def _use_staged(self, info, ib: int) -> bool:
        if self.infer_mode == "frames" or not info.staged_infer or ib > self.max_payload:
            return False
        return self.infer_mode == "staged" or self.link_damaged()

    def _infer_staged(self, data: bytes, t: int, ib: int, info) -> InferResult:
        """The input as staged transfers of at most max_payload bytes (whole rows) each, all but
        the first with CONTINUE: fragments, then RUN until the device runs it (exactly once)."""
        per = max(1, self.max_payload // ib)
        total = 0
        out = b""
        row = 0
        pieces = 0
        while row < t:
            rows = min(per, t - row)
            delta, out = self._stage_piece(data[row * ib:(row + rows) * ib], rows, row > 0)
            total += delta
            row += rows
            pieces += 1
            self.steps_since_reset = row
        if pieces > 1:
            self._last = f"{self._last} (INFER of {t} steps in {pieces} staged transfers)"
        return InferResult(out, total & 0xFFFFFFFF, info.counter_kind, t, "staged", self._output_tensor())

    def _frag_layout(self, total: int) -> tuple[int, int]:
        """(k, n fragments) for `total` input bytes: k near the best for the estimated fragment
        survival, the padded input within the staging buffer (max payload) and 256 fragments."""
        cap = self.max_payload
        k = max(1, min(self.frag_k, total, 255))
        n = -(-total // k)
        while n > P.SRUN_MAX_FRAGS:
            k += 1
            n = -(-total // k)
        k = -(-total // n)             # the same count, the least padding
        while n * k > cap:
            n += 1
            k = -(-total // n)
        if n > P.SRUN_MAX_FRAGS:
            raise ValueError(f"staged input of {total} bytes does not fit {P.SRUN_MAX_FRAGS} fragments")
        return k, n

    def _retune(self, sent: int, got: int, copies: int) -> None:
        """Updates the fragment survival estimate from a round (sent fragments, copies each,
        got of them arrived) and from it the fragment size for the next transfers:
        k maximising k (1-p)^(k+6) / (k+6), the data delivered per wire byte."""
        if sent < 4:
            return
        frac = min(max(got / sent, 0.01), 0.995)
        ok = 1 - (1 - frac) ** (1 / copies)
        self._frag_ok = (self._frag_ok * 16 + ok * sent) / (16 + sent)
        q = self._frag_ok ** (1 / (self.frag_k + 6))      # one byte arrives intact
        lq = -math.log(min(q, 0.9995))
        self.frag_k = int(min(128, max(4, round(-3 + math.sqrt(9 + 6 / lq)))))
        self.stats.extra["frag_k"] = self.frag_k
        self.stats.extra["frag_ok"] = round(self._frag_ok, 3)

    def _stage_timeout(self, nbytes: int) -> float:
        cons = self.timeout + (nbytes + 64) * self.byte_time
        if self._rt_byte is None:
            return cons
        # a timeout that comes too early costs one RUN-only round: a late answer is still taken
        return min(cons, max(0.015, (self._rt_byte + 4 * self._rt_dev) * (nbytes + 64)))

    def _rt_sample(self, elapsed: float, nbytes: int) -> None:
        x = elapsed / (nbytes + 64)
        if self._rt_byte is None:
            self._rt_byte, self._rt_dev = x, x / 2
        else:
            self._rt_dev = 0.75 * self._rt_dev + 0.25 * abs(x - self._rt_byte)
            self._rt_byte = 0.875 * self._rt_byte + 0.125 * x

    def _stage_piece(self, data: bytes, rows: int, cont: bool) -> tuple[int, bytes]:
        self._xid = xid = (self._xid + 1) & 0x7F
        k, n = self._frag_layout(len(data))
        padded = data + bytes(n * k - len(data))
        frags = [P.wire(P.fragment(xid, i, padded[i * k:(i + 1) * k])) for i in range(n)]
        in_crc = P.crc32(data)
        missing = list(range(n))
        send = True
        tag = 0
        valid_tags: set = set()
        rounds = timeouts = stale = 0
        idle = 0                     # rounds in a row that brought nothing new
        consec = 0                   # rounds in a row that timed out
        tmo = 0.0
        self.stats.requests += 1
        self.stats.staged += 1
        t_start = t_progress = time.monotonic()
        while True:
            lossy = self._frag_ok < 0.6
            copies = 1 + (1 if len(missing) <= 8 else 0) + (1 if len(missing) <= 2 and lossy else 0)
            flags = (P.SRUN_CONTINUE if cont else 0) | ((2 if lossy else 0) << P.SRUN_COPIES_SHIFT) | \
                (tag << P.SRUN_TAG_SHIFT)
            run = P.wire(P.staged_run(xid, k, flags, rows, in_crc))
            self.last_run = (xid, run)        # for tests that replay it
            out = bytearray(b"\x00")
            if send:
                valid_tags = {tag}
                for _ in range(copies):
                    for i in missing:
                        out += frags[i]
                self.stats.fragments_sent += copies * len(missing)
            else:
                valid_tags.add(tag)
            out += run * (4 if lossy else 2)
            sent_missing = len(missing) if send else 0
            self.t.write(bytes(out))
            rounds += 1
            self.stats.staged_rounds += 1
            t0 = time.monotonic()
            # doubled for each timeout in a row after the 8th (a long INFER on a slow device; a
            # stall or a few lost rounds are better met by sending the RUN again soon), up to an
            # INFER frame's timeout
            slow = max(self.timeout, 2.0) + (len(out) + 64) * self.byte_time
            tmo = min(slow, self._stage_timeout(len(out)) * 2 ** min(max(0, consec - 8), 16))
            ans = self._staged_answer(xid, valid_tags, t0 + tmo)
            if ans is None:
                consec += 1
                timeouts += 1
                self.stats.timeouts += 1
                idle += 1
                send = False
            else:
                if not consec:      # a round trip without a timeout before it
                    self._rt_sample(time.monotonic() - t0, len(out))
                consec = 0
                if ans.kind == P.SANS_DONE:
                    self._delivered += 1
                    self._last = f"staged INFER xid={xid} (request #{self._delivered})"
                    return ans.delta, ans.output
                if ans.kind == P.SANS_REFUSED:
                    self._delivered += 1
                    self._last = f"staged INFER xid={xid} (request #{self._delivered}) refused"
                    raise self._err(DeviceError, f"staged INFER refused: {P.status_name(ans.status)}"
                                    + (f": {ans.message}" if ans.message else ""),
                                    status=ans.status, device_message=ans.message)
                now_missing = [i for i, r in enumerate(ans.received) if not r] if len(ans.received) == n \
                    else list(range(n))
                if sent_missing:
                    still = set(now_missing)
                    got = sum(1 for i in missing if i not in still)
                    if sent_missing > got:
                        self._damage("fragments_lost", sent_missing - got)
                    self._retune(sent_missing, got, copies)
                if len(now_missing) < len(missing):
                    idle = 0
                    t_progress = time.monotonic()
                else:
                    idle += 1
                missing = now_missing
                send = True
            if idle > self.retries and time.monotonic() - t_progress > slow:
                spent = time.monotonic() - t_start
                raise self._err(LinkTimeout, f"staged INFER xid={xid} ({n} fragments of {k} bytes) not run "
                                f"after {rounds} rounds in {spent:.2f} s: {timeouts} timed out (the last "
                                f"after {tmo:.3f} s without an answer), {len(missing)} fragments still "
                                f"missing, {idle} rounds in a row without progress (for "
                                f"{time.monotonic() - t_progress:.2f} s)")
            tag = (tag + 1) & 0x1F
            self.stats.retransmits += 1

    def _staged_answer(self, xid: int, tags: set, deadline: float):
        """The first intact answer of transfer `xid` (MISSING only with one of `tags`), or None."""
        while True:
            item = self.t.next_item(deadline)
            if item is None:
                return None
            if isinstance(item, P.FrameError):
                self._damage("corrupt_frames")
                continue
            a = P.parse_staged_answer(item)
            if a is None:
                if item[:1] == bytes((P.VERSION,)):
                    try:
                        fr = P.parse_frame(item)
                    except P.FrameError:
                        self._damage("corrupt_frames")
                        continue
                    if fr.code == P.EVT_BOOT and self._delivered:
                        raise self._err(BoardReset, f"the device restarted while staged INFER xid={xid} "
                                        "was outstanding (its model and state are gone)")
                    self.stats.stale_dropped += 1
                else:
                    self._damage("corrupt_frames")
                continue
            if a.xid != xid or (a.kind == P.SANS_MISSING and a.tag not in tags):
                self.stats.stale_dropped += 1
                continue
            return a

    def _shrink_infer(self, size: int, ib: int) -> None:
        self.infer_limit = max(4 + ib, size // 2)
        self.stats.infer_shrinks += 1

    def _infer_steps(self, data: bytes, t: int, ib: int, info, timeout) -> InferResult:
        """Firmware without INFER's CONTINUE flag: RESET_STATE then one STEP per row."""
        self.reset_state()
        total = 0
        res = None
        for i in range(t):
            res = self.step(data[i * ib:(i + 1) * ib], timeout=timeout)
            total += res.counter_delta
        assert res is not None
        return InferResult(res.raw, total & 0xFFFFFFFF, info.counter_kind, t, "steps", res.tensor)

    def step(self, x, *, timeout: float | None = None) -> StepResult:
        """One time step (STEP) from the current state, which it **keeps** and updates (nothing
        is reset: call reset_state() to start a sequence). Host equivalent: `HostModel.step(x)`.
        `.output` of the result is a numpy array as for infer()."""
        info = self._model_info()
        data = self._as_bytes(x)
        if len(data) != info.input_bytes:
            raise ValueError(f"step input of {len(data)} bytes, the model takes {info.input_bytes}")
        fr = self.request(P.Cmd.STEP, data, timeout=timeout)
        if len(fr.payload) < 4:
            raise self._err(ProtocolError, "STEP answer shorter than 4 bytes")
        (delta,) = struct.unpack_from("<I", fr.payload)
        self.steps_since_reset += 1
        self._last = f"{self._last} (step {self.steps_since_reset} since reset)"
        return StepResult(fr.payload[4:], delta, info.counter_kind, self._output_tensor())

    def reset_state(self) -> None:
        """Zero the network's state (RESET_STATE). Host equivalent: `HostModel.reset()`."""
        self._model_info()
        fr = self.request(P.Cmd.RESET_STATE)
        if fr.payload:
            raise self._err(ProtocolError, "RESET_STATE answered with a payload")
        self.steps_since_reset = 0

    def trace(self, layer: int | None = None) -> list[LayerTrace]:
        """Per-layer outputs of the last step (all layers, or one), read without changing the
        state (TRACE). Each LayerTrace has `.output` (numpy, the layer's output tensor's dtype
        and shape), `.raw` and `.dequantized()`, like the host's `HostModel.step(x, trace=list)`
        entries. With all layers, a layer the device cannot report (its tensor reused later in
        the arena plan) has raw and output None and the reason in `error`; asking for that one
        layer raises DeviceError."""
        info = self._model_info()
        model = self.model
        layers = range(info.n_layers) if layer is None else [layer]
        out = []
        for li in layers:
            if not 0 <= li <= 0xFFFF:
                raise ValueError(f"layer {li} out of range")
            data = bytearray()
            dtype = 0
            total = None
            while total is None or len(data) < total:
                try:
                    fr = self.request(P.Cmd.TRACE, struct.pack("<HHI", li, 0, len(data)))
                except DeviceError as e:
                    if e.status != P.Status.MODEL or layer is not None:
                        raise
                    out.append(LayerTrace(li, 0, None, e.device_message or "not available",
                                          _layer_tensor(model, li)))
                    break
                if len(fr.payload) < 12:
                    raise self._err(ProtocolError, "TRACE answer shorter than 12 bytes")
                dtype, _r, _n, tot, off = struct.unpack_from("<BBHII", fr.payload)
                if off != len(data) or (total is not None and tot != total):
                    raise self._err(ProtocolError, "TRACE answer for another offset or length")
                total = tot
                part = fr.payload[12:]
                if not part and len(data) < total:
                    raise self._err(ProtocolError, "TRACE answer carries no data")
                data += part
            else:
                out.append(LayerTrace(li, dtype, bytes(data), None, _layer_tensor(model, li)))
        return out

    def _output_tensor(self):
        m = self.model
        return m.output_tensor if m is not None else None


#: models this process loaded or was told about (model hash -> Model), so that a new connection
#: to a board (e.g. after a reconnect) still decodes the results of the model it holds
_KNOWN_MODELS: dict = {}
_KNOWN_MAX = 16


def _remember(model) -> None:
    _KNOWN_MODELS.pop(model.model_hash, None)
    _KNOWN_MODELS[model.model_hash] = model
    while len(_KNOWN_MODELS) > _KNOWN_MAX:
        _KNOWN_MODELS.pop(next(iter(_KNOWN_MODELS)))


def _read_blob(blob: bytes):
    """The Model of a blob, or None when the blob cannot be read here (the device validates it on
    its own; results then carry only `.raw`)."""
    try:
        from ..blob import read
        return read(blob)
    except Exception:  # noqa: BLE001 - best effort; the device is the judge of the blob
        return None


def _layer_tensor(model, li: int):
    if model is None or not 0 <= li < len(model.layers):
        return None
    return model.tensors[model.layers[li].output]


def _wrong_input_dtype(x, want, tensor) -> str:
    if tensor.dtype == "q15" and x.dtype.kind == "f":
        how = (f"quantise real values with edgehost.validate.to_device_inputs(x, model) (x / scale "
               f"rounded, scale {tensor.scale:g})")
    else:
        how = f"convert it, e.g. x.astype(np.{want.name})"
    return (f"the loaded model takes {want.name} input ({tensor.dtype}), got a {x.dtype.name} array "
            f"({how}, or pass bytes)")
