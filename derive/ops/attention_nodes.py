"""Matrix-program node classes for self-attention (rows are positions, as the course writes Q Kᵀ):

* ``Causal(S)``: the causal mask, S with every entry above the diagonal set to −∞
  (position i attends to positions j ≤ i only); same shape as S (T×T);
* ``Tril(G)``: G with every entry above the diagonal set to 0, the mask's adjoint;
* ``RowSum(Q)``: each row's sum, a column (n×1): the ``rowsum`` of the row-wise
  softmax's backward, ``dS = P ⊙ (dP − rowsum(dP ⊙ P))``.

The row-wise softmax itself is an activation (``Apply("softmax_rows", S)``,
``derive.ops.attention``).
"""

from __future__ import annotations

import sympy as sp
from sympy.matrices.expressions import MatrixExpr

from .nodes import SameShape


class Causal(SameShape):
    """``S`` with −∞ above the diagonal (entry (i, j) kept for j ≤ i): the causal mask of the scores."""


class Tril(SameShape):
    """``G`` with 0 above the diagonal: what the causal mask passes back."""

    def __new__(cls, arg):
        if isinstance(arg, sp.MatMul):  # linear: a scalar coefficient stays the product's
            scalar, factors = arg.as_coeff_matrices()
            if scalar != 1:
                inner = sp.MatMul(*factors) if len(factors) > 1 else factors[0]
                return sp.MatMul(scalar, super().__new__(cls, inner))
        return super().__new__(cls, arg)


class RowSum(MatrixExpr):
    """``Q 1``: each row's sum of Q, a column (n×1); ``rowsum(Q)`` in the attention backward."""

    def __new__(cls, arg):
        return super().__new__(cls, arg)

    @property
    def arg(self):
        return self.args[0]

    @property
    def shape(self):
        return (self.args[0].shape[0], sp.S.One)
