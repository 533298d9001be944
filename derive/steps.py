"""The derivation of one gradient, as data.

``Derivation.steps(name)`` returns, in order:

1. ``ChainRule``: ∂L/∂v as a sum over paths of products of local partials;
2. ``Factor``: each local partial ∂(node)/∂(input) and its value, in node names;
3. ``Product``: the sum of products of the factors' values;
4. ``Rewrite``: each simplification as it happens, with its reason;
5. ``Result``: the simplified form.

The CLI prints them with ``str()``; the LaTeX handouts render the same
objects.  Expressions in steps are SymPy expressions; products are kept
unevaluated in chain order (loss end first) so that they print as written.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

import sympy as sp

from .printing.text import partial_text, text


@dataclass(frozen=True)
class ChainRule:
    """∂loss/∂wrt = Σ over paths of Π ∂(child)/∂(parent).

    ``paths`` lists each path from the loss down to ``wrt`` as node names
    (``("L", "yhat", "z", "a1", "z1", "W11")``).  A variable with too many
    paths to list gets ``paths=None`` and the recursive statement
    ∂L/∂v = Σ_c ∂L/∂c · ∂c/∂v over its children ``via``.
    """

    wrt: str
    loss: str
    paths: tuple[tuple[str, ...], ...] | None
    via: tuple[str, ...]

    def links(self, path: tuple[str, ...]) -> list[tuple[str, str]]:
        """The (of, wrt) pairs of one path, loss end first."""
        return list(pairwise(path))

    def __str__(self) -> str:
        lhs = partial_text(self.loss, self.wrt)
        if self.paths is None:
            terms = [f"{partial_text(self.loss, c)} · {partial_text(c, self.wrt)}" for c in self.via]
        else:
            terms = [" · ".join(partial_text(a, b) for a, b in self.links(p)) for p in self.paths]
        rhs = " + ".join(terms) if terms else "0"
        if rhs == lhs:  # the loss uses wrt itself: no chain to write
            return f"chain rule: {lhs}: one link ({self.loss} uses {self.wrt} directly)"
        return f"chain rule: {lhs} = {rhs}"


@dataclass(frozen=True)
class Factor:
    """One local partial ∂of/∂wrt: ``raw`` as differentiated, ``value`` in node names."""

    of: str
    wrt: str
    definition: sp.Expr
    raw: sp.Expr
    value: sp.Expr
    rule: str | None = None

    def __str__(self) -> str:
        lhs = partial_text(self.of, self.wrt)
        shown = f"{lhs} = {text(self.value)}"
        if text(self.raw) != text(self.value):  # no step that prints as X = X
            shown = f"{lhs} = {text(self.raw)} = {text(self.value)}"
        return f"factor: {shown}" + (f"    [{self.rule}]" if self.rule else "")


@dataclass(frozen=True)
class Product:
    """The factors' values multiplied along each path and summed."""

    wrt: str
    loss: str
    expr: sp.Expr  # unevaluated, chain order

    def __str__(self) -> str:
        return f"product: {partial_text(self.loss, self.wrt)} = {text(self.expr)}"


@dataclass(frozen=True)
class Rewrite:
    """One simplification of ∂loss/∂target: ``before`` becomes ``after`` because ``reason``.

    ``kind`` is ``"node-form"`` (a derivative written in the node's name),
    ``"cancel"`` (a common factor cancels; ``cancelled`` is it) or
    ``"one-hot"`` (Σᵢ yᵢ = 1).
    """

    target: str
    loss: str
    before: sp.Expr
    after: sp.Expr
    reason: str
    kind: str
    cancelled: sp.Expr | None = None

    def __str__(self) -> str:
        if self.kind == "node-form":
            return f"rewrite: {text(self.before)} = {text(self.after)}    [{self.reason}]"
        lhs = partial_text(self.loss, self.target)
        if text(self.before) == text(self.after):
            return f"simplify: {lhs} = {text(self.after)}    [{self.reason}]"
        return f"simplify: {lhs} = {text(self.before)} = {text(self.after)}    [{self.reason}]"


@dataclass(frozen=True)
class Result:
    """The simplified gradient: ``expr`` as shown (chain order), ``value`` evaluated."""

    wrt: str
    loss: str
    expr: sp.Expr
    value: sp.Expr

    def __str__(self) -> str:
        return f"result: {partial_text(self.loss, self.wrt)} = {text(self.expr)}"


Step = ChainRule | Factor | Product | Rewrite | Result


class Steps(list):
    """A list of steps that prints one per line, as ``chainrule derive`` does, and displays as LaTeX in Jupyter."""

    def __repr__(self) -> str:
        return "\n".join(str(s) for s in self)

    def _repr_latex_(self) -> str:
        from .printing.latex import steps_latex

        return steps_latex(self)


def _repr_latex_(self) -> str:
    """Display math for Jupyter (``derive.printing.latex.repr_latex``)."""
    from .printing.latex import repr_latex

    return repr_latex(self)


for _cls in (ChainRule, Factor, Product, Rewrite, Result):
    _cls._repr_latex_ = _repr_latex_
