"""The classic slips of the courses, named: each is a repair of the claim (a tree) or an edit of the
derivation (the truth as the slip would have it), kept only when it makes the claim agree everywhere.

Repairs of the claim (``course_repairs``):

* a gradient not summed over the batch: ``db1 = (1/m) dZ1`` for ``(1/m) Σ_columns dZ1``;
* σ written where σ′ belongs: ``tanh(Z1)`` or ``A1`` where ``tanh'(Z1) = 1 − A1²`` is needed;
* label smoothing left out (``A2 − Y`` for ``A2 − Q``), or ε written for ε/K;
* a normalisation's statistics summed over the wrong axis: layer norm over the batch (``axis=1``, ``1/m``)
  instead of over each example's units (``axis=0``, ``1/n1``), or batch norm the other way.

Edits of the derivation (``edited_slip``), for slips inside a longer formula:

* a reused quantity's gradients not summed: one use's term left out (a residual's skip, a tied weight,
  the LSTM's ``dc_t`` without its term through ``a_t``), also when the claim is further down the chain;
* an activation's derivative left out: the ReLU mask lost (``dZ1 = dA1``), σ′ forgotten;
* a dropout mask dropped in the backward pass (``dA2 = dAtilde2 / keep_prob``).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import sympy as sp
from sympy.matrices.expressions.special import OneMatrix

from ..ops import find
from ..ops.activations.step import Step
from ..printing.matrix import GREEK
from .vec_evaluate import ACTIVATION
from .vec_read import _shown
from .vec_repairs import DERIVATIVE_TEXT, _replace, _walk, resolved
from .vec_target import VecTarget, resolve
from .vec_trials import same


def _function_text(g: str) -> str:
    """An activation's name as text prints it (σ, ReLU), from its record."""
    rec = find(g)
    return rec.text if rec is not None else g


def _derivative_is_mask(g: str) -> bool:
    """g' is the mask 1[z ≥ 0] (ReLU): leaving it out keeps the gradient where the unit is off."""
    rec = find(g)
    if rec is None or getattr(rec, "derivative", None) is None:
        return False
    z = sp.Symbol("z")
    return isinstance(rec.derivative(sp.Symbol("a"), z), Step)


def derivative_formula(net: VecTarget, Z: str) -> str:
    """g'(Z) as the lecture writes it in the activation's name: ``1 − A1²``, ``A1(1 − A1)``, ``step(Z1)``."""
    own = [a for a, eq in net.equations.items() if eq.kind == "activation" and eq.operands[0] == Z]
    text = DERIVATIVE_TEXT.get(net.activation.get(Z), "")
    return text.replace("A", own[0]).replace("Z", Z) if own and text else ""


# ------------------------------------------------------------ repairs of the claim
def course_repairs(net: VecTarget, name: str, tree):
    """(label, repaired tree) for the course slips that are edits of the claim itself."""
    yield from _not_summed(net, name, tree)
    yield from _activation_for_derivative(net, tree)
    yield from _label_smoothing(net, name, tree)
    yield from _statistics_axis(net, tree)


def _not_summed(net: VecTarget, name: str, tree):
    eq = net.equations.get(name)
    if eq is None or sp.sympify(eq.shape[1]) != 1 or not name.startswith("d"):
        return
    what = f"{name[1:]} is added to every example (column), so" if name[1:] in net.params else "so"
    yield (
        f"{name} not summed over the batch: {what} {name} sums over the examples: np.sum(…, axis=1, keepdims=True)",
        ("sum", tree, 1, True),
    )


def _activation_for_derivative(net: VecTarget, tree):
    """``tanh(Z1)`` (or the activation ``A1`` itself) written where its derivative belongs."""
    outputs = {a: eq.operands[0] for a, eq in net.equations.items() if eq.kind == "activation"}
    for path, node in _walk(tree):
        Z = g = None
        if node[0] == "call" and not node[1].endswith("'") and len(node[2]) == 1 and node[1] in (*ACTIVATION, "g"):
            Z = resolved(net, node[2][0])
            g = net.activation.get(Z) if node[1] == "g" else node[1]
        elif node[0] == "name" and resolved(net, node) in outputs:
            Z = outputs[resolved(net, node)]
            g = net.activation.get(Z)
        if Z is None or g is None or net.activation.get(Z) != g or g not in DERIVATIVE_TEXT:
            continue
        f = _function_text(g)
        formula = derivative_formula(net, Z)
        shown = _shown(node, lambda n: resolve(net, n))
        what = f"{shown} is the activation itself" if node[0] == "call" else f"{shown} is the activation {f}({Z})"
        yield (
            f"{f} written where {f}′ belongs: {what}; the chain rule needs its derivative {f}′({Z})"
            + (f" = {formula}" if formula else ""),
            _replace(tree, path, ("call", "g'", (("name", Z),))),
        )


def _smoothed_target(net: VecTarget):
    """The target the loss compares with, when it is computed from the data's Y (label smoothing's Q)."""
    operands = net.net.cost_operands
    target = operands[1] if len(operands) > 1 else None
    if target is None or target == net.y or target not in net.equations:
        return None
    return target


def _label_smoothing(net: VecTarget, name: str, tree):
    Q = _smoothed_target(net)
    if Q is None:
        return
    eq = net.equations[Q]
    ys = [path for path, node in _walk(tree) if resolved(net, node) == net.y]
    if ys:
        repaired = tree
        for path in ys:
            repaired = _replace(repaired, path, ("name", Q))
        yield (
            (
                f"label smoothing left out: the loss compares with the smoothed target {eq.text}, so {name} has "
                f"{Q} where the claim has {net.y}"
            ),
            repaired,
        )
    constants = {s.name for s in eq.expr.free_symbols} & set(net.net.constants)
    sizes = [s.name for s in net._sizes()]
    for path, node in _walk(tree):
        c = resolved(net, node)
        if c not in constants:
            continue
        shown = GREEK.get(c, c)
        for s in sizes:
            yield (
                f"{shown} written for {shown}/{s}: label smoothing spreads {shown} over the {s} classes, {eq.text}",
                _replace(tree, path, ("div", node, ("name", s))),
            )


def _statistics_axis(net: VecTarget, tree):
    """Every sum over the other axis (and m for the width): a normalisation's statistics over the wrong axis."""
    from ..ir.rewrites import NamedRewrite

    sums = [path for path, node in _walk(tree) if node[0] == "sum" and node[2] in (0, 1)]
    if not sums:
        return
    flipped = tree
    for path in sums:
        node = _node(flipped, path)
        flipped = _replace(flipped, path, ("sum", node[1], 1 - node[2], node[3]))
    kinds = " ".join(s.name for s in net.d.steps if isinstance(s, NamedRewrite))
    sizes = [s.name for s in net._sizes()]
    for s in sizes:
        if "layer" in kinds:
            label = (
                "layer norm's statistics summed over the batch: layer norm normalises each example over its "
                f"units, so its sums run down the rows (np.sum(…, axis=0), 1/{s}), not over the examples (axis=1, 1/m)"
            )
        else:
            label = f"every sum over the other axis: axis=0 and axis=1 swapped, and {s} and m"
        yield label, _swap_names(flipped, "m", s)
    yield "every sum over the other axis: np.sum(…, axis=0) and np.sum(…, axis=1) swapped", flipped


def _node(tree, path):
    for i in path:
        tree = tree[2][i] if tree[0] == "call" else tree[i + 1]
    return tree


def _swap_names(tree, a: str, b: str):
    if tree[0] == "name":
        return ("name", b if tree[1] == a else a if tree[1] == b else tree[1])
    if tree[0] in ("num", "partial"):
        return tree
    if tree[0] == "call":
        return ("call", tree[1], tuple(_swap_names(x, a, b) for x in tree[2]))
    return (tree[0], *(_swap_names(x, a, b) if isinstance(x, tuple) else x for x in tree[1:]))


# ------------------------------------------------------------ edits of the derivation
def edited_slip(net: VecTarget, name: str, trials) -> str | None:
    """The first edit of the derivation (a use's term dropped, a derivative or a mask left out) under which
    the truth of ``name`` is the claim at every trial; its label, or None."""
    needs = _dependencies(net, name)
    for label, equations in _edits(net, name, needs):
        with np.errstate(all="ignore"):
            if all(same(t.claimed, net.values(np.random.default_rng(t.seed), equations)[0][name]) for t in trials):
                return label
    return None


def _dependencies(net: VecTarget, name: str) -> set[str]:
    """The names whose equations ``name``'s value is computed from (itself included)."""
    out, stack = set(), [name]
    while stack:
        n = stack.pop()
        if n in out or n not in net.equations:
            continue
        out.add(n)
        stack.extend(s.name for s in net.equations[n].expr.atoms(sp.MatrixSymbol))
    return out


def _edits(net: VecTarget, name: str, needs: set[str]):
    """(label, the derivation's equations with one edit) for every edit that can reach ``needs``."""
    equations = list(net.d.equations)
    backward = {e.target for e in net.d.backward}

    def edited(target, expr):
        return [dataclasses.replace(e, expr=expr) if e.target == target else e for e in equations]

    for e in equations:
        if e.kind != "sum" or e.target not in needs or len(e.terms) < 2:
            continue
        vias = [t.via for t in e.terms]
        for t in e.terms:
            if t.via == "J":  # a penalty's term: topic_slip names it
                continue
            q = e.target[1:]
            label = f"{q}'s uses not all summed: {q} is used {len(vias)} times (by {', '.join(vias)}), and {e.text}; "
            label += "the claim leaves out the term from " + t.via
            if e.target != name:
                label += f" (in {e.target}, which {name} is computed from)"
            yield label, edited(e.target, e.expr - t.expr)
    A_out = net.net.cost_operands[0]
    Z_out = net.equations[A_out].operands[0] if A_out in net.equations and net.equations[A_out].operands else None
    for e in equations:
        Z = e.target[1:]  # dZ = dA ⊙ g'(Z): the adjoint of the pre-activation
        if e.kind != "activation_grad" or e.target not in needs or Z == Z_out:
            continue
        incoming = [a for a in e.expr.args if isinstance(a, sp.MatrixSymbol) and a.name == e.operands[0]]
        if not incoming:
            continue
        f = _function_text(e.function)
        if _derivative_is_mask(e.function):
            label = f"the {f} mask lost: {f}′({Z}) = 1[{Z} ≥ 0] zeroes the gradient where {Z} < 0, {e.text}"
        else:
            label = f"{f}′({Z}) left out: {e.text}"
        yield label, edited(e.target, incoming[0])
    for d in net.net.masks:
        symbols = [s for e in net.d.backward for s in e.expr.atoms(sp.MatrixSymbol) if s.name == d]
        users = [
            e for e in net.d.backward if e.target in needs and d in {s.name for s in e.expr.atoms(sp.MatrixSymbol)}
        ]
        if not users or not symbols:
            continue
        ones = {symbols[0]: OneMatrix(*symbols[0].shape)}
        label = f"the dropout mask {d} is dropped: the backward pass multiplies by {d} as the forward pass did, {users[0].text}"
        yield (
            label,
            [dataclasses.replace(e, expr=e.expr.xreplace(ones)) if e.target in backward else e for e in equations],
        )
        for e in users:  # dA = (1/keep_prob) dÃ ⊙ D written as dA = dÃ: the whole dropout step skipped
            incoming = [s for s in e.expr.atoms(sp.MatrixSymbol) if s.name != d]
            if len(incoming) == 1:
                label = f"the dropout step skipped in the backward pass: {e.text}, not {e.target} = {incoming[0].name}"
                yield label, edited(e.target, incoming[0])
