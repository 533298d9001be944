"""Element-wise products and powers: ``A ⊙ B`` and ``A^p`` (``A^(−1)`` is element-wise 1/A)."""

from __future__ import annotations

import numpy as np
import sympy as sp

from .base import Op, stanza, total


def _hadamard_vjp(expr, G, ctx):
    """``P = F1 ⊙ … ⊙ Fk``: ``Fi`` gets ``G ⊙ Π_{j≠i} Fj``."""
    out = []
    for i, f in enumerate(expr.args):
        others = expr.args[:i] + expr.args[i + 1 :]
        out.append((f, sp.HadamardProduct(G, *others), "hadamard"))
    return out


def _power_vjp(expr, G, ctx):
    """``P = B^p`` element-wise: ``B`` gets ``p G ⊙ B^(p−1)``."""
    base, p = expr.base, expr.exp
    local = base if p == 2 else sp.HadamardPower(base, p - 1)
    return [(base, p * sp.HadamardProduct(G, local), "power")]


def _hadamard_jvp(expr, d, ctx):
    """``R{F1 ⊙ … ⊙ Fk} = Σ_i F1 ⊙ … ⊙ R{Fi} ⊙ … ⊙ Fk``."""
    terms = []
    for i, f in enumerate(expr.args):
        df = d(f)
        if df is not None:
            terms.append(sp.HadamardProduct(*expr.args[:i], df, *expr.args[i + 1 :]))
    return total(terms)


def _power_jvp(expr, d, ctx):
    """``R{B^p} = p B^(p−1) ⊙ R{B}``."""
    dB = d(expr.base)
    if dB is None:
        return None
    base, p = expr.base, expr.exp
    local = base if p == 2 else sp.HadamardPower(base, p - 1)
    return p * sp.HadamardProduct(local, dB)


def _power_singularity(evaluator, expr):
    """How far ``B^p`` is from its singularity at B = 0 (p negative or fractional: batch norm's (σ² + ε)^(−1/2)):
    the smallest |B|; inf for p = 0, 1, 2, …  Its derivatives grow like |B|^(p−k), so a difference step must
    be small beside |B| (batch norm's dW off by 1.1e-6 at a step of 1e-3 where σ² + ε = 2.4e-3)."""
    p = expr.exp
    if p.is_integer and p.is_nonnegative:
        return float("inf")
    return float(np.min(np.abs(evaluator(expr.base))))


HADAMARD = stanza(
    Op(
        "hadamard",
        sp.HadamardProduct,
        _hadamard_vjp,
        {"hadamard": "A ⊙ B pulls G back to G ⊙ B for A"},
        {"hadamard": r"$A \odot B$ pulls $G$ back to $G \odot B$ for $A$"},
        jvp=_hadamard_jvp,
    )
)
POWER = stanza(
    Op(
        "power",
        sp.HadamardPower,
        _power_vjp,
        {"power": "A^p (entry-wise) pulls G back to p G ⊙ A^(p−1)"},
        {"power": r"$A^{\odot p}$ pulls $G$ back to $p\, G \odot A^{\odot (p-1)}$"},
        jvp=_power_jvp,
        kink=_power_singularity,
    )
)
