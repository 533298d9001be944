"""A network's computation graph laid out like the lecture's slides: boxes, rows, columns, routes.

The TikZ figures of the PDF handouts (``graph_tikz``) and the SVG figures of
the HTML handouts (``graph_svg``) draw this one layout.

Leaves (inputs, parameters, targets) and nodes are boxes in columns, left to
right in the order values flow; each leaf stands just left of the first node
that uses it.  Rows are ordered by the barycentre of their neighbours, a few
deterministic sweeps, so that edges cross little.  A worked example writes
each box's value under its name (forward pass, blue) or its gradient
∂L/∂v (backward pass, red), as in the 0.70 example.  ``place(graph)``
gives every box's centre in centimetres and every edge's route.

A network too large to draw readably (a column taller than ``MAX_ROWS`` or
more than ``MAX_BOXES`` boxes) is summarised: the boxes of one column, kind
and name stem (``W11 … W62``) become one box.
"""

from __future__ import annotations

import itertools
import math
import re
from dataclasses import dataclass, field

import sympy as sp

from derive.functions import RULES

MAX_ROWS = 9
MAX_BOXES = 40
MAX_LABELLED_EDGES = 10  # up to this many edges, the backward graph labels each with its local derivative
FEW_LEAVES = 4
WIDTH_CM = 15.5
ROW_CM = 1.05
CHAR_CM = 0.25  # the width of one character of a label (\\small)
MIN_BOX_CM = 0.9  # minimum width of a box (9 mm)
GAP_CM = 0.45  # the least space between the boxes of neighbouring columns
SIDES_GAP_CM = 0.9  # the same where edges run between the columns' sides


@dataclass
class Box:
    key: str  # TikZ name
    members: list[str]  # variable names (one unless summarised)
    kind: str  # input | target | param | node | state (a recurrence's h_{t−1})
    column: int
    label: str = ""  # LaTeX math, set by the caller's printer
    chars: float = 0.0  # the label's visible width in characters, set with it (for the column spacing)
    row: float = 0.0
    deps: list[str] = field(default_factory=list)  # keys of boxes feeding this one
    width_cm: float = 0.0  # drawn at least this wide (a column of boxes drawn alike, edges only between columns)


@dataclass
class Graph:
    boxes: dict[str, Box]
    edges: list[tuple[str, str]]  # (from key, to key)
    summarised: bool
    carries: list[tuple[str, str]] = field(default_factory=list)  # (h_t, h_{t−1}): a state carried to the next step
    carry_note: str = ""  # LaTeX text written on each carry's arc
    sides: bool = False  # an edge between columns leaves its box's right side and enters the next one's left
    slots: dict[tuple[str, str], list[str]] = field(default_factory=dict)  # a long edge's place in each column it
    # crosses: boxes of kind "slot", ordered with the others but not drawn


CARRY_CM = 0.75  # how far above the top row (below the bottom row) a carry's arc runs, in rows


def stem(name: str) -> str:
    """The name without its index: ``W11`` → ``W``, ``W1_2_1`` → ``W1``, ``yhat3`` → ``yhat``."""
    return re.sub(r"_[\d_]+$|\d+$", "", name)


def columns(net) -> dict[str, int]:
    """Column of every name: nodes after their inputs, leaves just before their first user."""
    col: dict[str, int] = {}
    for node in net.nodes:
        col[node.name] = 1 + max((col[d.name] for d in node.deps if d.name in col), default=0)
    users: dict[str, list[str]] = {}
    for node in net.nodes:
        for d in node.deps:
            users.setdefault(d.name, []).append(node.name)
    few = len(net.leaves) <= FEW_LEAVES  # like J&M's a, b, c: every leaf on the left
    for leaf in net.leaves:
        if net.kinds[leaf] == "input" or few:
            col[leaf] = 0
        else:
            col[leaf] = min((col[u] for u in users.get(leaf, [])), default=1) - 1
    return col


def build(net) -> Graph:
    """The graph of ``net``, summarised when too large."""
    col = columns(net)
    names = list(net.leaves) + [n.name for n in net.nodes]
    order = {name: i for i, name in enumerate(names)}  # a constant (λ, with its value) is not a box of the graph
    deps = {n.name: sorted((d.name for d in n.deps if d.name in order), key=order.__getitem__) for n in net.nodes}
    per_column: dict[int, int] = {}
    for name in names:
        per_column[col[name]] = per_column.get(col[name], 0) + 1
    summarised = max(per_column.values()) > MAX_ROWS or len(names) > MAX_BOXES
    group_of: dict[str, str] = {}
    boxes: dict[str, Box] = {}
    for name in names:
        kind = net.kinds[name]
        key = f"g{col[name]}{kind[0]}{stem(name)}" if summarised else name
        key = re.sub(r"[^A-Za-z0-9]", "", key) or "q"
        if not summarised and key in boxes:  # w_1 beside w1, wé beside w: a TikZ name of its own
            key = f"{key}q{len(boxes)}"
        group_of[name] = key
        if key not in boxes:
            boxes[key] = Box(key, [], kind, col[name])
        boxes[key].members.append(name)
    edges: list[tuple[str, str]] = []
    for node in net.nodes:
        for d in deps[node.name]:
            edge = (group_of[d], group_of[node.name])
            if edge not in edges:
                edges.append(edge)
    for a, b in edges:
        boxes[b].deps.append(a)
    _order_rows(boxes, edges)
    return Graph(boxes, edges, summarised)


def _order_rows(boxes: dict[str, Box], edges, pinned: dict[str, int] | None = None) -> None:
    """Rows by the barycentre of each box's neighbours; ``pinned`` boxes go first (-1) or last (1) in their
    column whatever their neighbours (a carried state's arc leaves its column from the top or bottom)."""
    pinned = pinned or {}
    by_col: dict[int, list[Box]] = {}
    for box in boxes.values():
        by_col.setdefault(box.column, []).append(box)
    kind_rank = {"input": 0, "state": 0, "param": 1, "node": 2, "slot": 2, "target": 3}
    for column in by_col.values():
        column.sort(key=lambda b: kind_rank[b.kind])
    neighbours: dict[str, list[str]] = {k: [] for k in boxes}
    for a, b in edges:
        neighbours[a].append(b)
        neighbours[b].append(a)

    def place():
        for column in by_col.values():
            n = len(column)
            for i, box in enumerate(column):
                box.row = i - (n - 1) / 2

    place()
    order = sorted(by_col)
    for sweep in range(4):
        cols = order if sweep % 2 == 0 else list(reversed(order))
        for c in cols:
            column = by_col[c]
            keyed = []
            for i, box in enumerate(column):
                rows = [boxes[k].row for k in neighbours[box.key] if boxes[k].column != c]
                centre = sum(rows) / len(rows) if rows else box.row
                keyed.append((centre, i, box))
            keyed.sort(key=lambda t: (pinned.get(t[2].key, 0), t[0], t[1]))
            by_col[c] = [t[2] for t in keyed]
            place()


def route(graph: Graph, a: str, b: str) -> str:
    """A straight edge to the next column; a longer one runs along its source's row, then turns
    into the target (``-|``), so that it passes no box on the way."""
    src, dst = graph.boxes[a], graph.boxes[b]
    if src.column == dst.column and abs(src.row - dst.row) > 1.5:  # past a box of its own column
        return "to[bend left=40]"
    if dst.column - src.column <= 1 or abs(src.row - dst.row) < 0.5:
        return "--"
    between = [
        box for box in graph.boxes.values() if src.column < box.column <= dst.column and abs(box.row - src.row) < 0.75
    ]
    if between:
        bend = "left" if dst.row < src.row else "right"
        return f"to[bend {bend}=12]"
    return "-|"


def node_label(node, printer) -> str:
    """``d = 2b`` for a short definition (as on the slides), else the node's name."""
    name = printer.name(node.name)
    expr = node.expr
    is_loss = isinstance(expr, sp.Function) and type(expr) in RULES and RULES[type(expr)].kind == "loss"
    if not is_loss and len(expr.free_symbols) <= 2 and sp.count_ops(expr) <= 1:
        return f"{name} = {printer.doprint(expr)}"
    return name


@dataclass(frozen=True)
class Figure:
    """A graph as one figure draws it: ``notes`` under box labels (values or gradients, in ``color``),
    ``edge_notes`` on edges (local derivatives)."""

    graph: Graph
    notes: dict[str, str] = field(default_factory=dict)
    color: str = "blue"
    edge_notes: dict[tuple[str, str], str] = field(default_factory=dict)


@dataclass(frozen=True)
class Placement:
    """Where ``place`` puts a graph: each box's centre in cm (TikZ orientation, y upwards), each edge's
    route, and the scale (at most 1) at which the figure fits ``WIDTH_CM``."""

    centre: dict[str, tuple[float, float]]  # key -> (x, y) in cm
    routes: dict[tuple[str, str], str]  # "--" straight, "-|" along the source row then down, "bend left|right"
    scale: float
    ycm: float = ROW_CM
    carry_y: dict[tuple[str, str], float] = field(default_factory=dict)  # each carry's arc: its height, in rows


def box_width_cm(box: Box, note: str | None = None) -> float:
    """A box's width: its label (or the value written under it, in a smaller font), at least 9 mm."""
    return max(MIN_BOX_CM, CHAR_CM * box.chars + 0.25, CHAR_CM * 0.8 * len(note or "") + 0.25, box.width_cm)


def place(graph: Graph, notes: dict[str, str] | None = None) -> Placement:
    """The figure's geometry.  Columns stand 2.6 cm apart (closer when there are many, so that the figure
    is ``WIDTH_CM`` wide), but never so close that the boxes of neighbouring columns touch: a column of
    wide boxes (``W^{[1]}_{11}, …, W^{[1]}_{32}``) pushes the next one right; a figure then wider than
    ``WIDTH_CM`` is drawn at a smaller scale."""
    notes = notes or {}
    ncols = max(b.column for b in graph.boxes.values()) + 1
    base = min(2.6, WIDTH_CM / max(ncols - 1, 1))
    widths = [0.0] * ncols
    for key, box in graph.boxes.items():
        widths[box.column] = max(widths[box.column], box_width_cm(box, notes.get(key)))
    # edges fan out between the columns' sides: more room, but no more than lets the figure fit, if it can
    gap = GAP_CM
    if graph.sides:
        room = WIDTH_CM - sum(widths) + (widths[0] + widths[-1]) / 2
        gap = min(SIDES_GAP_CM, max(GAP_CM, room / max(ncols - 1, 1)))
    xs = [0.0]
    for c in range(1, ncols):
        xs.append(xs[-1] + max(base, (widths[c - 1] + widths[c]) / 2 + gap))
    total = xs[-1] + (widths[0] + widths[-1]) / 2
    scale = min(1.0, (WIDTH_CM + (widths[0] + widths[-1]) / 2) / total) if total > 0 else 1.0
    centre = {k: (round(xs[b.column], 3), -b.row * ROW_CM) for k, b in graph.boxes.items()}
    half = {k: (box_width_cm(b, notes.get(k)) / 2, BOX_HALF_HEIGHT_CM) for k, b in graph.boxes.items()}
    routes = {(a, b): route(graph, a, b) for a, b in graph.edges}
    if graph.sides:  # a program's graph: a long edge through its slots, every other checked against every box
        drawn = {k: c for k, c in centre.items() if graph.boxes[k].kind != "slot"}
        for edge, how in routes.items():
            slots = graph.slots.get(edge)
            if slots:
                corners = [(centre[k][0] + dx * half[k][0], -graph.boxes[k].row) for k in slots for dx in (-1, 1)]
                routes[edge] = "".join(f"-- ({x:g},{y:g}) " for x, y in corners) + "--"
            else:
                routes[edge] = clear_route(drawn, half, *edge, how)
    return Placement(centre, routes, round(scale, 3), carry_y=carry_heights(graph))


BOX_HALF_HEIGHT_CM = 0.36
DETOURS = ("--", "-|", "|-", *(f"to[bend {side}={angle}]" for angle in (20, 35, 50) for side in ("left", "right")))


def clear_route(centre, half, a: str, b: str, first: str) -> str:
    """``first`` when it passes no other box, else the first detour that does (straight, along a row then a
    column or the other way, bends further and further out), else the one through the fewest.  A straight or
    bent edge runs from the source's side to the target's (``ends``)."""
    others = [k for k in centre if k not in (a, b)]
    candidates = [first, *DETOURS]
    crossings = []
    for candidate in candidates:
        points = route_points(*ends(centre, half, a, b, candidate), candidate)
        crossings.append(sum(_inside(p, centre[k], half[k]) for p in points for k in others))
        if crossings[-1] == 0:
            return candidate
    return candidates[crossings.index(min(crossings))]


def polyline(how: str) -> list[tuple[float, float]] | None:
    """The corners (x in cm, y in rows) of an edge drawn through the slots it has in the columns it crosses
    (``-- (x,y) -- … --``), else None."""
    if not how.startswith("-- ("):
        return None
    return [(float(x), float(y)) for x, y in re.findall(r"\(([-\d.e]+),([-\d.e]+)\)", how)]


def ends(centre, half, a: str, b: str, how: str):
    """Where an edge drawn ``how`` between the sides of boxes ``a`` and ``b`` starts and ends (cm)."""
    (xa, ya), (xb, yb) = centre[a], centre[b]
    if xa == xb or how in ("-|", "|-"):
        return (xa, ya), (xb, yb)
    sign = 1 if xb > xa else -1
    start = (xa + sign * half[a][0], ya) if how != "|-" else (xa, ya)
    end = (xb - sign * half[b][0], yb) if how != "-|" else (xb, yb)
    return start, end


def anchors(centre, a: str, b: str, how: str) -> tuple[str, str]:
    """The TikZ anchors (``.east``, ``.west`` or none) of an edge ``ends`` draws between sides."""
    (xa, _), (xb, _) = centre[a], centre[b]
    if xa == xb or how in ("-|", "|-"):
        return "", ""
    return (".east", ".west") if xb > xa else (".west", ".east")


def route_points(start, end, how: str, samples: int = 24) -> list[tuple[float, float]]:
    """Points along an edge drawn ``how`` from ``start`` to ``end`` (cm, y up)."""
    (xa, ya), (xb, yb) = start, end
    corners = polyline(how)
    if corners is not None:
        path = [start, *((x, y * ROW_CM) for x, y in corners), end]
        return [p for u, v in itertools.pairwise(path) for p in _along(u, v, samples // 2)]
    if how in ("-|", "|-"):
        corner = (xb, ya) if how == "-|" else (xa, yb)
        return _along(start, corner, samples // 2) + _along(corner, end, samples // 2)
    if how.startswith("to[bend"):
        c1, c2 = bend_controls(start, end, how)
        steps = [i / samples for i in range(samples + 1)]
        return [
            tuple((1 - u) ** 3 * p + 3 * u * (1 - u) ** 2 * q + 3 * u**2 * (1 - u) * r + u**3 * w for p, q, r, w in
                  zip(start, c1, c2, end))
            for u in steps
        ]  # fmt: skip
    return _along(start, end, samples)


def bend_controls(start, end, how: str):
    """The control points of TikZ's ``to[bend left=θ]`` (``right``) from ``start`` to ``end`` (y up): it leaves
    at θ to the left of the straight line and arrives symmetrically, controls at 0.3915 of its length."""
    angle = math.radians(float(re.search(r"=(\d+)", how).group(1))) * (1 if "left" in how else -1)
    (xa, ya), (xb, yb) = start, end
    length = math.hypot(xb - xa, yb - ya)
    heading = math.atan2(yb - ya, xb - xa)
    reach = 0.3915 * length
    out, back = heading + angle, heading + math.pi - angle
    return (xa + reach * math.cos(out), ya + reach * math.sin(out)), (
        xb + reach * math.cos(back),
        yb + reach * math.sin(back),
    )


def _along(p, q, n: int) -> list[tuple[float, float]]:
    return [(p[0] + (q[0] - p[0]) * i / n, p[1] + (q[1] - p[1]) * i / n) for i in range(n + 1)]


def _inside(point, centre, half, margin: float = 0.12) -> bool:
    return abs(point[0] - centre[0]) < half[0] + margin and abs(point[1] - centre[1]) < half[1] + margin


def carry_heights(graph: Graph) -> dict[tuple[str, str], float]:
    """The height (in rows, up positive) of each carry's arc: the first above the top row, the second below the
    bottom row, further ones further out."""
    top = max((-b.row for b in graph.boxes.values()), default=0.0)
    bottom = min((-b.row for b in graph.boxes.values()), default=0.0)
    out = {}
    for i, carry in enumerate(graph.carries):
        out[carry] = top + CARRY_CM * (1 + i // 2) if i % 2 == 0 else bottom - CARRY_CM * (1 + i // 2)
    return out


def paths_to_loss(graph: Graph, key: str) -> tuple[set[str], set[tuple[str, str]]]:
    """The boxes and edges on the paths from box ``key`` to the loss (the last column's box)."""
    loss = max(graph.boxes.values(), key=lambda b: b.column).key
    down: set[str] = {key}
    changed = True
    while changed:
        changed = False
        for a, b in graph.edges:
            if a in down and b not in down:
                down.add(b)
                changed = True
    up = {loss}
    changed = True
    while changed:
        changed = False
        for a, b in graph.edges:
            if b in up and a not in up:
                up.add(a)
                changed = True
    boxes = down & up
    edges = {(a, b) for a, b in graph.edges if a in boxes and b in boxes}
    return boxes, edges
