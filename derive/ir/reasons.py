"""The reason a step of the reverse sweep shows, as text or LaTeX: an op's own (``derive.ops``), or, through
``A = g(Z)``, the activation's derivative as its record writes it, printed on matrices (σ'(Z) = A ⊙ (1 − A))."""

from __future__ import annotations

import sympy as sp

from ..ops import APPLY, PATH, matrix_derivative, record_of, why
from ..printing.latex import latex
from ..printing.matrix import matrix_text

PASS_THROUGH = ("sum", "scale")  # ops whose reason goes without saying inside another op's


def rule_text(key: str, form: str = "text") -> str:
    """The reason a step shows for rule ``key`` (``activation:g`` names the activation), as text or LaTeX;
    for a path of keys (``"sum>hadamard>broadcast"``), the reason of every op on it, outermost first, but
    a sum's or a scalar multiple's beside another op's."""
    keys = [k for k in dict.fromkeys(key.split(PATH)) if k]
    shown = [k for k in keys if k not in PASS_THROUGH] or keys[-1:]
    return "; ".join(_one_rule(k, form) for k in shown)


def _one_rule(key: str, form: str) -> str:
    if key.startswith("activation:"):
        return activation_why(key.split(":", 1)[1], form)
    return why(key, form)


def activation_why(record, form: str = "text") -> str:
    """The reason a step through ``A = g(Z)`` shows (``form="latex"`` for handouts); ``record`` or its name."""
    record = record_of(record)
    own = record.matrix_why_latex if form == "latex" else record.matrix_why
    if not own:
        own = _derivative_text(record, form)
    if not record.elementwise:
        return own
    return f"{APPLY.why_latex['activation'] if form == 'latex' else APPLY.why['activation']}; {own}"


def _derivative_text(record, form: str) -> str:
    """``tanh'(Z) = 1 − A²`` printed from the record's derivative (GELU'(Z) entry by entry where g' is a function
    of its own)."""
    if record.derivative is None:
        return rf"${record.latex}'(Z)$ entry by entry" if form == "latex" else f"{record.text}'(Z) entry by entry"
    A, Z = sp.MatrixSymbol("A", 2, 2), sp.MatrixSymbol("Z", 2, 2)
    d = matrix_derivative(record, A, Z)
    if form == "latex":
        return rf"${record.latex}'(Z) = {latex(d) if d is not None else '1'}$"
    return f"{record.text}'(Z) = {matrix_text(d) if d is not None else '1'}"
