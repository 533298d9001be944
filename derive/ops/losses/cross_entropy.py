"""CE(ŷ, y) = −Σᵢ yᵢ log ŷᵢ with y one-hot (J&M ch. 5 and 7; cs231n)."""

import math

import mpmath
import numpy as np
import sympy as sp

from ..loss import NetFunctionBase, loss, over, pairs

CE = '''
def cross_entropy(yhats, ys):
    """−Σᵢ yᵢ log ŷᵢ over the rows ŷᵢ, yᵢ (ŷ kept above the smallest normal number)."""
    yhat, y = np.stack(yhats), np.stack(ys)
    tiny = np.finfo(np.result_type(yhat, np.float32)).tiny
    return -(y * np.log(np.maximum(yhat, tiny))).sum(axis=0)
'''
CE_LOGITS = '''
def cross_entropy_logits(zs, ys):
    """−Σᵢ yᵢ log softmaxᵢ(z) = (Σᵢ yᵢ)·logsumexp(z) − Σᵢ yᵢ zᵢ, the log-sum-exp shifted by max z."""
    z, y = np.stack(zs), np.stack(ys)
    top = z.max(axis=0)
    logsumexp = top + np.log(np.exp(z - top).sum(axis=0))
    return y.sum(axis=0) * logsumexp - (y * z).sum(axis=0)
'''


def _partial(f, i):
    k = len(f.args) // 2
    return -f.args[k + i] / f.args[i] if i < k else -sp.log(f.args[i - k])


@loss(
    name="cross_entropy", aliases=("ce",), title="cross-entropy", text="CE", latex=r"L_{\mathrm{CE}}", words=("CE", "L_CE"),
    definition=lambda *a: -sp.Add(*(y * sp.log(p) for p, y in pairs(a))),
    partial_rule=_partial, why="∂L/∂ŷᵢ = −yᵢ/ŷᵢ",
    numeric=lambda *a: -math.fsum(y * math.log(p) for p, y in pairs(a) if y != 0),
    mpmath=lambda *a: -mpmath.fsum(y * mpmath.log(p) for p, y in pairs(a) if y != 0),
    array=lambda a, y: -float(np.sum(y * np.log(a))),
    grad=lambda A, Y: -over(Y, A), matrix_why="∂L/∂A = −Y/A",
    summed=(sp.Integer(-1), "Σ {Y} ⊙ log {A}"),
    task="multiclass", probabilities=True,
    matched="softmax", cancel_why="A ⊙ (−Y/A) = −Y, and Σ_rows Y = 1 because each column of Y is one-hot",
    numpy="cross_entropy({yhats}, {ys})", numpy_logits="cross_entropy_logits({zs}, {ys})",
    helpers={"cross_entropy": CE, "cross_entropy_logits": CE_LOGITS},
    latex_form=r"{name}{power}{{\left({yhats};\ {ys} \right)}}", form="pairs",
    prose="the cross-entropy loss −Σ_k y_k log ŷ_k, the negative log-probability of the true class",
)  # fmt: skip
class CrossEntropy(NetFunctionBase):
    """Arguments ``ŷ1..ŷK, y1..yK``."""
