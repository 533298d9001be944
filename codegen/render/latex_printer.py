"""The handouts' LaTeX printer: ``derive.printing.latex.StepLatexPrinter`` plus handout notation.

A subclass of SymPy's ``LatexPrinter`` (through ``StepLatexPrinter``, which
owns the function names from ``RULES`` and the name rules ``yhat`` →
``\\hat{y}``, ``W11`` → ``W_{11}``).  It adds what a handout needs:

* layer superscripts (``A1`` → ``A^{[1]}``) and ``dZ`` or ``δ`` for the
  pre-activation gradients of the batch form (matrix expressions, ``⊙`` and
  ``^{\\top}``, are printed by ``StepLatexPrinter``);
* the output written as ``\\hat{y}`` or ``a^{[L]}``;
* numbers as in the lecture's worked examples, with ``digits`` significant
  digits (default 4: ``0.7004``, ``0.2984``; integers as integers);
* a cancellation drawn with the cancelled pair in colour.
"""

from __future__ import annotations

from typing import ClassVar

import sympy as sp

from derive.printing.latex import StepLatexPrinter

MARK = "red"


DIGITS = 4  # significant digits of a worked number, unless --digits says otherwise


def number(value: float, digits: int = DIGITS) -> str:
    """A value as the lecture writes it: ``0.7004``, ``0.05512``, ``-10``, ``1.235 \\times 10^{-5}``.

    Given values (two decimals at most) print as given; others with ``digits``
    significant digits.
    """
    value = float(value)
    if value == 0:
        return "0"
    if value.is_integer() and abs(value) < 1e6:
        return str(int(value))
    if abs(value - round(value, 2)) < 1e-12 and abs(value) < 1e4:  # a given value: as given
        return f"{value:g}"
    if 1e-3 <= abs(value) < 1e4:
        if abs(value) >= 10**digits:
            return f"{value:.0f}"
        text = f"{value:#.{digits}g}"
        return text.rstrip(".")
    mantissa, exponent = f"{value:.{max(digits - 1, 0)}e}".split("e")
    return rf"{mantissa} \times 10^{{{int(exponent)}}}"


class HandoutLatexPrinter(StepLatexPrinter):
    """LaTeX for handouts (see the module docstring).

    Settings beyond ``StepLatexPrinter``'s: ``output`` (``"hat"`` keeps
    ``\\hat{y}``; ``"layer"`` writes the network output as ``a^{[L]}`` with
    ``layer_count`` = L).
    """

    _default_settings: ClassVar[dict] = {
        **StepLatexPrinter._default_settings,
        "number": number,
        "mark": MARK,
        "output": "hat",
        "layer_count": 1,
        "outputs": (),
        "digits": DIGITS,
    }

    def __init__(self, settings=None):
        settings = dict(settings or {})
        names = dict(settings.get("names", {}))
        if settings.get("output") == "layer":
            outputs = settings.get("outputs", ())
            top = settings.get("layer_count", 1)
            for i, name in enumerate(outputs, start=1):
                index = f"_{i}" if len(outputs) > 1 else ""
                names.setdefault(name, rf"a^{{[{top}]}}{index}")
        settings["names"] = names
        digits = settings.get("digits", DIGITS)
        settings["number"] = lambda value: number(value, digits)
        super().__init__(settings)

    def with_settings(self, **changes) -> HandoutLatexPrinter:
        """A printer like this one with some settings changed."""
        given = {k: v for k, v in self._settings.items() if k in self._default_settings}
        return HandoutLatexPrinter({**given, **changes})

    def num(self, value: float) -> str:
        """A worked number with this handout's significant digits."""
        return number(value, self._settings["digits"])

    def name(self, name: str) -> str:
        """A variable's name in this notation."""
        return self._print_Symbol(sp.Symbol(name))

    def partial(self, of: str, wrt: str) -> str:
        """``\\frac{\\partial L}{\\partial w_1}`` in this notation."""
        return rf"\frac{{\partial {self.name(of)}}}{{\partial {self.name(wrt)}}}"


def cancel_latex(printer: HandoutLatexPrinter, before: sp.Expr, cancelled: sp.Expr | None) -> str:
    """``before`` with the cancelled pair in colour: every factor of ``cancelled`` wherever it occurs."""
    if cancelled is None:
        return printer.doprint(before)
    pieces = tuple(p for p in sp.Mul.make_args(cancelled) if not p.is_Number)
    return printer.with_settings(marked=pieces).doprint(before)
