"""Section 4 of a handout: the vectorised (batch) form, linked to the per-weight results.

A scalar network written unit by unit (``z1 = W11 x1 + W21 x2 + b1``,
``a1 = σ(z1)``, …) is read as layers: ``Layers.of(net)`` finds, layer by
layer, the units computed from the previous layer's values, their weights
and biases and their activation.  From that the batch network is declared
with ``derive.ir.network`` (``VecNetwork``) and derived there (the six
equations), and every scalar parameter gets its entry of a matrix:
``W_ij`` (input i → unit j) is entry (j, i) of ``W^{[l]}``, and entry (j, i)
of ``dW^{[l]}`` is ∂L/∂W_ij summed over the examples and divided by m.  The
section checks that link numerically: one example (m = 1) through the batch
equations gives exactly the scalar gradients.

A network that is not a stack of such layers (the computation-graph example)
gets no batch form; the section says so.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy as sp

from derive import ChainruleError
from derive import functions as F
from derive.ir.network import VecNetwork
from derive.ir.numeric import run
from derive.ops.record import find, record_of
from derive.printing.latex import SPELLED_GREEK

from ..render.latex_printer import HandoutLatexPrinter
from .document import shape_latex

_KIND_TEXT = {
    "affine": "affine map",
    "activation": "activation",
    "loss": "cost",
    "output_delta": "output error",
    "weight_grad": "weights",
    "bias_grad": "biases",
    "backprop": "back through $W$",
    "activation_grad": "through $g'$",
    "loss_grad": "from the loss",
    "let": "definition",
    "cost": "cost",
    "adjoint": "pulled back",
    "sum": "sum over uses",
}


@dataclass
class Layer:
    units: list[str]  # pre-activation node names, in declaration order
    inputs: list[str]  # the previous layer's values (or the inputs), in order
    weights: dict[str, tuple[int, int]]  # scalar parameter -> (row, col), 0-based
    biases: dict[str, int]  # scalar parameter -> row
    activation: str  # the record name of the layer's activation (sigmoid, relu, softmax, identity …)
    outputs: list[str]  # activation node names, in unit order


@dataclass
class Layers:
    layers: list[Layer]
    loss: str  # the record name of the loss
    targets: list[str]

    @staticmethod
    def of(net) -> Layers | None:
        """The layer structure of ``net``, or None when it is not a stack of dense layers."""
        try:
            return _read_layers(net)
        except _NotLayered:
            return None


class _NotLayered(Exception):
    pass


def _need(condition: bool) -> None:
    if not condition:
        raise _NotLayered


def _read_layers(net) -> Layers:
    _need(hasattr(net, "nodes") and net.loss_name is not None)
    loss_expr = net.node(net.loss_name).expr
    loss = find(type(loss_expr))
    _need(loss is not None and loss.kind == "loss")
    k = len(loss_expr.args) // 2 if loss.form == "pairs" else 1
    outputs = [a.name for a in loss_expr.args[:k] if a.is_Symbol]
    targets = [a.name for a in loss_expr.args[k:] if a.is_Symbol]
    _need(len(outputs) == k and len(targets) == k)
    params = set(net.names("param"))
    nodes = {n.name: n for n in net.nodes}
    users: dict[str, list[str]] = {}
    for n in net.nodes:
        for s in n.deps:
            users.setdefault(s.name, []).append(n.name)
    prev = net.names("input")
    layers: list[Layer] = []
    used: set[str] = set()
    while prev != outputs:
        _need(len(layers) < 50)
        units = [
            n.name
            for n in net.nodes
            if n.name not in used and n.name != net.loss_name and _is_affine(n.expr, prev, params)
        ]
        _need(bool(units))
        weights, biases = {}, {}
        for j, u in enumerate(units):
            for term in sp.Add.make_args(nodes[u].expr):
                if term.is_Symbol:
                    biases[term.name] = j
                else:
                    p, v = _weight_term(term, params)
                    weights[p] = (j, prev.index(v))
        _need(len(weights) == len(units) * len(prev))
        _need(len(biases) in (0, len(units)))
        _need(all(len(users.get(p, [])) == 1 for p in list(weights) + list(biases)))
        used.update(units)
        activation, outs = _activation_of(units, nodes, users, outputs)
        used.update(o for o in outs if o not in units)
        layers.append(Layer(units, prev, weights, biases, activation, outs))
        prev = outs
    return Layers(layers, loss.name, targets)


def _weight_term(term, params) -> tuple[str, str]:
    _need(term.is_Mul and len(term.args) == 2 and all(a.is_Symbol for a in term.args))
    a, b = (s.name for s in term.args)
    _need((a in params) != (b in params))
    return (a, b) if a in params else (b, a)


def _is_affine(expr, prev, params) -> bool:
    try:
        terms = sp.Add.make_args(expr)
        seen = set()
        for term in terms:
            if term.is_Symbol:
                if term.name not in params:
                    return False
                continue
            _, v = _weight_term(term, params)
            if v not in prev or v in seen:
                return False
            seen.add(v)
        return bool(seen)
    except _NotLayered:
        return False


def _activation_of(units, nodes, users, outputs) -> tuple[str, list[str]]:
    if units == outputs:
        return F.Identity.record.name, list(units)
    outs, kinds = [], set()
    for u in units:
        appliers = [nodes[c] for c in users.get(u, []) if c in nodes]
        unary = [c for c in appliers if _unary_activation(c.expr) and getattr(c.expr.args[0], "name", None) == u]
        if unary:
            _need(len(unary) == 1 and len(appliers) == 1)
            outs.append(unary[0].name)
            kinds.add(record_of(unary[0].expr).name)
    if len(outs) == len(units) and len(kinds) == 1:
        return kinds.pop(), outs
    softmax = [
        n for n in nodes.values() if isinstance(n.expr, F.Softmax) and [s.name for s in n.expr.args[1:]] == units
    ]
    _need(len(softmax) == len(units))
    softmax.sort(key=lambda n: int(n.expr.args[0]))
    return F.Softmax.record.name, [n.name for n in softmax]


def _unary_activation(expr) -> bool:
    """``expr`` is an element-wise activation applied to one quantity (σ(z1), GELU(z2)); not the identity."""
    rec = find(type(expr))
    return rec is not None and rec.kind == "activation" and rec.elementwise and not rec.is_identity


# ------------------------------------------------------------------ batch network
def vec_network(net, layers: Layers) -> VecNetwork:
    """The batch network of ``net``'s layers, declared with ``derive.ir.network``."""
    vn = VecNetwork(f"{net.name}_batch", doc=net.doc)
    sizes = [len(layers.layers[0].inputs)] + [len(layer.units) for layer in layers.layers]
    dims = vn.dims(**{f"n{i}": s for i, s in enumerate(sizes)})
    dims = dims if isinstance(dims, tuple) else (dims,)
    prev = vn.input("X", dims[0])
    vn.target("Y", dims[-1])
    for i, layer in enumerate(layers.layers, start=1):
        W = vn.param(f"W{i}", (dims[i], dims[i - 1]))
        b = vn.param(f"b{i}", (dims[i], 1)) if layer.biases else None
        Z = vn.affine(f"Z{i}", W, prev, b)
        prev = vn.activation(f"A{i}", layer.activation, Z)
    vn.cost(layers.loss, prev, "Y")
    return vn


def batch_values(net, layers: Layers, point: dict[str, float]) -> dict[str, np.ndarray]:
    """The batch quantities for one example (m = 1) made from the scalar values at ``point``."""
    env = {"X": np.array([[point[x]] for x in layers.layers[0].inputs])}
    env["Y"] = np.array([[point[y]] for y in layers.targets])
    for i, layer in enumerate(layers.layers, start=1):
        W = np.zeros((len(layer.units), len(layer.inputs)))
        for p, (r, c) in layer.weights.items():
            W[r, c] = point[p]
        env[f"W{i}"] = W
        if layer.biases:
            b = np.zeros((len(layer.units), 1))
            for p, r in layer.biases.items():
                b[r, 0] = point[p]
            env[f"b{i}"] = b
    return env


# ------------------------------------------------------------------ the section
def section(net, derivation, printer: HandoutLatexPrinter, options, evaluation=None, point=None) -> dict:
    """Template data for section 4 (``available`` False when the network is not layered)."""
    layers = Layers.of(net)
    if layers is None:
        return {"available": False}
    vn = vec_network(net, layers)
    vd = vn.derive()
    out, mp = _equations(vn, vd, printer, options)
    links = []
    check = []
    batch = None
    if point is not None:
        env = batch_values(net, layers, point)
        dim_values = {**vn.dim_sizes, vn.m: 1}
        batch = run(vd.forward + vd.backward, env, dim_values)
    for i, layer in enumerate(layers.layers, start=1):
        for p, (r, c) in sorted(layer.weights.items(), key=lambda t: t[1]):
            links.append(_link(p, f"W{i}", (r, c), net, mp, printer))
            if batch is not None:
                check.append(_check(p, batch[f"dW{i}"][r, c], evaluation, printer, mp, f"W{i}", (r, c)))
        for p, r in sorted(layer.biases.items(), key=lambda t: t[1]):
            links.append(_link(p, f"b{i}", (r, 0), net, mp, printer))
            if batch is not None:
                check.append(_check(p, batch[f"db{i}"][r, 0], evaluation, printer, mp, f"b{i}", (r, 0)))
    first = layers.layers[0]
    off = [p for p, (r, c) in first.weights.items() if r != c] or list(first.weights)
    w = min(off, key=lambda p: first.weights[p])
    r, c = first.weights[w]
    example = {
        "scalar": printer.name(w),
        "input": printer.name(first.inputs[c]),
        "unit": printer.name(first.units[r]),
        "entry": _entry(mp, "W1", (r, c)),
        "grad": _entry(mp, "dW1", (r, c)),
        "row": r + 1,
        "col": c + 1,
    }
    worst = max((row["error"] for row in check), default=0.0)
    return {**out, "links": links, "check": check, "agree": worst <= 1e-9, "example": example}


def matrix_printer(vn, printer: HandoutLatexPrinter, options) -> HandoutLatexPrinter:
    """``printer`` for the matrix names of ``vn``: layer superscripts, its dimensions and constants."""
    dim_names = {s.name: rf"{s.name[0]}_{{{s.name[1:]}}}" if len(s.name) > 1 else s.name for s in vn.dim_sizes}
    constant_names = {n: GREEK_LATEX.get(n, n) for n in getattr(vn, "constant_values", {})}
    return printer.with_settings(
        layers=True,
        names={**dim_names, **constant_names},
        delta=options.delta == "delta",
        quantities=frozenset(vn.kinds),
    )


def _equations(vn, vd, printer, options) -> tuple[dict, HandoutLatexPrinter]:
    """The batch equations of ``vd`` for the template, and the printer for matrix names."""
    mp = matrix_printer(vn, printer, options)
    dims = sorted((s.name, n) for s, n in vn.dim_sizes.items())
    rows = {k: [equation_row(e, mp) for e in eqs] for k, eqs in (("forward", vd.forward), ("backward", vd.backward))}
    return {
        "available": True,
        **rows,
        "dims": ", ".join(f"{mp.name(k)} = {v}" for k, v in dims),
        "delta": options.delta == "delta",
        "check": [],
        "agree": True,
        "example": None,
    }, mp


GREEK_LATEX = {**SPELLED_GREEK, "keep_prob": r"\mathit{keep\_prob}"}


def _entry(mp, matrix: str, rc) -> str:
    r, c = rc
    return rf"{mp.name(matrix)}_{{{r + 1},{c + 1}}}"


def _link(p, matrix, rc, net, mp, printer) -> dict:
    return {"scalar": printer.name(p), "entry": _entry(mp, matrix, rc), "grad": _entry(mp, "d" + matrix, rc)}


def _check(p, batch_value, evaluation, printer, mp, matrix, rc) -> dict:
    scalar = evaluation.gradients[p]
    error = abs(float(batch_value) - scalar) / max(1.0, abs(scalar))
    return {
        "scalar": printer.name(p),
        "entry": _entry(mp, "d" + matrix, rc),
        "value": printer.num(scalar),
        "batch": printer.num(float(batch_value)),
        "error": error,
    }


def equation_row(eq, mp) -> dict:
    lhs = mp.name(eq.target)
    rhs = mp.doprint(eq.expr)
    if eq.terms and eq.kind == "sum":  # each use's term, in the order of the uses
        rhs = " + ".join(mp.doprint(t.expr) for t in eq.terms).replace("+ -", "- ")
    return {
        "number": eq.number,
        "lhs": lhs,
        "rhs": rhs,
        "shape": shape_latex(eq.shape, mp),
        "kind": _KIND_TEXT.get(eq.kind, eq.kind),
    }


# ------------------------------------------------------------------ matrices written out
MAX_SCALAR_PARAMS = 120


class TooLargeToWriteOut(ChainruleError):
    """A network declared in matrices with too many entries to write out unit by unit (``chainrule verify`` and
    ``evaluate`` of a per-weight claim; the handouts stay in matrices)."""


def scalar_parameter_count(vn) -> int:
    total = 0
    for p in vn.names("param"):
        rows, cols = vn.shape_of(p)
        total += (int(rows) if rows.is_Number else vn.size(rows)) * (int(cols) if cols.is_Number else vn.size(cols))
    return total


def scalar_network(vn, limit: int | None = MAX_SCALAR_PARAMS):
    """A network declared in matrices (``derive.ir.network.VecNetwork``) written unit by unit, as
    the lecture does by hand: (Network, {name: LaTeX}).  ``W1_2_1`` is entry (2, 1) of W^{[1]}.
    ``limit``: the most scalar parameters written out (None: any number)."""
    from derive import Network

    n_params = scalar_parameter_count(vn)
    if limit is not None and n_params > limit:
        raise TooLargeToWriteOut(
            f"network '{vn.name}' has {n_params} scalar parameters; a handout writes them out unit by unit "
            f"and takes at most {MAX_SCALAR_PARAMS}"
        )
    net = Network(vn.name, doc=vn.doc)
    latex: dict[str, str] = {}
    A_out, Y_name = vn.cost_operands
    values: dict[str, list] = {}
    x_name = vn.names("input")[0]
    n0 = _rows(vn, x_name)
    xs = net.inputs(" ".join(f"x{i}" for i in range(1, n0 + 1)))
    values[x_name] = list(xs) if isinstance(xs, tuple) else [xs]
    for i in range(1, n0 + 1):
        latex[f"x{i}"] = rf"x_{{{i}}}"
    k = _rows(vn, Y_name)
    ys = net.targets(
        " ".join(f"y{i}" for i in range(1, k + 1)) if k > 1 else "y", one_hot=record_of(vn.loss).task == "multiclass"
    )
    ys = list(ys) if isinstance(ys, tuple) else [ys]
    for node in vn.assignments:
        layer = "".join(ch for ch in node.name if ch.isdigit()) or (
            str(vn.layers[node.name] + 1) if node.name in vn.layers else "?"
        )
        rows = _rows(vn, node.name)
        is_output = node.name == A_out
        if node.kind == "affine":
            W, A_prev = node.operands[0], node.operands[1]
            b = node.operands[2] if len(node.operands) > 2 else None
            prev = values[A_prev]
            exprs = []
            for j in range(1, rows + 1):
                ws = net.params(" ".join(f"{W}_{j}_{i}" for i in range(1, len(prev) + 1)))
                ws = list(ws) if isinstance(ws, tuple) else [ws]
                for i in range(1, len(prev) + 1):
                    latex[f"{W}_{j}_{i}"] = _entry_name(
                        W, layer, f"{j}{i}" if max(rows, len(prev)) < 10 else f"{j},{i}"
                    )
                expr = sum(w * v for w, v in zip(ws, prev))
                if b is not None:
                    bj = net.params(f"{b}_{j}")
                    latex[f"{b}_{j}"] = _entry_name(b, layer, str(j))
                    expr = expr + bj
                exprs.append(expr)
            names = [f"{node.name}_{j}" for j in range(1, rows + 1)]
            for nm, j in zip(names, range(1, rows + 1)):
                latex[nm] = _entry_name(node.name.lower(), layer, str(j))
            syms = net.let(" ".join(names), exprs) if rows > 1 else (net.let(names[0], exprs[0]),)
            values[node.name] = list(syms)
        else:
            zs = values[node.operands[0]]
            if is_output:
                names = ["yhat"] if rows == 1 else [f"yhat{j}" for j in range(1, rows + 1)]
            else:
                names = [f"{node.name}_{j}" for j in range(1, rows + 1)]
                for nm, j in zip(names, range(1, rows + 1)):
                    latex[nm] = _entry_name(node.name.lower(), layer, str(j))
            exprs = _apply_to_units(record_of(node.function), zs)
            syms = net.let(" ".join(names), exprs) if rows > 1 else (net.let(names[0], exprs[0]),)
            values[node.name] = list(syms)
    outs = values[A_out]
    loss = record_of(vn.loss)
    if loss.form == "pairs":
        net.loss(loss.cls(*outs, *ys))
    else:  # one loss per output row (the batch cost sums them): BCE
        net.loss(sp.Add(*(loss.cls(o, y) for o, y in zip(outs, ys))))
    return net, latex


def _apply_to_units(rec, zs: list) -> list:
    """The activation ``rec`` of one layer, unit by unit: g(z_j) each, or a function of the whole column."""
    if rec.is_identity:
        return list(zs)
    if rec.elementwise:
        return [rec.cls(z) for z in zs]
    if rec.partial_rule is not None and len(zs) > 1:  # softmax_k(z1, …, zK)
        return [rec.cls(sp.Integer(k), *zs) for k in range(1, len(zs) + 1)]
    raise ChainruleError(f"the activation {rec.name} of a column cannot be written out unit by unit")


def _rows(vn, name) -> int:
    r = vn.shape_of(name)[0]
    return int(r) if r.is_Number else vn.size(r)


def _entry_name(matrix: str, layer: str, index: str) -> str:
    letter = "".join(ch for ch in matrix if ch.isalpha())
    return rf"{letter}^{{[{layer}]}}_{{{index}}}"
