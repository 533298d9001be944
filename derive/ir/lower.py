"""Lower a layer declaration's SymPy expression onto the matrix program, checking shapes.

A declaration is written over non-commutative symbols (``W1*X + b1``,
``sigmoid(Z1)``, ``hadamard(A1, D1)``, ``lam/(2*m) * frobenius_sq(W1)``).
Lowering turns it into SymPy matrix expressions over ``MatrixSymbol``s with
symbolic shapes: a product is a ``MatMul`` (scalars become its coefficient), a
column added to a matrix is broadcast (``b 1ᵀ``), a scalar added to a matrix
is a multiple of the ones matrix (``1 − A``), a loss of matrices is the batch
cost ``(1/m) Σ_columns L``.  Every mismatch raises one ``DeclarationError``
naming the assignment and both shapes.
"""

from __future__ import annotations

import itertools

import sympy as sp
from sympy.core.function import AppliedUndef
from sympy.matrices.expressions.special import OneMatrix

from ..errors import DeclarationError
from ..functions import lecture_function
from ..ops import ACTIVATIONS, Apply, LossSum, find
from ..ops.activations.softmax import Softmax
from ..ops.activations.softmax_rows import SoftmaxRows
from ..ops.attention_nodes import Causal, RowSum
from ..ops.nodes import FrobeniusSq, L1Norm
from ..ops.text_nodes import Concat, Dots, Embed, PoolMax, PoolMean
from .vocabulary import (
    AvgPoolOf,
    CausalMaskOf,
    ConcatOf,
    Conv2dOf,
    DotsOf,
    EmbedOf,
    FrobeniusSqOf,
    Hadamard,
    L1NormOf,
    MaxColumns,
    MaxPoolOf,
    MaxRows,
    MeanColumns,
    MeanOf,
    MeanRows,
    PoolMaxOf,
    PoolMeanOf,
    PowerOf,
    RowSumOf,
    SumColumns,
    SumOf,
    SumRows,
    TransposeOf,
)
from .written_out import log_losses


def shape_text(shape) -> str:
    rows, cols = (f"({d})" if isinstance(d, sp.Add) else str(d) for d in shape)  # (K + 1)×m
    return f"{rows}×{cols}".replace("*", "·")


def is_matrix(x) -> bool:
    return isinstance(x, sp.MatrixExpr)


class Lowering:
    """Lowers the value of assignment ``name`` (declared at ``where``) of network ``net``."""

    def __init__(self, net, name: str, where: str | None):
        self.net, self.name, self.where = net, name, where
        self.whole = None

    def fail(self, problem: str):
        raise DeclarationError(problem, self.where)

    @property
    def place(self) -> str:
        return "the cost" if self.name == "the cost" else f"'{self.name} = {self.whole}'"

    def mismatch(self, detail: str):
        self.fail(f"shape mismatch in {self.place}: {detail}")

    def __call__(self, e):
        if self.whole is None:
            self.whole = _source(e)
            try:
                return self.lower(e)
            finally:
                self.whole = None
        return self.lower(e)

    def lower(self, e):
        if isinstance(e, (tuple, list)) and len(e) == 1:
            e = e[0]
        if isinstance(e, sp.Symbol):
            return self.symbol(e)
        if e.is_number:
            return _as_written(e)
        spelled = _spelled(e)  # sp.tanh(Z), 1/(1 + np.exp(-Z)), softmax written out: as a lecturer reads them
        if spelled is not None:
            return self.lower(spelled)
        if isinstance(e, sp.Mul) and (paired := _spelled_pair(e)) is not None:  # w2 exp(Z) (1 + exp(Z))⁻¹
            return self.lower(paired)
        if isinstance(e, sp.Add):
            return self.add([self(t) for t in e.args], e)
        if isinstance(e, sp.Mul):
            return self.mul([self(f) for f in e.args], e)
        if isinstance(e, sp.Pow):
            base, exp = self(e.base), e.exp
            if isinstance(exp, sp.Expr) and not exp.is_number and is_matrix(self(exp)):
                self.fail(f"'{_source(e)}' in '{self.name}' has a matrix as an exponent; only a number may be")
            if is_matrix(base):
                self.fail(
                    f"'{_source(e)}' in '{self.name}' raises a matrix to a power; write power(Q, p) for Q^p entry by entry"
                )
            return base**exp
        if isinstance(e, sp.Function):
            return self.function(e)
        self.fail(f"'{_source(e)}' in '{self.name}' is not an op of the table ({type(e).__name__})")

    # ------------------------------------------------------------- leaves
    def symbol(self, s):
        net = self.net
        if s == net.m or s in net.dim_sizes:
            return s  # the batch size, or a declared dimension used as a number (ε/K with K = n2)
        kind = net.kinds.get(s.name)
        if kind is None:
            self.fail(f"undeclared symbol '{s.name}' in '{self.name}'")
        if kind == "constant":
            return net.constants[s.name]
        return net.matrices[s.name]

    # ---------------------------------------------------------- operations
    def add(self, terms, e):
        scalars = [t for t in terms if not is_matrix(t)]
        mats = [t for t in terms if is_matrix(t)]
        if not mats:
            return sp.Add(*scalars)
        full = [m for m in mats if m.shape[0] != 1 and m.shape[1] != 1]
        reference = (full or [m for m in mats if m.shape[1] != 1] or mats)[0]  # a column or row broadcasts onto it
        rows, cols = reference.shape
        out = []
        for t in mats:
            r, c = t.shape
            if (r, c) == (rows, cols):
                out.append(t)
            elif r == rows and c == 1:
                out.append(t * OneMatrix(1, cols))  # a column added to every column (NumPy's broadcasting)
            elif r == 1 and c == cols:
                out.append(OneMatrix(rows, 1) * t)  # a row added to every row
            else:
                self.mismatch(
                    f"{_label(t)} is {shape_text(t.shape)} but {_label(reference)} is {shape_text(reference.shape)}"
                )
        total = out[0]
        for t in out[1:]:
            total = total + t
        for s in scalars:
            total = total + s * OneMatrix(rows, cols)  # 1 − A: a scalar added to every entry
        return total

    def mul(self, factors, e):
        scalar = sp.Mul(*[f for f in factors if not is_matrix(f)])
        mats = [f for f in factors if is_matrix(f)]
        if not mats:
            return scalar
        for a, b in itertools.pairwise(mats):
            if a.shape[1] != b.shape[0]:
                hint = (
                    f"; for the entry-by-entry product write hadamard({_label(a)}, {_label(b)})"
                    if a.shape == b.shape
                    else ""
                )
                self.mismatch(
                    f"{_label(a)} is {shape_text(a.shape)} but {_label(b)} is {shape_text(b.shape)}"
                    f" ({_label(a)} needs {b.shape[0]} columns{hint})"
                )
        out = mats[0]
        for f in mats[1:]:
            out = out * f
        return out if scalar == 1 else scalar * out

    def function(self, e):
        if isinstance(e, (MaxRows, MaxColumns)):
            which, axis = ("a column's", 0) if isinstance(e, MaxRows) else ("a row's", 1)
            self.fail(
                f"'{_source(e)}' in {self.place}: {which} maximum is read only as the shift of a softmax written"
                f" out, np.exp(Z - Z.max(axis={axis}, keepdims=True)) / … .sum(axis={axis}, keepdims=True)"
            )
        if isinstance(e, sp.exp) and not e.args[0].is_commutative:
            self.fail(
                f"'{_source(e)}' in {self.place}: exp of a layer quantity is no op of the table; it is read inside"
                " σ or softmax written out (1/(1 + np.exp(-Z)), np.exp(Z) / np.exp(Z).sum(axis=0)), else write the"
                " activation it is part of (sigmoid, softmax, softplus); a per-unit Network takes exp of a scalar"
            )
        args = [self(a) for a in e.args]
        func = type(e)
        rec = find(func) if not isinstance(e, AppliedUndef) else find(func.__name__)
        if rec is not None and rec.kind == "activation":
            (z,) = self._matrices(args, e, 1)
            if z.shape[0] == 1 and rec.min_rows > 1:
                self.fail(f"{rec.name} in '{self.name}' needs at least {rec.min_rows} rows ({_label(z)} has 1)")
            return z if rec.is_identity else Apply(rec, z)
        if rec is not None and rec.kind == "loss":
            a, y = self._matrices(args, e, 2)
            if a.shape != y.shape:
                self.mismatch(f"{_label(a)} is {shape_text(a.shape)} but {_label(y)} is {shape_text(y.shape)}")
            return sp.MatMul(1 / self.net.m, LossSum(rec, a, y))
        if func is Hadamard:
            a, b = self._matrices(args, e, 2)
            return sp.HadamardProduct(*self._broadcast(a, b))
        if func is TransposeOf:
            (a,) = self._matrices(args, e, 1)
            return a.T
        if func is SumColumns:
            (a,) = self._matrices(args, e, 1)
            return a * OneMatrix(a.shape[1], 1)
        if func is MeanColumns:
            (a,) = self._matrices(args, e, 1)
            return (1 / a.shape[1]) * (a * OneMatrix(a.shape[1], 1))
        if func is SumRows:
            (a,) = self._matrices(args, e, 1)
            return OneMatrix(1, a.shape[0]) * a
        if func is MeanRows:
            (a,) = self._matrices(args, e, 1)
            return (1 / a.shape[0]) * (OneMatrix(1, a.shape[0]) * a)
        if func in (SumOf, MeanOf):
            (a,) = self._matrices(args, e, 1)
            total = _entry_sum(a)
            return total if func is SumOf else (1 / (a.shape[0] * a.shape[1])) * total
        if func is sp.log:
            self.fail(
                f"'{_source(e)}' in {self.place}: log is read only in a loss written out in the cost: {log_losses()}"
            )
        if func is PowerOf:
            a, p = args
            if not is_matrix(a) or is_matrix(p) or not sp.sympify(p).is_number:
                self.fail(f"'{_source(e)}' in '{self.name}' takes a matrix and a number: power(Q, -1/2)")
            return sp.HadamardPower(a, p)
        if func is L1NormOf:
            (a,) = self._matrices(args, e, 1)
            return L1Norm(a)
        if func is FrobeniusSqOf:
            (a,) = self._matrices(args, e, 1)
            return FrobeniusSq(a)
        if func is CausalMaskOf:
            (a,) = self._matrices(args, e, 1)
            if a.shape[0] != a.shape[1]:
                self.fail(
                    f"'{_source(e)}' in '{self.name}' takes square attention scores (T×T), got {shape_text(a.shape)}"
                )
            return Causal(a)
        if func is RowSumOf:
            (a,) = self._matrices(args, e, 1)
            return RowSum(a)
        if func in (EmbedOf, PoolMeanOf, PoolMaxOf, ConcatOf, DotsOf):
            return self.text_op(func, args, e)
        if func in (Conv2dOf, MaxPoolOf, AvgPoolOf):
            from .images import lower_image_op

            return lower_image_op(self, func, args, e)
        self.fail(
            f"unknown activation '{func.__name__}' in '{self.name}' (expected one of: {', '.join(ACTIVATIONS)};"
            " or an op of the table: + − * @ hadamard transpose sum_columns mean_columns sum_rows mean_rows power"
            " frobenius_sq l1_norm embed pool_mean pool_max concat dots softmax_rows causal_mask rowsum conv2d"
            " max_pool avg_pool and the losses)"
        )

    def _broadcast(self, a, b):
        """``a`` and ``b`` at one shape: a column (n×1) or row (1×k) repeated as NumPy broadcasts it."""
        if a.shape == b.shape:
            return a, b
        for x, y in ((a, b), (b, a)):
            if x.shape == (y.shape[0], 1) and y.shape[1] != 1:
                x = x * OneMatrix(1, y.shape[1])  # the column in every column
            elif x.shape == (1, y.shape[1]) and y.shape[0] != 1:
                x = OneMatrix(y.shape[0], 1) * x  # the row in every row
            else:
                continue
            return (x, y) if a is not y else (y, x)
        self.mismatch(
            f"{_label(a)} ⊙ {_label(b)}: {_label(a)} is {shape_text(a.shape)} but {_label(b)} is {shape_text(b.shape)}"
        )

    def text_op(self, func, args, e):
        """``embed(E, W)``, ``pool_mean(Emb)``, ``pool_max(Emb)``, ``concat(A, B, …)``, ``dots(U_O, v_c)``."""
        net = self.net
        if func is DotsOf:
            Q, v = self._matrices(args, e, 2)
            rows = sp.simplify(Q.shape[0] / v.shape[0])
            if Q.shape[1] != v.shape[1] or not (rows.is_integer or rows.free_symbols):
                self.mismatch(
                    f"{_label(Q)} is {shape_text(Q.shape)} but {_label(v)} is {shape_text(v.shape)}"
                    f" (dots takes n stacked vectors of {_label(v)}'s {v.shape[0]} rows in each column)"
                )
            if rows.free_symbols and sp.fraction(sp.factor(rows))[1] != 1:
                self.mismatch(
                    f"{_label(Q)} is {shape_text(Q.shape)}: its rows are not a whole number of {_label(v)}'s"
                    f" {v.shape[0]} (dots takes n stacked vectors in each column)"
                )
            return Dots(Q, v)
        if func is EmbedOf:
            E, W = self._matrices(args, e, 2)
            vocab = net.index_inputs.get(W.name) if isinstance(W, sp.MatrixSymbol) else None
            if vocab is None:
                self.fail(
                    f"'{_source(e)}' in '{self.name}': {_label(W)} is not word indices (declare it with net.indices)"
                )
            if not isinstance(E, sp.MatrixSymbol) or net.kinds.get(E.name) != "param":
                self.fail(f"'{_source(e)}' in '{self.name}': the embedding matrix {_label(E)} must be a parameter")
            if E.shape[1] != vocab:
                self.mismatch(f"{_label(E)} is {shape_text(E.shape)} but {_label(W)} indexes {vocab} words")
            return Embed(E, W)
        if func in (PoolMeanOf, PoolMaxOf):
            (Q,) = self._matrices(args, e, 1)
            embedded = Q
            if isinstance(Q, sp.MatrixSymbol) and net.kinds.get(Q.name) == "node":
                embedded = net.assignment(Q.name).value
            if not isinstance(embedded, Embed):
                self.fail(f"'{_source(e)}' in '{self.name}' pools word vectors: give it embed(E, W) or a name for one")
            return (PoolMean if func is PoolMeanOf else PoolMax)(Q, embedded.args[1])
        parts = list(args)
        if len(parts) < 2 or not all(is_matrix(a) for a in parts):
            self.fail(f"'{_source(e)}' in '{self.name}' takes two or more matrices")
        for a in parts[1:]:
            if a.shape[1] != parts[0].shape[1]:
                self.mismatch(f"{_label(parts[0])} has {parts[0].shape[1]} columns but {_label(a)} has {a.shape[1]}")
        return Concat(*parts)

    def _matrices(self, args, e, n):
        if len(args) != n or not all(is_matrix(a) for a in args):
            self.fail(f"'{_source(e)}' in '{self.name}' takes {n} matri{'x' if n == 1 else 'ces'}")
        return args


def _entry_sum(Q):
    """The sum of all of Q's entries, 1×1: ``‖W‖²_F`` for ``(W**2).sum()`` (the L2 penalty's op), else ``1ᵀ Q 1``
    (no ones where Q is a row or a column already)."""
    if isinstance(Q, sp.HadamardPower) and Q.exp == 2 and isinstance(Q.base, sp.MatrixSymbol):
        return FrobeniusSq(Q.base)
    rows, cols = Q.shape
    left = Q if rows == 1 else OneMatrix(1, rows) * Q
    return left if cols == 1 else left * OneMatrix(cols, 1)


def _as_written(number):
    """A float a program writes for a simple fraction (``0.5 * np.sum(…)``, 0.25, 2.0) as that fraction, so it
    prints and cancels as a lecturer's ½ does; any other (a rate such as 0.01) stays as written."""
    if isinstance(number, sp.Float):
        numerator, denominator = float(number).as_integer_ratio()
        if denominator <= 16 and abs(numerator) <= 1024:
            return sp.Rational(numerator, denominator)
    return number


def _spelled(e):
    """The function the node ``e`` spells out (a unit-by-unit program's σ, tanh, ReLU, or a softmax written out),
    else None."""
    spelled = lecture_function(e)
    return spelled if spelled is not None else _softmax_written_out(e)


def _spelled_pair(e):
    """``e`` (a longer product) with two factors in a row that spell a function written as that function
    (SymPy flattens ``w2 @ (exp(Z) / (1 + exp(Z)))`` into one product of three factors), else None."""
    args = e.args
    if len(args) < 3:
        return None
    for i in range(len(args) - 1):
        spelled = _spelled(sp.Mul(args[i], args[i + 1], evaluate=False))
        if spelled is not None:
            return sp.Mul(*args[:i], spelled, *args[i + 2 :])
    return None


def _softmax_written_out(e):
    """``softmax(Z)`` when ``e`` is exp(Z) ⊘ Σ_rows exp(Z), NumPy's ``np.exp(Z) / np.exp(Z).sum(axis=0)``
    (``keepdims=True`` or not), else None."""
    if not (isinstance(e, sp.Mul) and len(e.args) == 2):
        return None
    num = next((a for a in e.args if isinstance(a, sp.exp)), None)
    den = next((a for a in e.args if a is not num), None)
    if num is None or not (isinstance(den, sp.Pow) and den.exp == -1 and isinstance(den.base, (SumRows, SumColumns))):
        return None
    if den.base.args[0] != num:
        return None
    over_rows = isinstance(den.base, SumColumns)  # each row sums to 1: attention's softmax_rows
    z, shift = num.args[0], MaxColumns if over_rows else MaxRows
    shifts = [t for t in z.args if isinstance(-t, shift)] if isinstance(z, sp.Add) else []
    if len(shifts) == 1:  # exp(Z − max(Z)): the stable form, the same softmax
        rest = sp.Add(*(t for t in z.args if t is not shifts[0]))
        if (-shifts[0]).args[0] == rest:
            z = rest
    return SoftmaxRows(z) if over_rows else Softmax(z)


def _source(e) -> str:
    """The declaration as the user wrote it, products by juxtaposition: ``W2 A1 + b2``."""
    return str(e).replace("**", "^").replace("*", " ")


def _label(x) -> str:
    from ..printing.matrix import matrix_text

    return matrix_text(x)
