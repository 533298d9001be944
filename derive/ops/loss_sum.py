"""A per-example loss summed over the examples, ``Σ_columns ℓ(A, Y)``, and its vector-Jacobian rule.

``LossSum(ℓ, A, Y)`` is the matrix program's node for any loss record
(``derive.ops.losses``): a 1×1 quantity, so a batch cost is ``J = (1/m) LossSum``.
Its rule pulls G back to ``G ∂ℓ/∂A`` for the output A (the record's ``grad``);
the targets get none.
"""

from __future__ import annotations

import sympy as sp
from sympy.core.symbol import Str
from sympy.matrices.expressions import MatrixExpr
from sympy.matrices.expressions.special import OneMatrix

from .base import Op, stanza
from .loss import LossRecord
from .record import record_of


class LossSum(MatrixExpr):
    """``Σ over examples of ℓ(A[:, i], Y[:, i])``: a 1×1 quantity; ``ℓ`` a record, its class or its name."""

    def __new__(cls, loss, output, target):
        name = loss if isinstance(loss, Str) else Str(record_of(loss).name)
        return super().__new__(cls, name, output, target)

    @property
    def loss(self) -> str:
        """The loss's name (``binary_cross_entropy``)."""
        return self.args[0].name

    @property
    def record(self) -> LossRecord:
        return record_of(self.args[0].name)

    @property
    def shape(self):
        return (sp.S.One, sp.S.One)


def _loss_vjp(expr, G, ctx):
    A, Y = expr.args[1], expr.args[2]
    grad = expr.record.grad(A, Y)
    return [(A, grad, "loss-summed") if G == 1 else (A, G * grad, "loss")]  # G = 1: J sums L (no 1/m)


def _loss_jvp(expr, d, ctx):
    """``R{Σ ℓ(A, Y)} = 1ᵀ (∂ℓ/∂A ⊙ R{A}) 1``: the sum of every entry (the targets do not move)."""
    A, Y = expr.args[1], expr.args[2]
    dA = d(A)
    if dA is None:
        return None
    return OneMatrix(1, A.shape[0]) * sp.HadamardProduct(expr.record.grad(A, Y), dA) * OneMatrix(A.shape[1], 1)


def _text(printer, expr):
    return f"Σ_columns {expr.loss}({printer._print(expr.args[1])}, {printer._print(expr.args[2])})"


def _latex(printer, expr):
    A, Y = printer._print(expr.args[1]), printer._print(expr.args[2])
    return rf"\sum_{{\text{{columns}}}} {expr.record.latex}({A}, {Y})"


LOSS = stanza(
    Op(
        "loss",
        LossSum,
        _loss_vjp,
        {"loss": "J = (1/m) Σ_columns L, so ∂J/∂A = (1/m) ∂L/∂A", "loss-summed": "J = Σ_columns L, so ∂J/∂A = ∂L/∂A"},
        {
            "loss": r"$J = \frac{1}{m}\sum_{\text{columns}} L$, so $\partial J/\partial A = \frac{1}{m}\,\partial L/\partial A$",
            "loss-summed": r"$J = \sum_{\text{columns}} L$, so $\partial J/\partial A = \partial L/\partial A$",
        },
        text=_text,
        latex=_latex,
        jvp=_loss_jvp,
    )
)
