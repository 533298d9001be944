"""A derivation handout: the data the template ``handout.tex.jinja`` renders.

``build_context(net, options)`` turns a network and its derivation into
plain strings of LaTeX, section by section, from the same step objects the
terminal prints (``Derivation.steps``).  ``render(net, options)`` fills the
template.  Nothing here writes files; ``cmd_handout`` does.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from types import SimpleNamespace

import jinja2
import sympy as sp

from derive import ChainruleError
from derive.functions import RULES, numeric_function
from derive.names import check_example_values, did_you_mean
from derive.printing.latex import derivative_latex, why_latex
from derive.steps import ChainRule, Factor, Product, Result, Rewrite
from derive.unit.simplify import ordered_mul

from ..render import graph_tikz
from ..render.graph_layout import Figure
from ..render.latex_printer import DIGITS, HandoutLatexPrinter, cancel_latex
from ..render.numbering import summary_label
from . import batch as handout_batch
from . import matrix, second_order
from .document import visible_width

SECTIONS = ("network", "forward", "backward", "vectorised", "update")
OPTIMIZERS = ("sgd", "momentum", "adagrad", "rmsprop", "adam")
LINE_WIDTH = 72  # rough visible width (in characters) of one display line
MAX_TABLE_ROWS = 24  # a larger network's symbol table has one row per name stem
MAX_STATED = 12  # the example's values stated in the text: at most this many of each kind


@dataclass(frozen=True)
class HandoutOptions:
    """What the handout contains and how it writes it."""

    sections: tuple[str, ...] = SECTIONS
    exercise: bool = False
    solutions: str = "appendix"  # appendix | none (exercise mode)
    expand: tuple[str, ...] = ()  # parameters to derive in full; () = one weight per layer plus its bias; ("all",)
    output: str = "hat"  # hat: \hat{y}; layer: a^{[L]}
    delta: str = "dZ"  # dZ | delta: the name of a pre-activation gradient in the batch form
    example: str | None = None  # a name in net.examples; default: the first, else seeded values
    seed: int = 0
    optimizer: str = "sgd"
    learning_rate: float = 0.1
    digits: int = DIGITS  # significant digits of every worked number

    def check(self, net) -> None:
        for s in self.sections:
            if s not in SECTIONS:
                raise ChainruleError(f"unknown section '{s}' (sections: {', '.join(SECTIONS)})", "--sections")
        if self.optimizer not in OPTIMIZERS:
            raise ChainruleError(
                f"unknown optimizer '{self.optimizer}' (one of: {', '.join(OPTIMIZERS)})", "--optimizer"
            )
        if self.output not in ("hat", "layer"):
            raise ChainruleError(f"unknown output notation '{self.output}' (hat or layer)", "--output-notation")
        if self.delta not in ("dZ", "delta"):
            raise ChainruleError(f"unknown gradient notation '{self.delta}' (dZ or delta)", "--gradient-notation")
        if not 1 <= self.digits <= 15:
            raise ChainruleError(f"the number of significant digits must be 1 to 15, not {self.digits}", "--digits")
        if self.solutions not in ("appendix", "none"):
            raise ChainruleError(f"unknown solutions placement '{self.solutions}' (appendix or none)", "--solutions")
        params = net.names("param")
        for name in self.expand:
            if name != "all" and name not in params:
                raise ChainruleError(
                    f"'{name}' is not a parameter of '{net.name}'{did_you_mean(name, params)} "
                    f"(it has: {', '.join(params)})",
                    "--expand",
                )
        if self.example is not None and self.example not in net.examples:
            known = ", ".join(sorted(net.examples)) or "none"
            raise ChainruleError(
                f"network '{net.name}' has no example '{self.example}'{did_you_mean(self.example, net.examples)} "
                f"(examples: {known})",
                "--example",
            )


# ------------------------------------------------------------------ structure
def activation_depth(net) -> dict[str, int]:
    """How many activations lie on the longest path into each name (leaves and constants: 0)."""
    depth = {leaf: 0 for leaf in net.leaves}
    for node in net.nodes:
        d = max((depth.get(s.name, 0) for s in node.deps), default=0)
        expr = node.expr
        if isinstance(expr, sp.Function) and type(expr) in RULES and RULES[type(expr)].kind == "activation":
            d += 1
        depth[node.name] = d
    return depth


def param_layers(net) -> dict[str, int]:
    """The layer of each parameter: 1 + the activations before the node that uses it."""
    depth = activation_depth(net)
    out = {}
    for p in net.names("param"):
        users = [n for n in net.nodes if any(s.name == p for s in n.deps)]
        out[p] = depth[users[0].name] + 1 if users else 1
    return out


def layer_count(net) -> int:
    depth = activation_depth(net)
    return max(depth.values(), default=0) or 1


def is_bias(derivation, p: str) -> bool:
    """A parameter that enters every use with partial 1 (``b`` in ``z = w x + b``)."""
    factors = [f for (child, parent), f in derivation.factors.items() if parent == p]
    return bool(factors) and all(f.value == 1 for f in factors)


def default_expanded(derivation) -> list[str]:
    """Every parameter of a small network; else per layer the first weight and the first bias."""
    net = derivation.net
    params = net.names("param")
    if len(params) <= 4:
        return params
    layers = param_layers(net)
    chosen = []
    for layer in sorted(set(layers.values())):
        in_layer = [p for p in params if layers[p] == layer]
        weights = [p for p in in_layer if not is_bias(derivation, p)]
        biases = [p for p in in_layer if is_bias(derivation, p)]
        chosen.extend(weights[:1] + biases[:1])
    return [p for p in params if p in chosen]


def seeded_point(net, seed: int) -> dict[str, float]:
    """Seeded values with one decimal, easy to follow by hand; one-hot targets."""
    rng = random.Random(seed)
    point = {}
    for name in net.leaves:
        if net.kinds[name] == "target":
            point[name] = float(rng.random() < 0.5)
        else:
            point[name] = round(rng.uniform(-1.0, 1.0), 1)
    for group in net.one_hot:
        hot = rng.randrange(len(group))
        for i, sym in enumerate(group):
            point[sym.name] = 1.0 if i == hot else 0.0
    return point


# ------------------------------------------------------------------ layout
def wrap_terms(terms: list[str], width: float = LINE_WIDTH) -> list[str]:
    """Join signed terms with ``+``/``-`` into lines no wider than ``width`` (a term is never split)."""
    lines: list[str] = []
    current = ""
    for term in terms:
        piece = term if not current and not lines else (f" - {term[1:]}" if term.startswith("-") else f" + {term}")
        if current and visible_width(current + piece) > width:
            lines.append(current)
            current = piece.strip() if piece.strip().startswith("-") else "+ " + term
            continue
        current += piece
    lines.append(current)
    return lines


def equation_rows(lhs: str, pieces: list[str], width: float = LINE_WIDTH) -> list[tuple[str, str]]:
    """``lhs = p1 = p2 …`` as align rows (left, right): a new row wherever the line would be too wide."""
    rows: list[tuple[str, str]] = []
    current = ""
    pieces = [p for i, p in enumerate(pieces) if i == 0 or p != pieces[i - 1]]  # no step X = X
    for piece in pieces:
        if current and visible_width(lhs + current + piece) > width:
            rows.append((lhs if not rows else "", current))
            current = ""
        current += f"&= {piece}" if not current else f" = {piece}"
    rows.append((lhs if not rows else "", current))
    return rows


def sum_rows(lhs: str, expr: sp.Expr, printer, width: float = LINE_WIDTH) -> list[tuple[str, str]]:
    """``lhs = expr`` with a long sum broken after whole terms; a product whose first factor is a
    long sum, ``(t1 + t2 + …) rest``, is broken inside its parentheses."""
    terms = list(expr.args) if expr.is_Add else [expr]
    texts = [printer.doprint(t) for t in terms]
    lines = wrap_terms(texts, width)
    if len(terms) == 1 and expr.is_Mul and expr.args[0].is_Add and visible_width(texts[0]) > width:
        inner = wrap_terms([printer.doprint(t) for t in expr.args[0].args], width - 10)
        rest = printer.doprint(sp.Mul(*expr.args[1:], evaluate=False)) if len(expr.args) > 1 else ""
        lines = [rf"\left({inner[0]}\right."]
        lines += [rf"\left.{line}\right." for line in inner[1:-1]]
        lines += [rf"\left.{inner[-1]}\right) {rest}"] if len(inner) > 1 else []
        if len(inner) == 1:
            lines = [rf"\left({inner[0]}\right) {rest}"]
    rows = [(lhs, f"&= {lines[0]}")]
    rows.extend(("", rf"&\quad {line}") for line in lines[1:])
    return rows


MAX_RESULT_LINES = 4


def gradient_rows(derivation, printer, name: str, lhs: str) -> tuple[list[tuple[str, str]], bool]:
    """The simplified ∂L/∂name as align rows; when even broken into lines it would not fit in
    ``MAX_RESULT_LINES``, it is written through its children's gradients instead (True)."""
    shown = derivation.shown[name] if derivation.named else derivation.shown_gradient(name)  # δ_q kept by name
    rows = sum_rows(lhs, shown, printer)
    if len(rows) <= MAX_RESULT_LINES and all(visible_width(r) <= LINE_WIDTH + 4 for _, r in rows):
        return rows, False
    loss = derivation.loss
    via = [c for c in derivation.children[name] if c in derivation.reaches]
    terms = [ordered_mul(sp.Symbol(f"∂{loss}/∂{c}"), derivation.factors[(c, name)].value) for c in via]
    expr = sp.Add(*terms, evaluate=False) if len(terms) > 1 else terms[0]
    return sum_rows(lhs, expr, printer), True


# ------------------------------------------------------------------ sections
def build_context(net, options: HandoutOptions, derivation=None) -> dict:
    """Everything the template needs, as strings and lists (see the module docstring); ``derivation``: the
    network's, when the caller has it.  A network declared in matrices (``VecNetwork``) gets the handout of its
    matrix program (``matrix.context``: ``matrix`` is True)."""
    if not hasattr(net, "nodes"):
        for s in options.sections:
            if s not in SECTIONS:
                raise ChainruleError(f"unknown section '{s}' (sections: {', '.join(SECTIONS)})", "--sections")
        return {
            **matrix.context(net, options),
            "matrix": True,
            "title": _escape(net.name.replace("_", " ")),
            "name": _escape(net.name),
            "doc": _escape(net.doc),
            "sections": SimpleNamespace(**{s: s in options.sections for s in SECTIONS}),
        }
    options.check(net)
    derivation = derivation or net.derive()
    outputs = _outputs(net)
    printer = HandoutLatexPrinter(
        {
            "names": {},
            "output": options.output,
            "layer_count": layer_count(net),
            "outputs": tuple(outputs),
            "delta": options.delta == "delta",
            "digits": options.digits,
        }
    )
    if derivation.named:  # δ_q of each node used more than once, named after the node as the handout writes it
        deltas = {symbol.name: rf"\delta_{{{printer.name(node)}}}" for symbol, node, _ in derivation.deltas()}
        printer = printer.with_settings(names={**printer._settings["names"], **deltas})
    example_name, point, note = _choose_example(net, derivation, options)
    evaluation = derivation.evaluate(point)
    graph = graph_tikz.build(net)
    for box in graph.boxes.values():
        box.label = _box_label(net, box, printer)
        box.chars = visible_width(box.label)
    expand = net.names("param") if "all" in options.expand else (list(options.expand) or default_expanded(derivation))
    expand = [p for p in net.names("param") if p in expand]
    ctx = {
        "title": _escape(net.name.replace("_", " ")),
        "name": _escape(net.name),
        "doc": _escape(net.doc),
        "sections": SimpleNamespace(**{s: s in options.sections for s in SECTIONS}),
        "exercise": options.exercise,
        "solutions": options.exercise and options.solutions == "appendix",
        "loss": printer.name(net.loss_name),
        "example": {
            "title": example_title(net, printer, point, example_name, options.seed, note),
            "seeded": example_name is None,
        },
    }
    ctx["network"] = _network_section(net, derivation, printer, graph)
    ctx["forward"] = _forward_section(net, evaluation, printer, graph)
    ctx["backward"] = _backward_section(net, derivation, evaluation, printer, graph, expand)
    ctx["vectorised"] = _vectorised_section(net, derivation, printer, options, evaluation, point)
    ctx["update"] = _update_section(net, derivation, evaluation, printer, options, expand)
    ctx["second"] = second_order.section(net, net, printer, options)
    return ctx


def example_title(net, printer, point, example_name, seed: int, note: str = "") -> str:
    """Where the worked example is, stated in full: ``the example $x_1 = 0.5$, $x_2 = -1$ (target
    $y = 1$), with the parameters $w_1 = 1$, …``; or ``seeded values (seed 0): …``."""

    def values(kind):
        names = net.names(kind)
        shown = [f"${printer.name(n)} = {printer.num(point[n])}$" for n in names[:MAX_STATED]]
        if len(names) > MAX_STATED:
            shown.append(rf"\dots{{}} ({len(names)} in all)")
        return ", ".join(shown)

    inputs, targets, params = values("input"), values("target"), values("param")
    plural = "s" if len(net.names("target")) > 1 else ""
    text = inputs + (f" (target{plural} {targets})" if targets else "")
    if params:
        text += f", with the parameters {params}" if text else params
    if example_name is None:
        return rf"seeded values (\texttt{{--seed}} {seed}{note}): {text}"
    return f"the example {text}"


def _choose_example(net, derivation, options) -> tuple[str | None, dict, str]:
    """The worked example: the one asked for; else the first of the network's own at which some
    gradient is not 0 (an exact solution teaches no backward pass); else seeded values."""
    for name, point in net.examples.items():
        check_example(net, name, point)
    if options.example:
        if options.example not in net.examples:
            known = ", ".join(sorted(net.examples)) or "none"
            raise ChainruleError(f"the network has no example '{options.example}' (its examples: {known})", "--example")
        return options.example, net.examples[options.example], ""
    for name in sorted(net.examples):
        gradients = derivation.evaluate(net.examples[name]).gradients
        if any(gradients[p] != 0 for p in net.names("param")):
            return name, net.examples[name], ""
    note = "; at the network's own examples every gradient is 0" if net.examples else ""
    return None, seeded_point(net, options.seed), note


def check_example(net, name, point) -> None:
    """An example is a finite number for every input, target and parameter, and nothing else."""
    check_example_values(net, name, point)
    place = f"network '{net.name}', example '{name}'"
    for key in point:
        if key not in net.leaves:
            raise ChainruleError(f"'{key}' is not an input, target or parameter of the network", place)
    for leaf in net.leaves:
        if leaf not in point:
            raise ChainruleError(f"no value for '{leaf}'", place)


def lecture_form(expr: sp.Expr, kinds: dict[str, str]) -> sp.Expr:
    """A definition as lectures write it: ``W11 x1 + W21 x2 + b1``, ``w1 a1`` (parameters first, lone terms last)."""
    if expr.is_Atom:
        return expr
    args = [lecture_form(a, kinds) for a in expr.args]
    if expr.is_Mul:

        def rank(f):
            return 0 if f.is_Number else 1 if f.is_Symbol and kinds.get(f.name) == "param" else 2

        return sp.Mul(*sorted(args, key=rank), evaluate=False)
    if expr.is_Add:
        return sp.Add(*sorted(args, key=lambda t: 0 if t.is_Mul else 1), evaluate=False)
    return expr.func(*args, evaluate=False) if isinstance(expr, sp.Pow) else expr.func(*args)


def _outputs(net) -> list[str]:
    """The names the loss compares with targets: its arguments that are nodes."""
    loss = net.node(net.loss_name).expr
    return [a.name for a in loss.args if a.is_Symbol and net.kinds.get(a.name) == "node"]


def _escape(text: str) -> str:
    repl = {
        "\\": r"\textbackslash{}",
        "&": r"\&",
        "%": r"\%",
        "$": r"\$",
        "#": r"\#",
        "_": r"\_",
        "{": r"\{",
        "}": r"\}",
        "~": r"\~{}",
        "^": r"\^{}",
        "<": r"\textless{}",  # the default font encoding (OT1) sets < > | " as ¡ ¿ — ”
        ">": r"\textgreater{}",
        "|": r"\textbar{}",
        '"': r"{\ttfamily\char34}",
    }
    out = "".join(repl.get(ch, " " if ch.isspace() or not ch.isprintable() else ch) for ch in text)
    for u, t in (
        ("−", "--"),
        ("·", r"$\cdot$"),
        ("…", r"\dots{}"),
        ("σ", r"$\sigma$"),
        ("ŷ", r"$\hat{y}$"),
        ("×", r"$\times$"),
        ("≈", r"$\approx$"),
        ("→", r"$\to$"),
        ("≥", r"$\geq$"),
        ("≤", r"$\leq$"),
        ("Σ", r"$\Sigma$"),
        ("ᵀ", r"$^\top$"),
        ("²", r"$^2$"),
    ):
        out = out.replace(u, t)
    return "".join(ch if ord(ch) < 128 else "?" for ch in out)


def _box_label(net, box, printer) -> str:
    members = box.members
    if len(members) == 1:
        name = members[0]
        if net.kinds[name] == "node":
            return graph_tikz.node_label(net.node(name), printer)
        return printer.name(name)
    first, last = printer.name(members[0]), printer.name(members[-1])
    a, b = re.fullmatch(r"(.*)_\{(.+)\}", first), re.fullmatch(r"(.*)_\{(.+)\}", last)
    if len(members) >= 3 and a and b and a.group(1) == b.group(1):  # one stem: z^{[1]}_{1…3}, W_{11…62}
        return rf"{a.group(1)}_{{{a.group(2)} \dots {b.group(2)}}}"
    if len(members) <= 3:
        return ", ".join(printer.name(m) for m in members)
    return rf"{first}, \dots, {last}"


def index_convention(net) -> str | None:
    """How the network's two-index weights are written: ``"input-unit"`` (the lecture's: W_ij joins input i
    to unit j, ``z1 = W11 x1 + W21 x2``), ``"unit-input"`` (``z1 = W11 x1 + W12 x2``), or None (no such
    weights, or both conventions)."""
    seen = set()
    for node in net.nodes:
        out = re.fullmatch(r"[A-Za-z]+(\d)", node.name)
        if not out:
            continue
        for term in sp.Add.make_args(node.expr):
            factors = [f for f in sp.Mul.make_args(term) if f.is_Symbol]
            weights = [
                f for f in factors if net.kinds.get(f.name) == "param" and re.fullmatch(r"[A-Za-z]+\d\d", f.name)
            ]
            others = [f for f in factors if f not in weights and re.fullmatch(r"[A-Za-z]+(\d)", f.name)]
            if len(weights) != 1 or len(others) != 1:
                continue
            i, j = weights[0].name[-2], weights[0].name[-1]
            source, unit = others[0].name[-1], out.group(1)
            if (i, j) == (source, unit) and i != j:
                seen.add("input-unit")
            elif (i, j) == (unit, source) and i != j:
                seen.add("unit-input")
    return seen.pop() if len(seen) == 1 else None


def _network_section(net, derivation, printer, graph) -> dict:
    equations = [(printer.name(n.name), printer.doprint(lecture_form(n.expr, net.kinds))) for n in net.nodes]
    roles = {"input": "input", "target": "target", "param": "parameter", "constant": "constant", "node": "computed"}
    symbols = []
    if len(net.kinds) > MAX_TABLE_ROWS:
        return _grouped_network_section(net, printer, graph, equations, roles)
    for kind, role in roles.items():
        for name in net.names(kind):
            meaning = ""
            if kind == "constant":
                meaning = f"the value ${net.constant_values[name]:g}$"
            elif kind == "node":
                meaning = (
                    "the loss"
                    if name == net.loss_name
                    else f"${printer.doprint(lecture_form(net.node(name).expr, net.kinds))}$"
                )
                if visible_width(meaning) > 34:
                    meaning = "see the equations"
            elif kind == "target" and any(net.symbols[name] in g for g in net.one_hot):
                meaning = "one-hot class label"
            symbols.append({"symbol": printer.name(name), "role": role, "shape": "scalar", "meaning": meaning})
    return _section_context(net, graph, equations, symbols)


def _grouped_network_section(net, printer, graph, equations, roles) -> dict:
    """The symbol table of a large network: one row per kind and name stem (``W_{11}, …, W_{62}``)."""
    groups: dict[tuple[str, str], list[str]] = {}
    for kind in roles:
        for name in net.names(kind):
            groups.setdefault((kind, graph_tikz.stem(name)), []).append(name)
    symbols = []
    for (kind, _stem), names in groups.items():
        if len(names) <= 3:
            shown = ", ".join(printer.name(n) for n in names)
        else:
            shown = rf"{printer.name(names[0])}, \dots, {printer.name(names[-1])}"
        meaning = "the loss" if names == [net.loss_name] else ""
        if kind == "target" and any(net.symbols[names[0]] in g for g in net.one_hot):
            meaning = "one-hot class label"
        shape = "scalar" if len(names) == 1 else f"{len(names)} scalars"
        symbols.append({"symbol": shown, "role": roles[kind], "shape": shape, "meaning": meaning})
    return _section_context(net, graph, equations, symbols)


def _section_context(net, graph, equations, symbols) -> dict:
    """Section 1's context: equations, symbol table, rules used and the TikZ graph."""
    return {
        "equations": equations,
        "symbols": symbols,
        "rules": _rules_used(net),
        "graph": graph_tikz.tikz(graph),
        "figure": Figure(graph),
        "summarised": graph.summarised,
        "params": len(net.names("param")),
        "convention": index_convention(net),
    }


def _rules_used(net) -> list[str]:
    """The local-derivative rules of the functions the network applies, in first-use order."""
    rule_rows = []
    used = []
    for node in net.nodes:
        for sub in sp.preorder_traversal(node.expr):
            if isinstance(sub, sp.Function) and type(sub) in RULES and type(sub) not in used:
                used.append(type(sub))
    for cls in used:
        rule_rows.append(why_latex(RULES[cls].why))
    return rule_rows


def _forward_section(net, evaluation, printer, graph) -> dict:
    values = evaluation.values
    given = [{"symbol": printer.name(n), "value": printer.num(values[n])} for n in net.leaves]
    numbers = printer.with_settings(values={n: values[n] for n in values})
    rows = []
    for node in net.nodes:
        expr = lecture_form(node.expr, net.kinds)
        pieces = [printer.doprint(expr)]
        substituted = numbers.doprint(expr)
        if substituted != printer.num(values[node.name]):
            pieces.append(substituted)
        eq = equation_rows(printer.name(node.name), pieces + [printer.num(values[node.name])])
        blank = equation_rows(printer.name(node.name), pieces[:1] + [r"\blank"])
        rows.append({"rows": eq, "blank": blank})
    notes = {box.key: printer.num(values[box.members[0]]) for box in graph.boxes.values() if len(box.members) == 1}
    return {
        "given": given,
        "nodes": rows,
        "graph": graph_tikz.tikz(graph, notes, "blue"),
        "figure": Figure(graph, notes, "blue"),
        "loss": printer.num(evaluation.loss),
    }


def _backward_section(net, derivation, evaluation, printer, graph, expand) -> dict:
    blocks = [_derivation_block(derivation, evaluation, printer, p) for p in expand]
    likewise = []
    for p in net.names("param"):
        if p in expand:
            continue
        lhs = printer.partial(net.loss_name, p)
        rows, _ = gradient_rows(derivation, printer, p, lhs)
        likewise.append({"rows": rows, "value": printer.num(evaluation.gradients[p])})
    summary = []
    for k, p in enumerate(net.names("param"), start=1):
        rows, _ = gradient_rows(derivation, printer, p, printer.partial(net.loss_name, p))
        (left, right), rest = rows[0], rows[1:]
        summary.append([(left, rf"{right} \tag{{{summary_label(k)}}}"), *rest])
    notes = {
        box.key: printer.num(evaluation.gradients[box.members[0]])
        for box in graph.boxes.values()
        if len(box.members) == 1 and box.kind != "target"
    }
    edge_notes = {}
    if not graph.summarised and len(graph.edges) <= graph_tikz.MAX_LABELLED_EDGES:
        edge_notes = {
            (a, b): printer.num(
                _local_value(derivation, graph.boxes[b].members[0], graph.boxes[a].members[0], evaluation.values)
            )
            for a, b in graph.edges
            if graph.boxes[a].kind != "target"
        }
    deltas = [
        sum_rows(printer.name(symbol.name), derivation.named[node][2], printer)
        for symbol, node, _ in derivation.deltas()
    ]
    return {
        "blocks": blocks,
        "likewise": likewise,
        "summary": summary,
        "deltas": deltas,
        "graph": graph_tikz.tikz(graph, notes, "red", edge_notes),
        "figure": Figure(graph, notes, "red", edge_notes),
        "edges_labelled": bool(edge_notes),
    }


def _local_value(derivation, child: str, parent: str, values: dict[str, float]) -> float:
    """The local derivative ∂child/∂parent at the example, as a float."""
    expr = derivation.factors[(child, parent)].value
    args = sorted(expr.free_symbols, key=lambda s: s.name)
    return float(numeric_function(args, expr)(*(values[a.name] for a in args)))


def _derivation_block(derivation, evaluation, printer, name) -> dict:
    loss = derivation.loss
    steps = derivation.steps(name)
    lhs = printer.partial(loss, name)
    title = rf"\partial {printer.name(loss)} / \partial {printer.name(name)}"
    block = {
        "param": name,
        "symbol": printer.name(name),
        "lhs": lhs,
        "title": title,
        "factors": [],
        "cancels": [],
    }
    seen_rules: set[str | None] = set()
    for step in steps:
        if isinstance(step, ChainRule):
            if step.paths is None:
                terms = [f"{printer.partial(loss, c)} {printer.partial(c, step.wrt)}" for c in step.via]
            else:
                terms = [" ".join(printer.partial(a, b) for a, b in step.links(p)) for p in step.paths]
            lines = wrap_terms(terms or ["0"])
            block["chain"] = [(lhs, f"&= {lines[0]}")] + [("", rf"&\quad {line}") for line in lines[1:]]
            block["paths"] = len(terms)
            block["direct"] = step.paths is not None and len(step.paths) == 1 and len(step.paths[0]) == 2
        elif isinstance(step, Factor):
            pieces = []
            named = derivative_latex(step.definition, printer)
            if named:
                pieces.append(named)
            else:  # differentiate the definition in place: ∂/∂a1 (w1 a1 + w2 a2 + b)
                definition = printer.doprint(lecture_form(step.definition, derivation.net.kinds))
                if visible_width(definition) <= LINE_WIDTH / 2 and step.definition != step.raw:
                    if not isinstance(step.definition, sp.Function):
                        definition = rf"\left({definition}\right)"
                    pieces.append(rf"\frac{{\partial}}{{\partial {printer.name(step.wrt)}}} {definition}")
            pieces.append(printer.doprint(step.raw))
            pieces.append(printer.doprint(step.value))  # equation_rows drops it when it prints the same
            why = why_latex(step.rule) if step.rule and step.rule not in seen_rules else ""
            seen_rules.add(step.rule)
            f_lhs = printer.partial(step.of, step.wrt)
            block["factors"].append({"rows": equation_rows(f_lhs, pieces), "why": why, "lhs": f_lhs})
        elif isinstance(step, Product):
            block["product"] = sum_rows(lhs, step.expr, printer)
        elif isinstance(step, Rewrite):
            if printer.doprint(step.before) != printer.doprint(step.after):  # a no-op X = X is no step
                block["cancels"].append(_rewrite(step, printer, derivation))
        elif isinstance(step, Result):
            block["result"], block["recursive"] = gradient_rows(derivation, printer, name, lhs)
            block["value"] = printer.num(evaluation.gradients[name])
    # node-form rewrites (σ(z)(1 − σ(z)) = ŷ(1 − ŷ)) are shown with their factors, as raw = value
    block["cancels"] = [c for c in block["cancels"] if c["kind"] != "node-form"]
    return block


def _rewrite(step: Rewrite, printer, derivation) -> dict:
    after = printer.doprint(step.after)
    if step.kind == "node-form":
        before = printer.doprint(step.before)
        return {"kind": step.kind, "rows": equation_rows("", [before, after])[0:], "why": "", "target": ""}
    marked = step.kind in ("cancel", "one-hot")
    before = cancel_latex(printer, step.before, step.cancelled) if marked else printer.doprint(step.before)
    if step.kind == "cancel":
        why = (
            rf"\textcolor{{red}}{{{printer.doprint(step.cancelled)}}}\ \text{{cancels}}"
            if step.cancelled is not None
            else r"\text{common factors cancel}"
        )
    elif step.kind == "one-hot":
        why = rf"\textcolor{{red}}{{{printer.doprint(step.cancelled)}}} = 1\ \text{{($y$ one-hot)}}"
    else:
        why = r"\text{terms collected}"
    label = rf"\text{{in }} {printer.partial(step.loss, step.target)}"
    via = _via_child(step, derivation)
    label += rf"\text{{, via }} {printer.name(via)}\text{{:}}" if via else r"\text{:}"
    if visible_width(before + after) > LINE_WIDTH - 8:
        rows = [(label, rf"&\quad {before}"), ("", rf"&\quad = {after}")]
    else:
        rows = [(label, rf"&\quad {before} = {after}")]
    return {"kind": step.kind, "rows": rows, "why": why}


def _via_child(step: Rewrite, derivation) -> str | None:
    """For a cancellation in one term of a sum over children, the child whose term it is."""
    children = [c for c in derivation.children.get(step.target, []) if c in derivation.reaches]
    if step.kind != "cancel" or len(children) < 2:
        return None
    for child in children:
        factor = derivation.factors[(child, step.target)].value
        if step.before == ordered_mul(derivation.shown[child], factor):
            return child
    return None


def _vectorised_section(net, derivation, printer, options, evaluation, point) -> dict:
    return handout_batch.section(net, derivation, printer, options, evaluation, point)


def _update_section(net, derivation, evaluation, printer, options, expand) -> dict:
    alpha = printer.num(options.learning_rate)
    rows = []
    for p in net.names("param"):
        if p not in expand:
            continue
        sym = printer.name(p)
        g = derivation.shown_gradient(p)
        g_tex = printer.doprint(g)
        if g.is_Add:
            g_tex = rf"\left({g_tex}\right)"
        if visible_width(g_tex) > LINE_WIDTH - 16:  # too long to repeat: name it
            g_tex = printer.partial(net.loss_name, p)
        times = r" \cdot " if g_tex[:1].isdigit() else r"\, "
        rows.append({"symbol": sym, "rule": rf"{sym} &\leftarrow {sym} - \alpha{times}{g_tex}"})
    steps = []
    for p in net.names("param"):
        value = evaluation.values[p]
        grad = evaluation.gradients[p]
        new = value - options.learning_rate * grad
        steps.append(
            {"symbol": printer.name(p), "value": printer.num(value), "grad": printer.num(grad), "new": printer.num(new)}
        )
    return {"optimizer": options.optimizer, "alpha": alpha, "rows": rows, "steps": steps}


# ------------------------------------------------------------------ rendering
def environment() -> jinja2.Environment:
    """Jinja2 with LaTeX-safe delimiters: ``\\VAR{x}``, ``\\BLOCK{for …}``, ``\\#{comment}``."""
    return jinja2.Environment(
        loader=jinja2.PackageLoader("codegen", "templates"),
        block_start_string=r"\BLOCK{",
        block_end_string="}",
        variable_start_string=r"\VAR{",
        variable_end_string="}",
        comment_start_string=r"\#{",
        comment_end_string="}",
        line_statement_prefix=None,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )


def render(net, options: HandoutOptions | None = None) -> str:
    """The handout for ``net`` as LaTeX source."""
    options = options or HandoutOptions()
    ctx = build_context(net, options)
    template = "handout_batch.tex.jinja" if ctx.get("matrix") else "handout.tex.jinja"
    return tidy(environment().get_template(template).render(**ctx))


_MATH_ENV = re.compile(r"(\\begin\{(align\*?)\}|(?<!\\)\\\[)(.*?)(\\end\{\2\}|(?<!\\)\\\])", re.DOTALL)


def tidy(tex: str) -> str:
    """No blank lines inside display math (LaTeX would stop there), no runs of blank lines elsewhere."""
    tex = _MATH_ENV.sub(lambda m: m.group(1) + re.sub(r"\n\s*\n", "\n", m.group(3)) + m.group(4), tex)
    tex = re.sub(r"[ \t]+\n", "\n", tex)
    return re.sub(r"\n{3,}", "\n\n", tex)
