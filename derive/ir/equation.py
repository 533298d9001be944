"""One equation of a layer-level derivation, and the terms of an adjoint summed over uses."""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

Shape = tuple[sp.Expr, sp.Expr]


@dataclass(frozen=True)
class Term:
    """One use's contribution to an adjoint: ``expr``, reached back through ``via`` (a quantity or J)."""

    via: str
    kind: str
    operands: tuple[str, ...]
    function: str | None
    expr: sp.Basic


@dataclass(frozen=True)
class Equation:
    """One vectorised equation ``target = expr``.

    * ``number``: 1-based, in handout order (forward, then backward);
    * ``kind``: forward ``"affine"`` (Z = W A_prev + b), ``"activation"`` (A = g(Z)),
      ``"let"`` (any other matrix expression), ``"loss"`` (J = (1/m) Σ L(A, Y)), ``"cost"``
      (J with further terms); backward ``"output_delta"`` (dZ_L = A_L − Y), ``"weight_grad"``,
      ``"bias_grad"``, ``"backprop"`` (dA_prev = Wᵀ dZ), ``"activation_grad"``
      (dZ = dA ⊙ g'(Z)), ``"loss_grad"`` (dA_L from the loss, unmatched pairs), ``"adjoint"``
      (any other pull-back) and ``"sum"`` (an adjoint summed over several uses: ``terms``);
    * ``operands``: the names ``expr`` uses, in reading order (``("dZ2", "A1")`` for dW2);
    * ``function``: the activation (activation / activation_grad / output_delta) or the
      loss (loss / loss_grad / cost) by name, else None;
    * ``shape``: symbolic (rows, cols); ``expr``: SymPy matrix expression; ``text``:
      ``"dW2 = (1/m) dZ2 A1ᵀ"``;
    * ``terms``: for ``"sum"`` (and ``"cost"``), each use's term; else empty.

    Backward quantities follow Ng's convention: for a quantity Q with one
    column per example, ``dQ`` is the per-example gradient ∂L/∂Q stacked in
    columns (``∂J/∂Q = (1/m) dQ``); for any other (parameters, per-feature
    statistics), ``dQ`` is ∂J/∂Q itself.
    """

    number: int
    target: str
    kind: str
    operands: tuple[str, ...]
    function: str | None
    shape: Shape
    expr: sp.Basic
    text: str
    layer: int | None = None  # l of W_l, Z_l, A_l (0 for the input)
    terms: tuple[Term, ...] = ()

    def _repr_latex_(self) -> str:
        """The equation with its number and shape, for Jupyter."""
        from ..printing.latex import equation_latex

        return equation_latex(self)

    def renumbered(self, number: int) -> Equation:
        return Equation(
            number,
            self.target,
            self.kind,
            self.operands,
            self.function,
            self.shape,
            self.expr,
            self.text,
            self.layer,
            self.terms,
        )
