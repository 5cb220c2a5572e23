"""Evolve the spiking controllers to mimic the PID, with CMA-ES (the `cma` package).

Training data: closed-loop flights of the plant under the tuned PID, with random setpoint steps
and buoyancies; each records the error the PID saw and its proportional-derivative and integral
parts, the targets of the PD-SNN and the I-SNN. Every generation is scored on a random batch of
those flights (as the paper scores each generation on one of its training sets) with the paper's
loss MAE(u, u_pid) + (1 - Pearson(u, u_pid)).

CMA-ES runs in the unit box (each parameter scaled to its bounds), separable (diagonal
covariance: thousands of parameters), population 50, initial mean uniform in the bounds, sigma
1/10 of each range, as in the paper. Fitness evaluations run vectorised over the population, split
across worker processes with --workers. A checkpoint is written every --checkpoint-every
generations; --resume continues from it.
"""
from __future__ import annotations

import argparse
import json
import os
import pickle
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import numpy as np

from .loop import fly
from .pid import PID
from .snn import I_SHAPE, PD_SHAPE, Shape, imitation_loss, run_population

# The PID baseline's gains, tuned on the plant by tune.py (grid then Nelder-Mead).
PID_GAINS = (3.0, 0.3, 3.0)


@dataclass
class Flights:
    error: np.ndarray  # [N, T]
    u_pd: np.ndarray   # [N, T]
    u_i: np.ndarray    # [N, T]


def pid_flights(n: int, seconds: float = 60.0, seed: int = 0, gains=PID_GAINS) -> Flights:
    rng = np.random.default_rng(seed)
    steps = int(seconds / 0.1)
    E, PD, I = (np.empty((n, steps)) for _ in range(3))
    for k in range(n):
        segs, total = [], 0.0
        while total < seconds:
            d = float(rng.uniform(8.0, 20.0))
            segs.append((float(rng.uniform(0.3, 2.0)), d))
            total += d
        pid = PID(*gains)
        rec_pd, rec_i = [], []

        def controller(e, pid=pid, rec_pd=rec_pd, rec_i=rec_i):
            u = pid(e)
            rec_pd.append(pid.last_pd)
            rec_i.append(pid.last_i)
            return u

        buoy = ("neutral", "negative", "positive")[rng.integers(3)]
        tr = fly(controller, buoy, schedule=segs, seed=int(rng.integers(1 << 30)),
                 z0=float(rng.uniform(0.2, 2.0)))
        E[k] = (tr.setpoint - tr.measured)[:steps]
        PD[k] = np.asarray(rec_pd)[:steps]
        I[k] = np.asarray(rec_i)[:steps]
    return Flights(E, PD, I)


def _fitness(args):
    shape, x, lo, hi, err, target = args
    return imitation_loss(run_population(shape, lo + x * (hi - lo), err), target)


def evolve(shape: Shape, flights: Flights, target: str, generations: int, batch: int = 8,
           popsize: int = 50, seed: int = 0, workers: int = 1, checkpoint: str | None = None,
           checkpoint_every: int = 50, resume: bool = False, progress: bool = True):
    """Returns (best parameters in their natural units, best loss, history of mean losses)."""
    import warnings

    import cma

    # A parameter with no effect (e.g. the decoder weight of a silent neuron) drifts freely in
    # CMA's periodic bound transform; cma warns about it at every generation.
    warnings.filterwarnings("ignore", message="elements of z2", module="cma")
    lo, hi = shape.bounds()
    rng = np.random.default_rng(seed)
    state = None
    if resume and checkpoint and os.path.exists(checkpoint):
        with open(checkpoint, "rb") as f:
            state = pickle.load(f)
        es, history, rng = state["es"], state["history"], state["rng"]
    else:
        es = cma.CMAEvolutionStrategy(rng.uniform(0, 1, shape.size()), 0.1, {
            "bounds": [0, 1], "popsize": popsize, "CMA_diagonal": True, "seed": seed + 1,
            "verbose": -9, "BoundaryHandler": cma.BoundTransform})
        history = []
    tgt = getattr(flights, target)
    pool = ProcessPoolExecutor(workers) if workers > 1 else None
    bar = None
    if progress:
        from rich.progress import Progress
        bar = Progress(transient=True)
        bar.start()
        task = bar.add_task(f"evolving {target}", total=generations, completed=len(history))
    try:
        while len(history) < generations:
            idx = rng.choice(len(tgt), size=min(batch, len(tgt)), replace=False)
            xs = np.array(es.ask())
            if pool:
                chunks = np.array_split(xs, workers)
                parts = pool.map(_fitness, [(shape, c, lo, hi, flights.error[idx], tgt[idx]) for c in chunks])
                losses = np.concatenate(list(parts))
            else:
                losses = _fitness((shape, xs, lo, hi, flights.error[idx], tgt[idx]))
            es.tell(list(xs), list(losses))
            history.append(float(np.mean(losses)))
            if bar:
                bar.update(task, advance=1, description=f"evolving {target}: loss {min(losses):.3f}")
            if checkpoint and len(history) % checkpoint_every == 0:
                with open(checkpoint + ".tmp", "wb") as f:
                    pickle.dump({"es": es, "history": history, "rng": rng}, f)
                os.replace(checkpoint + ".tmp", checkpoint)
    finally:
        if bar:
            bar.stop()
        if pool:
            pool.shutdown()
    best = lo + np.asarray(es.result.xbest) * (hi - lo)
    return best, float(es.result.fbest), history


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--generations", type=int, default=2000)
    ap.add_argument("--flights", type=int, default=40)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default="blimp_snn.json")
    ap.add_argument("--checkpoint", default=None)
    ap.add_argument("--resume", action="store_true")
    ap.add_argument("--pairs", type=int, default=PD_SHAPE.pairs, help="encoding pairs per controller")
    ap.add_argument("--hidden", type=int, default=PD_SHAPE.hidden, help="hidden neurons per controller")
    ap.add_argument("--batch", type=int, default=8, help="training flights per generation")
    a = ap.parse_args(argv)
    if 2 * (2 * a.pairs + a.hidden) > 160:
        ap.error("the two controllers may have 160 neurons in all (the paper's budget)")
    flights = pid_flights(a.flights, seed=a.seed)
    result = {"pid_gains": PID_GAINS}
    shapes = (("pd", Shape(a.pairs, a.hidden, False), "u_pd"), ("i", Shape(a.pairs, a.hidden, True), "u_i"))
    for name, shape, target in shapes:
        ck = f"{a.checkpoint}.{name}" if a.checkpoint else None
        best, loss, hist = evolve(shape, flights, target, a.generations, seed=a.seed, batch=a.batch,
                                  workers=a.workers, checkpoint=ck, resume=a.resume)
        result[name] = {"shape": shape.__dict__, "loss": loss, "params": best.tolist(),
                        "history": hist[:: max(1, len(hist) // 200)]}
        print(f"{name}: best loss {loss:.4f}")
    with open(a.out, "w") as f:
        json.dump(result, f)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
