"""Plain-text printing of derivation expressions, as a lecturer writes them.

A subclass of SymPy's ``StrPrinter`` that dispatches on class names
(``_print_NetFunctionBase`` reads each function's record), keeps the order in which chainrule built a product
(chain order, loss end first), writes hats (``yhat`` → ``ŷ``), and puts
positive terms first (``ŷ − y``, not ``−y + ŷ``).
"""

from __future__ import annotations

import re
import unicodedata
from typing import ClassVar

import sympy as sp
from sympy.printing.precedence import precedence
from sympy.printing.str import StrPrinter

_HAT = re.compile(r"^([A-Za-z])hat(\d*)$")


# the lectures' Greek hyperparameters, by the names a declaration gives them
GREEK = {"lam": "λ", "lambd": "λ", "eps": "ε", "epsilon": "ε", "alpha": "α", "eta": "η", "gamma": "γ", "beta": "β"}


def short_float(x) -> str:
    """A float as a declaration gives it (0.001, 2.5e-05): the shortest form that reads back as the same float."""
    return repr(float(x))


def display_name(name: str) -> str:
    """``yhat`` → ``ŷ``, ``yhat2`` → ``ŷ2``, ``lam`` → ``λ``; other names unchanged."""
    m = _HAT.match(name)
    if m:
        return unicodedata.normalize("NFC", f"{m.group(1)}\u0302") + m.group(2)
    return GREEK.get(name, name)


def positive_first(terms):
    """Order sum terms so that a term with a positive sign leads, otherwise keeping order."""
    terms = list(terms)
    for i, term in enumerate(terms):
        if not term.could_extract_minus_sign():
            return [term] + terms[:i] + terms[i + 1 :]
    return terms


def join_sum(expr, print_term, minus: str) -> str:
    """The terms of a sum, positive first, joined with `` + `` and `` {minus} ``; ``print_term`` prints |term|."""
    terms = positive_first(expr.args) if expr.is_commutative else list(expr.args)
    out = []
    for i, term in enumerate(terms):
        negative = term.could_extract_minus_sign()
        body = print_term(-term if negative else term)
        if i == 0:
            out.append(f"{minus}{body}" if negative else body)
        else:
            out.append(f" {minus if negative else '+'} {body}")
    return "".join(out)


class TextPrinter(StrPrinter):
    """Readable one-line text: ``(ŷ − y)·w1·a1·(1 − a1)·x1``."""

    _default_settings: ClassVar[dict] = {**StrPrinter._default_settings, "order": "none"}

    def _print_Symbol(self, expr):
        return display_name(expr.name)

    def _print_Float(self, expr):
        return short_float(expr)

    def _print_Add(self, expr, order=None):
        return join_sum(expr, self._print_add_term, "−")

    def _print_add_term(self, term):
        text = self._print(term)
        return f"({text})" if precedence(term) < precedence(sp.Mul(2, sp.Symbol("x"), evaluate=False)) else text

    def _print_Mul(self, expr):
        if expr.args and expr.args[0] == -1 and len(expr.args) > 1:
            rest = sp.Mul(*expr.args[1:], evaluate=False)
            text = self._print(rest)
            return f"−{text}"
        num, den = [], []
        for f in sp.Mul.make_args(expr):
            if f.is_Pow and f.exp.is_Rational and f.exp.is_negative:
                den.append(sp.Pow(f.base, -f.exp) if f.exp != -1 else f.base)
            elif f.is_Rational and f.q != 1 and f.p == 1:
                den.append(sp.Integer(f.q))
            else:
                num.append(f)
        num_text = "·".join(self._paren(f) for f in num) if num else "1"
        if not den:
            return num_text
        den_text = "·".join(self._paren(f) for f in den)
        if len(den) > 1:
            den_text = f"({den_text})"
        return f"{num_text}/{den_text}"

    def _paren(self, f):
        text = self._print(f)
        if (
            f.is_Add
            or (f.is_Number and f.is_negative)
            or (f.is_Mul and (f.could_extract_minus_sign() or sp.fraction(f)[1] != 1))
        ):
            return f"({text})"
        return text

    def _print_Pow(self, expr, rational=False):
        base, exp = expr.as_base_exp()
        if exp == -1:
            return f"1/{self._paren(base)}"
        b = self._print(base)
        if not (base.is_Symbol or base.is_Function or (base.is_Number and base >= 0)):
            b = f"({b})"
        e = self._print(exp)
        sup = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")
        if exp.is_Integer:
            return b + e.translate(sup)
        return f"{b}^({e})" if not exp.is_Atom else f"{b}^{e}"

    def _print_NetFunctionBase(self, expr):
        """Every activation and loss, by its record's ``form``: σ(z1), softmax_1(z1, z2), CE(ŷ1, ŷ2; y1, y2)."""
        rec = expr.record
        if rec.form == "component":
            k, zs = expr.args[0], expr.args[1:]
            if len(zs) > 3 and all(z.is_Symbol for z in zs):
                inner = f"{self._print(zs[0])}…{self._print(zs[-1])}"
            else:
                inner = ", ".join(self._print(z) for z in zs)
            return f"{rec.text}_{k}({inner})"
        if rec.form == "pairs":
            return self._print_loss(rec.text, expr)
        return f"{rec.text}({', '.join(self._print(a) for a in expr.args)})"

    def _print_loss(self, name, expr):
        k = len(expr.args) // 2
        yh = ", ".join(self._print(a) for a in expr.args[:k])
        y = ", ".join(self._print(a) for a in expr.args[k:])
        return f"{name}({yh}; {y})" if k > 1 else f"{name}({yh}, {y})"

    def _print_exp(self, expr):
        return f"e^({self._print(expr.args[0])})"

    def _print_log(self, expr):
        return f"log({self._print(expr.args[0])})"


_PRINTER = TextPrinter()


def text(expr) -> str:
    """One line of readable text for ``expr``."""
    return _PRINTER.doprint(expr)


def partial_text(of: str, wrt: str) -> str:
    """``∂L/∂ŷ``."""
    return f"∂{display_name(of)}/∂{display_name(wrt)}"
