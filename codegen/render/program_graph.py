"""A matrix program's computation graph, and a recurrence unrolled over a few steps, as ``graph_layout`` boxes.

``program(vn, label)``: every quantity of the program is a box (the cost J
last), with the parameters that enter it in one box beside it (``W_f, U_f,
b_f`` into ``Z_f``; a parameter used by several quantities, a tied weight,
gets a box of its own), the inputs, masks and targets, and for a recurrence
the previous states ``h_{t−1}`` as dashed boxes, each with an arc from the
state's new value ``h_t`` back to it: step t + 1 reads ``h_t`` as its
``h_{t−1}``.

``unrolled(vn, label, steps)``: the states of a recurrence over ``steps``
steps, as J&M (ch. 8) and Goodfellow (§10.1) draw it: the per-step inputs
below, each state carried left to right, the per-step outputs (or the one
after the last step) above, and an arrow wherever one drawn quantity feeds
another without passing through a third (an input enters its step once, at
the state drawn nearest to it).

``label(name, when)`` gives a name's LaTeX: ``when`` is ``"t"`` for a
quantity of the step, ``"t-1"`` for a previous state, a step number or
``"0"`` in the unrolled graph, ``""`` otherwise.  The drawing is
``graph_tikz``'s and ``graph_svg``'s, as for a per-unit network.
"""

from __future__ import annotations

import itertools
import re

from derive.ir.backprop import names_in

from .graph_layout import Box, Graph, _order_rows, box_width_cm

LEAF_KINDS = {"input": "input", "mask": "input", "target": "target", "param": "param", "state": "state"}
CARRY_NOTE = r"to step $t+1$"


def _key(name: str, taken: set[str]) -> str:
    """A TikZ-safe name for a box (ASCII letters and digits), unique in the figure."""
    key = re.sub(r"[^A-Za-z0-9]", "", name) or "q"
    while key in taken:
        key += "x"
    taken.add(key)
    return key


def dependencies(vn) -> dict[str, list[str]]:
    """The names each quantity reads (``J``: the cost), in reading order."""
    deps = {a.name: list(names_in(a.value)) for a in vn.assignments}
    deps["J"] = list(names_in(vn.cost_expr))
    return {q: [n for n in ns if n in vn.kinds and vn.kinds[n] != "constant"] for q, ns in deps.items()}


def program(vn, label, width) -> Graph:
    """The computation graph of the matrix program ``vn`` (see the module docstring)."""
    rec = vn.recurrence
    deps = dependencies(vn)
    users: dict[str, list[str]] = {}
    for q, ns in deps.items():
        for n in ns:
            users.setdefault(n, []).append(q)
    column: dict[str, int] = {}
    for q, ns in deps.items():  # program order: a quantity right of everything it reads
        column[q] = 1 + max((column[n] for n in ns if n in column), default=0)
    taken: set[str] = set()
    boxes: dict[str, Box] = {}
    box_of: dict[str, str] = {}

    def when(name: str) -> str:
        if rec is not None and name in rec.previous:
            return "t-1"
        return "t" if rec is not None and rec.is_step(name) else ""

    for q in deps:
        key = _key(q, taken)
        boxes[key] = Box(key, [q], "node", column[q], label=label(q, when(q)))
        box_of[q] = key
    order = list(vn.kinds)
    above: dict[str, str] = {}  # a node's box -> the box of the parameters entering it alone, drawn just above it
    for q, ns in deps.items():
        own = sorted((n for n in ns if vn.kinds[n] == "param" and set(users[n]) == {q}), key=order.index)
        if own:
            key = _key(f"p{q}", taken)
            text = ", ".join(label(p, "") for p in own)
            boxes[key] = Box(key, own, "param", column[q], label=text)
            box_of.update(dict.fromkeys(own, key))
            above[box_of[q]] = key
    for name, kind in vn.kinds.items():
        if name in box_of or kind not in LEAF_KINDS or name not in users:
            continue
        first = min(column[u] for u in users[name])
        col = 0 if kind in ("input", "mask") and first == 1 else first - 1
        key = _key(name, taken)
        boxes[key] = Box(key, [name], LEAF_KINDS[kind], col, label=label(name, when(name)))
        box_of[name] = key
    edges: list[tuple[str, str]] = []
    for q, ns in deps.items():
        for n in ns:
            edge = (box_of[n], box_of[q])
            if edge not in edges:
                edges.append(edge)
    for a, b in edges:
        boxes[b].deps.append(a)
    slots, chained = _slots(boxes, edges, taken)
    carries = [(box_of[h], box_of[p]) for h, p in rec.states.items()] if rec is not None else []
    pinned = {}
    for i, (h, p) in enumerate(carries):  # the arc leaves h_t's column and enters h_{t−1}'s from outside
        pinned[h] = pinned[p] = -1 if i % 2 == 0 else 1
    ordered = {k: b for k, b in boxes.items() if k not in above.values()}
    _order_rows(ordered, [(a, b) for a, b in chained if a in ordered], pinned)
    _stack(boxes, above)
    _widths(boxes, width, uniform=True)
    return Graph(boxes, edges, False, carries, CARRY_NOTE if carries else "", sides=True, slots=slots)


def _slots(boxes: dict[str, Box], edges, taken: set[str]):
    """A slot (a box of kind "slot", not drawn) for each edge in each column it crosses, so that the row order
    makes room for it (as a layered drawing's dummy nodes do); the edges as chains through their slots."""
    slots: dict[tuple[str, str], list[str]] = {}
    chained = []
    for a, b in edges:
        first, last = boxes[a].column, boxes[b].column
        keys = []
        for column in range(first + 1, last):
            key = _key(f"s{a}{b}{column}", taken)
            boxes[key] = Box(key, [], "slot", column)
            keys.append(key)
        if keys:
            slots[a, b] = keys
        path = [a, *keys, b]
        chained += list(itertools.pairwise(path))
    return slots, chained


def _widths(boxes: dict[str, Box], width, uniform: bool) -> None:
    """Each box's label width (``width(tex)``, in characters); with ``uniform``, every box of a column drawn as
    wide as its widest, so that edges run only between columns."""
    for box in boxes.values():
        box.chars = width(box.label)
    if uniform:
        widest: dict[int, float] = {}
        for box in boxes.values():
            widest[box.column] = max(widest.get(box.column, 0.0), box_width_cm(box))
        for box in boxes.values():
            box.width_cm = round(widest[box.column], 2)


def _stack(boxes: dict[str, Box], above: dict[str, str]) -> None:
    """Each column's boxes in the order of their rows, with a node's own parameters just above it, re-centred."""
    columns: dict[int, list[Box]] = {}
    for box in sorted((b for b in boxes.values() if b.key not in above.values()), key=lambda b: b.row):
        columns.setdefault(box.column, []).extend(([boxes[above[box.key]]] if box.key in above else []) + [box])
    for column in columns.values():
        for i, box in enumerate(column):
            box.row = i - (len(column) - 1) / 2


def unrolled(vn, label, width, steps: int) -> Graph:
    """A recurrence's states unrolled over ``steps`` steps (see the module docstring)."""
    rec = vn.recurrence
    deps = dependencies(vn)
    states = list(rec.states)
    inputs = [n for n in rec.per_step if vn.kinds[n] == "input"]
    loss_at_every_step = rec.is_step(vn.cost_operands[0])
    outputs = [vn.cost_operands[0]] if loss_at_every_step else []
    drawn = set(states) | set(inputs) | set(outputs) | set(rec.previous)

    def direct(q: str) -> list[str]:
        """The drawn names q reads without passing through another drawn quantity."""
        found, todo, seen = [], list(deps.get(q, [])), set()
        while todo:
            n = todo.pop(0)
            if n in seen:
                continue
            seen.add(n)
            if n in drawn:
                found.append(n)
            elif n in deps and rec.is_step(n):
                todo.extend(deps[n])
        return found

    rows = {o: float(i) for i, o in enumerate(outputs)}
    rows.update({h: float(len(outputs) + i) for i, h in enumerate(states)})
    rows.update({x: float(len(outputs) + len(states) + i) for i, x in enumerate(inputs)})
    centre = (len(rows) - 1) / 2
    taken: set[str] = set()
    boxes: dict[str, Box] = {}
    at: dict[tuple[str, int], str] = {}

    def add(name: str, t: int, kind: str, text: str, row: float) -> None:
        key = _key(f"{name}{t}", taken)
        boxes[key] = Box(key, [name], kind, t, label=text, row=row - centre)
        at[name, t] = key

    for h in states:
        add(h, 0, "state", label(h, "0"), rows[h])
    for t in range(1, steps + 1):
        for q in inputs + states + outputs:
            add(q, t, "input" if q in inputs else "node", label(q, str(t)), rows[q])
    edges: list[tuple[str, str]] = []
    # an input enters its step once, at the state drawn nearest to it (the rest of the step is drawn above it)
    entry = {x: max((h for h in states if x in direct(h)), key=rows.get, default=None) for x in inputs}
    for t in range(1, steps + 1):
        for q in states + outputs:
            for n in direct(q):
                if n in inputs and entry[n] != q:
                    continue
                source = at[rec.previous[n], t - 1] if n in rec.previous else at[n, t]
                edges.append((source, at[q, t]))
    after = [a.name for a in vn.assignments if not rec.is_step(a.name)]
    last = None
    if after:  # many-to-one: the quantities after the step read the last state
        top = after[-1]
        add(top, steps + 1, "node", label(top, ""), rows[states[0]] - 1)
        for h in states:
            if any(h in deps[a] for a in after):
                edges.append((at[h, steps], at[top, steps + 1]))
        last = at[top, steps + 1]
    add("J", steps + 1 + bool(after), "node", label("J", ""), min(rows.values()) - 1)
    for t in range(1, steps + 1) if loss_at_every_step else ():
        edges.append((at[outputs[0], t], at["J", steps + 1]))
    if last is not None:
        edges.append((last, at["J", steps + 1 + bool(after)]))
    for a, b in edges:
        boxes[b].deps.append(a)
    _widths(boxes, width, uniform=False)
    return Graph(boxes, edges, False)
