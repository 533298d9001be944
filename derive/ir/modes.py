"""Training and prediction: what a layer program computes when it predicts.

Dropout and batch normalisation behave differently in training and at
prediction (cs231n, assignment 2; Ng, deeplearning.ai course 2):

* a dropout mask D is drawn afresh for every training step; at prediction it
  is replaced by its expectation, the keep probability p, so inverted
  dropout's ``A ⊙ D / p`` becomes ``A ⊙ p / p = A``: nothing is rescaled;
* a batch statistic (μ = mean over the batch, σ²) is computed from the batch
  in training; at prediction it is the running average kept during training,
  ``running_μ``, so a prediction does not depend on the other examples.

``prediction_program(net)`` is the forward program with both replacements,
simplified so that ``A ⊙ (p 1) / p`` reads ``A``.
"""

from __future__ import annotations

import sympy as sp
from sympy.matrices.expressions.special import OneMatrix


def running_name(statistic: str) -> str:
    return f"running_{statistic}"


def prediction_program(net) -> list[tuple[str, sp.Basic]]:
    """``[(name, value at prediction)]`` for every assignment, in program order."""
    expectation = {net.matrices[d]: keep * OneMatrix(*net.matrices[d].shape) for d, keep in net.masks.items()}
    statistics = set(net.statistics)
    out = []
    for a in net.assignments:
        if a.name in statistics:
            value = sp.MatrixSymbol(running_name(a.name), *net.matrices[a.name].shape)
        else:
            value = simplify_ones(a.value.xreplace(expectation)) if expectation else a.value
        out.append((a.name, value))
    return out


def modes_differ(net) -> bool:
    """Whether training and prediction compute different things (a mask or a batch statistic)."""
    return bool(net.masks or net.statistics)


def simplify_ones(expr):
    """``A ⊙ (c 1)`` as ``c A``, recursively, then SymPy's own collection of scalar factors."""
    if not isinstance(expr, sp.MatrixExpr) or expr.is_Atom:
        return expr
    args = [simplify_ones(a) for a in expr.args]
    if isinstance(expr, sp.HadamardProduct):
        scalar, rest = sp.S.One, []
        for a in args:
            c = _constant_matrix(a)
            if c is None:
                rest.append(a)
            else:
                scalar *= c
        if not rest:
            return scalar * OneMatrix(*expr.shape)
        product = rest[0] if len(rest) == 1 else sp.HadamardProduct(*rest)
        return product if scalar == 1 else sp.MatMul(scalar, product).doit()
    if isinstance(expr, (sp.MatMul, sp.MatAdd)):
        return type(expr)(*args).doit()
    return expr.func(*args)


def _constant_matrix(expr):
    """c for ``c 1`` (a multiple of the ones matrix), else None."""
    if isinstance(expr, OneMatrix):
        return sp.S.One
    if isinstance(expr, sp.MatMul):
        scalar, factors = expr.as_coeff_matrices()
        if len(factors) == 1 and isinstance(factors[0], OneMatrix):
            return scalar
    return None


def reads_targets(net, name: str, _known: dict | None = None) -> bool:
    """Whether assignment ``name`` needs a target (a smoothed target, or anything computed from one); each
    assignment is looked at once (a deep program reaches the same ones by many paths)."""
    known = {} if _known is None else _known
    if name not in known:
        a = net.assignment(name)
        known[name] = any(
            net.kinds.get(n) == "target" or (net.kinds.get(n) == "node" and reads_targets(net, n, known))
            for n in {s.name for s in a.value.atoms(sp.MatrixSymbol)}
        )
    return known[name]
