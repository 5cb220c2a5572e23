"""Step-response figures of an altitude trace: steady-state error, overshoot, rise time, RMSE."""
from __future__ import annotations

import numpy as np


def segments(setpoint: np.ndarray):
    """(start, end) index pairs of constant-setpoint segments."""
    change = np.flatnonzero(np.diff(setpoint) != 0) + 1
    edges = np.concatenate([[0], change, [len(setpoint)]])
    return list(zip(edges[:-1], edges[1:]))


MIN_STEP = 0.05  # m: a first segment that starts closer than this to its setpoint is a hold, not a step


def step_metrics(t: np.ndarray, z: np.ndarray, setpoint: np.ndarray, settle_fraction: float = 0.3) -> dict:
    """Figures over all setpoint segments (the first, from the start altitude, included).

    steady_state_error_m: mean |z - r| over the last `settle_fraction` of each segment, worst segment.
    overshoot_m: the largest excursion past the new setpoint, in the direction of the step (the
        first segment counts as a step only when it starts at least MIN_STEP from its setpoint).
    rise_time_s: the longest 10%->90% rise over the steps.
    rmse_m: over the whole run.
    """
    sse, over, rise = [], [], []
    z0 = z[0]
    for a, b in segments(setpoint):
        r = setpoint[a]
        start = z0 if a == 0 else setpoint[a - 1]
        seg = z[a:b]
        tail = seg[int(len(seg) * (1 - settle_fraction)):]
        sse.append(float(np.mean(np.abs(tail - r))))
        step = r - start
        if abs(step) > (MIN_STEP if a == 0 else 1e-9):
            direction = np.sign(step)
            over.append(float(max(0.0, np.max((seg - r) * direction))))
            frac = (seg - start) / step
            i10 = np.flatnonzero(frac >= 0.1)
            i90 = np.flatnonzero(frac >= 0.9)
            if len(i10) and len(i90):
                rise.append(float(t[a + i90[0]] - t[a + i10[0]]))
            else:
                rise.append(float("inf"))
    return {
        "steady_state_error_m": max(sse),
        "overshoot_m": max(over) if over else 0.0,
        "rise_time_s": max(rise) if rise else 0.0,
        "rmse_m": float(np.sqrt(np.mean((z - setpoint) ** 2))),
    }
