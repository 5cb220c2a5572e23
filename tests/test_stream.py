"""`edgehost stream` against the host board: file, CSV, npz, synthetic and live serial (pty)
sources step by step, outputs equal to the host interpreter, 0 dropped frames, and the
accounting of a link error."""
from __future__ import annotations

import json
import os
import re
import threading

import numpy as np
import pytest

from edgehost.cli import UserError, main
from edgehost.runtime import HostModel
from edgehost.stream import open_source, stream
from edgehost.validate import all_layers_model, dequantize, to_device_inputs


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    from edgehost.flash import stop_session
    old = os.environ.get("EDGEHOST_HOME")
    os.environ["EDGEHOST_HOME"] = str(tmp_path_factory.mktemp("ehhome"))
    yield
    stop_session("host")
    if old is None:
        os.environ.pop("EDGEHOST_HOME", None)
    else:
        os.environ["EDGEHOST_HOME"] = old


@pytest.fixture(scope="module")
def model_file(tmp_path_factory):
    d = tmp_path_factory.mktemp("stream")
    m = all_layers_model(1)
    (d / "m.ehm").write_bytes(m.to_bytes())
    return d, m


def host_outputs(m, rows):
    xs = to_device_inputs(np.asarray(rows), m)
    outs, _ = HostModel(m.to_bytes(), "kernels").run(xs)
    return np.array([dequantize(o, m, m.output) for o in outs])


def cli_json(capsys, argv):
    rc = main(argv + ["--json"])
    out = capsys.readouterr()
    return rc, (json.loads(out.out) if out.out.strip() else None), out.err


def test_npy_file_300_steps_no_drops(home, model_file, capsys):
    d, m = model_file
    x = np.random.default_rng(2).normal(size=(3, 100, m.input_tensor.n)).astype(np.float32)
    np.save(d / "x.npy", x)
    rc, doc, err = cli_json(capsys, ["stream", "--board", "host", "--model", str(d / "m.ehm"),
                                     "--source", str(d / "x.npy"), "--check"])
    assert rc == 0, err
    assert doc["ok"] and doc["steps"] == 300 and doc["read"] == 300 and doc["dropped"] == 0
    assert doc["check_mismatches"] == 0 and doc["error"] is None
    np.testing.assert_array_equal(np.array(doc["outputs"]), host_outputs(m, x.reshape(-1, x.shape[-1])))
    assert doc["frames_per_s"] > 0 and doc["latency_ms"]["median"] > 0
    assert doc["latency_ms"]["p95"] >= doc["latency_ms"]["median"]
    lk = doc["link"]
    assert lk["payload_bytes_out"] == 300 * m.input_tensor.nbytes
    assert lk["payload_bytes_in"] == 300 * (4 + m.output_tensor.nbytes)
    assert lk["rate_bytes_per_s"] is None and lk["utilisation"] is None    # a pty: rate unknown


def test_csv_npz_and_steps_limit(home, model_file, capsys):
    d, m = model_file
    n = m.input_tensor.n
    rows = np.round(np.random.default_rng(3).normal(size=(25, n)), 4)
    (d / "x.csv").write_text("# a header comment\n" + "\n".join(
        (", " if i % 2 else " ").join(f"{v}" for v in r) for i, r in enumerate(rows)) + "\n")
    np.savez(d / "x.npz", a=rows[:5], b=rows)
    rc, doc, err = cli_json(capsys, ["stream", "--board", "host", "--model", str(d / "m.ehm"),
                                     "--source", str(d / "x.csv"), "--fast"])
    assert rc == 0, err
    np.testing.assert_array_equal(np.array(doc["outputs"]), host_outputs(m, rows))
    rc, doc, err = cli_json(capsys, ["stream", "--board", "host", "--model", str(d / "m.ehm"),
                                     "--source", f"{d / 'x.npz'}:b", "--steps", "10", "--rate", "500"])
    assert rc == 0, err
    assert doc["steps"] == 10
    np.testing.assert_array_equal(np.array(doc["outputs"]), host_outputs(m, rows[:10]))
    rc = main(["stream", "--board", "host", "--model", str(d / "m.ehm"), "--source", str(d / "x.npz")])
    assert rc == 2 and "name one" in capsys.readouterr().err


@pytest.mark.parametrize("kind", ["sine", "noise"])
def test_synthetic(home, model_file, capsys, kind):
    d, m = model_file
    rc, doc, err = cli_json(capsys, ["stream", "--board", "host", "--model", str(d / "m.ehm"),
                                     "--source", f"synthetic:{kind}", "--steps", "120", "--check"])
    assert rc == 0, err
    assert doc["steps"] == 120 and doc["dropped"] == 0 and doc["check_mismatches"] == 0
    src = open_source(f"synthetic:{kind}", m)
    rows = [next(src.rows) for _ in range(120)]
    np.testing.assert_array_equal(np.array(doc["outputs"]), host_outputs(m, rows))
    assert np.ptp(np.array(rows)) > 0


def test_serial_sensor_over_a_pty(home, model_file):
    """A live sensor: a thread writes one line per sample into a pty; the stream reads the other end."""
    d, m = model_file
    master, slave = os.openpty()
    name = os.ttyname(slave)
    rows = np.round(np.random.default_rng(4).normal(size=(60, m.input_tensor.n)), 3)

    def sensor():
        for i, r in enumerate(rows):
            sep = "," if i % 2 else " "
            os.write(master, (sep.join(str(v) for v in r) + "\r\n").encode())

    th = threading.Thread(target=sensor)
    from edgehost.validate import load_on_device, open_device
    try:
        src = open_source(f"serial:{name}:115200", m)     # opening flushes the port: start the sensor after
        th.start()
        got = []
        with open_device("host") as dev:
            load_on_device(dev, m.to_bytes(), m)
            st = stream(dev, m, src, steps=60, on_step=lambda i, y, lat, s: got.append(y))
    finally:
        if th.is_alive() or th.ident is not None:
            th.join()
        os.close(master)
        os.close(slave)
    assert st.steps == 60 and st.dropped == 0 and st.error is None
    np.testing.assert_array_equal(np.array(got), host_outputs(m, rows))


def test_a_link_error_is_counted_and_named(model_file):
    """A device whose link fails on the 4th STEP: the stream stops, counts one dropped frame and
    reports the last delivered request."""
    from edgehost.link import LinkTimeout
    from edgehost.link.device import StepResult
    d, m = model_file

    class Flaky:
        last_delivered = None

        def __init__(self):
            self.n = 0

        def reset_state(self):
            pass

        def step(self, x):
            self.n += 1
            if self.n == 4:
                raise LinkTimeout("no valid answer to STEP", port="x", last_delivered="STEP seq=3 (step 3 since reset)")
            self.last_delivered = f"STEP seq={self.n}"
            return StepResult(bytes(m.output_tensor.nbytes), 0, "ns")

    st = stream(Flaky(), m, open_source("synthetic:noise", m), steps=10)
    assert st.steps == 3 and st.read == 4 and st.dropped == 1
    assert "step 3 since reset" in st.last_delivered and "no valid answer" in st.error


def test_har_source(model_file):
    from edgehost.blob import Tensor
    from edgehost.convert.l2mu import quantize_input
    import copy
    m = copy.deepcopy(model_file[1])
    m.tensors[m.input] = Tensor("q15", (6,), scale=1 / 4096)
    try:
        from edgehost.demos.har.data import hapt_split
        X = hapt_split().test_raw.X
    except Exception as e:  # noqa: BLE001 - the data set is optional
        pytest.skip(f"HAPT data not available: {e}")
    src = open_source("har:test", m)
    assert src.length == X.shape[0] * X.shape[1]
    first = np.array([next(src.rows) for _ in range(X.shape[1] + 1)])
    np.testing.assert_array_equal(first[:X.shape[1]], quantize_input(X[0], 4096.0))
    np.testing.assert_array_equal(first[-1], quantize_input(X[1, 0], 4096.0))


def test_source_errors(model_file, tmp_path):
    d, m = model_file
    (tmp_path / "w.csv").write_text("1, 2\n")
    (tmp_path / "t.csv").write_text("1, 2, x, 4, 5\n")
    np.save(tmp_path / "w.npy", np.zeros((3, 2)))
    for spec, msg in [(str(tmp_path / "w.csv"), "takes 5 per step"), (str(tmp_path / "t.csv"), "not a row of numbers"),
                      (str(tmp_path / "w.npy"), "expected (steps, 5)"), ("synthetic:square", "unknown synthetic"),
                      ("har:train", "har:test"), (str(tmp_path / "none.npy"), "no such file"),
                      ("serial:/dev/no-such-tty", "cannot open sensor port")]:
        with pytest.raises(UserError, match=re.escape(msg)):
            open_source(spec, m)
    assert main(["stream", "--board", "host", "--model", str(d / "m.ehm"), "--source", "synthetic:sine"]) == 2
