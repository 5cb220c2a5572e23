"""Tune the PID baseline on the plant: minimise RMSE plus overshoot plus steady-state error over
both buoyancy cases and a few noise seeds (Nelder-Mead from a hand-picked start)."""
from __future__ import annotations

import numpy as np
from scipy.optimize import minimize

from .loop import fly
from .metrics import step_metrics
from .pid import PID


def cost(gains, cases=("neutral", "negative"), seeds=(0, 1)) -> float:
    kp, ki, kd = gains
    if min(gains) < 0:
        return 1e3
    total = 0.0
    for b in cases:
        for s in seeds:
            tr = fly(PID(kp, ki, kd), b, seed=s)
            m = step_metrics(tr.t, tr.z, tr.setpoint)
            total += m["rmse_m"] + m["overshoot_m"] + 2 * m["steady_state_error_m"]
    return total / (len(cases) * len(seeds))


def tune(maxiter: int = 60) -> tuple[float, float, float]:
    """A coarse grid (the cost is noisy and not smooth), then Nelder-Mead from its best point."""
    grid = [(kp, ki, kd) for kp in (1.5, 3, 5, 8) for ki in (0.1, 0.4, 1.0) for kd in (2, 4, 7)]
    start = min(grid, key=lambda g: cost(g, seeds=(0,)))
    res = minimize(cost, np.array(start, float), method="Nelder-Mead",
                   options={"maxiter": maxiter, "xatol": 1e-2, "fatol": 1e-4})
    return tuple(float(g) for g in res.x)


if __name__ == "__main__":
    g = tune()
    print("gains kp=%.3f ki=%.3f kd=%.3f cost=%.4f" % (*g, cost(g)))
