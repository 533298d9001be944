"""The record of a per-example loss ℓ(ŷ, y), and how one is declared.

Unit by unit a loss is a ``NetFunctionBase`` of the outputs and the targets
(``BinaryCrossEntropy(ŷ, y)``, ``CrossEntropy(ŷ1…ŷK, y1…yK)``); on matrices it is
summed over the m columns (``LossSum``, ``derive.ops.loss_sum``) with gradient
``grad(A, Y) = ∂ℓ/∂A`` entry by entry.  ``matched`` names the output activation
with which the output delta collapses to A − Y (σ with BCE, softmax with CE,
the identity with squared error), and why.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import sympy as sp
from sympy.matrices.expressions.special import OneMatrix

from .record import FunctionRecord, NetFunctionBase, attach

__all__ = ["LossRecord", "NetFunctionBase", "loss", "one_minus", "over", "pairs"]


@dataclass(frozen=True, eq=False)
class LossRecord(FunctionRecord):
    partial_rule: Callable[[sp.Expr, int], sp.Expr] | None = None  # (applied loss, argument index) -> ∂ℓ/∂arg
    array: Callable | None = None  # (A, Y) -> float: ℓ summed over every column, NumPy float64
    grad: Callable | None = None  # (A, Y) -> ∂ℓ/∂A entry by entry, on whole matrices
    matrix_why: str = ""  # "∂L/∂A = −Y/A + (1 − Y)/(1 − A)"
    summed: tuple[sp.Rational, str] | None = None  # ℓ summed over the columns as (c, text): c · "Σ (…)", over {A}, {Y}
    task: str = "regression"  # binary | multiclass | regression: what the targets are
    probabilities: bool = False  # needs outputs in (0, 1)
    matched: str = ""  # the output activation (by name) with which dZ = A − Y
    cancel_why: str = ""  # why it cancels
    numpy_logits: str = ""  # the loss from the matched activation's input ({z}/{zs}, {1}/{ys}): stable
    aliases: tuple[str, ...] = ()  # other names a declaration may give it (bce)
    title: str = ""  # its name in prose: binary cross-entropy

    @property
    def kind(self) -> str:
        return "loss"

    def mean_text(self, k=1) -> str:
        """``(k/m) Σ_columns ℓ`` as a lecturer writes it, over {A} and {Y} (the squared error's ½ folded in:
        ``(1/(2m)) Σ ({A} − {Y})²`` for k = 1); "" for a loss without ``summed``."""
        if self.summed is None:
            return ""
        c, text = self.summed
        r = sp.Rational(k) * c
        denominator = "m" if abs(r).q == 1 else f"({abs(r).q}m)"
        return f"{'−' if r < 0 else ''}({abs(r).p}/{denominator}) {text}"

    @property
    def cost(self) -> str:
        """The batch cost J = (1/m) Σ_columns ℓ as text, over {A} and {Y}; "" for a loss without ``summed``."""
        return f"J = {self.mean_text()}" if self.summed is not None else ""

    def partial(self, f, i: int) -> sp.Expr:
        return self.partial_rule(f, i)


def loss(**fields):
    """Attach a ``LossRecord`` made of ``fields`` to the decorated ``NetFunctionBase`` class."""
    return attach(LossRecord(**fields))


def pairs(args):
    """``(ŷᵢ, yᵢ)`` of a loss's arguments ``ŷ1..ŷK, y1..yK``."""
    k = len(args) // 2
    return zip(args[:k], args[k:])


def one_minus(X):
    return OneMatrix(*X.shape) - X


def over(num, den):
    """``num ⊘ den`` entry by entry."""
    return sp.HadamardProduct(num, sp.HadamardPower(den, -1))
