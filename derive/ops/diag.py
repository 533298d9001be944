"""``diag(s)``: the square matrix with the row ``s`` on its diagonal, the form a Hessian takes (CS229).

A Hessian of a mean cost over examples weighs each example's outer product by a
number (logistic regression: σ(1 − σ)); stacked, that is ``X diag(s) Xᵀ``.  The node
appears in Hessians the R-operator's equations are read into (``derive.ir.hessian``);
generated code never forms it: ``Q diag(s)`` is ``Q ⊙ s`` (each column j of Q scaled by s_j).
"""

from __future__ import annotations

import numpy as np
import sympy as sp
from sympy.matrices.expressions import MatrixExpr
from sympy.matrices.expressions.special import OneMatrix

from .base import Op, stanza


class Diag(MatrixExpr):
    """``diag(s)`` of a row ``s`` (1×n): n×n, ``s_j`` at (j, j) and 0 elsewhere."""

    def __new__(cls, arg):
        return super().__new__(cls, arg)

    @property
    def arg(self):
        return self.args[0]

    @property
    def shape(self):
        return (self.args[0].shape[1], self.args[0].shape[1])


def _vjp(expr, G, ctx):
    n = expr.shape[0]
    return [(expr.arg, OneMatrix(1, n) * sp.HadamardProduct(G, sp.Identity(n)), "diag")]  # G's diagonal, a row


def _jvp(expr, d, ctx):
    ds = d(expr.arg)
    return None if ds is None else Diag(ds)  # linear


def _evaluate(evaluator, expr):
    s = evaluator(expr.arg)
    return sp.diag(*list(s)) if isinstance(s, sp.MatrixBase) else np.diag(np.ravel(s))


DIAG = stanza(
    Op(
        "diag",
        Diag,
        _vjp,
        {"diag": "diag(s) pulls G back to the row of G's diagonal entries"},
        {"diag": r"$\operatorname{diag}(s)$ pulls $G$ back to the row of its diagonal entries"},
        text=lambda p, e: f"diag({p._print(e.arg)})",
        latex=lambda p, e: rf"\operatorname{{diag}}\left({p._print(e.arg)}\right)",
        numpy=lambda p, e: f"np.diag({p._print(e.arg)}[0])",
        evaluate=_evaluate,
        jvp=_jvp,
    )
)
