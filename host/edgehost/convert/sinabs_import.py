"""Sinabs models (a live `torch.nn.Module` of sinabs.layers) -> a float `Graph`, through Sinabs' own
NIR export (`sinabs.to_nir`) and `edgehost.convert.nir_import.load_nir`, with what the NIR graph
cannot say checked on the module first.

Sinabs' conventions, and the options they map to:
  - time step: Sinabs steps once per input frame; its IAF is exported as NIR `IF` with r = 1, i.e. a
    unit time step: `if_dt=1` (the CLI's `--if-dt 1`; `--dt 1` does the same when every neuron is
    an IF). LIF nodes carry tau_mem in steps: dt = 1 as well.
  - reset: `MembraneSubtract` (the default) -> reset "subtract", `MembraneReset` -> "zero"; both in
    the step that spiked (timing "same", NIR's equations, as Sinabs computes them).
  - spikes: only `SingleSpike` (at most one spike per neuron and step) is supported. Sinabs' default
    `spike_fn` is `MultiSpike` (a neuron emits floor(v / threshold) spikes in a step), and the export
    writes the same IF node for both: a model with MultiSpike (or MaxSpike) is refused here, naming
    the layer, since its graph would silently compute something else.
  - Sinabs spikes on v >= threshold, edgehost on v > threshold: they differ only when v lands
    exactly on the threshold (docs/graphs.md).
  - `min_v_mem` (a floor on the membrane) and `tau_syn` (a synaptic current) are not in the export:
    refused, naming the layer.
"""
from __future__ import annotations

import warnings

from .lower import ConvertError


def _val(v) -> float:
    """A Sinabs scalar (float, tensor or Parameter) as a float."""
    try:
        return float(v.detach().reshape(-1)[0])
    except AttributeError:
        return float(v)


def _neurons(model):
    import sinabs.layers as sl
    kinds = tuple(getattr(sl, k) for k in ("IAF", "IAFSqueeze", "LIF", "LIFSqueeze", "IAFRecurrent", "LIFRecurrent")
                  if hasattr(sl, k))
    return [(name, m) for name, m in model.named_modules() if isinstance(m, kinds)]


def check_sinabs(model) -> dict:
    """The options a Sinabs model converts with ({"reset": ..., "notes": [...]}); ConvertError for a
    neuron model the converter does not support (MultiSpike / MaxSpike spikes, min_v_mem, tau_syn,
    mixed resets), naming the layer."""
    from sinabs.activation import MembraneReset, MembraneSubtract, SingleSpike
    resets, notes = set(), []
    layers = _neurons(model)
    if not layers:
        raise ConvertError("Sinabs model: no spiking layer (sinabs.layers.IAF / LIF) found")
    for name, m in layers:
        where = f"Sinabs layer {name!r} ({type(m).__name__})"
        fn = getattr(m, "spike_fn", None)
        fname = getattr(fn, "__name__", type(fn).__name__)
        if fn is not SingleSpike and not isinstance(fn, SingleSpike):
            raise ConvertError(f"{where}: spike_fn {fname} can emit several spikes per step (Sinabs' default "
                               f"MultiSpike: floor(v / threshold) spikes); the NIR export writes the same IF node "
                               f"for it and edgehost's neurons emit one spike at most. Train or run it with "
                               f"spike_fn=sinabs.activation.SingleSpike to convert it")
        if getattr(m, "min_v_mem", None) is not None:
            raise ConvertError(f"{where}: min_v_mem = {_val(m.min_v_mem):g} (a floor on the membrane) is not exported to NIR "
                               f"and not supported; use min_v_mem=None")
        if getattr(m, "tau_syn", None) is not None:
            raise ConvertError(f"{where}: tau_syn (a synaptic current) is not exported to NIR by Sinabs; not "
                               f"supported")
        rf = getattr(m, "reset_fn", None)
        if isinstance(rf, MembraneReset):
            if getattr(rf, "reset_value", 0) not in (0, 0.0):
                raise ConvertError(f"{where}: MembraneReset(reset_value={rf.reset_value}) is not exported to NIR; "
                                   f"only reset to 0 is supported")
            resets.add("zero")
        elif isinstance(rf, MembraneSubtract):
            if rf.subtract_value is not None:
                raise ConvertError(f"{where}: MembraneSubtract(subtract_value={rf.subtract_value}) differs from the "
                                   f"threshold and is not exported to NIR; not supported")
            resets.add("subtract")
        else:
            raise ConvertError(f"{where}: reset_fn {type(rf).__name__} is not supported (MembraneSubtract, "
                               f"MembraneReset)")
        if "LIF" in type(m).__name__:
            notes.append(f"{where}: Sinabs decays by exp(-1/tau_mem) and the NIR export writes tau_mem: the "
                         f"converter's forward Euler gives beta = 1 - 1/tau_mem (docs/graphs.md: rewrite tau to "
                         f"1 / (1 - exp(-1/tau)) for equal spikes)")
    if len(resets) > 1:
        raise ConvertError("Sinabs model: layers reset differently (MembraneSubtract and MembraneReset); the "
                           "converter takes one reset for the whole graph")
    notes.append("Sinabs: IF nodes with a unit time step (if_dt = 1), reset in the step that spiked (timing same), "
                 "SingleSpike; Sinabs spikes on v >= threshold, edgehost on v > threshold")
    return {"reset": resets.pop(), "notes": notes}


def from_sinabs(model, sample, dt: float = 1.0, if_dt: float = 1.0, delays=()):
    """A live Sinabs model -> Graph: check_sinabs, then sinabs.to_nir(model, sample) (sample with
    its batch dimension, e.g. torch.zeros(1, 2, 34, 34)) and load_nir with the options above."""
    try:
        import sinabs
    except ImportError:  # pragma: no cover - depends on the install
        raise ConvertError("Sinabs models need the 'sinabs' package") from None
    opts = check_sinabs(model)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            g = sinabs.to_nir(model, sample)
        except Exception as e:
            raise ConvertError(f"Sinabs model: sinabs.to_nir failed ({type(e).__name__}: {e})") from None
    from .nir_import import load_nir
    graph = load_nir(g, dt=dt, reset=opts["reset"], timing="same", delays=delays, if_dt=if_dt)
    graph.notes.extend(opts["notes"])
    return graph
