"""Losses summed over the examples, ``Σ_columns ℓ(A, Y)``, and the cancellations they allow.

``LOSSES``: each per-example loss, its gradient ``∂ℓ/∂A`` (element-wise) and
how the batch cost reads.  ``CANCELLATIONS`` is a table of rewrite rules: for
an output activation and loss that match, ``dZ_L`` collapses to ``A_L − Y``
(the derivation checks the identity entry by entry before it applies it).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import sympy as sp

from .activations import one_minus
from .base import Op, stanza


@dataclass(frozen=True)
class Loss:
    """One per-example loss: ``grad(A, Y)`` is ∂L/∂A entry by entry; ``cost`` reads J."""

    name: str
    grad: Callable[[sp.Basic, sp.Basic], sp.Basic]
    why: str
    cost: str  # format string over {A}, {Y}
    probabilities: bool  # needs outputs in (0, 1)


def _over(num, den):
    return sp.HadamardProduct(num, sp.HadamardPower(den, -1))


LOSSES: dict[str, Loss] = {
    "binary_cross_entropy": Loss(
        "binary_cross_entropy",
        lambda A, Y: -_over(Y, A) + _over(one_minus(Y), one_minus(A)),
        "∂L/∂A = −Y/A + (1 − Y)/(1 − A)",
        "J = −(1/m) Σ ({Y} ⊙ log {A} + (1 − {Y}) ⊙ log(1 − {A}))",
        True,
    ),
    "cross_entropy": Loss(
        "cross_entropy", lambda A, Y: -_over(Y, A), "∂L/∂A = −Y/A", "J = −(1/m) Σ {Y} ⊙ log {A}", True
    ),
    "mse": Loss(
        "mse", lambda A, Y: A - Y, "∂L/∂A = A − Y  (L = ½ Σ_rows (A − Y)²)", "J = (1/(2m)) Σ ({A} − {Y})²", False
    ),
}

# Why the output layer's delta collapses to A − Y, for the pairs where it does.
CANCELLATIONS: dict[tuple[str, str], str] = {
    ("sigmoid", "binary_cross_entropy"): "σ'(Z) = A ⊙ (1 − A) cancels the denominators A and 1 − A of ∂L/∂A",
    ("softmax", "cross_entropy"): "A ⊙ (−Y/A) = −Y, and Σ_rows Y = 1 because each column of Y is one-hot",
    ("identity", "mse"): "identity'(Z) = 1, so dZ = dA = A − Y",
}


def _loss_vjp(expr, G, ctx):
    """``Σ_columns ℓ(A, Y)`` pulls ``G`` (a scalar) back to ``G ∂ℓ/∂A`` for A; targets get none."""
    A, Y = expr.args[1], expr.args[2]
    grad = LOSSES[expr.loss].grad(A, Y)
    return [(A, grad if G == 1 else G * grad, "loss")]


LOSS = stanza(
    Op(
        "loss",
        "LossSum",
        _loss_vjp,
        {"loss": "J = (1/m) Σ_columns L, so ∂J/∂A = (1/m) ∂L/∂A"},
        {
            "loss": r"$J = \frac{1}{m}\sum_{\text{columns}} L$, so $\partial J/\partial A = \frac{1}{m}\,\partial L/\partial A$"
        },
    )
)
