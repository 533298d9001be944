"""The handouts' LaTeX printer: ``derive.latex.StepLatexPrinter`` plus handout notation.

A subclass of SymPy's ``LatexPrinter`` (through ``StepLatexPrinter``, which
owns the function names from ``RULES`` and the name rules ``yhat`` →
``\\hat{y}``, ``W11`` → ``W_{11}``).  It adds what a handout needs:

* matrix expressions for the batch form: ``⊙`` for the element-wise
  product, ``^{\\top}``, layer superscripts (``A1`` → ``A^{[1]}``) and
  ``dZ`` or ``δ`` for the pre-activation gradients;
* the output written as ``\\hat{y}`` or ``a^{[L]}``;
* numbers as in the lecture's worked examples (two significant digits:
  ``0.70``, ``0.055``; integers as integers);
* a cancellation drawn with the cancelled pair in colour.
"""

from __future__ import annotations

from typing import ClassVar

import sympy as sp
from sympy.matrices.expressions.special import OneMatrix

from derive.functions import RULES, BinaryCrossEntropy, CrossEntropy, ReLU, Sigmoid, Softmax, SquaredError, Step, Tanh
from derive.latex import StepLatexPrinter
from derive.ops import install_printers

MARK = "red"


def number(value: float, digits: int = 2) -> str:
    """A value as the lecture writes it: ``0.70``, ``0.055``, ``-10``, ``1.2 \\times 10^{-5}``.

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
    mantissa, exponent = f"{value:.1e}".split("e")
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
        super().__init__(settings)

    def with_settings(self, **changes) -> HandoutLatexPrinter:
        """A printer like this one with some settings changed."""
        given = {k: v for k, v in self._settings.items() if k in self._default_settings}
        return HandoutLatexPrinter({**given, **changes})

    def name(self, name: str) -> str:
        """A variable's name in this notation."""
        return self._print_Symbol(sp.Symbol(name))

    def partial(self, of: str, wrt: str) -> str:
        """``\\frac{\\partial L}{\\partial w_1}`` in this notation."""
        return rf"\frac{{\partial {self.name(of)}}}{{\partial {self.name(wrt)}}}"

    # ------------------------------------------------------------ matrices
    def _print_MatrixSymbol(self, expr):
        return self._print_Symbol(sp.Symbol(expr.name))

    def _print_OneMatrix(self, expr):
        return "1"

    def _print_HadamardProduct(self, expr):
        return r" \odot ".join(self._matrix_factor(a, HADAMARD) for a in expr.args)

    def _print_HadamardPower(self, expr):
        return rf"\left({self._print(expr.base)}\right)^{{\odot {self._print(expr.exp)}}}"

    def _print_MatMul(self, expr):
        scalars = [a for a in expr.args if not getattr(a, "is_Matrix", False)]
        mats = [a for a in expr.args if getattr(a, "is_Matrix", False)]
        coeff = sp.Mul(*scalars)
        sign = ""
        if coeff.could_extract_minus_sign():
            sign, coeff = "-", -coeff
        head = "" if coeff == 1 else self._print(coeff) + r"\, "
        # broadcasting, as the lecture writes it: b 1ᵀ -> b; G 1 -> Σ_columns G
        if len(mats) >= 2 and isinstance(mats[-1], OneMatrix) and mats[-1].shape[0] == 1:
            if not getattr(self, "_in_sum", 0):  # alone, the broadcast is written out
                inner = " ".join(self._matrix_factor(a, MATMUL) for a in mats[:-1])
                return rf"{sign}{head}{inner}\, \mathbf{{1}}^{{\top}}"
            mats = mats[:-1]
        elif len(mats) >= 2 and isinstance(mats[-1], OneMatrix):
            inner = " ".join(self._matrix_factor(a, MATMUL) for a in mats[:-1])
            if mats[-1].shape[1] != 1:  # G 1 1ᵀ: each row's sum, repeated in every column
                return rf"{sign}{head}\Big(\sum_{{\text{{columns}}}} {inner}\Big) \mathbf{{1}}^{{\top}}"
            return rf"{sign}{head}\sum_{{\text{{columns}}}} {inner}"
        elif len(mats) >= 2 and isinstance(mats[0], OneMatrix):
            inner = " ".join(self._matrix_factor(a, MATMUL) for a in mats[1:])
            if mats[0].shape[1] == 1:  # 1 G: the row G repeated in every row
                return rf"{sign}{head}\mathbf{{1}}\, {inner}"
            return rf"{sign}{head}\sum_{{\text{{rows}}}} {inner}"
        return sign + head + " ".join(self._matrix_factor(a, MATMUL) for a in mats)

    def _print_MatAdd(self, expr):
        self._in_sum = getattr(self, "_in_sum", 0) + 1
        try:
            return self._sum(expr)
        finally:
            self._in_sum -= 1

    def _sum(self, expr):
        out = []
        # a broadcast bias (b 1ᵀ) comes last, as in W A + b
        terms = sorted(expr.args, key=lambda t: isinstance(t, sp.MatMul) and _is_bias(t))
        texts = [self._print(t) for t in terms]
        lead = next((i for i, t in enumerate(texts) if not t.startswith("-")), 0)
        order = [lead] + [i for i in range(len(terms)) if i != lead]
        for i, term in enumerate(terms[k] for k in order):
            text = self._print(term)
            if text.startswith("-"):
                out.append(f"-{text[1:]}" if i == 0 else f" - {text[1:]}")
            else:
                out.append(text if i == 0 else f" + {text}")
        return "".join(out)

    def _print_Transpose(self, expr):
        base = self._matrix_factor(expr.arg, ATOM)
        if "^" in base and not base.startswith(r"\left("):
            base = f"{{{base}}}"
        return rf"{base}^{{\top}}"

    def _print_Apply(self, expr):
        g, arg = expr.function, self._print(expr.arg)
        if g == "identity":
            return arg
        if g == "step":
            return rf"{RULES[Step].latex}[{arg} \geq 0]"
        return rf"{RULES[_APPLY[g]].latex}({arg})"

    def _print_LossSum(self, expr):
        name = RULES[_LOSS[expr.loss]].latex
        return rf"\sum_{{\text{{columns}}}} {name}({self._print(expr.args[1])}, {self._print(expr.args[2])})"

    def _matrix_factor(self, expr, level: int) -> str:
        text = self._print(expr)
        own = ADD if isinstance(expr, sp.MatAdd) else HADAMARD if isinstance(expr, sp.HadamardProduct) else ATOM
        if own < level:
            return rf"\left({text}\right)"
        return text


ADD, HADAMARD, MATMUL, ATOM = 1, 2, 3, 4


def _is_bias(term) -> bool:
    mats = [a for a in term.args if getattr(a, "is_Matrix", False)]
    return len(mats) == 2 and isinstance(mats[-1], OneMatrix) and mats[-1].shape[0] == 1


_APPLY = {"sigmoid": Sigmoid, "tanh": Tanh, "relu": ReLU, "softmax": Softmax}
_LOSS = {"binary_cross_entropy": BinaryCrossEntropy, "cross_entropy": CrossEntropy, "mse": SquaredError}


def cancel_latex(printer: HandoutLatexPrinter, before: sp.Expr, cancelled: sp.Expr | None) -> str:
    """``before`` with the cancelled pair in colour: every factor of ``cancelled`` wherever it occurs."""
    if cancelled is None:
        return printer.doprint(before)
    pieces = tuple(p for p in sp.Mul.make_args(cancelled) if not p.is_Number)
    return printer.with_settings(marked=pieces).doprint(before)


install_printers(HandoutLatexPrinter, "latex")  # the op table's own LaTeX forms (‖W‖²_F, …)
