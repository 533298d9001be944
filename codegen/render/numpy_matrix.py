"""NumPy code for the layer-level program's matrix expressions (any op of ``derive.ops``).

``MatrixCodePrinter`` prints one matrix expression as a NumPy expression: the
product as ``@`` (a scalar coefficient as ``*``), ``⊙`` as ``*``, ``Qᵀ`` as
``Q.T``, a broadcast column ``b 1ᵀ`` as ``b`` (NumPy broadcasts it),
``Σ_columns G`` as ``G.sum(axis=1, keepdims=True)`` and ``Σ_rows H`` as
``H.sum(axis=0, keepdims=True)``, an activation by its stable NumPy form.
Ops that carry their own NumPy form in the table (``‖W‖²``) print from it.

With ``positions`` (the symbol m of a sequence model, whose m columns are the positions of one sequence),
the module runs many sequences at once: a quantity with one column (or one row) per position holds those of
every sequence, one sequence after another (T·m columns or rows), and a T×T quantity (attention's scores) is
one matrix per sequence, stacked (sequences × T × T).  A product with a T×T factor or result is then taken
sequence by sequence: ``P V`` prints ``(P @ per_sequence(V, T)).reshape(-1, d)``, ``Q Kᵀ`` prints
``per_sequence(Q, T) @ per_sequence(K, T).transpose(0, 2, 1)`` (NumPy's and JAX's batched matmul), so
no position attends across two sequences.

``code_of`` prints an equation of the derivation the way a generated module
stores it: a module's ``dQ`` for a quantity with one column per example holds
``∂J/∂Q = (1/m) dQ`` (the 1/m applied once, at the output), so every such
adjoint in an expression is written ``m dQ`` and the result divided by m.
"""

from __future__ import annotations

import sympy as sp
from sympy.matrices.expressions.special import OneMatrix

from derive.ops import install_printers
from derive.printing.matrix import (
    SumDepth,
    adjoint_first,
    is_broadcast,
    is_constant,
    is_negative,
    is_row_broadcast,
    pull_scalars,
    split_scalar,
    unbroadcast,
    untransposed,
)

from .numpy_printer import ModulePrinter

_ADD, _MUL, _POW, _ATOM = 1, 2, 3, 4


class MatrixCodePrinter(SumDepth, ModulePrinter):
    """Matrix expressions as NumPy; an activation prints by its record's form (the ``Apply`` stanza's)."""

    def __init__(self, sizes: dict | None = None, settings=None, positions=None):
        super().__init__(settings=settings)
        self.sizes = sizes or {}  # size symbol -> int (m stays the variable m)
        self.positions = positions  # m of a sequence model (see the module docstring), else None
        self._sequences = 0  # products being printed sequence by sequence

    # ---------------------------------------------------- many sequences at once
    def _square(self, expr) -> bool:
        """A T×T quantity of a sequence model: one matrix per sequence."""
        shape = getattr(expr, "shape", None)
        return self.positions is not None and shape is not None and shape[0] == shape[1] == self.positions

    def _per_sequence(self, expr) -> bool:
        return self.positions is not None and (
            self._square(expr) or any(self._square(f) for f in expr.args if isinstance(f, sp.MatrixExpr))
        )

    def _sequence_factor(self, f) -> str:
        """A factor of a product taken sequence by sequence: T×T ones as they are, a quantity with a row (or a
        column) per position viewed as one matrix per sequence."""
        m = self.positions
        inner, transposed = (f.arg, True) if isinstance(f, sp.Transpose) else (f, False)
        if self._square(inner) or m not in (inner.shape[0], inner.shape[1]):
            return self._wrap(f, _MUL)
        rows = self._print(inner) if inner.shape[0] == m else f"{self._wrap(inner, _POW)}.T"
        transposed ^= inner.shape[0] != m  # a column per position: its transpose has the row per position
        out = self.use(f"per_sequence({rows}, T)")
        return f"{out}.transpose(0, 2, 1)" if transposed else out

    def code(self, expr) -> str:
        return self._print(expr)

    def _wrap(self, expr, above: int) -> str:
        out = self._print(expr)
        return f"({out})" if _level(expr) <= above else out

    def _print_MatrixSymbol(self, expr):
        return expr.name

    def _print_OneMatrix(self, expr):
        return "1"

    def _print_Transpose(self, expr):
        if self._square(expr.arg):
            return f"{self._wrap(expr.arg, _POW)}.transpose(0, 2, 1)"  # each sequence's matrix transposed
        return f"{self._wrap(expr.arg, _POW)}.T"

    def _count(self, n) -> str:
        return str(n) if n.is_Integer else (n.name if n.name == "m" else str(self.sizes[n]))

    @staticmethod
    def _ordered(expr) -> list:
        """A sum's terms as printed: a positive term leads (1 - A**2); a broadcast column comes last (W @ A + b)."""
        return sorted(expr.args, key=lambda t: (is_negative(t), is_broadcast(t) or is_constant(t)))

    def accumulate(self, target: str, expr) -> list[str] | None:
        """``target = expr`` for a sum led by a matrix product, as the product, then every other term added into
        it in place (``G1 = Htilde @ W1`` then ``G1 += b1``): the product is a new array, and a ``+`` makes no
        other the size of the result.  None for any other expression."""
        if not isinstance(expr, sp.MatAdd):
            return None
        terms = self._ordered(expr)
        first = next((t for t in terms if self.fresh(t)), None)  # a new array to add the others into
        if first is None:
            return None
        rest = [t for t in terms if t is not first]
        self._in_sum += 1  # a broadcast term prints as in the sum: NumPy broadcasts it against the target
        try:
            lines = [f"{target} = {self._print(first)}"]
            for term in rest:
                scalar, body = split_scalar(term)
                if scalar is not None and scalar.is_number and scalar < 0:
                    lines.append(f"{target} -= {self._term(-scalar, body)}")
                else:
                    lines.append(f"{target} += {self._print(term)}")
        finally:
            self._in_sum -= 1
        return lines

    @staticmethod
    def fresh(term) -> bool:
        """Whether ``term`` prints as a new array of its full shape, which a later ``+=`` may write into: a
        matrix product of at least two matrices (``@``), or an element-wise product with a full-shape quantity
        among its factors (``gamma * Hhat``); with a positive coefficient."""
        if is_negative(term):
            return False
        if isinstance(term, sp.HadamardProduct):
            return any(isinstance(f, sp.MatrixSymbol) and f.shape == term.shape for f in term.args)
        factors = term.as_coeff_matrices()[1] if isinstance(term, sp.MatMul) else []
        return len(factors) >= 2 and not any(isinstance(f, OneMatrix) for f in factors)

    def _sum(self, expr):
        out = []
        for i, term in enumerate(self._ordered(expr)):
            scalar, rest = split_scalar(term)
            if scalar is not None and scalar.is_number and scalar < 0:
                body = self._term(-scalar, rest)
                out.append(f"-{body}" if i == 0 else f" - {body}")
            else:
                body = self._print(term)
                out.append(body if i == 0 else f" + {body}")
        return "".join(out)

    def _term(self, scalar, rest) -> str:
        if scalar == 1:
            return self._wrap(rest, _ADD)
        return self._print(sp.MatMul(scalar, rest) if isinstance(rest, sp.MatrixExpr) else scalar * rest)

    def _print_MatMul(self, expr):
        if not self._per_sequence(expr):
            return self._matmul(expr)
        self._sequences += 1
        try:
            out = self._matmul(expr)
        finally:
            self._sequences -= 1
        if expr.shape[0] == self.positions and not self._square(expr):  # back to a row per position
            return f"({out}).reshape(-1, {self._count(expr.shape[1])})"
        if expr.shape[1] == self.positions and not self._square(expr):  # back to a column per position
            return f"({out}).transpose(1, 0, 2).reshape({self._count(expr.shape[0])}, -1)"
        if self.positions not in expr.shape:  # no position left (Xᵀ P X, a weight's gradient): summed over sequences
            return f"({out}).sum(axis=0)"
        return out

    def _matmul(self, expr):
        scalar, factors = expr.as_coeff_matrices()
        factors = list(factors)
        if scalar != 1 and len(factors) == 1 and isinstance(factors[0], sp.HadamardProduct):
            # c (v ⊙ Q) with v a broadcast column or row: c v costs n operations, not n × m
            args = list(factors[0].args)
            small = next((i for i, f in enumerate(args) if is_broadcast(f) or is_row_broadcast(f)), None)
            if small is not None:
                args[small] = _scaled_broadcast(scalar, args[small])
                return self._print(sp.HadamardProduct(*args))
        body = self._product(factors)
        if scalar == 1:
            return body
        coefficient = self._scalar(scalar)
        if body == "1":
            return coefficient
        if scalar == -1:
            return f"-{body}"
        return f"{coefficient} * {body}"

    def _product(self, factors) -> str:
        if factors and isinstance(factors[-1], OneMatrix) and factors[-1].shape[0] != 1 and len(factors) > 1:
            inner = sp.MatMul(*factors[:-1]) if len(factors) > 2 else factors[0]
            axis = -1 if self._square(inner) else 1
            total = f"{self._wrap(inner, _POW)}.sum(axis={axis}, keepdims=True)"  # Σ_columns
            if factors[-1].shape[1] != 1 and not self._in_sum:  # G 1 1ᵀ alone: repeated in every column
                return f"np.repeat({total}, {self._count(factors[-1].shape[1])}, axis=1)"
            return total
        if factors and isinstance(factors[-1], OneMatrix) and factors[-1].shape[0] == 1 and len(factors) > 1:
            if not self._in_sum:  # alone, the broadcast column is repeated
                inner = sp.MatMul(*factors[:-1]) if len(factors) > 2 else factors[0]
                return f"np.repeat({self._print(inner)}, {self._count(factors[-1].shape[1])}, axis=1)"
            factors = factors[:-1]  # b 1ᵀ in a sum: NumPy broadcasts the column
        if len(factors) > 1 and isinstance(factors[0], OneMatrix):
            inner = sp.MatMul(*factors[1:]) if len(factors) > 2 else factors[1]
            rows = factors[0].shape[0]
            if factors[0].shape[1] == 1:  # 1 G: the row G repeated in every row
                return (
                    self._print(inner)
                    if self._in_sum
                    else f"np.repeat({self._print(inner)}, {self._count(rows)}, axis=0)"
                )
            axis = -2 if self._square(inner) else 0
            total = f"{self._wrap(inner, _POW)}.sum(axis={axis}, keepdims=True)"  # Σ_rows
            return total if rows == 1 or self._in_sum else f"np.repeat({total}, {self._count(rows)}, axis=0)"
        if len(factors) == 1:
            return self._wrap(factors[0], _MUL) if not isinstance(factors[0], OneMatrix) else "1"
        if self._sequences:
            return " @ ".join(self._sequence_factor(f) for f in factors)
        return " @ ".join(  # a ones matrix inside a product (G 1 1ᵀ Xᵀ of rowsum's adjoint): np.ones, not 1
            f"np.ones(({self._count(f.shape[0])}, {self._count(f.shape[1])}))"
            if isinstance(f, OneMatrix)
            else self._wrap(f, _MUL)
            for f in factors
        )

    def _scalar(self, scalar) -> str:
        scalar = sp.sympify(scalar)
        roots = {
            p: (sp.Symbol(f"{self.sizes[p.base]}**0.5") ** (2 * p.exp))
            for p in scalar.atoms(sp.Pow)
            if abs(p.exp) == sp.S.Half and p.base in self.sizes
        }  # 1/√d (attention's scale) as 1 / 32**0.5, not SymPy's sqrt(2)/8: a Python float, which keeps a float32
        # array float32 (NumPy's np.sqrt(32) is a float64 scalar: it would make the product float64)
        scalar = scalar.xreplace(roots).xreplace(self.sizes)  # a declared size used as a number: its value
        num, den = sp.fraction(sp.factor_terms(scalar))
        top = str(num).replace("**", "^").replace("*", " * ").replace("^", "**")
        if den == 1:
            return top if num.is_Atom else f"({top})"
        bottom = str(den).replace("**", "^").replace("*", " * ").replace("^", "**")
        return f"({top} / {bottom if den.is_Atom else '(' + bottom + ')'})"

    def _print_HadamardProduct(self, expr):
        if untransposed(expr) is not None:
            return self._print(sp.Transpose(untransposed(expr)))  # (h_prev * r).T
        if all(is_broadcast(f) or is_row_broadcast(f) for f in expr.args):
            return " * ".join(self._wrap(f, _MUL) for f in expr.args)
        self._in_sum += 1  # a full-shape factor is there: NumPy broadcasts a column or a row against it
        try:
            num, den = [], []
            for f in adjoint_first(map(unbroadcast, expr.args)):
                if isinstance(f, sp.HadamardPower) and f.exp == -1:
                    den.append(self._wrap(f.base, _MUL))
                elif isinstance(f, sp.HadamardPower) and f.exp == sp.Rational(-1, 2):
                    den.append(f"np.sqrt({self._print(f.base)})")
                else:
                    num.append(self._wrap(f, _MUL))
            top = " * ".join(num) or "1"
            if not den:
                return top
            return f"{top} / {den[0] if len(den) == 1 else '(' + ' * '.join(den) + ')'}"
        finally:
            self._in_sum -= 1

    def _print_HadamardPower(self, expr):
        if expr.exp == -1:
            return f"1 / {self._wrap(expr.base, _MUL)}"
        if expr.exp == sp.Rational(-1, 2):
            return f"1 / np.sqrt({self._print(expr.base)})"
        if expr.exp == sp.Rational(1, 2):
            return f"np.sqrt({self._print(expr.base)})"
        if not expr.exp.is_Integer:
            return f"{self._wrap(expr.base, _POW)}**({float(expr.exp)!r})"
        return f"{self._wrap(expr.base, _POW)}**{expr.exp}"


install_printers(MatrixCodePrinter, "numpy")


def _scaled_broadcast(scalar, term):
    """``c (v 1ᵀ)`` as ``(c v) 1ᵀ`` (and ``c (1 r)`` as ``1 (c r)``)."""
    _, factors = term.as_coeff_matrices()
    coefficient = term.as_coeff_matrices()[0] * scalar
    if isinstance(factors[-1], OneMatrix) and factors[-1].shape[0] == 1:
        inner = sp.MatMul(*factors[:-1]) if len(factors) > 2 else factors[0]
        return sp.MatMul(sp.MatMul(coefficient, inner), factors[-1])
    inner = sp.MatMul(*factors[1:]) if len(factors) > 2 else factors[1]
    return sp.MatMul(factors[0], sp.MatMul(coefficient, inner))


def _level(expr) -> int:
    if isinstance(expr, sp.MatAdd):
        return _ADD
    if isinstance(expr, sp.HadamardProduct) and untransposed(expr) is not None:
        return _ATOM  # (a * b).T
    if isinstance(expr, (sp.HadamardProduct, sp.MatMul)):
        scalar, factors = expr.as_coeff_matrices() if isinstance(expr, sp.MatMul) else (1, expr.args)
        if isinstance(expr, sp.MatMul) and len(factors) == 1 and scalar == 1:
            return _level(factors[0])
        if isinstance(expr, sp.MatMul) and factors and isinstance(factors[-1], OneMatrix) and factors[-1].shape[0] != 1:
            return _ATOM  # X.sum(...)
        return _MUL
    if isinstance(expr, sp.HadamardPower):
        return _MUL if expr.exp == -1 else _POW
    return _ATOM


def code_of(expr, target_scale, adjoint_scales: dict[str, sp.Expr]):
    """``expr`` as a module computes it: each m-column adjoint dQ stands for m·dQ; divided by the target's scale.

    ``adjoint_scales`` maps an adjoint's name (``dZ1``) to m or 1.
    """
    if isinstance(expr, sp.MatAdd) and target_scale != 1:
        # term by term: a term with no adjoint in it (a penalty's 2mλ A1 beside W2ᵀ dZ2) is divided by the scale
        terms = [code_of(term, target_scale, adjoint_scales) for term in expr.args]
        return sp.MatAdd(*[a for t in terms for a in (t.args if isinstance(t, sp.MatAdd) else (t,))])
    scaled = {s for s in expr.atoms(sp.MatrixSymbol) if adjoint_scales.get(s.name, 1) != 1}
    if scaled and all(adjoint_scales[s.name] == target_scale for s in scaled):
        return _distribute(pull_scalars(expr))  # linear in adjoints of the target's own scale: nothing to convert
    subs = {s: adjoint_scales[s.name] * s for s in scaled}
    out = expr.xreplace(subs)
    if target_scale != 1:
        out = sp.MatMul(1 / target_scale, out)
    return _distribute(pull_scalars(out.doit()))


def _distribute(expr):
    """``c (A + B)`` as ``c A + c B``, so each term keeps its own coefficient."""
    if isinstance(expr, sp.MatMul):
        scalar, factors = expr.as_coeff_matrices()
        if len(factors) == 1 and isinstance(factors[0], sp.MatAdd):
            return sp.MatAdd(*[_distribute(sp.MatMul(scalar, t).doit()) for t in factors[0].args]).doit()
    return expr
