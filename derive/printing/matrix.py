"""Matrix expressions of the vectorised derivation, and how they read as text.

Quantities are SymPy ``MatrixSymbol``s with symbolic shapes (``W1: n1×n0``,
``X: n0×m``), so deriving a layer costs the same whatever its width.  Two
things SymPy has no class for get one here:

* ``Apply(g, Z)``: an activation applied entry by entry (softmax: column by
  column); ``Apply("step", Z)`` is the ReLU derivative ``1[Z ≥ 0]``;
* ``LossSum(ℓ, A, Y)``: the per-example loss summed over the m columns
  (a 1×1 quantity; the cost is ``J = (1/m) LossSum``).

Broadcasting is written as products with ``OneMatrix``: ``b 1ᵀ`` (``OneMatrix(1, m)``)
adds a column to every example, ``G 1`` (``OneMatrix(m, 1)``) sums the columns
and ``1 1ᵀ H`` (``OneMatrix(n, n)``) sums each column and repeats it.  The
printer writes them as the lecture does: ``b1``, ``Σ_columns G`` and
``Σ_rows H``.
"""

from __future__ import annotations

import re

import sympy as sp
from sympy.matrices.expressions.special import OneMatrix
from sympy.printing.str import StrPrinter

from ..ops.apply import Apply
from ..ops.loss_sum import LossSum
from ..ops.nodes import FrobeniusSq
from .text import GREEK, short_float

__all__ = [
    "GREEK",
    "Apply",
    "FrobeniusSq",
    "LossSum",
    "MatrixTextPrinter",
    "SumDepth",
    "is_broadcast",
    "is_negative",
    "matrix_text",
    "ones",
]


def ones(rows, cols) -> OneMatrix:
    return OneMatrix(rows, cols)


# ------------------------------------------------------------------ text
_ADD, _HADAMARD, _MATMUL, _ATOM = 1, 2, 3, 4
_SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")


def level(expr) -> int:
    if isinstance(expr, sp.MatAdd):
        return _ADD
    if isinstance(expr, sp.HadamardProduct):
        return _ATOM if untransposed(expr) is not None else _HADAMARD
    if isinstance(expr, sp.MatMul):
        scalar, factors = expr.as_coeff_matrices()
        if scalar == -1 or (len(factors) == 1 and scalar == 1):
            return _HADAMARD if scalar == -1 else level(factors[0])
        return _MATMUL
    if isinstance(expr, sp.HadamardPower) and expr.exp.is_negative:
        return _HADAMARD
    return _ATOM


class SumDepth:
    """A printer that writes a broadcast differently inside a sum (``b`` in ``W A + b``, ``b 1ᵀ`` alone):
    ``_in_sum`` counts the sums being printed; ``_sum`` prints one."""

    _in_sum = 0

    def _print_MatAdd(self, expr):
        self._in_sum += 1
        try:
            return self._sum(expr)
        finally:
            self._in_sum -= 1


class MatrixTextPrinter(SumDepth, StrPrinter):
    """``dW2 = (1/m) dZ2 A1ᵀ``, ``dZ1 = dA1 ⊙ (1 − A1²)``: matrices as the lecture writes them.

    Juxtaposition is the matrix product, ``⊙`` the element-wise product, ``/``
    element-wise division; a matrix product binds tighter than ``⊙``.
    """

    def _paren(self, expr, above: int) -> str:
        out = self._print(expr)
        return f"({out})" if level(expr) <= above else out

    def _print_MatrixSymbol(self, expr):
        return expr.name

    def _print_Float(self, expr):
        return short_float(expr)

    def _print_Symbol(self, expr):
        return expr.name

    def _print_OneMatrix(self, expr):
        return "1"

    def _print_Transpose(self, expr):
        return f"{self._paren(expr.arg, _MATMUL)}ᵀ"

    def _sum(self, expr):
        out = []
        # a positive term leads; a broadcast bias (b 1ᵀ) comes last, as in W A + b
        terms = sorted(expr.args, key=lambda t: (is_negative(t), is_broadcast(t) or is_constant(t)))
        for i, term in enumerate(terms):
            if is_negative(term):
                body = self._paren(-term, _ADD)
                out.append(f"−{body}" if i == 0 else f" − {body}")
            else:
                body = self._print(term)
                out.append(body if i == 0 else f" + {body}")
        return "".join(out)

    def _print_MatMul(self, expr):
        scalar, factors = expr.as_coeff_matrices()
        factors = list(factors)
        prefix = ""
        if scalar.is_Add:  # (1 − ε) Y
            prefix = f"({_product_text(scalar).replace(' - ', ' − ')}) "
        elif scalar == -1:
            prefix = "−"
        elif scalar.could_extract_minus_sign():
            prefix = f"−{_scalar_text(-scalar)} "
        elif scalar != 1:
            prefix = f"{_scalar_text(scalar)} "
        if len(factors) == 1 and isinstance(factors[0], OneMatrix):  # c 1: the number c in every entry
            if scalar == -1:
                return "−1"
            text = _scalar_text(scalar)
            return text[1:-1] if text.startswith("(") and text.endswith(")") and "/" in text else text
        # broadcasting: b 1ᵀ -> b (in a sum; else b 1ᵀ) ; G 1 -> Σ_columns G ; 1 1ᵀ H -> Σ_rows H
        if len(factors) >= 2 and isinstance(factors[-1], OneMatrix) and factors[-1].shape[0] != 1:
            inner = sp.MatMul(*factors[:-1]) if len(factors) > 2 else factors[0]
            if factors[-1].shape[1] != 1:  # G 1 1ᵀ: each row's sum, repeated in every column
                if self._in_sum:
                    return f"{prefix}Σ_columns {self._paren(inner, _HADAMARD)}"
                return f"{prefix}(Σ_columns {self._paren(inner, _HADAMARD)}) 1ᵀ"
            return f"{prefix}Σ_columns {self._paren(inner, _HADAMARD)}"
        if len(factors) >= 2 and isinstance(factors[-1], OneMatrix) and factors[-1].shape[0] == 1:
            if not self._in_sum:  # alone, the broadcast is written out
                inner = sp.MatMul(*factors[:-1]) if len(factors) > 2 else factors[0]
                return f"{prefix}{self._paren(inner, _HADAMARD)} 1ᵀ"
            factors = factors[:-1]
        if len(factors) >= 2 and isinstance(factors[0], OneMatrix):
            inner = sp.MatMul(*factors[1:]) if len(factors) > 2 else factors[1]
            if factors[0].shape[1] == 1:  # 1 G: the row G repeated in every row
                return f"{prefix}1 {self._paren(inner, _HADAMARD)}"
            return f"{prefix}Σ_rows({self._print(inner)})"
        if len(factors) == 1:  # a scaled or negated term: only a sum needs brackets
            return prefix + self._paren(factors[0], _ADD)
        return prefix + " ".join(self._paren(f, _HADAMARD) for f in factors)

    def _print_HadamardProduct(self, expr):
        if untransposed(expr) is not None:
            return self._print(sp.Transpose(untransposed(expr)))  # (h ⊙ r)ᵀ, not hᵀ ⊙ rᵀ
        num, den = [], []
        for f in adjoint_first(map(unbroadcast, expr.args)):  # ⊙ broadcasts a column or a row, as NumPy does
            if isinstance(f, sp.HadamardPower) and f.exp == -1:
                den.append(f.base)
            elif isinstance(f, sp.HadamardPower) and f.exp == sp.Rational(-1, 2):
                den.append(sp.HadamardPower(f.base, sp.Rational(1, 2)))
            else:
                num.append(f)
        top = " ⊙ ".join(self._factor(f, len(num) > 1) for f in num) or "1"
        if not den:
            return top
        if len(num) > 1:
            top = f"({top})"
        bottom = " ⊙ ".join(self._paren(f, _ADD) for f in den)
        return f"{top}/{bottom if len(den) == 1 else '(' + bottom + ')'}"

    def _factor(self, f, several: bool) -> str:
        nested = isinstance(f, sp.HadamardProduct) and not any(
            isinstance(g, sp.HadamardPower) and g.exp < 0 for g in f.args
        )
        return self._paren(f, _ADD if nested or not several else _HADAMARD)

    def _print_HadamardPower(self, expr):
        base = unbroadcast(expr.base)
        if expr.exp == -1:
            return f"1/{self._paren(base, _MATMUL)}"
        if expr.exp == sp.Rational(-1, 2):
            return f"1/√({self._print(base)})" if level(base) <= _MATMUL else f"1/√{self._print(base)}"
        if expr.exp == sp.Rational(1, 2):
            return f"√({self._print(base)})" if level(base) <= _MATMUL else f"√{self._print(base)}"
        if not expr.exp.is_Integer:
            return f"{self._paren(base, _MATMUL)}^({str(expr.exp).replace('-', '−')})"
        return f"{self._paren(expr.base, _MATMUL)}{str(expr.exp).translate(_SUPERSCRIPT)}"


def untransposed(expr):
    """``A ⊙ B`` for ``Aᵀ ⊙ Bᵀ`` (a product SymPy transposed factor by factor, printed ``(A ⊙ B)ᵀ``), else None."""
    if len(expr.args) > 1 and all(isinstance(f, sp.Transpose) for f in expr.args):
        return sp.HadamardProduct(*(f.arg for f in expr.args))
    return None


def is_negative(term) -> bool:
    """A term with a negative numeric coefficient (printed after a minus sign)."""
    if isinstance(term, sp.MatMul):
        scalar, _ = term.as_coeff_matrices()
        return bool(scalar.is_number and scalar < 0)
    return False


def is_constant(term) -> bool:
    """``c 1``: the number c in every entry (ε in ``σ² + ε``)."""
    if isinstance(term, OneMatrix):
        return True
    if isinstance(term, sp.MatMul):
        _, factors = term.as_coeff_matrices()
        return len(factors) == 1 and isinstance(factors[0], OneMatrix)
    return False


def is_row_broadcast(term) -> bool:
    """``1 r``: a row in every row."""
    if not isinstance(term, sp.MatMul):
        return False
    _, factors = term.as_coeff_matrices()
    return len(factors) == 2 and isinstance(factors[0], OneMatrix) and factors[0].shape[1] == 1


def adjoint_first(factors) -> list:
    """The factors of ⊙ with an adjoint (dQ) first, as the lecture writes dZ = dA ⊙ g'(Z); otherwise as given."""
    factors = list(factors)
    return sorted(factors, key=lambda f: not (isinstance(f, sp.MatrixSymbol) and _is_adjoint_name(f.name)))


def _is_adjoint_name(name: str) -> bool:
    return len(name) > 1 and name[0] == "d" and not name[1].islower()


def unbroadcast(term):
    """``x`` for a broadcast ``x 1ᵀ`` (a column in every column) or ``1 x`` (a row in every row), else ``term``.

    Inside ⊙ and entry-wise powers the broadcast is implicit, as in NumPy and as the lecture writes γ ⊙ Ẑ.
    """
    if isinstance(term, sp.MatMul):
        scalar, factors = term.as_coeff_matrices()
        if len(factors) >= 2 and isinstance(factors[-1], OneMatrix) and factors[-1].shape[0] == 1:
            inner = sp.MatMul(*factors[:-1]) if len(factors) > 2 else factors[0]
        elif len(factors) == 2 and isinstance(factors[0], OneMatrix) and factors[0].shape[1] == 1:
            inner = factors[1]
        else:
            return term
        return inner if scalar == 1 else sp.MatMul(scalar, inner)
    return term


def pull_scalars(expr):
    """Scalar coefficients moved out of element-wise products: ``(c A) ⊙ B`` is ``c (A ⊙ B)``."""
    if not isinstance(expr, sp.MatrixExpr) or expr.is_Atom:
        return expr
    args = [pull_scalars(a) for a in expr.args]
    if isinstance(expr, sp.HadamardProduct):
        scalar, rest = sp.S.One, []
        for a in args:
            c, r = split_scalar(a)
            if c is not None and c != 1 and not isinstance(r, OneMatrix):
                scalar, a = scalar * c, r
            rest.append(a)
        product = sp.HadamardProduct(*rest)
        return product if scalar == 1 else sp.MatMul(scalar, product).doit()
    if isinstance(expr, (sp.MatMul, sp.MatAdd)):
        return type(expr)(*args).doit()
    return expr.func(*args)


def split_scalar(term):
    if isinstance(term, sp.MatMul):
        scalar, factors = term.as_coeff_matrices()
        rest = sp.MatMul(*factors) if len(factors) > 1 else factors[0]
        return scalar, rest
    return None, term


def is_broadcast(term) -> bool:
    """``b 1ᵀ``: a column added to every column."""
    return isinstance(term, sp.MatMul) and isinstance(term.args[-1], OneMatrix) and term.args[-1].shape[0] == 1


def _scalar_text(scalar) -> str:
    num, den = sp.fraction(scalar)
    num_text, den_text = _product_text(num), _product_text(den)
    if den == 1:
        return num_text
    root = den.is_Pow and den.exp == sp.S.Half and den.base.is_Atom  # 1/√d of attention's scores
    return f"({num_text}/{den_text if den.is_Atom or root else '(' + den_text + ')'})"


class _ScalarPrinter(StrPrinter):
    def _print_Float(self, expr):
        return short_float(expr)


def _product_text(x) -> str:
    """``2m``, ``λ``: a scalar coefficient with constants in their lecture letters."""
    text = _ScalarPrinter().doprint(
        x.xreplace({s: sp.Symbol(GREEK[s.name]) for s in x.free_symbols if s.name in GREEK})
    )
    text = re.sub(r"(\w+)\*(?=(\w+))", lambda f: f[1] + ("" if f[1].isdigit() or len(f[1] + f[2]) == 2 else " "), text)
    text = text.replace("*", "")
    return re.sub(r"sqrt\((\w+)\)", r"√\1", text)


def matrix_text(expr) -> str:
    """One line of text for a matrix expression."""
    return MatrixTextPrinter().doprint(expr)


def sum_text(terms, texts=None) -> str:
    """``a + b − c``: terms in the given order (a sum over uses reads in the order of the uses)."""
    printer = MatrixTextPrinter()
    out = []
    for i, term in enumerate(terms):
        given = texts[i] if texts else None
        negative = given is None and is_negative(term)
        body = given or (printer._paren(-term, _ADD) if negative else printer._print(term))
        if given and body.startswith("−"):
            negative, body = True, body[1:]
        out.append(("−" if negative else "") + body if i == 0 else (" − " if negative else " + ") + body)
    return "".join(out)


from ..ops import install_printers

install_printers(MatrixTextPrinter, "text")
