"""The static memory plan: arena offsets for every tensor of a model.

Activations reuse arena bytes when their lifetimes do not overlap. A lifetime is the closed
interval [writer layer, last reader layer] (-1 = written by the step before layer 0, n_layers =
read after the last layer), so a layer's input and output never share bytes. Placement is
greedy by size (largest first, lowest fitting offset, ties by tensor id): deterministic, and
the arena size the loader checks is exactly the end of the last tensor rounded up to 4.
State tensors (membranes, currents, last spikes, readouts, counters) persist across steps and
get their own region after the activations.
"""
from __future__ import annotations

from ..blob import format as F
from ..blob.model import Model, align, lifetimes


def plan(model: Model, reuse: bool = True) -> Model:
    """Assign `offset` of every tensor and `arena_size` of the model (in place); returns it."""
    life = lifetimes(model)
    acts = [t for t, ten in enumerate(model.tensors) if ten.kind == "activation"]
    states = [t for t, ten in enumerate(model.tensors) if ten.kind == "state"]
    placed: list[tuple[int, int, int]] = []   # (offset, end, tensor)
    order = sorted(acts, key=lambda t: (-model.tensors[t].nbytes, t))
    act_end = 0
    for t in order:
        size = model.tensors[t].nbytes
        w, r = life[t]
        conflicts = sorted((o, e) for o, e, u in placed
                           if not reuse or not (life[u][1] < w or r < life[u][0]))
        off = 0
        for o, e in conflicts:
            if off + size <= o:
                break
            off = max(off, align(e, F.ARENA_ALIGN))
        model.tensors[t].offset = off
        placed.append((off, off + size, t))
        act_end = max(act_end, off + size)
    off = align(act_end, F.ARENA_ALIGN)
    for t in states:
        model.tensors[t].offset = off
        off = align(off + model.tensors[t].nbytes, F.ARENA_ALIGN)
    end = max(ten.offset + ten.nbytes for ten in model.tensors)
    model.arena_size = align(end, F.ARENA_ALIGN)
    return model


def state_bytes(model: Model) -> int:
    return sum(t.nbytes for t in model.tensors if t.kind == "state")
