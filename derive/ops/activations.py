"""Activations applied to whole matrices, ``A = g(Z)``: one line per activation.

Each derivative is written as the lecture does, in the layer's output ``A``
where it can be (σ' = A ⊙ (1 − A), tanh' = 1 − A²), else in ``Z``
(ReLU' = 1[Z ≥ 0]).  Softmax acts on each column: its Jacobian
diag(a) − a aᵀ pulls G back to A ⊙ (G − Σ_rows(A ⊙ G)).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import sympy as sp
from sympy.matrices.expressions.special import OneMatrix

from ..ir.nodes import Apply
from .base import Op, stanza


@dataclass(frozen=True)
class Activation:
    """One activation: ``derivative(A, Z)`` is g'(Z) as the lecture writes it (None: 1)."""

    name: str
    derivative: Callable[[sp.Basic, sp.Basic], sp.Basic | None]
    why: str
    uses: str  # "A" if g' is written in the output, "Z" if in the input, "" if constant
    why_latex: str = ""
    elementwise: bool = True  # False: the reason is the activation's own (softmax along each row)

    def vjp(self, G, A, Z):
        """The adjoint of ``Z`` given the adjoint ``G`` of ``A = g(Z)``."""
        if self.name == "softmax":
            return sp.HadamardProduct(A, G - OneMatrix(A.shape[0], A.shape[0]) * sp.HadamardProduct(A, G))
        d = self.derivative(A, Z)
        return G if d is None else sp.HadamardProduct(G, d)


def one_minus(X):
    return OneMatrix(*X.shape) - X


ACTIVATIONS: dict[str, Activation] = {
    "sigmoid": Activation(
        "sigmoid",
        lambda A, Z: sp.HadamardProduct(A, one_minus(A)),
        "σ'(Z) = A ⊙ (1 − A)",
        "A",
        r"$\sigma'(Z) = A \odot (1 - A)$",
    ),
    "tanh": Activation(
        "tanh", lambda A, Z: one_minus(sp.HadamardPower(A, 2)), "tanh'(Z) = 1 − A²", "A", r"$\tanh'(Z) = 1 - A^{2}$"
    ),
    "relu": Activation(
        "relu",
        lambda A, Z: Apply("step", Z),
        "ReLU'(Z) = 1 where Z ≥ 0, else 0",
        "Z",
        r"$\operatorname{ReLU}'(Z) = \mathbf{1}[Z \geq 0]$",
    ),
    "identity": Activation("identity", lambda A, Z: None, "identity'(Z) = 1", "", r"the identity's derivative is 1"),
    "softmax": Activation(
        "softmax",
        lambda A, Z: None,
        "∂aₖ/∂zⱼ = aₖ(δₖⱼ − aⱼ) per column",
        "A",
        r"$\partial a_k / \partial z_j = a_k(\delta_{kj} - a_j)$",
    ),
}
HIDDEN = ("relu", "sigmoid", "tanh")
OUTPUTS = ("sigmoid", "softmax", "identity")


def activation_why(g: str, form: str = "text") -> str:
    """The reason a step through ``A = g(Z)`` shows (``form="latex"`` for handouts)."""
    if not ACTIVATIONS[g].elementwise:
        return ACTIVATIONS[g].why_latex if form == "latex" else ACTIVATIONS[g].why
    if form == "latex":
        if g == "softmax":
            return APPLY.why_latex["softmax"]
        return f"{APPLY.why_latex['activation']}; {ACTIVATIONS[g].why_latex}"
    if g == "softmax":
        return APPLY.why["softmax"]
    return f"{APPLY.why['activation']}; {ACTIVATIONS[g].why}"


def _apply_vjp(expr, G, ctx):
    if expr.function == "step":
        return []  # step' = 0 almost everywhere: nothing flows back through ReLU's derivative
    A = ctx.name_of(expr)
    return [(expr.arg, ACTIVATIONS[expr.function].vjp(G, A, expr.arg), f"activation:{expr.function}")]


APPLY = stanza(
    Op(
        "activation",
        "Apply",
        _apply_vjp,
        {
            "activation": "element-wise: G pulls back to G ⊙ g'(Z)",
            "softmax": "softmax Jacobian per column is diag(a) − a aᵀ: G pulls back to A ⊙ (G − Σ_rows(A ⊙ G))",
        },
        {
            "activation": r"entry by entry: $G$ pulls back to $G \odot g'(Z)$",
            "softmax": r"the softmax Jacobian of a column is $\operatorname{diag}(a) - a a^{\top}$",
        },
    )
)
