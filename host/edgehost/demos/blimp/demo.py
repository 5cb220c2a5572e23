"""`edgehost demo blimp`: the evolved spiking controller flying the simulated blimp, on the host
and on a board in the loop (the emulated mps2-an386 by default).

For each buoyancy case (neutral, negative) on the setpoint schedule 0.5 -> 1.0 -> 1.5 -> 1.0 m:
- PID: the tuned discrete PID the SNN was evolved to mimic (gains evolve.PID_GAINS); the targets
  compare the SNN with it;
- PID retuned: the same PID with the gains tune.py finds on this schedule (tune.RETUNED_GAINS),
  a second baseline on the host; the SNN is compared with it per metric (better / worse), which
  is reported and never fails the run;
- SNN float: the committed float parameters stepped with the float32 C kernels;
- SNN host: the Q15 network (quant.py) stepped with the Q15 C kernels on the host;
- SNN device: each control period the host measures the altitude, sends the error (one float32)
  to the board, the board runs one step of the model blob (its state persists between steps) and
  returns the int16 command, which the host applies to the plant. The host then runs the same
  blob in its interpreter (edgehost.runtime, the C kernels) on the same errors from the same
  reset state, and the two command traces are compared step by step (trace_match: the fraction
  of equal steps). loop_hz is the closed loop's rate (plant, link and board; the host
  interpreter is run after the flight, outside the timing).
"""
from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np

from .controller import SNNController
from .evolve import MODEL_JSON, PID_GAINS
from .loop import SCHEDULE, fly
from .metrics import step_metrics
from .pid import PID
from .quant import Q15Controller, command, load_float, quantize, to_blob
from .tune import RETUNED_GAINS

BUOYANCIES = ("neutral", "negative")
TARGET_SSE_M = 0.03
TARGET_RMSE_RATIO = 1.2
CORTEX_M4_HZ = 64e6  # nRF52840 core clock, for the time a step takes there


def load_model(path=MODEL_JSON):
    """(pd params, i params, pd shape, i shape, Q15Net) of the committed controller."""
    if not Path(path).exists():
        raise FileNotFoundError(f"{path} is missing: run `python -m edgehost.demos.blimp.evolve` "
                                f"to evolve the controller")
    pd, i, ps, is_ = load_float(path)
    return pd, i, ps, is_, quantize(pd, i, ps, is_)


def _metrics(tr) -> dict:
    return {k: round(float(v), 4) for k, v in step_metrics(tr.t, tr.z, tr.setpoint).items()}


def _summary(by_case: dict) -> dict:
    """The worst case over the buoyancies, plus each case."""
    keys = ("steady_state_error_m", "overshoot_m", "rise_time_s", "rmse_m")
    out = {k: max(by_case[b][k] for b in by_case) for k in keys}
    out["by_buoyancy"] = by_case
    return out


def _targets(pid: dict, snn: dict) -> dict:
    """Each target per buoyancy case: SSE <= 3 cm, overshoot <= the PID's, RMSE <= 1.2 x PID's."""
    res = {}
    for b in snn["by_buoyancy"]:
        s, p = snn["by_buoyancy"][b], pid["by_buoyancy"][b]
        res[b] = {"steady_state_error": s["steady_state_error_m"] <= TARGET_SSE_M,
                  "overshoot": s["overshoot_m"] <= p["overshoot_m"],
                  "rmse": s["rmse_m"] <= TARGET_RMSE_RATIO * p["rmse_m"]}
    res["all"] = all(all(v.values()) for v in res.values())
    return res


COMPARED = {"steady_state_error": "steady_state_error_m", "overshoot": "overshoot_m",
            "rise_time": "rise_time_s", "rmse": "rmse_m"}


def _compare(snn: dict, pid: dict) -> dict:
    """Per buoyancy case and metric (all: lower is better), whether the SNN is "better", "worse"
    or "equal" against a PID (on the rounded metrics of the JSON)."""
    res = {}
    for b in snn["by_buoyancy"]:
        s, p = snn["by_buoyancy"][b], pid["by_buoyancy"][b]
        res[b] = {k: "better" if s[m] < p[m] else "worse" if s[m] > p[m] else "equal"
                  for k, m in COMPARED.items()}
    return res


def comparison_lines(res: dict, snn: str = "snn_device") -> list[str]:
    """The SNN against the retuned PID, one line per buoyancy case, for the printed report."""
    shown = {"steady_state_error": ("steady-state error", 100, "cm"), "overshoot": ("overshoot", 100, "cm"),
             "rise_time": ("rise time", 1, "s"), "rmse": ("RMSE", 100, "cm")}
    out = []
    for b, verdicts in res["snn_vs_pid_retuned"][snn].items():
        s, p = res[snn]["by_buoyancy"][b], res["pid_retuned"]["by_buoyancy"][b]
        parts = []
        for k, v in verdicts.items():
            name, f, u = shown[k]
            parts.append(f"{name} {v} ({f * s[COMPARED[k]]:.1f} vs {f * p[COMPARED[k]]:.1f} {u})")
        out.append(f"{b}: " + ", ".join(parts))
    return out


def host_flights(pd, i, ps, is_, net, buoyancies=BUOYANCIES, schedule=SCHEDULE, seed: int = 0):
    """The host's flights: both PIDs, the float SNN and the Q15 SNN. (metrics by controller and
    buoyancy, traces by buoyancy)."""
    cases = {k: {} for k in ("pid", "pid_retuned", "snn_float", "snn_host")}
    traces: dict = {}
    for b in buoyancies:
        tr_pid = fly(PID(*PID_GAINS), b, schedule=schedule, seed=seed)
        tr_rt = fly(PID(*RETUNED_GAINS), b, schedule=schedule, seed=seed)
        tr_f = fly(SNNController(pd, i, pd_shape=ps, i_shape=is_), b, schedule=schedule, seed=seed)
        q = Q15Controller(net, record=True)
        tr_q = fly(q, b, schedule=schedule, seed=seed)
        for k, tr in (("pid", tr_pid), ("pid_retuned", tr_rt), ("snn_float", tr_f), ("snn_host", tr_q)):
            cases[k][b] = _metrics(tr)
        traces[b] = {"pid": tr_pid, "pid_retuned": tr_rt, "host": tr_q, "spikes": np.array(q.spikes)}
    return cases, traces


def _open_device(board, port):
    """A connected Device and a stop() for what this function started (a private emulator:
    another session of the same board is left alone)."""
    from ...link import Device
    if port is not None:
        return Device.open(port), (lambda: None), None
    from ...build import build
    fw = build(board, target="firmware")
    if board.emulated:
        from ...flash import emulator
        from ...flash.sessions import terminate
        log_dir = Path(tempfile.mkdtemp(prefix="eh-blimp-"))
        sess, proc, _ = emulator.start(board, fw.elf, log_dir=log_dir)
        dev = Device.open(sess.port)
        return dev, (lambda: terminate(proc.pid)), fw
    from ...flash import flash
    res = flash(board.name)
    if not res.get("port"):
        raise RuntimeError(f"board {board.name} flashed but no serial port found: pass --port")
    return Device.open(res["port"]), (lambda: None), fw


def run(board_name: str = "mps2-an386", port: str | None = None, plot: str | None = "blimp.png",
        progress: bool = True, seed: int = 0, schedule=SCHEDULE, buoyancies=BUOYANCIES,
        model_path=MODEL_JSON) -> dict:
    from ... import boards as boards_mod
    from ...runtime import HostModel
    from ..har.demo import instructions_from_counter

    board = boards_mod.get(board_name)
    pd, i, ps, is_, net = load_model(model_path)
    blob = to_blob(net)
    committed = Path(model_path).parent / "blimp_controller.ehm"
    if committed.exists() and committed.read_bytes() != blob:
        raise RuntimeError(f"{committed} is not the blob of {model_path}: regenerate it with "
                           f"python -m edgehost.demos.blimp.quant")
    t0 = time.monotonic()
    res: dict = {"board": board.name, "core": board.core, "seed": seed,
                 "schedule": [list(s) for s in schedule], "pid_gains": list(PID_GAINS),
                 "pid_retuned_gains": list(RETUNED_GAINS),
                 "neurons": net.neurons, "neurons_float": ps.neurons + is_.neurons,
                 "encoding_neurons": net.ne, "hidden_pd_neurons": net.n_pd_hid,
                 "hidden_i_neurons": net.nh - net.n_pd_hid, "shared_encoder": net.shared_encoder}
    cases, traces = host_flights(pd, i, ps, is_, net, buoyancies, schedule, seed)
    cases["snn_device"] = {}

    dev, stop, fw = _open_device(board, port)
    deltas, match, steps, loop_s, flights_equal = [], [], 0, 0.0, []
    kind = None
    bar = None
    n_total = len(buoyancies) * len(traces[buoyancies[0]]["host"].t)
    if progress:
        from rich.progress import Progress
        bar = Progress(transient=True)
        bar.start()
        task = bar.add_task("closed loop on the device", total=n_total)
    try:
        load = dev.load_model(blob)
        host = HostModel(blob, backend="kernels")
        for b in buoyancies:
            dev.reset_state()
            errs, u_dev = [], []

            def controller(e, errs=errs, u_dev=u_dev):
                nonlocal kind
                x = np.array([e], np.float32)
                r = dev.step(x)
                kind = r.counter_kind
                deltas.append(r.counter_delta)
                ud = int(r.output[0])                         # the q15 command
                errs.append(x)
                u_dev.append(ud)
                if bar:
                    bar.update(task, advance=1)
                return command(ud)

            t1 = time.monotonic()
            tr_d = fly(controller, b, schedule=schedule, seed=seed)
            loop_s += time.monotonic() - t1
            steps += len(u_dev)
            # the same blob in the host interpreter, stepped on the same errors in the same
            # order from the same reset state (kept out of the timed loop)
            host.reset()
            u_host = [int(host.step(x)[0]) for x in errs]
            match.extend(np.array(u_dev) == np.array(u_host))
            cases["snn_device"][b] = _metrics(tr_d)
            traces[b]["device"] = tr_d
            traces[b]["u_dev_q"] = np.array(u_dev)
            # the device flight and the host Q15 flight see the same plant noise: with equal
            # commands they are the same flight
            flights_equal.append(bool(np.array_equal(tr_d.u, traces[b]["host"].u)))
    finally:
        if bar:
            bar.stop()
        dev.close()
        stop()
    instr, how = instructions_from_counter(int(np.median(deltas)), kind or "", board)
    for k in cases:
        res[k] = _summary(cases[k])
    res["targets"] = {"snn_device": _targets(res["pid"], res["snn_device"]),
                      "snn_host": _targets(res["pid"], res["snn_host"])}
    # against the retuned PID: reported, not a target
    res["snn_vs_pid_retuned"] = {k: _compare(res[k], res["pid_retuned"]) for k in ("snn_device", "snn_host")}
    res.update({
        "trace_match": float(np.mean(match)), "steps": steps,
        "device_flight_equals_host_flight": all(flights_equal),
        "loop_hz": round(steps / loop_s, 1),
        "instructions_per_step": instr, "instructions_source": how, "counter_kind": kind,
        "counter_per_step_median": int(np.median(deltas)),
        "us_per_step_at_64mhz": None if instr is None else round(instr / CORTEX_M4_HZ * 1e6, 1),
        "model": {"blob_bytes": len(blob), "arena_bytes": int(load.arena_used), "hash": f"{load.model_hash:08x}"},
        "seconds": round(time.monotonic() - t0, 1),
    })
    if fw is not None:
        res["firmware"] = {"elf": str(fw.elf), "flash_used": fw.flash_used, "ram_used": fw.ram_used}
    if plot:
        plot_flights(traces, res, Path(plot))
        res["plot"] = str(Path(plot).resolve())
    return res


def plot_flights(traces: dict, res: dict, path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    cols = list(traces)
    fig, axes = plt.subplots(3, len(cols), figsize=(7 * len(cols), 8.5), sharex=True,
                             gridspec_kw={"height_ratios": [2.2, 1.3, 1.6]}, squeeze=False)
    for c, b in enumerate(cols):
        tr = traces[b]
        dev = tr.get("device", tr["host"])
        ax = axes[0, c]
        ax.plot(tr["pid"].t, tr["pid"].setpoint, "k--", lw=1, label="setpoint")
        ax.plot(tr["pid"].t, tr["pid"].z, color="tab:gray", lw=1, label="PID (imitated)")
        if "pid_retuned" in tr:
            ax.plot(tr["pid_retuned"].t, tr["pid_retuned"].z, color="tab:blue", lw=0.9, alpha=0.8,
                    label="PID retuned")
        ax.plot(dev.t, dev.z, color="tab:red", lw=1.2, label=f"SNN on {res['board']}")
        sd, sp = res["snn_device"]["by_buoyancy"][b], res["pid"]["by_buoyancy"][b]
        title = (f"{b} buoyancy: steady-state error SNN {100 * sd['steady_state_error_m']:.1f} cm, "
                 f"PID {100 * sp['steady_state_error_m']:.1f} cm")
        if "pid_retuned" in res:
            title += f", PID retuned {100 * res['pid_retuned']['by_buoyancy'][b]['steady_state_error_m']:.1f} cm"
        ax.set_title(title, fontsize=10)
        ax.set_ylabel("altitude (m)")
        ax.legend(fontsize=8, loc="lower right")
        ax = axes[1, c]
        ax.plot(tr["pid"].t, tr["pid"].u, color="tab:gray", lw=0.6, label="PID (imitated)")
        ax.plot(dev.t, dev.u, color="tab:red", lw=0.6, label="SNN (device)")
        ax.set_ylabel("command u")
        ax.set_ylim(-3.5, 3.5)
        ax.legend(fontsize=8, loc="upper right")
        ax = axes[2, c]
        sp_ = tr["spikes"]
        t = dev.t
        ax.imshow(sp_.T, aspect="auto", interpolation="nearest", cmap="Greys", origin="lower",
                  extent=(t[0], t[-1] + (t[1] - t[0]), -0.5, sp_.shape[1] - 0.5), vmin=0, vmax=1)
        ne, nhp = res["encoding_neurons"], res["hidden_pd_neurons"]
        for y in (ne - 0.5, ne + nhp - 0.5):
            ax.axhline(y, color="tab:blue", lw=0.6)
        ax.set_ylabel("spikes: encoding |\nhidden PD | hidden I", fontsize=8)
        ax.set_xlabel("time (s)")
    fig.suptitle(f"Evolved SNN altitude controller ({res['neurons']} neurons, Q15) in the loop on "
                 f"{res['board']} ({res['core']}): trace match {res['trace_match']:.0%}, "
                 f"{res['loop_hz']:.0f} Hz loop", fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
