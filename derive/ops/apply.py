"""An activation applied to a whole matrix, ``A = g(Z)``, and its vector-Jacobian rule.

``Apply(g, Z)`` is the matrix program's node for any activation record
(``derive.ops.activations``): entry by entry, or by columns (softmax) or rows
(softmax_rows).  The rule reads the record: an element-wise g pulls G back to
G ⊙ g'(Z), with g' the record's own derivative carried over to matrices as the
lecture writes it, in the layer's output A where it can (σ' = A ⊙ (1 − A),
tanh' = 1 − A²), else in Z (ReLU' = 1[Z ≥ 0], GELU'(Z)).  A record with a
``column_vjp`` (softmax) gives its own pull-back.
"""

from __future__ import annotations

import sympy as sp
from sympy.core.symbol import Str
from sympy.matrices.expressions import MatrixExpr
from sympy.matrices.expressions.special import OneMatrix

from ..errors import ChainruleError
from .activation import ActivationRecord
from .base import Op, stanza
from .record import NetFunctionBase, record_of


class Apply(MatrixExpr):
    """``g(Z)``: the activation ``g`` (a record, its class or its name) applied to ``Z``; same shape as ``Z``."""

    def __new__(cls, function, arg):
        name = function if isinstance(function, Str) else Str(record_of(function).name)
        return super().__new__(cls, name, arg)

    @property
    def function(self) -> str:
        """The activation's name (``sigmoid``)."""
        return self.args[0].name

    @property
    def record(self) -> ActivationRecord:
        return record_of(self.args[0].name)

    @property
    def arg(self):
        return self.args[1]

    @property
    def shape(self):
        return self.args[1].shape


def matrix_derivative(record: ActivationRecord, A, Z):
    """g'(Z) on whole matrices, from the record's own derivative (None where g' = 1)."""
    if record.derivative is None:
        return Apply(record.prime, Z)
    a, z = sp.Dummy("a", commutative=False), sp.Dummy("z", commutative=False)  # keeps the record's order: a(1 − a)
    scalar = record.derivative(a, z)
    if scalar == 1:
        return None
    return on_matrices(scalar, {a: A, z: Z}, A.shape)


def on_matrices(expr, values: dict, shape):
    """A scalar expression in the symbols of ``values`` as the same expression entry by entry on matrices:
    a product is ⊙, a power is an entry-wise power, a number is that number in every entry, a function
    is ``Apply``."""
    if expr in values:
        return values[expr]
    if expr.is_number:
        return OneMatrix(*shape) if expr == 1 else expr * OneMatrix(*shape)
    if expr.is_Add:
        parts = [on_matrices(t, values, shape) for t in expr.args]
        total = parts[0]
        for p in parts[1:]:
            total = total + p
        return total
    if expr.is_Mul:
        coefficient, rest = expr.as_coeff_Mul()
        factors = [on_matrices(f, values, shape) for f in sp.Mul.make_args(rest)]
        body = factors[0] if len(factors) == 1 else sp.HadamardProduct(*factors)
        return body if coefficient == 1 else coefficient * body
    if expr.is_Pow and expr.exp.is_Integer:
        return sp.HadamardPower(on_matrices(expr.base, values, shape), expr.exp)
    if isinstance(expr, NetFunctionBase) and len(expr.args) == 1:
        return Apply(type(expr), on_matrices(expr.args[0], values, shape))
    raise TypeError(f"no matrix form for {expr}")


def adjoint(record, G, A, Z):
    """The adjoint of ``Z`` given the adjoint ``G`` of ``A = g(Z)`` (``record`` or its name)."""
    record = record_of(record)
    if record.column_vjp is not None:
        return record.column_vjp(G, A, Z)
    d = matrix_derivative(record, A, Z)
    return G if d is None else sp.HadamardProduct(G, d)


def _apply_vjp(expr, G, ctx):
    record = expr.record
    if record.helper:
        return []  # a derivative (step: 0 almost everywhere): nothing flows back through it
    A = ctx.name_of(expr)
    return [(expr.arg, adjoint(record, G, A, expr.arg), f"activation:{record.name}")]


def _apply_jvp(expr, d, ctx):
    """``R{g(Z)} = g'(Z) ⊙ R{Z}``: the Jacobian of an entry-wise g is diagonal, and a column's (or a row's)
    softmax Jacobian diag(a) − a aᵀ is symmetric, so the tangent is pushed by the adjoint's own rule."""
    record = expr.record
    dZ = d(expr.arg)
    if dZ is None:
        return None
    if record.helper:  # a derivative g' itself: it moves by g''
        if record.prime is not None:  # g'' with a NumPy form of its own (GELU''): R{g'(Z)} = R{Z} ⊙ g''(Z)
            return sp.HadamardProduct(dZ, Apply(record.prime, expr.arg))
        a, z = sp.Dummy("a"), sp.Dummy("z")
        if record.derivative is not None and _is_zero(record.derivative(a, z), z):
            return None  # piecewise constant (step, LeakyReLU'): 0 almost everywhere
        raise ChainruleError(
            f"the R-operator needs {record.name}' (the derivative of {record.name}) on matrices, and the record"
            f" of {record.name.rstrip(chr(39))} gives no NumPy form for it (second_numpy)"
        )
    return adjoint(record, dZ, ctx.name_of(expr), expr.arg)


def _is_zero(expr, z) -> bool:
    """``expr`` is 0 for every z: a few points first (simplifying GELU'' to learn it is not 0 took minutes)."""
    expr = sp.sympify(expr)
    for v in (-1.3, 0.4, 2.1):
        value = expr.subs(z, v).evalf()
        if value.free_symbols or value != 0:
            return sp.simplify(expr) == 0 if value.free_symbols else False
    return sp.simplify(expr) == 0


def _text(printer, expr):
    rec, arg = expr.record, printer._print(expr.arg)
    return f"1[{arg} ≥ 0]" if rec.form == "indicator" else f"{rec.text}({arg})"


def _latex(printer, expr):
    rec, arg = expr.record, printer._print(expr.arg)
    if rec.is_identity:
        return arg
    if rec.form == "indicator":
        return rf"{rec.latex}[{arg} \geq 0]"
    return rf"{rec.latex}({arg})"


def _numpy(printer, expr):
    return printer.use(expr.record.numpy_matrix.format(printer._print(expr.arg)))


APPLY = stanza(
    Op(
        "activation",
        Apply,
        _apply_vjp,
        {"activation": "element-wise: G pulls back to G ⊙ g'(Z)"},
        {"activation": r"entry by entry: $G$ pulls back to $G \odot g'(Z)$"},
        text=_text,
        latex=_latex,
        numpy=_numpy,
        jvp=_apply_jvp,
    )
)
