"""The closed loop: plant, sensor and a controller stepping at the control rate."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from .plant import BUOYANCY, Blimp, BlimpParams, BlimpState

# The demo's setpoint schedule: 0.5 m -> 1.0 m -> 1.5 m -> 1.0 m, 40 s each (the first segment
# starts with an empty integrator: with 20 s it measured the wind-up, not a steady state).
SCHEDULE = ((0.5, 40.0), (1.0, 40.0), (1.5, 40.0), (1.0, 40.0))


def setpoints(schedule=SCHEDULE, dt: float = 0.1) -> np.ndarray:
    return np.concatenate([np.full(int(round(d / dt)), r) for r, d in schedule])


@dataclass
class Trace:
    t: np.ndarray
    z: np.ndarray          # true altitude after each step
    measured: np.ndarray   # LiDAR reading the controller saw
    setpoint: np.ndarray
    u: np.ndarray


def fly(controller: Callable[[float], float], buoyancy: str = "neutral", schedule=SCHEDULE,
        seed: int = 0, params: BlimpParams | None = None, z0: float | None = None) -> Trace:
    """Fly the schedule: each period, measure, call controller(error), apply the command."""
    p = params or BlimpParams()
    p = BlimpParams(**{**p.__dict__, "buoyancy": BUOYANCY[buoyancy]})
    r = setpoints(schedule, p.dt_control)
    blimp = Blimp(p, BlimpState(z=r[0] if z0 is None else z0), np.random.default_rng(seed))
    n = len(r)
    z, meas, u = np.empty(n), np.empty(n), np.empty(n)
    for k in range(n):
        meas[k] = blimp.measure()
        u[k] = controller(float(r[k] - meas[k]))
        blimp.step(u[k])
        z[k] = blimp.state.z
    return Trace(np.arange(n) * p.dt_control, z, meas, r, u)
