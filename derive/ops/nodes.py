"""Matrix-program node classes SymPy has none for (besides ``Apply``, ``derive.ops.apply``, and
``LossSum``, ``derive.ops.loss_sum``, which read the function records).

* ``FrobeniusSq(W)``: ``‖W‖²_F = Σ W²`` (1×1), the L2 penalty's building block;
* ``L1Norm(W)``: ``‖W‖₁ = Σ |W|`` (1×1); ``Sign(W)`` its subgradient;
* ``TimeSum(Q)``: a per-step quantity summed over the T steps of a recurrence.

Everything else is SymPy's own: ``MatAdd``, ``MatMul`` (with scalar
coefficients), ``HadamardProduct``, ``HadamardPower``, ``Transpose`` and
``OneMatrix`` for broadcasting and sums over rows or columns.
"""

from __future__ import annotations

import sympy as sp
from sympy.matrices.expressions import MatrixExpr


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
