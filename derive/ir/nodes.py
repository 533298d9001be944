"""Matrix-program node classes SymPy has none for.

* ``Apply(g, Z)``: an activation applied entry by entry (softmax: column by
  column); ``Apply("step", Z)`` is the ReLU derivative ``1[Z ≥ 0]``;
* ``LossSum(ℓ, A, Y)``: the per-example loss summed over the m columns
  (a 1×1 quantity; a batch cost is ``J = (1/m) LossSum``);
* ``FrobeniusSq(W)``: ``‖W‖²_F = Σ W²`` (1×1), the L2 penalty's building block.

Everything else is SymPy's own: ``MatAdd``, ``MatMul`` (with scalar
coefficients), ``HadamardProduct``, ``HadamardPower``, ``Transpose`` and
``OneMatrix`` for broadcasting and sums over rows or columns.
"""

from __future__ import annotations

import sympy as sp
from sympy.core.symbol import Str
from sympy.matrices.expressions import MatrixExpr


class Apply(MatrixExpr):
    """``g(Z)``: activation ``g`` (by name) applied to ``Z``; same shape as ``Z``."""

    def __new__(cls, function, arg):
        return super().__new__(cls, _str(function), arg)

    @property
    def function(self) -> str:
        return self.args[0].name

    @property
    def arg(self):
        return self.args[1]

    @property
    def shape(self):
        return self.args[1].shape


class LossSum(MatrixExpr):
    """``Σ over examples of ℓ(A[:, i], Y[:, i])``: a 1×1 quantity."""

    def __new__(cls, loss, output, target):
        return super().__new__(cls, _str(loss), output, target)

    @property
    def loss(self) -> str:
        return self.args[0].name

    @property
    def shape(self):
        return (sp.S.One, sp.S.One)


class FrobeniusSq(MatrixExpr):
    """``‖W‖²_F``: the sum of the squares of W's entries (1×1)."""

    def __new__(cls, arg):
        return super().__new__(cls, arg)

    @property
    def arg(self):
        return self.args[0]

    @property
    def shape(self):
        return (sp.S.One, sp.S.One)


def _str(name) -> Str:
    """A name as SymPy's ``Str`` (``doit`` rebuilds a node from its args, which are Str already)."""
    return name if isinstance(name, Str) else Str(name)


class L1Norm(MatrixExpr):
    """``‖W‖₁ = Σ |W_ij|``: the L1 penalty's building block (1×1)."""

    def __new__(cls, arg):
        return super().__new__(cls, arg)

    @property
    def arg(self):
        return self.args[0]

    @property
    def shape(self):
        return (sp.S.One, sp.S.One)


class SameShape(MatrixExpr):
    """A node of one operand with the operand's shape (the base of Sign and TimeSum)."""

    def __new__(cls, arg):
        return super().__new__(cls, arg)

    @property
    def arg(self):
        return self.args[0]

    @property
    def shape(self):
        return self.args[0].shape


class Sign(SameShape):
    """``sign(W)`` entry by entry, with sign(0) = 0 (the subgradient L1 uses); same shape as W."""


class TimeSum(SameShape):
    """``Σ_t Q_t``: a per-step quantity summed over the T steps (same shape as Q)."""
