"""A network's computation graph as a TikZ figure (the layout is ``graph_layout``'s)."""

from __future__ import annotations

from .graph_layout import MAX_LABELLED_EDGES, MAX_ROWS, Graph, anchors, build, node_label, place, stem

__all__ = ["MAX_LABELLED_EDGES", "MAX_ROWS", "Graph", "build", "node_label", "stem", "tikz"]


STYLES = r"""
  every node/.style={font=\small},
  box/.style={draw, rounded corners=2pt, minimum width=9mm, minimum height=6mm, inner sep=2pt, align=center},
  input/.style={box, fill=gray!12},
  param/.style={box, fill=yellow!18},
  target/.style={box, dashed, fill=gray!5},
  node/.style={box, fill=blue!8, thick},
  edge/.style={->, >=stealth, draw=black!55},
  edgelabel/.style={font=\scriptsize, text=black!70, inner sep=1pt},
"""
RECURRENT_STYLES = r"""  state/.style={box, dashed, fill=blue!3},
  carry/.style={->, >=stealth, dashed, draw=blue!60!black},
"""


def tikz(
    graph: Graph, notes: dict[str, str] | None = None, note_color: str = "blue", edge_notes: dict | None = None
) -> str:
    """TikZ code for ``graph``; ``notes`` maps a box key to a value written under its label,
    ``edge_notes`` an edge (from key, to key) to a label on it (a local derivative, as on the slides)."""
    notes = notes or {}
    edge_notes = edge_notes or {}
    placement = place(graph, notes)
    # after the styles: ``every node/.style`` there would drop ``transform shape`` (boxes kept full size, overlapping)
    scale = (
        f"  scale={placement.scale:g}, every node/.append style={{transform shape}},\n" if placement.scale < 1 else ""
    )
    recurrent = graph.carries or any(b.kind == "state" for b in graph.boxes.values())
    styles = STYLES + (RECURRENT_STYLES if recurrent else "")
    lines = [rf"\begin{{tikzpicture}}[x=1cm, y={placement.ycm:.2f}cm,{styles}{scale}]"]
    for box in sorted(graph.boxes.values(), key=lambda b: (b.column, b.row)):
        if box.kind == "slot":  # a long edge's place in a column it crosses: not drawn
            continue
        text = f"${box.label}$"
        if box.key in notes:
            text += rf"\\[-1pt]\textcolor{{{note_color}}}{{\footnotesize ${notes[box.key]}$}}"
        x = placement.centre[box.key][0]
        style = f"{box.kind}, minimum width={box.width_cm:g}cm" if box.width_cm else box.kind
        lines.append(rf"  \node[{style}] ({box.key}) at ({x:g},{-box.row:g}) {{{text}}};")
    for a, b in graph.edges:
        label = ""
        if (a, b) in edge_notes:
            route = placement.routes[a, b]
            where = "pos=0.25, above" if route == "-|" else "pos=0.35, above, sloped"
            label = rf" node[{where}, edgelabel] {{${edge_notes[a, b]}$}}"
        start, end = anchors(placement.centre, a, b, placement.routes[a, b]) if graph.sides else ("", "")
        lines.append(rf"  \draw[edge] ({a}{start}) {placement.routes[a, b]} ({b}{end}){label};")
    for (a, b), y in placement.carry_y.items():  # along the top (or bottom), back to the state's h_{t−1}
        xa, xb = placement.centre[a][0], placement.centre[b][0]
        where = "above" if y > 0 else "below"
        note = rf" node[midway, {where}, edgelabel] {{{graph.carry_note}}}" if graph.carry_note else ""
        lines.append(rf"  \draw[carry] ({a}) -- ({xa:g},{y:g}) --{note} ({xb:g},{y:g}) -- ({b});")
    lines.append(r"\end{tikzpicture}")
    return "\n".join(lines)
