"""softmax along each row of attention scores S (T×T, rows are positions): P = softmax_rows(S).

A row p of P = softmax(s) has Jacobian ∂p/∂s = diag(p) − p pᵀ, so a row g of G pulls back to
p ⊙ (g − Σ_j g_j p_j): for the whole matrix ``dS = P ⊙ (dP − rowsum(dP ⊙ P))`` (Vaswani et al. 2017;
cs231n's transformer notes).  It acts on matrices only.
"""

import inspect

import sympy as sp
from sympy.matrices.expressions.special import OneMatrix

from ...errors import ChainruleError
from .. import attention_numpy as N
from ..activation import NetFunctionBase, activation
from ..attention_nodes import RowSum


def _matrix_only(*args):
    raise ChainruleError("softmax_rows acts on a whole matrix of scores, not on a number")


@activation(
    name="softmax_rows", text="softmax_rows", latex=r"\operatorname{softmax}_{\text{rows}}",
    definition=_matrix_only, numeric=_matrix_only, mpmath=_matrix_only, array=N.softmax_rows,
    why="∂pₖ/∂sⱼ = pₖ(δₖⱼ − pⱼ)",
    column_vjp=lambda G, A, Z: sp.HadamardProduct(A, G - RowSum(sp.HadamardProduct(G, A)) * OneMatrix(1, A.shape[1])),
    matrix_why="softmax of each row: a row p of P = softmax(s) has Jacobian ∂p/∂s = diag(p) − p pᵀ, so a row g of G"
    " pulls back to (diag(p) − p pᵀ) g = p ⊙ g − p (pᵀ g) = p ⊙ (g − Σ_j g_j p_j): for all rows,"
    " P ⊙ (G − rowsum(G ⊙ P)); where P = 0 (the masked entries) this is 0",
    matrix_why_latex=r"softmax of each row: a row $p$ of $P$ has Jacobian $\partial p/\partial s = \operatorname{diag}(p)"
    r" - p\,p^{\top}$, so a row $g$ of $G$ pulls back to $(\operatorname{diag}(p) - p\,p^{\top})\,g = p \odot g - p\,"
    r"(p^{\top} g) = p \odot (g - \textstyle\sum_j g_j p_j)$: $P \odot (G - \operatorname{rowsum}(G \odot P))$,"
    r" $0$ where $P = 0$ (the masked entries)",
    numpy="softmax_rows({0})", helpers={"softmax_rows": inspect.getsource(N.softmax_rows)},
    probability="distribution",
    prose="softmax along each row of the attention scores: row i is position i's distribution over the positions",
)  # fmt: skip
class SoftmaxRows(NetFunctionBase):
    nargs = 1
