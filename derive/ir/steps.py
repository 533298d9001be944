"""Steps of the vectorised derivation, as data (the layer-level analogue of ``derive.steps``).

* ``Convention``: what ``dQ`` means (the per-example gradient, stacked in columns);
* ``VecChainRule``: one application of the chain rule through one operation:
  the adjoint of ``of`` pulled back through ``via = definition`` by a rule of
  the op table (``derive.ops``);
* ``SumOverUses``: the adjoint of a quantity used more than once, term by term;
* ``Cancellation``: the output layer's ``dZ_L`` collapsing to ``A_L − Y``,
  with its reason and the entry-wise identity that was checked.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from ..printing.matrix import matrix_text


@dataclass(frozen=True)
class Convention:
    text: str

    def __str__(self) -> str:
        return f"convention: {self.text}"


@dataclass(frozen=True)
class VecChainRule:
    """``target`` from the adjoint of ``via`` (``via = definition``): ``expr`` by ``rule``."""

    target: str
    via: str
    definition: sp.Basic
    expr: sp.Basic
    rule: str
    scale: str = ""  # "(1/m) " for a parameter: the gradient of J itself
    latex: str = ""  # the rule in LaTeX, for handouts

    def __str__(self) -> str:
        return (
            f"chain rule: {self.target} from d{self.via} through {self.via} = {matrix_text(self.definition)}:"
            f" {self.target} = {matrix_text(self.expr)}    [{self.rule}]"
        )


@dataclass(frozen=True)
class Cancellation:
    """``target = before`` simplifies to ``after`` because ``reason`` (kind: cancel | one-hot)."""

    target: str
    before: sp.Basic
    after: sp.Basic
    reason: str
    kind: str
    entry: tuple[sp.Expr, sp.Expr] | None = None  # (one entry before, after), as checked

    def __str__(self) -> str:
        return f"simplify: {self.target} = {matrix_text(self.before)} = {matrix_text(self.after)}    [{self.reason}]"


@dataclass(frozen=True)
class SumOverUses:
    """``target`` is used more than once: its adjoint is the sum of each use's term (``terms``: (via, expr))."""

    target: str
    terms: tuple[tuple[str, sp.Basic], ...]
    total: sp.Basic

    def __str__(self) -> str:
        parts = " + ".join(f"[from {via}] {matrix_text(expr)}" for via, expr in self.terms)
        return f"sum over uses: {self.target} = {parts}    [{self.target[1:]} is used {len(self.terms)} times]"


@dataclass(frozen=True)
class FactorOut:
    """The terms of a sum share a factor of ⊙: it is written once (``dh ⊙ (h_prev − n)``, not ``dh ⊙ h_prev − dh ⊙ n``)."""

    target: str
    before: sp.Basic
    after: sp.Basic
    common: tuple[sp.Basic, ...]

    def __str__(self) -> str:
        shared = ", ".join(matrix_text(c) for c in self.common)
        return f"factor: {self.target} = {matrix_text(self.before)} = {matrix_text(self.after)}    [{shared} in every term]"


@dataclass(frozen=True)
class SumOverTime:
    """A parameter used at every step t: its gradient is the sum over t of the step's term (BPTT)."""

    target: str
    term: sp.Basic
    total: sp.Basic

    def __str__(self) -> str:
        return (
            f"sum over time: {self.target} = {matrix_text(self.total)}"
            f"    [{self.target[1:]} is used at every step t = 1 … T: the step's term {matrix_text(self.term)} summed over t]"
        )


def _repr_latex_(self) -> str:
    """Display math for Jupyter (``derive.printing.latex.vecstep_latex``)."""
    from ..printing.latex import vecstep_latex

    return vecstep_latex(self)


for _cls in (Convention, VecChainRule, Cancellation, SumOverUses, SumOverTime):
    _cls._repr_latex_ = _repr_latex_
