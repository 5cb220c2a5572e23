"""The graph a blob computes, read back from its layers (for `edgehost inspect`): one node per
layer, one edge per tensor a layer reads, and which edges are delayed (format 1.5: a layer that
reads a `delay` layer's output before that delay runs gets the previous step's value)."""
from __future__ import annotations


def blob_graph(m) -> dict:
    """{"nodes": [...], "edges": [{"from", "to", "tensor", "delayed"}], "delayed": n, "fan_in": n,
    "fan_out": n}. A delayed edge is reported from the layer that feeds the delay to the reader
    ("via" names the delay layer)."""
    writer = {m.input: -1}
    for li, l in enumerate(m.layers):
        writer[l.output] = li
    nodes = [{"index": li, "type": l.type} for li, l in enumerate(m.layers)]
    edges = []
    for li, l in enumerate(m.layers):
        ins = [l.input] + ([l.input2] if getattr(l, "input2", None) is not None else [])
        for t in ins:
            src = writer.get(t, -1)
            e = {"from": src, "to": li, "tensor": t, "delayed": False}
            if src >= 0 and m.layers[src].type == "delay" and src > li:
                e.update(delayed=True, via=src, **{"from": writer.get(m.layers[src].input, -1)})
            edges.append(e)
    readers: dict = {}
    for e in edges:
        readers.setdefault(e["from"], 0)
        readers[e["from"]] += 1
    return {"nodes": nodes, "edges": edges, "delayed": sum(e["delayed"] for e in edges),
            "fan_in": sum(1 for l in m.layers if l.type.startswith("add_")),
            "fan_out": sum(1 for v in readers.values() if v > 1)}


def describe(m, g: dict | None = None) -> list[str]:
    """Text lines: the edges that are not the plain chain i-1 -> i, and the delayed ones."""
    g = g or blob_graph(m)

    def nm(i):
        return "input" if i < 0 else f"{i} ({m.layers[i].type})"

    if not g["delayed"] and not g["fan_in"] and not g["fan_out"]:
        return ["graph: a chain"]
    lines = [f"graph: {len(g['nodes'])} layers, {len(g['edges'])} edges, {g['delayed']} delayed, "
             f"{g['fan_in']} sums (fan-in), {g['fan_out']} layers read by several (fan-out)"]
    for e in g["edges"]:
        if e["delayed"]:
            lines.append(f"  {nm(e['from'])} -> {nm(e['to'])}  delayed (previous step, via delay layer {e['via']})")
        elif e["from"] != e["to"] - 1:
            lines.append(f"  {nm(e['from'])} -> {nm(e['to'])}")
    return lines
