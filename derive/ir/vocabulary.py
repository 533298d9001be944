"""What a layer declaration may write besides ``+``, ``−``, ``*``/``@`` and the activations.

``hadamard(A, B)`` (A ⊙ B), ``transpose(W)`` (Wᵀ), ``sum_columns(Q)`` (n×1),
``mean_columns(Q)``, ``sum_rows(Q)`` (1×k) and ``frobenius_sq(W)`` (Σ W², a
scalar).  They are SymPy functions over the declaration's quantities; the
declaration lowers them onto the matrix program (``derive.ir.lower``).
"""

from __future__ import annotations

import sympy as sp


class MatrixFunction(sp.Function):
    """A function of matrices in a layer declaration (kept in order: not commutative)."""

    is_commutative = False


class Hadamard(MatrixFunction):
    nargs = 2


class TransposeOf(MatrixFunction):
    nargs = 1


class SumColumns(MatrixFunction):
    nargs = 1


class MeanColumns(MatrixFunction):
    nargs = 1


class SumRows(MatrixFunction):
    nargs = 1


class FrobeniusSqOf(sp.Function):
    """``‖W‖²_F``: a scalar, so it commutes with scalars in a cost."""

    nargs = 1
    is_commutative = True


def hadamard(A, B):
    """``A ⊙ B``: the element-wise product of two matrices of one shape."""
    return Hadamard(A, B)


def transpose(W):
    """``Wᵀ``."""
    return TransposeOf(W)


def sum_columns(Q):
    """``Σ_columns Q = Q 1``: each row's sum, a column (n×1)."""
    return SumColumns(Q)


def mean_columns(Q):
    """``(1/k) Σ_columns Q`` for a k-column Q (the batch mean of each row when k = m)."""
    return MeanColumns(Q)


def sum_rows(Q):
    """``Σ_rows Q = 1ᵀ Q``: each column's sum, a row (1×k)."""
    return SumRows(Q)


def frobenius_sq(W):
    """``‖W‖²_F = Σ_ij W_ij²``: the L2 penalty's term (a scalar)."""
    return FrobeniusSqOf(W)


VOCABULARY = {
    "hadamard": hadamard,
    "transpose": transpose,
    "sum_columns": sum_columns,
    "mean_columns": mean_columns,
    "sum_rows": sum_rows,
    "frobenius_sq": frobenius_sq,
}
