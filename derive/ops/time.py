"""Time: a per-step quantity summed over the steps t = 1 … T of a recurrence (backpropagation through time).

Goodfellow et al., *Deep Learning* §10.2.2: a parameter shared by every step
has as gradient the sum over t of each step's term.  ``Σ_t Q_t`` is linear,
so its rule passes G to every step's Q unchanged.
"""

from __future__ import annotations

import sympy as sp

from .base import Op, stanza
from .nodes import TimeSum


def _vjp(expr, G, ctx):
    return [(expr.arg, G, "time_sum")]


def _text(printer, expr):
    inner = printer._print(expr.arg)
    return f"Σ_t ({inner})" if isinstance(expr.arg, sp.MatAdd) else f"Σ_t {inner}"


def _latex(printer, expr):
    return rf"\sum_{{t=1}}^{{T}} \left({printer._print(expr.arg)}\right)"


TIME_SUM = stanza(
    Op(
        "time_sum",
        TimeSum,
        _vjp,
        {"time_sum": "Σ_t Q_t passes G to each step's Q_t"},
        {"time_sum": r"$\sum_t Q_t$ passes $G$ to each step's $Q_t$"},
        text=_text,
        latex=_latex,
        jvp=lambda expr, d, ctx: None if d(expr.arg) is None else TimeSum(d(expr.arg)),  # linear
    )
)
