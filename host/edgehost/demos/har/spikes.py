"""Spike rates per population of the demo's Q15 L2MU (`python -m edgehost.demos.har.spikes`, and
`edgehost demo har --json` under "spike_rates").

The Q15 cell is stepped through the C kernels (`edgehost.kernels.l2mu_step_q15`, the step the
device's blob runs) over raw held-out windows; for each population (input, encoder, u, m, h) the
rate is the mean fraction of its neurons that spike per step (spikes / neurons / steps, over all
windows), and `spikes_per_step` the mean number of its neurons spiking per step. The L2MU kernel is
event-driven (kernels_c/src/lmu/eh_l2mu_step_q15.c): every spike of a population costs one weight
visit per row of the matrices it feeds, so `row_visits_per_step` (the sum over populations of
spikes x rows fed) is the part of the work that scales with spikes.
"""
from __future__ import annotations

import argparse
import json

import numpy as np

POPULATIONS = ("input", "encoder", "u", "m", "h")


def _sizes(cell: dict) -> dict:
    n_ch, pop = np.asarray(cell["w_in"]).shape[:2] if np.asarray(cell["w_in"]).ndim == 2 else (None, None)
    n_in = int(np.asarray(cell["w_in"]).size)
    enc = [int(np.asarray(e["w"]).shape[0]) for e in cell["enc"]]
    n_u = int(np.asarray(cell["e_x"]).shape[0])
    n_m = int(np.asarray(cell["w_m"]).shape[1])
    n_h = int(np.asarray(cell["w_h"]).shape[0])
    return {"input": n_in, "encoder": enc[-1], "u": n_u, "m": n_m, "h": n_h, "_enc": enc,
            "order": n_m // n_u, "classes": int(np.asarray(cell["w_o"]).shape[0])}


def _rows_fed(z: dict) -> dict:
    """Weight rows visited per spike of each population by the event-driven step and readout."""
    return {"input": z["_enc"][0], "encoder": z["u"] + z["h"], "u": z["order"],
            "m": z["u"] + z["h"], "h": z["u"] + z["h"] + z["classes"]}


def spike_rates(cell_q: dict, X_raw: np.ndarray, input_scale: float) -> dict:
    """Per-population spike rates of the Q15 cell over raw windows X_raw [windows, steps, channels]."""
    from ...convert.l2mu import quantize_input
    from ...kernels import l2mu_readout_q15, l2mu_state_q15, l2mu_step_q15

    z = _sizes(cell_q)
    counts = dict.fromkeys(POPULATIONS, 0)
    steps = 0
    for x in X_raw:
        st = l2mu_state_q15(cell_q)
        for xt in quantize_input(x, input_scale):
            st = l2mu_readout_q15(cell_q, l2mu_step_q15(cell_q, st, xt))
            counts["input"] += int(np.count_nonzero(st["in"]["s"]))
            counts["encoder"] += int(np.count_nonzero(st["enc"][-1]["s"]))
            counts["u"] += int(np.count_nonzero(st["u"]["s"]))
            counts["m"] += int(np.count_nonzero(st["m"]["s"]))
            counts["h"] += int(np.count_nonzero(st["h"]["s"]))
            steps += 1
    rows = _rows_fed(z)
    per_step = {p: counts[p] / steps for p in POPULATIONS}
    return {
        "windows": int(len(X_raw)), "steps_per_window": int(X_raw.shape[1]),
        "neurons": {p: z[p] for p in POPULATIONS},
        "rate": {p: per_step[p] / z[p] for p in POPULATIONS},
        "spikes_per_step": per_step,
        "rows_fed_per_spike": rows,
        "row_visits_per_step": sum(per_step[p] * rows[p] for p in POPULATIONS),
    }


def format_rates(r: dict) -> str:
    lines = [f"spike rates over {r['windows']} windows x {r['steps_per_window']} steps:"]
    for p in POPULATIONS:
        lines.append(f"  {p:8s} {r['neurons'][p]:4d} neurons  rate {r['rate'][p]:.4f}  "
                     f"spikes/step {r['spikes_per_step'][p]:7.2f}  rows fed {r['rows_fed_per_spike'][p]}")
    lines.append(f"  weight-row visits per step (spikes x rows fed): {r['row_visits_per_step']:.1f}")
    return "\n".join(lines)


def main(argv=None) -> int:
    from .data import hapt_split
    from .demo import MODEL_DIR, load_model, pick_windows
    from pathlib import Path
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model-dir", default=str(MODEL_DIR))
    ap.add_argument("--per-class", type=int, default=None, help="windows per class (default: all held-out)")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args(argv)
    meta, _, cell_q = load_model(Path(a.model_dir))
    test = hapt_split().test_raw
    idx = pick_windows(test.y, a.per_class)
    r = spike_rates(cell_q, test.X[idx], float(meta["input_scale"]))
    print(json.dumps(r, indent=1) if a.json else format_rates(r))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
