"""BCE(ŷ, y) = −[y log ŷ + (1 − y) log(1 − ŷ)] (J&M ch. 5; deeplearning.ai course 1)."""

import math

import mpmath
import numpy as np
import sympy as sp

from ..loss import NetFunctionBase, loss, one_minus, over

BCE = '''
def binary_cross_entropy(yhat, y):
    """−[y log ŷ + (1 − y) log(1 − ŷ)], with ŷ kept inside [eps, 1 − eps]."""
    eps = np.finfo(np.result_type(yhat, np.float32)).eps
    yhat = np.clip(yhat, eps, 1 - eps)
    return -(y * np.log(yhat) + (1 - y) * np.log1p(-yhat))
'''
BCE_LOGITS = '''
def binary_cross_entropy_logits(z, y):
    """BCE of ŷ = σ(z) from the logit z: max(z, 0) − y·z + log(1 + e^(−|z|)); never overflows."""
    return np.maximum(z, 0) - y * z + np.log1p(np.exp(-np.abs(z)))
'''


def _partial(f, i):
    yhat, y = f.args
    return -y / yhat + (1 - y) / (1 - yhat) if i == 0 else sp.log(1 - yhat) - sp.log(yhat)


@loss(
    name="binary_cross_entropy", aliases=("bce",), title="binary cross-entropy", text="BCE", latex=r"L_{\mathrm{CE}}",
    words=("BCE", "L_CE", "cross_entropy_binary"),
    definition=lambda yhat, y: -(y * sp.log(yhat) + (1 - y) * sp.log(1 - yhat)),
    partial_rule=_partial, why="∂L/∂ŷ = −y/ŷ + (1 − y)/(1 − ŷ)",
    numeric=lambda p, y: -(y * math.log(p) + (1 - y) * math.log(1 - p)),
    mpmath=lambda p, y: -(y * mpmath.log(p) + (1 - y) * mpmath.log(1 - p)),
    array=lambda a, y: -float(np.sum(y * np.log(a) + (1 - y) * np.log(1 - a))),
    grad=lambda A, Y: -over(Y, A) + over(one_minus(Y), one_minus(A)), matrix_why="∂L/∂A = −Y/A + (1 − Y)/(1 − A)",
    summed=(sp.Integer(-1), "Σ ({Y} ⊙ log {A} + (1 − {Y}) ⊙ log(1 − {A}))"), task="binary", probabilities=True,
    matched="sigmoid", cancel_why="σ'(Z) = A ⊙ (1 − A) cancels the denominators A and 1 − A of ∂L/∂A",
    numpy="binary_cross_entropy({0}, {1})", numpy_logits="binary_cross_entropy_logits({z}, {1})",
    helpers={"binary_cross_entropy": BCE, "binary_cross_entropy_logits": BCE_LOGITS},
    prose="the binary cross-entropy loss, the negative log-likelihood of a label y ∈ {0, 1} under P(y = 1) = ŷ",
)  # fmt: skip
class BinaryCrossEntropy(NetFunctionBase):
    nargs = 2
