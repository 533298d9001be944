"""A network's computation graph as inline SVG for the HTML handouts (the layout is ``graph_layout``'s).

The same boxes, rows, columns and edge routes as the TikZ figures; labels are
MathML inside ``foreignObject``.  Every box and edge carries the keys of the
paths from it to the loss (``data-paths``), so that a little script in the page
can highlight them when a parameter is hovered or clicked.
"""

from __future__ import annotations

import html
import math
import re

from .graph_layout import Figure, bend_controls, paths_to_loss, place, polyline

PX_PER_CM = 46.0
BOX_H = 26.0  # px, a box with one line
NOTE_H = 15.0  # px, the extra line of a value or gradient
CHAR_PX = 7.6  # px per character of visible label width (the layout allows CHAR_CM * PX_PER_CM = 9.2)
MARGIN = 12.0


def _box_size(label_width: float, note: str | None) -> tuple[float, float]:
    w = max(42.0, label_width * CHAR_PX + 14, (len(note) * 7.0 + 12) if note else 0)
    return w, BOX_H + (NOTE_H if note else 0)


def svg(figure: Figure, mathml, visible_width, fid: str, standalone: bool = False) -> str:
    """SVG for ``figure``; ``mathml(tex)`` converts a label, ``visible_width(tex)`` estimates its width;
    ``fid`` makes the element ids of this figure unique in the page.  ``standalone``: an image file of its own
    (a notebook's attachment), with its styles inside and its labels as SVG text (``svg_text``)."""
    graph = figure.graph
    placement = place(graph, figure.notes)
    size: dict[str, tuple[float, float]] = {}
    for key, box in graph.boxes.items():
        w, h = _box_size(visible_width(box.label), figure.notes.get(key))
        size[key] = (max(w, box.width_cm * PX_PER_CM), h)
    xs = [placement.centre[k][0] * PX_PER_CM for k in graph.boxes]
    ys = [-placement.centre[k][1] * PX_PER_CM * 1.0 for k in graph.boxes]
    arcs = {carry: -y * placement.ycm * PX_PER_CM for carry, y in placement.carry_y.items()}  # y of each arc, px
    note_h = NOTE_H if graph.carry_note else 0.0
    left = min(x - size[k][0] / 2 for x, k in zip(xs, graph.boxes)) - MARGIN
    top = min([y - size[k][1] / 2 for y, k in zip(ys, graph.boxes)] + [y - note_h for y in arcs.values()]) - MARGIN
    right = max(x + size[k][0] / 2 for x, k in zip(xs, graph.boxes)) + MARGIN
    bottom = max([y + size[k][1] / 2 for y, k in zip(ys, graph.boxes)] + [y + note_h for y in arcs.values()]) + MARGIN

    def at(key: str) -> tuple[float, float]:
        x, y = placement.centre[key]
        return x * PX_PER_CM - left, -y * PX_PER_CM - top

    paths = {}
    for key, box in graph.boxes.items():
        if box.kind == "param":
            boxes, edges = paths_to_loss(graph, key)
            paths[key] = sorted(f"{fid}-{k}" for k in boxes) + sorted(f"{fid}-{a}-{b}" for a, b in edges)
    width, height = right - left, bottom - top
    shown_w, shown_h = width * placement.scale, height * placement.scale  # as small as the PDF's figure
    out = [
        (
            f'<svg class="graph" xmlns="http://www.w3.org/2000/svg" width="{shown_w:.0f}" height="{shown_h:.0f}" '
            f'viewBox="0 0 {width:.0f} {height:.0f}" role="img">'
        ),
        (
            f'<defs><marker id="{fid}-arrow" viewBox="0 0 10 10" refX="10" refY="5" markerUnits="userSpaceOnUse" '
            'markerWidth="8" markerHeight="8" orient="auto-start-reverse">'
            '<path d="M 0 0 L 10 5 L 0 10 z" fill="#777"/></marker></defs>'
        ),
    ]
    if standalone:
        out.append(f"<style>{STANDALONE_CSS}</style>")
    for a, b in graph.edges:
        corners = polyline(placement.routes[a, b])
        if corners is not None:  # a long edge: through its slot in each column it crosses
            (xa, ya), (xb, yb) = at(a), at(b)
            path = [(xa + size[a][0] / 2, ya)]
            path += [(x * PX_PER_CM - left, -y * placement.ycm * PX_PER_CM - top) for x, y in corners]
            path.append((xb - size[b][0] / 2, yb))
            d = "M " + " L ".join(f"{x:.1f} {y:.1f}" for x, y in path)
            out.append(f'<path id="{fid}-{a}-{b}" class="edge" d="{d}" marker-end="url(#{fid}-arrow)"/>')
            continue
        d, label_at, angle = _edge_path(at(a), size[a], at(b), size[b], placement.routes[a, b], graph.sides)
        out.append(f'<path id="{fid}-{a}-{b}" class="edge" d="{d}" marker-end="url(#{fid}-arrow)"/>')
        if (a, b) in figure.edge_notes:
            lx, ly = label_at
            text = html.escape(_plain(figure.edge_notes[a, b]))
            out.append(
                f'<text class="edgelabel" x="{lx:.1f}" y="{ly - 3:.1f}" text-anchor="middle" '
                f'transform="rotate({angle:.1f} {lx:.1f} {ly:.1f})">{text}</text>'
            )
    for (a, b), y_arc in arcs.items():  # a state carried to the next step: along the top or bottom, back
        (xa, ya), (xb, yb) = at(a), at(b)
        y = y_arc - top
        ya += size[a][1] / 2 * (1 if y > ya else -1)
        yb += size[b][1] / 2 * (1 if y > yb else -1)
        out.append(
            f'<path class="carry" d="M {xa:.1f} {ya:.1f} L {xa:.1f} {y:.1f} L {xb:.1f} {y:.1f} L {xb:.1f} {yb:.1f}" '
            f'marker-end="url(#{fid}-arrow)"/>'
        )
        if graph.carry_note:
            ly = y - 4 if y < ya else y + 12
            out.append(
                f'<text class="edgelabel" x="{(xa + xb) / 2:.1f}" y="{ly:.1f}" text-anchor="middle">'
                f"{html.escape(_plain_text(graph.carry_note))}</text>"
            )
    for box in sorted(graph.boxes.values(), key=lambda b: (b.column, b.row)):
        if box.kind == "slot":
            continue
        x, y = at(box.key)
        w, h = size[box.key]
        note = figure.notes.get(box.key)
        data = f' data-paths="{" ".join(paths[box.key])}" tabindex="0"' if box.key in paths else ""
        rect = f'<rect x="{x - w / 2:.1f}" y="{y - h / 2:.1f}" width="{w:.1f}" height="{h:.1f}" rx="3"/>'
        if standalone:
            text = f'<text class="label" x="{x:.1f}" y="{y + 5:.1f}" text-anchor="middle">{svg_text(box.label)}</text>'
            out.append(f'<g class="box {box.kind}">{rect}{text}</g>')
            continue
        label = mathml(box.label)
        if note is not None:
            label += f'<span class="note {figure.color}">{html.escape(_plain(note))}</span>'
        out.append(
            f'<g id="{fid}-{box.key}" class="box {box.kind}"{data}>{rect}'
            f'<foreignObject x="{x - w / 2:.1f}" y="{y - h / 2:.1f}" width="{w:.1f}" height="{h:.1f}">'
            f'<div xmlns="http://www.w3.org/1999/xhtml" class="label">{label}</div></foreignObject></g>'
        )
    out.append("</svg>")
    return "\n".join(out)


STANDALONE_CSS = (
    ".box rect { stroke: #333; stroke-width: 1; } .box.input rect { fill: #eee; } .box.param rect { fill: #fffbe0; }"
    " .box.target rect { fill: #f7f7f7; stroke-dasharray: 4 2; } .box.node rect { fill: #e8ecfb; stroke-width: 1.6; }"
    " .box.state rect { fill: #f4f6fd; stroke-dasharray: 4 2; } .edge { fill: none; stroke: #777; stroke-width: 1; }"
    " .carry { fill: none; stroke: #1a3fb0; stroke-width: 1; stroke-dasharray: 5 3; }"
    " .label { font: italic 14px 'Latin Modern Roman', 'STIX Two Text', Georgia, serif; fill: #111; }"
    " .edgelabel { font: 10px Georgia, serif; fill: #555; }"
)
_GREEK = (
    "alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa", "lambda", "mu", "nu", "xi",
    "omicron", "pi", "rho", "varsigma", "sigma", "tau", "upsilon", "phi", "chi", "psi", "omega",
)  # fmt: skip
_SYMBOLS = {
    **{name: chr(0x3B1 + i) for i, name in enumerate(_GREEK)},
    **{name.capitalize(): chr(0x391 + i) for i, name in enumerate(_GREEK)},
    "varepsilon": "ε",
    "top": "⊤",
    "odot": "⊙",
    "dots": "…",
    "times": "×",
    "cdot": "·",
    "infty": "∞",
}
_ACCENTS = {"hat": "\u0302", "tilde": "\u0303", "bar": "\u0304"}
_SHIFT = {"_": "-3", "^": "5"}  # user units: a subscript drops 3, a superscript rises 5


def svg_text(tex: str) -> str:
    """A short LaTeX label (a name, ``\\tilde{c}_t``, ``W^{[1]}, b^{[1]}``) as the content of an SVG ``text``:
    Greek letters and accents as Unicode, sub- and superscripts as shifted ``tspan``s."""
    out, i = [], 0
    while i < len(tex):
        ch = tex[i]
        if ch in "_^":
            arg, i = _argument(tex, i + 1)
            out.append(f'<tspan baseline-shift="{_SHIFT[ch]}" font-size="70%">{svg_text(arg)}</tspan>')
            continue
        if ch == "\\":
            m = re.match(r"\\([A-Za-z]+|.)", tex[i:])
            name, i = m.group(1), i + m.end()
            if name in _ACCENTS:
                arg, i = _argument(tex, i)
                out.append(svg_text(arg) + _ACCENTS[name])
            elif name in ("mathrm", "mathit", "text", "operatorname", "mathbf"):
                arg, i = _argument(tex, i)
                out.append(svg_text(arg))
            elif name in _SYMBOLS:
                out.append(_SYMBOLS[name])
            elif name in (",", " ", ";", "quad"):
                out.append(" ")
            continue
        if ch not in "{}":
            out.append(html.escape(ch))
        i += 1
    return "".join(out)


def _argument(tex: str, i: int) -> tuple[str, int]:
    """The argument at ``tex[i]``: a brace group or one character (``\\command``)."""
    while i < len(tex) and tex[i] == " ":
        i += 1
    if i < len(tex) and tex[i] == "{":
        depth = 0
        for j in range(i, len(tex)):
            depth += {"{": 1, "}": -1}.get(tex[j], 0)
            if depth == 0:
                return tex[i + 1 : j], j + 1
    m = re.match(r"\\[A-Za-z]+|.", tex[i:])
    return (m.group(0), i + m.end()) if m else ("", i)


def _plain(tex: str) -> str:
    """A number as the handout prints it in LaTeX, as text: ``-0.15``, ``1.2 × 10⁻⁵``."""
    text = tex.replace(r" \times 10^{", " × 10^").replace("}", "").replace("-", "−")
    if "^" in text:
        base, exp = text.split("^")
        text = base + exp.translate(str.maketrans("−0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹"))
    return text


def _plain_text(tex: str) -> str:
    """A short LaTeX note (``to step $t+1$``) as plain text."""
    return re.sub(r"\\[A-Za-z]+\{?|[${}]", "", tex)


def _clip(cx: float, cy: float, w: float, h: float, tx: float, ty: float) -> tuple[float, float]:
    """Where the line from the box centre (cx, cy) towards (tx, ty) leaves the box."""
    dx, dy = tx - cx, ty - cy
    if dx == 0 and dy == 0:
        return cx, cy
    scale = min((w / 2) / abs(dx) if dx else math.inf, (h / 2) / abs(dy) if dy else math.inf)
    return cx + dx * scale, cy + dy * scale


def _edge_path(src, ssize, dst, dsize, route: str, sides: bool = False):
    """SVG path data for one edge, the point for its label and the label's angle (degrees); with ``sides``,
    a straight or bent edge between columns runs from the source's side to the target's."""
    (sx, sy), (tx, ty) = src, dst
    if route == "-|":  # along the source's row, then turn into the target
        x0, y0 = sx + ssize[0] / 2, sy
        y1 = ty - dsize[1] / 2 if ty > sy else ty + dsize[1] / 2
        d = f"M {x0:.1f} {y0:.1f} L {tx:.1f} {sy:.1f} L {tx:.1f} {y1:.1f}"
        return d, (x0 + 0.25 * (tx - x0), sy), 0.0
    if route == "|-":  # along the source's column, then into the target from its side
        y0 = sy + ssize[1] / 2 * (1 if ty > sy else -1)
        x1 = tx - dsize[0] / 2 if tx > sx else tx + dsize[0] / 2
        d = f"M {sx:.1f} {y0:.1f} L {sx:.1f} {ty:.1f} L {x1:.1f} {ty:.1f}"
        return d, (sx, y0 + 0.5 * (ty - y0)), 0.0
    x0, y0 = _clip(sx, sy, *ssize, tx, ty)
    x1, y1 = _clip(tx, ty, *dsize, sx, sy)
    if sides and sx != tx:
        sign = 1 if tx > sx else -1
        (x0, y0), (x1, y1) = (sx + sign * ssize[0] / 2, sy), (tx - sign * dsize[0] / 2, ty)
    angle = math.degrees(math.atan2(y1 - y0, x1 - x0))
    label = (x0 + 0.35 * (x1 - x0), y0 + 0.35 * (y1 - y0))
    if route.startswith("to[bend"):  # TikZ's curve, computed with y up
        (ax, ay), (bx, by) = bend_controls((x0, -y0), (x1, -y1), route)
        return f"M {x0:.1f} {y0:.1f} C {ax:.1f} {-ay:.1f} {bx:.1f} {-by:.1f} {x1:.1f} {y1:.1f}", label, angle
    return f"M {x0:.1f} {y0:.1f} L {x1:.1f} {y1:.1f}", label, angle
