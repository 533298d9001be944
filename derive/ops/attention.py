"""Self-attention's ops (Vaswani et al. 2017; cs231n's transformer notes; J&M ch. 9): the row-wise
softmax, the causal mask and the row sum.  Rows are positions, as the course writes the scores:

    S = causal_mask(Q Kᵀ/√d),   P = softmax_rows(S),   O = P V.

* ``softmax_rows`` is an activation (``derive.ops.activations.softmax_rows``): each row p of P is the softmax
  of a row s of S, with Jacobian ∂p/∂s = diag(p) − p pᵀ.  A row g of G pulls back to
  (diag(p) − p pᵀ) g = p ⊙ g − p (pᵀ g) = p ⊙ (g − Σ_j g_j p_j), i.e. for the whole matrix
  ``dS = P ⊙ (dP − rowsum(dP ⊙ P))``;
* ``causal_mask(S)`` sets the entries above the diagonal to −∞ (position i sees j ≤ i), so the
  softmax gives them P = 0; it pulls G back to ``tril(G)`` (0 above the diagonal), and when G is
  the row softmax's ``P ⊙ (…)`` it is 0 there already: G passes back unchanged;
* ``rowsum(Q)`` is each row's sum (``Q 1``), a column broadcast back along the row.
"""

from __future__ import annotations

import sympy as sp
from sympy.matrices.expressions.special import OneMatrix

from . import attention_numpy as N
from .apply import Apply
from .attention_nodes import Causal, RowSum, Tril
from .base import Op, stanza


def _masked_by_softmax(expr, G, ctx) -> bool:
    """Whether ``G`` is the adjoint dS of a masked S = ``expr`` read by P = softmax_rows(S): P ⊙ (…) is 0
    above the diagonal (P is), so the mask has nothing left to zero."""
    if not (isinstance(G, sp.MatrixSymbol) and G.name.startswith("d")):
        return False
    S = sp.MatrixSymbol(G.name[1:], *expr.shape)
    return Apply("softmax_rows", S) in ctx.named


def _causal_vjp(expr, G, ctx):
    if _masked_by_softmax(expr, G, ctx):
        return [(expr.arg, G, "causal-softmax")]
    return [(expr.arg, Tril(G), "causal")]


def _rowsum_vjp(expr, G, ctx):
    return [(expr.arg, G * OneMatrix(1, expr.arg.shape[1]), "rowsum")]


def _tril_vjp(expr, G, ctx):
    return [(expr.arg, Tril(G), "tril")]


def _linear(op, tangent):
    """``R{op(Q)} = op(R{Q})`` for a linear op (None when Q does not move)."""
    return None if tangent is None else op(tangent)


def _numpy_of(name):
    return lambda p, e: p.use(f"{name}({p._print(e.arg)})")


def _evaluate_of(function):
    return lambda ev, e: function(ev(e.arg))


CAUSAL = stanza(
    Op(
        "causal_mask",
        Causal,
        _causal_vjp,
        {
            "causal": "the mask keeps S_ij for j ≤ i and sets the rest to −∞ (a constant): G pulls back to tril(G),"
            " 0 above the diagonal",
            "causal-softmax": "the mask keeps S_ij for j ≤ i and sets the rest to −∞ (a constant), so it pulls G back"
            " to tril(G); here G = dS = P ⊙ (…) is 0 above the diagonal already (P = 0 there): G passes back as it is",
        },
        {
            "causal": r"the mask keeps $S_{ij}$ for $j \leq i$ and sets the rest to $-\infty$: $G$ pulls back to"
            r" $\operatorname{tril}(G)$",
            "causal-softmax": r"the mask keeps $S_{ij}$ for $j \leq i$ and sets the rest to $-\infty$, so it pulls $G$"
            r" back to $\operatorname{tril}(G)$; $\mathrm{d}S = P \odot (\dots)$ is $0$ above the diagonal already"
            r" ($P = 0$ there)",
        },
        text=lambda p, e: f"causal_mask({p._print(e.arg)})",
        latex=lambda p, e: rf"\operatorname{{mask}}\left({p._print(e.arg)}\right)",
        numpy=_numpy_of("causal_mask"),
        evaluate=_evaluate_of(N.causal_mask),
        jvp=lambda expr, d, ctx: _linear(Tril, d(expr.arg)),  # the masked entries are a constant −∞
    )
)
TRIL = stanza(
    Op(
        "tril",
        Tril,
        _tril_vjp,
        {"tril": "tril(G) keeps the entries on and below the diagonal: G pulls back to tril(G)"},
        {"tril": r"$\operatorname{tril}(G)$ keeps the entries on and below the diagonal"},
        text=lambda p, e: f"tril({p._print(e.arg)})",
        latex=lambda p, e: rf"\operatorname{{tril}}\left({p._print(e.arg)}\right)",
        numpy=_numpy_of("np.tril"),
        evaluate=_evaluate_of(N.tril),
        jvp=lambda expr, d, ctx: _linear(Tril, d(expr.arg)),
    )
)
ROWSUM = stanza(
    Op(
        "rowsum",
        RowSum,
        _rowsum_vjp,
        {"rowsum": "rowsum(Q) = Q 1 pulls G back to G 1ᵀ: each row's G repeated along the row"},
        {"rowsum": r"$\operatorname{rowsum}(Q) = Q\mathbf{1}$ pulls $G$ back to $G\,\mathbf{1}^{\top}$"},
        text=lambda p, e: f"rowsum({p._print(e.arg)})",
        latex=lambda p, e: rf"\operatorname{{rowsum}}\left({p._print(e.arg)}\right)",
        numpy=lambda p, e: (
            f"{p._print(e.arg) if isinstance(e.arg, sp.MatrixSymbol) else '(' + p._print(e.arg) + ')'}.sum(axis=-1, keepdims=True)"
        ),
        evaluate=_evaluate_of(N.rowsum),
        jvp=lambda expr, d, ctx: _linear(RowSum, d(expr.arg)),
    )
)
