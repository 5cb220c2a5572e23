"""The device side under hostile input: short libFuzzer runs of the model loader and of the frame
decoder with every command's payload parser (bench/fuzz/run.sh, ASan+UBSan; the 1,000,000-input
runs are documented in docs/protocol.md and README), and TRACE refusals that name the layer and
the count (on the host board)."""
from __future__ import annotations

import os
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RUNS = 20_000


def _libfuzzer_ok(tmp: Path) -> str | None:
    cc = os.environ.get("CC", "clang")
    if not shutil.which(cc):
        return f"{cc} is not installed (scripts/setup.sh installs clang and libclang-rt-14-dev)"
    src = tmp / "probe.c"
    src.write_text("#include <stdint.h>\n#include <stddef.h>\n"
                   "int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }\n")
    r = subprocess.run([cc, "-fsanitize=fuzzer,address,undefined", str(src), "-o", str(tmp / "probe")],
                       capture_output=True, text=True)
    return None if r.returncode == 0 else f"{cc} cannot build a libFuzzer target: {r.stderr.strip()[:200]}"


@pytest.mark.parametrize("fuzzer", ["model", "frame"])
def test_fuzz_short(fuzzer, tmp_path):
    why = _libfuzzer_ok(tmp_path)
    if why:                     # scripts/setup.sh installs clang and its runtime: never skip silently
        pytest.fail(why)
    env = dict(os.environ, FUZZERS=fuzzer)
    r = subprocess.run(["sh", str(ROOT / "bench" / "fuzz" / "run.sh"), str(RUNS), str(tmp_path / "work")],
                       capture_output=True, text=True, env=env, timeout=1800)
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-2000:]
    assert f"fuzzer={fuzzer} runs={RUNS}" in r.stdout and "all fuzzers passed" in r.stdout
    log = (tmp_path / "work" / fuzzer / "fuzz.log").read_text()
    assert f"Done {RUNS} runs" in log and "ERROR" not in log


def test_run_sh_takes_the_model_sources_from_a_glob():
    text = (ROOT / "bench" / "fuzz" / "run.sh").read_text()
    assert "firmware/model/*.c" in text and "firmware/model/ops/*.c" in text
    assert "eh_model.c" not in text          # no fixed list: a split of the model into ops/ is picked up


def test_trace_errors_name_the_layer_and_the_count(tmp_path):
    from edgehost.boards import get
    from edgehost.flash import build_firmware, emulator
    from edgehost.flash.sessions import terminate
    from edgehost.link import Device, DeviceError
    from edgehost.link import protocol as P
    from edgehost.validate import all_layers_model

    board = get("host")
    m = all_layers_model(0, reuse=True)
    n = len(m.layers)
    sess, proc, _ = emulator.start(board, build_firmware(board), log_dir=tmp_path)
    try:
        with Device.open(sess.port) as dev:
            dev.load_model(m.to_bytes())
            dev.step(bytes(m.input_tensor.nbytes))
            with pytest.raises(DeviceError) as e:
                dev.request(P.Cmd.TRACE, struct.pack("<HHI", n + 3, 0, 0))
            assert e.value.status == P.Status.MODEL
            assert e.value.device_message == f"TRACE layer {n + 3}: no such layer, the model has {n} layers (0..{n - 1})"
            with pytest.raises(DeviceError) as e:
                dev.request(P.Cmd.TRACE, struct.pack("<HHI", 0xFFFF, 0, 0))
            assert "TRACE layer 65535: no such layer" in e.value.device_message
            with pytest.raises(DeviceError) as e:
                dev.request(P.Cmd.TRACE, struct.pack("<HHI", n - 1, 0, 1 << 20))
            assert e.value.status == P.Status.BAD_PAYLOAD
            assert e.value.device_message.startswith(f"TRACE layer {n - 1}: offset 1048576 beyond its output of ")
            traces = dev.trace()
            reused = [t for t in traces if t.error is not None]
            assert reused, "the reuse plan leaves some layer untraceable"
            for t in reused:
                assert t.error.startswith(f"TRACE layer {t.layer}: its output is reused by a later layer") \
                    and f"(layers 0..{n - 1};" in t.error
    finally:
        terminate(proc.pid, timeout=3)
