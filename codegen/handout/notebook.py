"""The handout as a Jupyter notebook: the derivation in Markdown, the training module as code.

From the same context as the LaTeX handout (``handout.build_context``): the
network, the worked forward pass and each parameter's chain rule in Markdown
cells (LaTeX for the notebook's MathJax); then the generated NumPy module
(``chainrule generate``), one code cell per top-level definition, and its
training run; last a gradient check in the manner of Karpathy's ``cmp()``:
every hand-derived intermediate ∂L/∂v (each node's and each parameter's
simplified gradient, as the handout writes it) against central finite
differences at the example, printing exact / close / max difference.

The notebook is nbformat 4.5 JSON written directly (cell ids numbered), so
the same network always gives the same bytes.
"""

from __future__ import annotations

import ast
import json
import re

import sympy as sp

from derive import ChainruleError, VecNetwork

from ..emit.load import module_source
from ..emit.numpy_module import ruff_format
from ..render.numpy_helpers import helper_source
from ..render.numpy_printer import ModulePrinter
from .builder import HandoutOptions, _choose_example, build_context

STEP = 1e-6  # central-difference step of the gradient check
GENERATOR = '"generator": "chainrule handout'  # how a notebook chainrule wrote is recognised


def _aligned(rows) -> str:
    body = " \\\\\n".join(f"{left} {right}" for left, right in rows)
    body = re.sub(r"\\tag\{([^{}]*)\}", r"&& (\1)", body)
    return f"$$\n\\begin{{aligned}}\n{body}\n\\end{{aligned}}\n$$"


def _text(tex: str) -> str:
    """A sentence of the LaTeX handout as Markdown (its ``$…$`` math kept)."""
    tex = re.sub(r"\\texttt\{([^{}]*)\}", lambda m: "`" + m.group(1).replace("-", "\x00") + "`", tex)
    for a, b in ((r"\dots{}", "…"), (r"\_", "_"), (r"\&", "&"), ("--", "–"), ("~", " ")):
        tex = tex.replace(a, b)
    return re.sub(r"\\emph\{([^{}]*)\}", r"*\1*", tex).replace("\x00", "-")


def markdown_text(text: str) -> str:
    """A name or doc string as inert Markdown text: one line, no HTML, no math, no link."""
    text = " ".join(str(text).split())
    return "".join("\\" + ch if ch in "\\`*_[]<>$|" else ch for ch in text).replace("&", "&amp;")


def code_span(text: str) -> str:
    """``text`` as a Markdown code span: one line, no backtick to close it early."""
    return "`" + " ".join(str(text).split()).replace("`", "'") + "`"


def derivation_cells(ctx: dict) -> list[str]:
    """The Markdown cells of the derivation."""
    loss = ctx["loss"]
    cells = [f"# Backpropagation by hand: {ctx['plain_title']}\n\n{ctx['plain_doc']}"]
    if ctx["sections"].network:
        rows = [(left, f"&= {right}") for left, right in ctx["network"]["equations"]]
        cells.append(f"## 1. The network\n\nFrom the inputs to the loss ${loss}$:\n\n{_aligned(rows)}")
    if ctx["sections"].forward:
        rows = [r for node in ctx["forward"]["nodes"] for r in node["rows"]]
        cells.append(f"## 2. A worked forward pass\n\nAt {_text(ctx['example']['title'])}.\n\n{_aligned(rows)}")
    if ctx["sections"].backward:
        cells.append(
            "## 3. The backward pass\n\nEach gradient is a product of local derivatives along the paths from "
            f"${loss}$ back to the parameter (the chain rule); where several paths meet, their products add up."
        )
        for b in ctx["backward"]["blocks"]:
            parts = [f"### The gradient ${b['title']}$"]
            if not b["direct"]:
                parts += ["**Chain rule.**", _aligned(b["chain"])]
            parts.append("**Each factor.**")
            for f in b["factors"]:
                parts.append(_aligned(f["rows"]) + (f"\n\n$[{f['why']}]$" if f["why"] else ""))
            if not b["direct"]:
                parts += ["**Their product.**", _aligned(b["product"])]
            if b["cancels"]:
                parts.append("**Simplifying.** The factors that cancel are in red.")
                parts += [_aligned(c["rows"]) + (f"\n\n$[{c['why']}]$" if c["why"] else "") for c in b["cancels"]]
            result = _aligned(b["result"]).replace("\\begin{aligned}", "\\boxed{\\begin{aligned}")
            result = result.replace("\\end{aligned}", "\\end{aligned}}")
            parts += ["**Result.**", result, f"At the example, ${b['title']} = {b['value']}$."]
            cells.append("\n\n".join(parts))
        summary = [r for item in ctx["backward"]["summary"] for r in item]
        cells.append(f"### All the gradients\n\nNumbered as in the handout:\n\n{_aligned(summary)}")
    return cells


def _split_module(source: str) -> tuple[list[str], str | None]:
    """The module's top-level code as cells (one per definition; the rest grouped), and the body of its
    ``if __name__ == "__main__":`` block, dedented (the training run)."""
    lines = source.splitlines()
    if lines and lines[0].startswith("# chainrule: generated file"):
        lines = lines[1:]
    source = "\n".join(lines) + "\n"
    tree = ast.parse(source)
    cells: list[str] = []
    main = None
    pending: list[str] = []
    for node in tree.body:
        start = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])]) - 1
        text = "\n".join(lines[start : node.end_lineno]).strip("\n")
        if isinstance(node, ast.If) and "__main__" in ast.unparse(node.test):
            main = "\n".join(line[4:] for line in lines[node.body[0].lineno - 1 : node.end_lineno])
            continue
        if isinstance(node, ast.Expr) and isinstance(getattr(node, "value", None), ast.Constant):
            continue  # the module docstring: the Markdown says it
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            if pending:
                cells.append("\n".join(pending))
                pending = []
            cells.append(text)
        else:
            pending.append(text)
    if pending:
        cells.append("\n".join(pending))
    return cells, main


def gradient_check_code(net, point: dict[str, float]) -> str:
    """A self-contained cell: the forward pass with any node overridable, the hand-derived gradients,
    and ``cmp`` of each against central differences at ``point``."""
    derivation = net.derive()
    printer = ModulePrinter()
    leaves = list(net.leaves)
    lines = ["def values_at(point, over=None):", '    """Every value at the point; ``over`` replaces nodes."""']
    lines.append("    over = over or {}")
    lines.append(f"    {', '.join(leaves)}{',' if len(leaves) == 1 else ''} = (point[k] for k in LEAVES)")
    for node in net.nodes:
        code = printer.doprint(node.expr)
        lines.append(f'    {node.name} = over["{node.name}"] if "{node.name}" in over else {code}')
    lines.append("    return {k: v for k, v in locals().items() if k in NAMES}")
    quantities = [n.name for n in reversed(net.nodes) if n.name != net.loss_name] + net.names("param")
    hand = ["def hand_gradients(v):", '    """∂L/∂q of the derivation (simplified, in node names)."""']
    names = leaves + [n.name for n in net.nodes]
    hand.append(f"    {', '.join(names)} = (v[k] for k in NAMES)")
    hand.append("    return {")
    for q in quantities:
        hand.append(f'        "{q}": {printer.doprint(sp.sympify(derivation.shown_gradient(q)))},')
    hand.append("    }")
    header = ["import numpy as np", "", helper_source(printer.helpers) if printer.helpers else ""]
    point_text = ", ".join(f'"{k}": {float(point[k])!r}' for k in leaves)
    body = [
        f"LEAVES = {leaves!r}",
        f"NAMES = {names!r}",
        f"LOSS = {net.loss_name!r}",
        f"POINT = {{{point_text}}}",
        "",
        *lines,
        "",
        *hand,
        "",
        "",
        "def cmp(name, hand, numeric):",
        '    """Like Karpathy\'s cmp(): equal to the last bit, close (relative 1e-6), and the largest difference."""',
        "    exact = bool(np.all(hand == numeric))",
        "    close = bool(np.allclose(hand, numeric, rtol=1e-6, atol=1e-9))",
        "    maxdiff = float(np.max(np.abs(np.asarray(hand) - np.asarray(numeric))))",
        (
            '    print(f"{name:8s} | hand {hand: .10f} | numeric {numeric: .10f} '
            '| exact: {str(exact):5s} | close: {str(close):5s} | maxdiff: {maxdiff:.1e}")'
        ),
        "    return close",
        "",
        "",
        "v = values_at(POINT)",
        "derived = hand_gradients(v)",
        f"h = {STEP!r}",
        "results = []",
        "for q, g in derived.items():",
        "    if q in LEAVES:",
        "        up = values_at({**POINT, q: POINT[q] + h})[LOSS]",
        "        down = values_at({**POINT, q: POINT[q] - h})[LOSS]",
        "    else:",
        "        up = values_at(POINT, {q: v[q] + h})[LOSS]",
        "        down = values_at(POINT, {q: v[q] - h})[LOSS]",
        "    results.append(cmp(q, float(g), float((up - down) / (2 * h))))",
        'print(f"{sum(results)} of {len(results)} hand-derived gradients agree with finite differences")',
        "assert all(results)",
    ]
    return ruff_format("\n".join(header + body), "the gradient check")


def _cell(kind: str, source: str, k: int) -> dict:
    cell = {"cell_type": kind, "id": f"cell-{k}", "metadata": {}, "source": source.splitlines(keepends=True)}
    if kind == "code":
        cell["execution_count"] = None
        cell["outputs"] = []
    return cell


def render(net, options: HandoutOptions | None = None, spec: str | None = None) -> str:
    """The notebook of ``net`` as JSON text; ``spec`` names it for ``chainrule generate`` (the module cells)."""
    options = options or HandoutOptions()
    options = HandoutOptions(**{**options.__dict__, "exercise": False})
    ctx = build_context(net, options)
    if ctx.get("batch_only"):
        raise ChainruleError(
            f"'{net.name}' {matrices_only_reason(ctx)}: its handout is in matrices only, which has no notebook yet",
            "-o",
        )
    ctx["plain_title"] = markdown_text(net.name.replace("_", " "))
    ctx["plain_doc"] = markdown_text(getattr(net, "doc", ""))
    scalar = net
    if isinstance(net, VecNetwork):
        from .batch import scalar_network

        scalar, _ = scalar_network(net)
    _, point, _ = _choose_example(scalar, scalar.derive(), options)
    cells = [("markdown", text) for text in derivation_cells(ctx)]
    try:
        module = module_source(net, spec)
    except ChainruleError as exc:
        cells.append(
            (
                "markdown",
                f"## The training module\n\n`chainrule generate` does not cover this network: {markdown_text(exc)}",
            )
        )
    else:
        code, main = _split_module(module)
        cells.append(
            (
                "markdown",
                (
                    f"## The training module\n\nThe module {code_span('chainrule generate ' + (spec or net.name))} writes, one definition "
                    "per cell: the forward pass, the gradients (each line cites its equation of section 3), the "
                    "update and the training loop. It needs only NumPy."
                ),
            )
        )
        cells += [("code", c) for c in code]
        if main and "main()" in main:  # a command-line module that trains on the shipped data files
            name = spec or net.name
            cells.append(
                (
                    "markdown",
                    (
                        "### Training\n\nThis module trains on the data chainrule ships: "
                        + code_span(f"chainrule generate {name} -o {net.name}.py && python3 {net.name}.py")
                        + "."
                    ),
                )
            )
            main = None
        if main:
            cells.append(("markdown", "### Training on the module's demo data"))
            cells.append(("code", main))
    cells.append(
        (
            "markdown",
            "## Checking the derivation\n\nEach hand-derived gradient $\\partial "
            + ctx["loss"]
            + " / \\partial q$ above, for every node and parameter $q$, against central finite differences "
            "of the loss at the example (the node's value moved by $\\pm h$, everything after it recomputed): "
            "`exact` (equal to the last bit: rare against differences), `close` (relative error at most "
            "$10^{-6}$) and the largest difference.",
        )
    )
    cells.append(("code", gradient_check_code(scalar, point)))
    notebook = {
        "cells": [_cell(kind, text, k) for k, (kind, text) in enumerate(cells, start=1)],
        "metadata": {
            "generator": "chainrule handout (do not edit; regenerate with chainrule handout SPEC -o NAME.ipynb)",
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    return json.dumps(notebook, indent=1, ensure_ascii=False) + "\n"
