"""Plain-text derivation reports (the CLI's ``derive`` output and the demo's files)."""

from __future__ import annotations

import sys

from derive import gradcheck
from derive.printing.text import partial_text, text


def derivation_text(derivation, names, point=None) -> str:
    """Every step for each name, as text, with a heading per gradient.

    With ``point``, each derivation ends with its numeric proof: the derived
    value against central differences there."""
    blocks = []
    checked = {row.name: row for row in gradcheck.check(derivation, point, list(names))} if point is not None else {}
    for name in names:
        lines = [f"## {partial_text(derivation.loss, name)}"]
        lines.extend(str(step) for step in derivation.steps(name))
        if point is not None:
            row = checked[name]
            verdict = "ok" if row.ok else "MISMATCH"
            lines.append(
                f"check: derived {row.analytic + 0.0:.10g}, central differences {row.numeric + 0.0:.10g}, "
                f"relative error {row.rel_error:.1e} ({verdict}, at a seeded random point)"
            )
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"


def forward_text(derivation, point, title: str) -> str:
    values = derivation.forward(point)
    lines = [f"## forward pass at {title}"]
    for node in derivation.net.nodes:
        lines.append(f"{node.name} = {text(node.expr)} = {values[node.name]:.6g}")
    return "\n".join(lines) + "\n"


def gradcheck_text(derivation, point, title: str) -> tuple[str, float]:
    """A table of derived versus numeric gradients; returns (text, worst relative error)."""
    rows = gradcheck.check(derivation, point)
    lines = [
        f"## gradient check at {title} (central differences, float64)",
        f"{'name':<8} {'derived':>14} {'numeric':>14} {'rel. error':>10}",
    ]
    worst = 0.0
    for row in rows:
        worst = max(worst, row.rel_error)
        lines.append(f"{row.name:<8} {row.analytic + 0.0:>14.8g} {row.numeric + 0.0:>14.8g} {row.rel_error:>10.1e}")
    return "\n".join(lines) + "\n", worst


LARGE_EDGES = 200  # a per-unit network with more edges than this takes seconds to derive: say so first


def announce_size(net) -> None:
    """A progress line before deriving a large per-unit network (not silence while it works)."""
    nodes = getattr(net, "nodes", None)
    if nodes is None:
        return  # a layer network derives in the same time at any width
    edges = sum(len(node.deps) for node in nodes)
    if edges > LARGE_EDGES:
        status(
            f"network '{net.name}' has {edges} edges and {len(net.names('param'))} parameters: "
            "deriving every gradient takes a while"
        )


def status(message: str) -> None:
    """A status or progress line for the person watching: on stderr (flushed), never mixed into the data
    (tables, derivations, JSON) on stdout."""
    print(f"chainrule: {message}", file=sys.stderr, flush=True)
