"""Vector-Jacobian products of the matrix program, as data (like autograd's ``numpy_vjps``).

Three tables, one line per entry:

* ``PULLBACKS``: for each kind of matrix expression, how the adjoint ``G`` of
  its value flows back to its operands (``Z = W A``: ``G ↦ G Aᵀ`` for ``W``,
  ``G ↦ Wᵀ G`` for ``A``; a sum passes ``G`` to every term);
* ``ACTIVATIONS``: each activation's derivative, written as the lecture does
  (in the layer's output ``A`` where it can be: ``σ' = A ⊙ (1 − A)``,
  ``tanh' = 1 − A²``; ``ReLU' = 1[Z ≥ 0]``), and its vector-Jacobian product;
* ``LOSSES``: each per-example loss ``ℓ(A, Y)``, its gradient ``∂ℓ/∂A``
  (element-wise), and how the cost reads.

Convention (Ng's): for a layer quantity ``Q`` (one column per example),
``dQ`` is the per-example gradient ``∂L/∂Q`` stacked in columns, so
``∂J/∂Q = (1/m) dQ`` for ``J = (1/m) Σ L``; a parameter's ``dW`` is the
gradient of ``J`` itself, ``(1/m)`` times the pull-back of ``dZ``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import sympy as sp
from sympy.matrices.expressions.special import OneMatrix

from .matrix import Apply

Pullback = Callable[[sp.Basic, sp.Basic], list[tuple[sp.Basic, sp.Basic, str]]]


def _matmul_pullback(expr, G):
    """``P = c A B``: ``G ↦ c G Bᵀ`` for ``A``, ``G ↦ c Aᵀ G`` for ``B``."""
    scalar, factors = expr.as_coeff_matrices()
    left = factors[0]
    right = sp.MatMul(*factors[1:]) if len(factors) > 2 else factors[1]
    return [
        (left, scalar * G * right.T, "matmul-left"),
        (right, scalar * left.T * G, "matmul-right"),
    ]


PULLBACKS: dict[str, Pullback] = {
    "MatAdd": lambda expr, G: [(term, G, "sum") for term in expr.args],
    "MatMul": _matmul_pullback,
}

WHY = {
    "sum": "a sum passes G to each term",
    "matmul-left": "P = A B pulls G back to G Bᵀ for A",
    "matmul-right": "P = A B pulls G back to Aᵀ G for B",
    "broadcast": "b 1ᵀ adds b to every column, so G pulls back to G 1 = Σ_columns G",
    "activation": "element-wise: G pulls back to G ⊙ g'(Z)",
    "softmax": "softmax Jacobian per column is diag(a) − a aᵀ: G pulls back to A ⊙ (G − Σ_rows(A ⊙ G))",
    "loss": "J = (1/m) Σ_columns L, so ∂J/∂A = (1/m) ∂L/∂A",
}


def pull_back(expr, G) -> list[tuple[sp.MatrixSymbol, sp.Basic, str]]:
    """Every ``(symbol, contribution, rule)`` reached from ``expr`` with adjoint ``G``, in expression order."""
    if isinstance(expr, sp.MatrixSymbol):
        return [(expr, G, "")]
    if isinstance(expr, OneMatrix):
        return []
    rule = PULLBACKS.get(type(expr).__name__)
    if rule is None:
        raise NotImplementedError(f"no vector-Jacobian rule for {type(expr).__name__}")
    out = []
    for operand, contribution, why in rule(expr, G):
        for symbol, value, inner in pull_back(operand, contribution):
            if isinstance(operand, sp.MatMul) and any(isinstance(f, OneMatrix) for f in operand.args):
                inner = "broadcast"
            out.append((symbol, value, inner or why))
    return out


# ------------------------------------------------------------ activations
@dataclass(frozen=True)
class Activation:
    """One activation: ``derivative(A, Z)`` is g'(Z) as the lecture writes it (None: 1)."""

    name: str
    derivative: Callable[[sp.Basic, sp.Basic], sp.Basic | None]
    why: str
    uses: str  # "A" if g' is written in the output, "Z" if in the input, "" if constant

    def vjp(self, G, A, Z):
        """The adjoint of ``Z`` given the adjoint ``G`` of ``A = g(Z)``."""
        if self.name == "softmax":
            return sp.HadamardProduct(A, G - OneMatrix(A.shape[0], A.shape[0]) * sp.HadamardProduct(A, G))
        d = self.derivative(A, Z)
        return G if d is None else sp.HadamardProduct(G, d)


def _one_minus(X):
    return OneMatrix(*X.shape) - X


ACTIVATIONS: dict[str, Activation] = {
    "sigmoid": Activation("sigmoid", lambda A, Z: sp.HadamardProduct(A, _one_minus(A)), "σ'(Z) = A ⊙ (1 − A)", "A"),
    "tanh": Activation("tanh", lambda A, Z: _one_minus(sp.HadamardPower(A, 2)), "tanh'(Z) = 1 − A²", "A"),
    "relu": Activation("relu", lambda A, Z: Apply("step", Z), "ReLU'(Z) = 1 where Z ≥ 0, else 0", "Z"),
    "identity": Activation("identity", lambda A, Z: None, "identity'(Z) = 1", ""),
    "softmax": Activation("softmax", lambda A, Z: None, "∂aₖ/∂zⱼ = aₖ(δₖⱼ − aⱼ) per column", "A"),
}
HIDDEN = ("relu", "sigmoid", "tanh")
OUTPUTS = ("sigmoid", "softmax", "identity")


# ----------------------------------------------------------------- losses
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
        lambda A, Y: -_over(Y, A) + _over(_one_minus(Y), _one_minus(A)),
        "∂L/∂A = −Y/A + (1 − Y)/(1 − A)",
        "J = −(1/m) Σ (Y ⊙ log {A} + (1 − Y) ⊙ log(1 − {A}))",
        True,
    ),
    "cross_entropy": Loss("cross_entropy", lambda A, Y: -_over(Y, A), "∂L/∂A = −Y/A", "J = −(1/m) Σ Y ⊙ log {A}", True),
    "mse": Loss(
        "mse", lambda A, Y: A - Y, "∂L/∂A = A − Y  (L = ½ Σ_rows (A − Y)²)", "J = (1/(2m)) Σ ({A} − Y)²", False
    ),
}

# Why the output layer's delta collapses to A − Y, for the pairs where it does
# (the derivation checks the cancellation entry by entry before using it).
CANCELLATIONS: dict[tuple[str, str], str] = {
    ("sigmoid", "binary_cross_entropy"): "σ'(Z) = A ⊙ (1 − A) cancels the denominators A and 1 − A of ∂L/∂A",
    ("softmax", "cross_entropy"): "A ⊙ (−Y/A) = −Y, and Σ_rows Y = 1 because each column of Y is one-hot",
    ("identity", "mse"): "identity'(Z) = 1, so dZ = dA = A − Y",
}
