"""SE(ŷ, y) = ½ Σᵢ (ŷᵢ − yᵢ)²: the ½ makes ∂L/∂ŷ = ŷ − y (Nielsen ch. 2; deeplearning.ai)."""

import math

import mpmath
import numpy as np
import sympy as sp

from ..loss import NetFunctionBase, loss, pairs

SE = '''
def squared_error(yhats, ys):
    """½ Σᵢ (ŷᵢ − yᵢ)² over the rows ŷᵢ, yᵢ."""
    return 0.5 * sum((yhat - y) ** 2 for yhat, y in zip(yhats, ys))
'''


def _partial(f, i):
    k = len(f.args) // 2
    return f.args[i] - f.args[k + i] if i < k else f.args[i] - f.args[i - k]


@loss(
    name="mse", aliases=("squared_error", "se"), title="squared error", text="SE", latex=r"L_{\mathrm{SE}}", words=("SE", "MSE", "L_SE"),
    definition=lambda *a: sp.Add(*((p - y) ** 2 for p, y in pairs(a))) / 2,
    partial_rule=_partial, why="∂L/∂ŷᵢ = ŷᵢ − yᵢ  (L = ½ Σ (ŷᵢ − yᵢ)²)",
    numeric=lambda *a: 0.5 * math.fsum((p - y) ** 2 for p, y in pairs(a)),
    mpmath=lambda *a: mpmath.fsum((p - y) ** 2 for p, y in pairs(a)) / 2,
    array=lambda a, y: 0.5 * float(np.sum((a - y) ** 2)),
    grad=lambda A, Y: A - Y, matrix_why="∂L/∂A = A − Y  (L = ½ Σ_rows (A − Y)²)",
    summed=(sp.Rational(1, 2), "Σ ({A} − {Y})²"),
    matched="identity", cancel_why="identity'(Z) = 1, so dZ = dA = A − Y",
    numpy="squared_error({yhats}, {ys})", helpers={"squared_error": SE},
    latex_form=r"{name}{power}{{\left({yhats};\ {ys} \right)}}", form="pairs",
    prose="the squared error ½ Σ (ŷ − y)², whose ½ makes ∂L/∂ŷ = ŷ − y",
)  # fmt: skip
class SquaredError(NetFunctionBase):
    """Arguments ``ŷ1..ŷK, y1..yK``; ``½ Σ (ŷᵢ − yᵢ)²``."""
