"""Linear ops: sums (with broadcasting), matrix products (with scalar multiples), transposes.

Broadcasting and reductions are products with ``OneMatrix``: ``b 1ᵀ`` adds the
column b to every column, ``G 1`` sums the columns, ``1ᵀ G`` the rows.  So one
matrix-product rule also derives the broadcast's adjoint, Σ_columns G.
"""

from __future__ import annotations

import sympy as sp
from sympy.matrices.expressions.special import OneMatrix

from .base import Op, stanza, total


def _sum_vjp(expr, G, ctx):
    return [(term, G, "sum") for term in expr.args]


def _transpose_of(X):
    return X.T


def _matmul_vjp(expr, G, ctx):
    """``P = c F1 F2 … Fk``: ``Fi`` gets ``c (F1…F(i−1))ᵀ G (F(i+1)…Fk)ᵀ``."""
    scalar, factors = expr.as_coeff_matrices()
    factors = list(factors)
    out = []
    for i, f in enumerate(factors):
        if isinstance(f, OneMatrix):
            continue
        left, right = factors[:i], factors[i + 1 :]
        others = left + right
        parts = [_transpose_of(sp.MatMul(*left) if len(left) > 1 else left[0])] if left else []
        parts.append(G)
        if right:
            parts.append(_transpose_of(sp.MatMul(*right) if len(right) > 1 else right[0]))
        value = scalar * parts[0] if scalar != 1 else parts[0]
        for part in parts[1:]:
            value = value * part  # SymPy's own product: flattened as the operators do
        if others and all(isinstance(o, OneMatrix) for o in others):
            key = _ones_rule(left, right)
        elif not others:
            key = "scale"
        else:
            key = "matmul-left" if i == 0 else "matmul-right"
        out.append((f, value, key))
    return out


def _ones_rule(left, right) -> str:
    """What a product with matrices of ones does to its one other factor Q: ``Q 1ᵀ`` repeats a column in every
    column (broadcast), ``Q 1`` sums the columns (reduce); ``1 Q`` and ``1ᵀ Q`` do the same to rows."""
    if left and right:
        return "broadcast-entries"
    if right:
        return "broadcast" if right[0].shape[0] == 1 else "reduce"
    return "broadcast-rows" if left[-1].shape[1] == 1 else "reduce-rows"


def _transpose_vjp(expr, G, ctx):
    return [(expr.arg, G.T, "transpose")]


# ---- Jacobian-vector rules (forward mode): R{·} of each op, by the product rule where it multiplies
def _sum_jvp(expr, d, ctx):
    return total(d(term) for term in expr.args)


def _matmul_jvp(expr, d, ctx):
    """``R{c F1 … Fk} = Σ_i c F1 … R{Fi} … Fk``."""
    scalar, factors = expr.as_coeff_matrices()
    terms = []
    for i, f in enumerate(factors):
        df = d(f)
        if df is None:
            continue
        parts = [df if j == i else part for j, part in enumerate(factors)]
        value = parts[0] if scalar == 1 else scalar * parts[0]
        for part in parts[1:]:
            value = value * part  # SymPy's own product, as the vector-Jacobian rule builds it
        terms.append(value)
    return total(terms)


def _transpose_jvp(expr, d, ctx):
    inner = d(expr.arg)
    return None if inner is None else inner.T


SUM = stanza(
    Op(
        "add",
        sp.MatAdd,
        _sum_vjp,
        {"sum": "a sum passes G to each term"},
        {"sum": r"a sum passes $G$ to each term"},
        jvp=_sum_jvp,
    )
)
MATMUL = stanza(
    Op(
        "matmul",
        sp.MatMul,
        _matmul_vjp,
        {
            "matmul-left": "P = A B pulls G back to G Bᵀ for A",
            "matmul-right": "P = A B pulls G back to Aᵀ G for B",
            "broadcast": "b 1ᵀ adds b to every column, so G pulls back to G 1 = Σ_columns G",
            "reduce": "Σ_columns Q = Q 1, so G pulls back to G 1ᵀ: G repeated in every column",
            "broadcast-rows": "1 r adds the row r to every row, so G pulls back to 1ᵀ G = Σ_rows G",
            "reduce-rows": "Σ_rows Q = 1ᵀ Q, so G pulls back to 1 G: G repeated in every row",
            "broadcast-entries": "1 s 1ᵀ adds s to every entry, so G pulls back to the sum of all its entries",
            "scale": "c Q pulls G back to c G",
        },
        {
            "matmul-left": r"$P = AB$ pulls $G$ back to $G B^{\top}$ for $A$",
            "matmul-right": r"$P = AB$ pulls $G$ back to $A^{\top} G$ for $B$",
            "broadcast": r"$b\,\mathbf{1}^{\top}$ adds $b$ to every column, so $G$ pulls back to"
            r" $\sum_{\text{columns}} G$",
            "reduce": r"$\sum_{\text{columns}} Q = Q\mathbf{1}$ pulls $G$ back to $G$ in every column",
            "broadcast-rows": r"$\mathbf{1}\,r$ adds the row $r$ to every row, so $G$ pulls back to"
            r" $\sum_{\text{rows}} G$",
            "reduce-rows": r"$\sum_{\text{rows}} Q = \mathbf{1}^{\top} Q$ pulls $G$ back to $G$ in every row",
            "broadcast-entries": r"$\mathbf{1}\, s\, \mathbf{1}^{\top}$ adds $s$ to every entry, so $G$ pulls back"
            r" to the sum of its entries",
            "scale": r"$cQ$ pulls $G$ back to $cG$",
        },
        jvp=_matmul_jvp,
    )
)
TRANSPOSE = stanza(
    Op(
        "transpose",
        sp.Transpose,
        _transpose_vjp,
        {"transpose": "Qᵀ pulls G back to Gᵀ"},
        {"transpose": r"$Q^{\top}$ pulls $G$ back to $G^{\top}$"},
        jvp=_transpose_jvp,
    )
)
