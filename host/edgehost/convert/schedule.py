"""Scheduling a directed graph with recurrence: which edges are delayed, and in what order the
nodes run (docs/model-format.md, "Graphs"; docs/graphs.md).

A graph here is node names (in declaration order), edges (src, dst) and the set of *stateful*
nodes (neurons: their output depends on the past). The rules:

1. A cycle of stateless nodes only (an algebraic loop) has no meaning in discrete time: refused,
   naming its nodes.
2. Edges the user names are delayed first.
3. Every remaining cycle is broken where it is entered: the strongly connected components are
   taken in topological order; in a component, the *entry* is the node closest to the input
   (breadth-first distance over all edges, then declaration order), and the edges into the entry
   from inside the component are delayed. The rest of the component is scheduled the same way.
   This is how a hand-written step loop runs a recurrent layer (snnTorch's RLeaky: the layer reads
   its recurrent input from the previous step, its feed-forward input from this one).
4. A delayed edge u -> v whose source is a stateless node with exactly one input edge w -> u and no
   other consumer than v is moved upstream to w -> u (repeatedly), so that the delay carries the
   neuron's output (its spikes) rather than a weighted sum: the value at step t is then u applied
   to w's output of step t - 1, which is what the frameworks compute (snnTorch's RLeaky adds its
   recurrent bias from the first step on, since it applies w_rec to the previous spikes, zero at
   reset), and spikes are the cheapest values to keep.
5. The schedule is a topological order of the edges that are not delayed, closest to the input
   first (ties in declaration order).
"""
from __future__ import annotations

from collections import deque


class ScheduleError(ValueError):
    pass


def _sccs(nodes: list, succ: dict) -> list[list]:
    """Strongly connected components in topological order (Tarjan, iterative), each in
    declaration order."""
    index: dict = {}
    low: dict = {}
    on: set = set()
    stack: list = []
    out: list = []
    counter = 0
    for root in nodes:
        if root in index:
            continue
        work = [(root, iter(succ.get(root, ())))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on.add(root)
        while work:
            v, it = work[-1]
            advanced = False
            for w in it:
                if w not in index:
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    on.add(w)
                    work.append((w, iter(succ.get(w, ()))))
                    advanced = True
                    break
                if w in on:
                    low[v] = min(low[v], index[w])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    on.discard(w)
                    comp.append(w)
                    if w == v:
                        break
                out.append(comp)
    out.reverse()                  # Tarjan emits sinks first
    pos = {n: i for i, n in enumerate(nodes)}
    return [sorted(c, key=pos.__getitem__) for c in out]


def _succ(nodes: list, edges) -> dict:
    s: dict = {n: [] for n in nodes}
    for a, b in edges:
        if a in s and b in s:
            s[a].append(b)
    return s


def distances(nodes: list, edges, sources) -> dict:
    """Breadth-first distance from the sources over all edges (unreachable: a large number)."""
    succ = _succ(nodes, edges)
    d = {n: 0 for n in sources}
    q = deque(sources)
    while q:
        v = q.popleft()
        for w in succ[v]:
            if w not in d:
                d[w] = d[v] + 1
                q.append(w)
    return {n: d.get(n, 1 << 30) for n in nodes}


def algebraic_loops(nodes: list, edges, stateful: set) -> list[list]:
    """The cycles made only of stateless nodes (each as its component's node list)."""
    free = [n for n in nodes if n not in stateful]
    fs = set(free)
    sub = [(a, b) for a, b in edges if a in fs and b in fs]
    succ = _succ(free, sub)
    loops = []
    for comp in _sccs(free, succ):
        if len(comp) > 1 or comp[0] in succ[comp[0]]:
            loops.append(comp)
    return loops


def schedule(nodes: list, edges: list, stateful: set, sources: list, user_delays=()) -> tuple[list, list]:
    """(order, delayed) for the graph: `order` the nodes in schedule order, `delayed` the list of
    edge indices (into `edges`) that carry the previous step's value. Edges are (src, dst) pairs;
    the same pair may appear twice (two edges)."""
    loops = algebraic_loops(nodes, edges, stateful)
    if loops:
        c = loops[0]
        raise ScheduleError(f"algebraic loop: {' -> '.join(map(repr, c + [c[0]]))} is a cycle with no neuron "
                            f"or other state in it, so its value at a step would depend on itself; put a "
                            f"neuron in the loop")
    delayed = set()
    for a, b in user_delays:
        hits = [k for k, e in enumerate(edges) if e == (a, b)]
        if not hits:
            raise ScheduleError(f"delay {a}:{b}: the graph has no edge {a!r} -> {b!r}")
        delayed.update(hits)
    dist = distances(nodes, edges, sources)
    pos = {n: i for i, n in enumerate(nodes)}

    def prio(n):
        return (dist[n], pos[n])

    def breaks(sub_nodes: list):
        live = [(k, e) for k, e in enumerate(edges)
                if k not in delayed and e[0] in sub_nodes and e[1] in sub_nodes]
        for comp in _sccs(sub_nodes, _succ(sub_nodes, [e for _, e in live])):
            cs = set(comp)
            cyclic = len(comp) > 1 or any(a == b == comp[0] for _, (a, b) in live)
            if not cyclic:
                continue
            entry = min(comp, key=prio)
            for k, (a, b) in live:
                if b == entry and a in cs:
                    delayed.add(k)
            breaks(comp)

    breaks(list(nodes))
    # rule 4: carry the delay upstream to the neuron's output
    ins: dict = {n: [] for n in nodes}
    outs: dict = {n: [] for n in nodes}
    for k, (a, b) in enumerate(edges):
        ins[b].append(k)
        outs[a].append(k)
    moved = True
    while moved:
        moved = False
        for k in sorted(delayed):
            u = edges[k][0]
            if u in stateful or u in sources or len(ins[u]) != 1 or len(outs[u]) != 1:
                continue
            j = ins[u][0]
            if j in delayed or edges[j][0] == u:
                continue
            delayed.discard(k)
            delayed.add(j)
            moved = True
    order = topo_order(nodes, [e for k, e in enumerate(edges) if k not in delayed], prio)
    return order, sorted(delayed)


def topo_order(nodes: list, edges, prio) -> list:
    """Kahn's algorithm, the ready node of lowest `prio` first."""
    import heapq
    indeg = {n: 0 for n in nodes}
    succ = _succ(nodes, edges)
    for a, b in edges:
        indeg[b] += 1
    heap = [(prio(n), n) for n in nodes if indeg[n] == 0]
    heapq.heapify(heap)
    out = []
    while heap:
        _, v = heapq.heappop(heap)
        out.append(v)
        for w in succ[v]:
            indeg[w] -= 1
            if indeg[w] == 0:
                heapq.heappush(heap, (prio(w), w))
    if len(out) != len(nodes):    # pragma: no cover - schedule() breaks every cycle
        left = [n for n in nodes if n not in set(out)]
        raise ScheduleError(f"nodes {left} are on a cycle that no delayed edge breaks")
    return out
