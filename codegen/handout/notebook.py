"""The handout as a Jupyter notebook: the derivation in Markdown, the training module as code.

From the same context as the LaTeX handout (``handout.build_context``): the
network, the worked forward pass and each parameter's chain rule in Markdown
cells (LaTeX for the notebook's MathJax); then the generated NumPy module
(``chainrule generate``), one code cell per top-level definition, and its
training run; last a gradient check in the manner of Karpathy's ``cmp()``:
every hand-derived intermediate ∂L/∂v (each node's and each parameter's
simplified gradient, as the handout writes it) against central finite
differences at the example, printing exact / close / max difference.

A matrix program's notebook has the sections of its handout (``matrix.context``)
as Markdown cells, each computation graph an SVG attachment (``graph_svg``'s
standalone form), then the module's cells and a check of the module's
``gradients`` (the handout's backward equations in NumPy) against central
differences of its ``loss``, at sampled entries of every parameter.

The notebook is nbformat 4.5 JSON written directly (cell ids numbered), so
the same network always gives the same bytes.
"""

from __future__ import annotations

import ast
import base64
import json
import re

import sympy as sp

from derive import ChainruleError

from ..emit.files import UNSEALED, seal
from ..emit.load import module_source
from ..emit.numpy_module import ruff_format
from ..render import graph_svg
from ..render.numpy_helpers import helper_source
from ..render.numpy_printer import ModulePrinter
from .builder import HandoutOptions, _choose_example, build_context
from .document import visible_width
from .html import cite, document_numbers

STEP = 1e-6  # central-difference step of the gradient check
CHECKED = 4  # entries of each parameter's gradient a matrix program's notebook checks
EXAMPLES = 32  # … at this many examples of the module's demo data


def _aligned(rows) -> str:
    body = " \\\\\n".join(f"{left} {right}" for left, right in rows)
    body = re.sub(r"\\tag\{([^{}]*)\}", r"&& (\1)", body)
    return f"$$\n\\begin{{aligned}}\n{body}\n\\end{{aligned}}\n$$"


def _text(tex: str) -> str:
    """A sentence of the LaTeX handout as Markdown (its ``$…$`` math kept)."""
    tex = re.sub(
        r"\\texttt\{([^{}]*)\}",
        lambda m: "`" + m.group(1).replace("\\allowbreak ", "").replace("-", "\x00") + "`",
        tex,
    )
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


def gradient_check_code(net, point: dict[str, float], derivation=None) -> str:
    """A self-contained cell: the forward pass with any node overridable, the hand-derived gradients,
    and ``cmp`` of each against central differences at ``point`` (``derivation``: ``net``'s, if at hand)."""
    derivation = derivation or net.derive()
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


def _cell(kind: str, source: str, k: int, attachments: dict | None = None) -> dict:
    cell = {"cell_type": kind, "id": f"cell-{k}", "metadata": {}, "source": source.splitlines(keepends=True)}
    if attachments:
        cell["attachments"] = attachments
    if kind == "code":
        cell["execution_count"] = None
        cell["outputs"] = []
    return cell


def render(net, options: HandoutOptions | None = None, spec: str | None = None) -> str:
    """The notebook of ``net`` as JSON text; ``spec`` names it for ``chainrule generate`` (the module cells)."""
    options = options or HandoutOptions()
    options = HandoutOptions(**{**options.__dict__, "exercise": False})
    derivation = None if not hasattr(net, "nodes") else net.derive()  # per unit: derived once, for all cells
    ctx = build_context(net, options, derivation)
    if ctx.get("matrix"):
        module = module_cells(net, spec, "the equations of the handout")
        cells = matrix_cells(ctx) + module
        if any(kind == "code" for kind, *_ in module):  # its gradients checked; without a module, nothing to run
            cells += module_check_cells()
    else:
        ctx["plain_title"] = markdown_text(net.name.replace("_", " "))
        ctx["plain_doc"] = markdown_text(getattr(net, "doc", ""))
        _, point, _ = _choose_example(net, derivation, options)
        cells = [("markdown", text) for text in derivation_cells(ctx)]
        cells += module_cells(net, spec, "its equation of section 3")
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
        cells.append(("code", gradient_check_code(net, point, derivation)))
    notebook = {
        "cells": [_cell(kind, text, k, *rest) for k, (kind, text, *rest) in enumerate(cells, start=1)],
        "metadata": {
            "generator": f"{UNSEALED} (chainrule handout; do not edit, regenerate with chainrule handout SPEC -o NAME.ipynb)",
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    return seal(json.dumps(notebook, indent=1, ensure_ascii=False) + "\n")


def module_cells(net, spec: str | None, cited: str) -> list[tuple]:
    """The training module, one definition per cell, and its training run (``cited``: what each gradient line
    cites); one Markdown cell saying why when ``chainrule generate`` does not cover the network."""
    try:
        module = module_source(net, spec)
    except ChainruleError as exc:
        return [
            (
                "markdown",
                f"## The training module\n\n`chainrule generate` does not cover this network: {markdown_text(exc)}",
            )
        ]
    except Exception as exc:  # noqa: BLE001 - the emitter's bug: the handout itself stands, so say so and go on
        problem = markdown_text(f"{type(exc).__name__}: {exc}")
        return [("markdown", f"## The training module\n\n`chainrule generate` fails on this network ({problem}).")]
    code, main = _split_module(module)
    cells = [
        (
            "markdown",
            (
                f"## The training module\n\nThe module {code_span('chainrule generate ' + (spec or net.name))} writes,"
                f" one definition per cell: the forward pass, the gradients (each line cites {cited}), the update and"
                " the training loop. It needs only NumPy."
            ),
        )
    ]
    if "__file__" in module:  # it finds its data beside its own file, and a notebook has none
        cells.append(
            (
                "code",
                f"__file__ = {net.name + '.py'!r}  # no module file here: data_folder looks in ./data, then chainrule's",
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
    elif main:
        cells.append(("markdown", "### Training on the module's demo data"))
        cells.append(("code", main))
    return cells


# ------------------------------------------------------------------ a matrix program
def matrix_cells(ctx: dict) -> list[tuple]:
    """The Markdown cells of a matrix program's handout: one per section, as the PDF has them; each computation
    graph an SVG attachment."""
    sections = ctx["document"]
    numbers = document_numbers(sections)
    refs = {s.label: n for s, n in zip(sections, numbers, strict=True) if s.label}
    plain = ctx["plain"]
    cells = [
        (
            "markdown",
            f"# Backpropagation by hand: {markdown_text(plain['title'])}\n\n{markdown_text(plain['doc'])}\n\n"
            + _text(ctx["intro"]),
        )
    ]
    figures = iter(range(1, 1000))
    for section, number in zip(sections, numbers, strict=True):
        attachments: dict = {}
        parts = [f"## {number}. {section.title}"]
        for b in section.blocks:
            parts.append(_block(b, refs, attachments, figures))
        cells.append(("markdown", "\n\n".join(p for p in parts if p), attachments))
    return cells


def _block(b, refs: dict, attachments: dict, figures) -> str:
    if b.kind == "text":
        text = _text(cite(b.tex, refs))
        if b.lead:
            text = f"**{_text(b.lead)}** {text}"
        return f"<small>{text}</small>" if b.small else text
    if b.kind == "display" and b.pairs:  # worked values: each line on its own
        lines = [r" \qquad ".join(f"{r.lhs} {r.op} {r.rhs}" for r in line) for line in b.lines()]
        return "$$\n\\begin{gathered}\n" + " \\\\\n".join(lines) + "\n\\end{gathered}\n$$"
    if b.kind == "display":
        rows = []
        for line in b.lines():
            row = " & ".join(f"{r.lhs} &{r.op} {r.rhs}" for r in line)
            if b.shapes:
                row += f" && {line[0].shape}"
            if b.numbered and line[0].number is not None:
                row += f" && ({line[0].number})"
            rows.append(row)
        return _aligned([("", r) for r in rows])
    if b.kind == "picture":
        if b.figure is None:
            return _table(b.table) + f"\n\n{_text(b.caption)}"
        name = f"graph{next(figures)}.svg"
        image = graph_svg.svg(b.figure, None, visible_width, name.removesuffix(".svg"), standalone=True)
        attachments[name] = {"image/svg+xml": base64.b64encode(image.encode()).decode()}
        return f"![{markdown_text(b.caption)}](attachment:{name})\n\n{_text(b.caption)}"
    if b.kind == "table":
        return _table(b)
    if b.kind == "code":
        return f"```{b.language}\n{b.text}\n```"
    if b.kind == "items":
        items = []
        for item in b.items:
            inner = [_block(x, refs, attachments, figures) for x in item.blocks]
            items.append("- " + _text(item.lead) + "".join("\n\n  " + x.replace("\n", "\n  ") for x in inner))
        return "\n".join(items)
    raise ValueError(b.kind)


def _table(t) -> str:
    lines = ["| " + " | ".join(_text(h) for h in t.head) + " |", "|" + "---|" * len(t.head)]
    lines += ["| " + " | ".join(_text(c) for c in row) + " |" for row in t.rows]
    return "\n".join(lines)


def module_check_cells() -> list[tuple]:
    """A check of the module's gradients (the handout's equations in NumPy) against central differences."""
    code = [
        "import numpy as np",
        "",
        "",
        "def cmp(name, hand, numeric):",
        '    """Like Karpathy\'s cmp(): close (relative 1e-5 or absolute 1e-7: differences of a cost of order one',
        '    lose about 1e-9 to rounding), and the difference."""',
        "    close = bool(np.isclose(hand, numeric, rtol=1e-5, atol=1e-7))",
        (
            '    print(f"{name:14s} | hand {hand: .10f} | numeric {numeric: .10f} | close: {close!s:5s} '
            '| diff: {abs(hand - numeric):.1e}")'
        ),
        "    return close",
        "",
        "",
        "def moved(name, index, step):",
        '    """The training cost with one entry of one parameter moved by ``step``."""',
        "    old = params[name][index]",
        "    params[name][index] = old + step",
        "    value = loss(params, X, Y, train=True, seed=0)",
        "    params[name][index] = old",
        "    return value",
        "",
        "",
        f"X, Y = (a[..., :{EXAMPLES}] for a in demo_data(0))  # examples are the last axis: a few are enough",
        "params = init_params(0)",
        "derived = gradients(params, X, Y, seed=0)",
        "J = loss(params, X, Y, train=True, seed=0)",
        f"h = {STEP!r}",
        "rng = np.random.default_rng(0)",
        "results, kinks = [], 0",
        "for name, grad in derived.items():",
        f"    for flat in rng.choice(grad.size, size=min(grad.size, {CHECKED}), replace=False):",
        "        index = np.unravel_index(flat, grad.shape)",
        "        up, down = moved(name, index, h), moved(name, index, -h)",
        "        if not np.isclose((up - J) / h, (J - down) / h, rtol=1e-3, atol=1e-6):  # a kink (ReLU) within h",
        "            kinks += 1",
        "            continue",
        '        results.append(cmp(f"{name}{list(map(int, index))}", float(grad[index]), (up - down) / (2 * h)))',
        (
            'print(f"{sum(results)} of {len(results)} entries of the derived gradients agree with finite differences"'
            ' + (f" ({kinks} at a kink left out)" if kinks else ""))'
        ),
        "assert all(results) and len(results) > kinks",
    ]
    return [
        (
            "markdown",
            (
                "## Checking the derivation\n\nThe module's `gradients` is the handout's backward equations in NumPy,"
                f" line by line. At {EXAMPLES} examples of its demo data, {CHECKED} entries of every parameter's gradient (drawn from a seed)"
                " against central finite differences of its `loss`: `close` (relative error at most $10^{-5}$, or"
                " absolute $10^{-7}$) and the difference. An entry whose one-sided differences disagree sits at a kink (a ReLU's) within the"
                " step, where the cost has no derivative: it is left out and counted."
            ),
        ),
        ("code", ruff_format("\n".join(code), "the gradient check")),
    ]
