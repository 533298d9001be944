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

import sympy as sp
from sympy.core.symbol import Str
from sympy.matrices.expressions import MatrixExpr
from sympy.matrices.expressions.special import OneMatrix
from sympy.printing.str import StrPrinter


def _str(name: str | Str) -> Str:
    """A name as a SymPy ``Str`` (also when SymPy rebuilds an expression from its args)."""
    return name if isinstance(name, Str) else Str(name)


class Apply(MatrixExpr):
    """``g(Z)``: activation ``g`` (by name) applied to ``Z``; same shape as ``Z``."""

    def __new__(cls, function: str | Str, arg):
        return super().__new__(cls, _str(function), arg)

    @property
    def function(self) -> str:
        return self.args[0].name

    @property
    def arg(self):
        return self.args[1]

    @property
    def shape(self):
        return self.args[1].shape


class LossSum(MatrixExpr):
    """``Σ over examples of ℓ(A[:, i], Y[:, i])``: a 1×1 quantity."""

    def __new__(cls, loss: str | Str, output, target):
        return super().__new__(cls, _str(loss), output, target)

    @property
    def loss(self) -> str:
        return self.args[0].name

    @property
    def shape(self):
        return (sp.S.One, sp.S.One)


def ones(rows, cols) -> OneMatrix:
    return OneMatrix(rows, cols)


# ------------------------------------------------------------------ text
_ADD, _HADAMARD, _MATMUL, _ATOM = 1, 2, 3, 4
_SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")
_FUNCTION_TEXT = {"sigmoid": "σ", "tanh": "tanh", "relu": "ReLU", "softmax": "softmax", "identity": "identity"}


def level(expr) -> int:
    if isinstance(expr, sp.MatAdd):
        return _ADD
    if isinstance(expr, sp.HadamardProduct):
        return _HADAMARD
    if isinstance(expr, sp.MatMul):
        scalar, factors = expr.as_coeff_matrices()
        if scalar == -1 or (len(factors) == 1 and scalar == 1):
            return _HADAMARD if scalar == -1 else level(factors[0])
        return _MATMUL
    if isinstance(expr, sp.HadamardPower) and expr.exp.is_negative:
        return _HADAMARD
    return _ATOM


class MatrixTextPrinter(StrPrinter):
    """``dW2 = (1/m) dZ2 A1ᵀ``, ``dZ1 = dA1 ⊙ (1 − A1²)``: matrices as the lecture writes them.

    Juxtaposition is the matrix product, ``⊙`` the element-wise product, ``/``
    element-wise division; a matrix product binds tighter than ``⊙``.
    """

    def _paren(self, expr, above: int) -> str:
        out = self._print(expr)
        return f"({out})" if level(expr) <= above else out

    def _print_MatrixSymbol(self, expr):
        return expr.name

    def _print_Symbol(self, expr):
        return expr.name

    def _print_OneMatrix(self, expr):
        return "1"

    def _print_Transpose(self, expr):
        return f"{self._paren(expr.arg, _MATMUL)}ᵀ"

    def _print_MatAdd(self, expr):
        out = []
        terms = sorted(expr.args, key=lambda t: _is_negative(t))  # a positive term leads
        for i, term in enumerate(terms):
            if _is_negative(term):
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
        if scalar == -1:
            prefix = "−"
        elif scalar != 1:
            prefix = f"{_scalar_text(scalar)} "
        # broadcasting: b 1ᵀ -> b ; G 1 -> Σ_columns G ; 1 1ᵀ H -> Σ_rows H
        if len(factors) >= 2 and isinstance(factors[-1], OneMatrix) and factors[-1].shape[0] != 1:
            inner = sp.MatMul(*factors[:-1]) if len(factors) > 2 else factors[0]
            return f"{prefix}Σ_columns {self._paren(inner, _HADAMARD)}"
        if len(factors) >= 2 and isinstance(factors[-1], OneMatrix) and factors[-1].shape[0] == 1:
            factors = factors[:-1]
        if len(factors) >= 2 and isinstance(factors[0], OneMatrix):
            inner = sp.MatMul(*factors[1:]) if len(factors) > 2 else factors[1]
            return f"{prefix}Σ_rows({self._print(inner)})"
        if len(factors) == 1:  # a scaled or negated term: only a sum needs brackets
            return prefix + self._paren(factors[0], _ADD)
        return prefix + " ".join(self._paren(f, _HADAMARD) for f in factors)

    def _print_HadamardProduct(self, expr):
        num, den = [], []
        for f in expr.args:
            if isinstance(f, sp.HadamardPower) and f.exp == -1:
                den.append(f.base)
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
        if expr.exp == -1:
            return f"1/{self._paren(expr.base, _MATMUL)}"
        return f"{self._paren(expr.base, _MATMUL)}{str(expr.exp).translate(_SUPERSCRIPT)}"

    def _print_Apply(self, expr):
        if expr.function == "step":
            return f"1[{self._print(expr.arg)} ≥ 0]"
        return f"{_FUNCTION_TEXT.get(expr.function, expr.function)}({self._print(expr.arg)})"

    def _print_LossSum(self, expr):
        return f"Σ_columns {expr.loss}({self._print(expr.args[1])}, {self._print(expr.args[2])})"


def _is_negative(term) -> bool:
    if isinstance(term, sp.MatMul):
        scalar, _ = term.as_coeff_matrices()
        return bool(scalar.is_number and scalar < 0)
    return False


def _scalar_text(scalar) -> str:
    num, den = sp.fraction(scalar)
    if den == 1:
        return str(num)
    return f"({num}/{den})"


def matrix_text(expr) -> str:
    """One line of text for a matrix expression."""
    return MatrixTextPrinter().doprint(expr)
