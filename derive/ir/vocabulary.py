"""What a layer declaration may write besides ``+``, ``−``, ``*``/``@`` and the activations.

``hadamard(A, B)`` (A ⊙ B), ``transpose(W)`` (Wᵀ), ``sum_columns(Q)`` (n×1),
``mean_columns(Q)``, ``sum_rows(Q)`` (1×k), ``mean_rows(Q)``, ``power(Q, p)``
(entry by entry: ``power(V + eps, -1/2)`` is 1/√(V + ε)), ``frobenius_sq(W)``
(Σ W², a scalar) and ``l1_norm(W)`` (Σ |W|, a scalar); for text, ``embed(E, W)`` (the word vectors of the
indices W), ``pool_mean(Emb)``, ``pool_max(Emb)``, ``concat(A, B, …)`` and ``dots(U_O, v_c)`` (word2vec's
scores of looked-up vectors); for images (``net.image``, ``net.filters``), ``conv2d(X, W, b, stride, pad)``,
``max_pool(Q, size, stride)`` and ``avg_pool(Q, size, stride)``.  They are SymPy functions over the
declaration's quantities; the declaration lowers them onto the matrix program (``derive.ir.lower``,
``derive.ir.images``).
"""

from __future__ import annotations

import re
import sys

import sympy as sp

from ..errors import DeclarationError, caller_place, typed
from ..ops.activations.softmax_rows import SoftmaxRows


class MatrixFunction(sp.Function):
    """A function of matrices in a layer declaration (kept in order: not commutative)."""

    is_commutative = False

    def _sympystr(self, printer):  # as a declaration writes it, in messages: mean_columns(Y*log(A))
        word = (
            getattr(self, "word", None)
            or re.sub(r"(?<!^)(?=[A-Z])", "_", type(self).__name__.removesuffix("Of")).lower()
        )
        return f"{word}({', '.join(printer._print(a) for a in self.args)})"


class Hadamard(MatrixFunction):
    nargs = 2
    word = "hadamard"


class TransposeOf(MatrixFunction):
    nargs = 1


class SumColumns(MatrixFunction):
    nargs = 1
    word = "sum_columns"


class MeanColumns(MatrixFunction):
    nargs = 1
    word = "mean_columns"


class SumRows(MatrixFunction):
    nargs = 1
    word = "sum_rows"


class MaxRows(MatrixFunction):
    """``Q.max(axis=0)``: each column's largest entry, read only as the shift of a softmax written out
    (``np.exp(Z - Z.max(axis=0, keepdims=True))``, which softmax does not see: derive.ir.lower)."""

    nargs = 1
    word = "max_rows"


class MaxColumns(MatrixFunction):
    """``Q.max(axis=1, keepdims=True)``: each row's largest entry, read only as the shift of a softmax over the rows
    written out (attention's ``np.exp(S - S.max(axis=1, keepdims=True))``)."""

    nargs = 1
    word = "max_columns"


class MeanRows(MatrixFunction):
    nargs = 1
    word = "mean_rows"


class PowerOf(MatrixFunction):
    nargs = 2


class FrobeniusSqOf(sp.Function):
    """``‖W‖²_F``: a scalar, so it commutes with scalars in a cost."""

    nargs = 1
    is_commutative = True


class L1NormOf(sp.Function):
    """``‖W‖₁``: a scalar."""

    nargs = 1
    is_commutative = True


class EmbedOf(MatrixFunction):
    nargs = 2


class PoolMeanOf(MatrixFunction):
    nargs = 1


class PoolMaxOf(MatrixFunction):
    nargs = 1


class ConcatOf(MatrixFunction):
    pass


class DotsOf(MatrixFunction):
    nargs = 2


class Conv2dOf(MatrixFunction):
    nargs = 5

    def _sympystr(self, printer):  # as the declaration writes it, in messages
        X, W, b, stride, pad = (printer._print(a) for a in self.args)
        return f"conv2d({X}, {W}, {'None' if self.args[2] == 0 else b}, stride={stride}, pad={pad})"


class MaxPoolOf(MatrixFunction):
    nargs = 3
    word = "max_pool"

    def _sympystr(self, printer):
        Q, size, stride = (printer._print(a) for a in self.args)
        return f"{self.word}({Q}, {size}, stride={stride})"


class AvgPoolOf(MaxPoolOf):
    word = "avg_pool"


class CausalMaskOf(MatrixFunction):
    nargs = 1


class RowSumOf(MatrixFunction):
    nargs = 1
    word = "rowsum"


class SumOf(MatrixFunction):
    """``Q.sum()``: the sum of all of Q's entries (1×1)."""

    nargs = 1
    word = "sum"

    def _sympystr(self, printer):  # as NumPy writes it, in messages
        return f"({printer._print(self.args[0])}).{self.word}()"


class MeanOf(SumOf):
    """``Q.mean()``: the mean of all of Q's entries (1×1)."""

    word = "mean"


def hadamard(A, B):
    """``A ⊙ B``: the element-wise product of two matrices of one shape; a column (n×1) or a row (1×m)
    is repeated to the other's shape, as NumPy broadcasts it."""
    return Hadamard(A, B)


def transpose(W):
    """``Wᵀ``."""
    return TransposeOf(W)


def sum_columns(Q):
    """``Σ_columns Q = Q 1``: each row's sum, a column (n×1)."""
    return SumColumns(Q)


def mean_columns(Q):
    """``(1/k) Σ_columns Q`` for a k-column Q (the batch mean of each row when k = m)."""
    return MeanColumns(Q)


def sum_rows(Q):
    """``Σ_rows Q = 1ᵀ Q``: each column's sum, a row (1×k)."""
    return SumRows(Q)


def mean_rows(Q):
    """``(1/n) Σ_rows Q`` for an n-row Q: each column's mean, a row (1×k) (layer norm's per-example mean)."""
    return MeanRows(Q)


def power(Q, p):
    """``Q^p`` entry by entry (``power(V + eps, -1/2)`` is 1/√(V + ε) in batch normalisation).

    A float exponent is read as the decimal it was typed as (``-0.5`` is −1/2, ``1.5`` is 3/2): the
    derivation then writes ``(var + ε)^(−1/2)`` and ``−(1/2) … ^(−3/2)``, not ``^(−0.500000000000000)``."""
    p = sp.sympify(p)
    return PowerOf(Q, sp.nsimplify(p, rational=True) if isinstance(p, sp.Float) else p)


def l1_norm(W):
    """``‖W‖₁ = Σ_ij |W_ij|``: the L1 penalty's term (a scalar)."""
    return L1NormOf(W)


def frobenius_sq(W):
    """``‖W‖²_F = Σ_ij W_ij²``: the L2 penalty's term (a scalar)."""
    return FrobeniusSqOf(W)


def embed(E, W):
    """``[E[:, W₁]; …; E[:, Wₙ]]``: the word vectors (columns of E) of the n word indices in each column
    of W (declared with ``net.indices``), stacked ((n·d)×m); a padding position (id 0) gives 0."""
    return EmbedOf(E, W)


def pool_mean(Emb):
    """The mean of the word vectors of ``Emb = embed(E, W)`` over the words present (d×m)."""
    return PoolMeanOf(Emb)


def pool_max(Emb):
    """The element-wise maximum of the word vectors of ``Emb = embed(E, W)`` over the words present (d×m)."""
    return PoolMaxOf(Emb)


def concat(*parts):
    """``[A; B; …]``: the rows of matrices with the same number of columns, stacked."""
    return ConcatOf(*parts)


def dots(Q, v):
    """``Qᵀ v`` column by column: for each column, the dot products of the n word vectors of ``Q = embed(U, O)``
    (n indices per column) with the column of v (d×m), n×m.  word2vec's scores ``s = U_Oᵀ v_c`` of the outside
    word and its K negative samples against the center word's vector (cs224n assignment 2)."""
    return DotsOf(Q, v)


def conv2d(X, W, b=None, stride=1, pad=0):
    """cs231n's conv layer: the images X (``net.image``) correlated with the filter bank W (``net.filters``, F
    filters of C×HH×WW) at ``stride`` over X padded with ``pad`` zeros, plus the bias b (F×1, or None): one
    image of F channels per column, (F·H'·W')×m with H' = (H + 2·pad − HH)/stride + 1.  It is written in the
    im2col form: ``X_col = im2col(X)`` (a quantity of its own) and ``unmat(W mat(X_col) + b 1ᵀ)``."""
    return Conv2dOf(X, W, sp.S.Zero if b is None else b, stride, pad)


def max_pool(Q, size=2, stride=None):
    """The largest entry of each size×size window of the images Q, windows ``stride`` apart (default: size)."""
    return MaxPoolOf(Q, size, size if stride is None else stride)


def avg_pool(Q, size=2, stride=None):
    """The mean of each size×size window of the images Q, windows ``stride`` apart (default: size)."""
    return AvgPoolOf(Q, size, size if stride is None else stride)


def softmax_rows(S):
    """softmax along each row of S (T×T attention scores, rows are positions): P = softmax_rows(S)."""
    return SoftmaxRows(S)


def causal_mask(S):
    """S (T×T) with −∞ above the diagonal: position i attends to the positions j ≤ i only."""
    return CausalMaskOf(S)


def rowsum(Q):
    """Each row's sum of Q, a column (n×1); the same as ``sum_columns(Q)``, written as attention's backward writes it."""
    return RowSumOf(Q)


# ---------------------------------------------------------------- NumPy's spelling
def _matmul(left, right):
    """``A @ B``: the matrix product of two quantities of a layer declaration (non-commutative symbols); for
    anything else, what Python does without it."""
    try:
        left, right = sp.sympify(left), sp.sympify(right)
    except (sp.SympifyError, TypeError):
        return NotImplemented
    if left.is_commutative and right.is_commutative:
        return NotImplemented  # numbers and per-unit symbols keep refusing @
    return left * right


def _transposed(expr):
    """``A.T``: the transpose of a quantity of a layer declaration (``transpose(A)``)."""
    if expr.is_commutative:
        raise AttributeError(f"'{type(expr).__name__}' object has no attribute 'T'")
    return TransposeOf(expr)


def _layer_quantity(expr, attribute: str):
    """``expr`` when it is a layer declaration's quantity (non-commutative, not yet lowered), else AttributeError."""
    if expr.is_commutative or isinstance(expr, sp.MatrixExpr):
        raise AttributeError(f"'{type(expr).__name__}' object has no attribute '{attribute}'")
    return expr


# (rows, columns) a NumPy axis reduces on a 2-D array; -1 and -2 count from the end
_AXES = {None: (True, True), 0: (True, False), -2: (True, False), 1: (False, True), -1: (False, True)}
_AXES.update({(0, 1): (True, True), (1, 0): (True, True), (-2, -1): (True, True), (-1, -2): (True, True)})


def _reduction(word: str, whole, rows, columns):
    """NumPy's ``Q.sum(axis=…, keepdims=…)`` (``word`` "sum") or ``Q.mean(…)`` on a layer quantity: every entry
    (axis None: ``whole``), each column's (axis 0: ``rows``, a row 1×k) or each row's (axis 1 with keepdims:
    ``columns``, a column n×1).  ``np.sum(Q, …)`` and ``np.mean(Q, …)`` call it too."""

    def method(self, axis=None, dtype=None, out=None, keepdims=False):
        Q = _layer_quantity(self, word)
        q = str(Q) if isinstance(Q, sp.Symbol) else "Q"
        axis = tuple(axis) if isinstance(axis, list) else axis
        if out is not None or axis not in _AXES:
            raise DeclarationError(
                f"{q}.{word}({'out=…' if out is not None else f'axis={axis!r}'}) is not a layer op: write {q}.{word}()"
                f" (every entry), {q}.{word}(axis=0) (each column's, a row) or {q}.{word}(axis=1, keepdims=True)"
                " (each row's, a column)",
                caller_place(),
            )
        over_rows, over_columns = _AXES[axis]
        if over_rows and over_columns:
            return whole(Q)
        if over_rows:
            return rows(Q)  # NumPy's (k,) result broadcasts as the row 1×k does
        if not keepdims:
            raise DeclarationError(
                f"{q}.{word}(axis={axis}) is 1-D in NumPy and broadcasts as a row, not a column: write"
                f" {q}.{word}(axis={axis}, keepdims=True) for each row's {word} (a column, n×1)",
                caller_place(),
            )
        return columns(Q)

    return property(lambda self: method.__get__(_layer_quantity(self, word)))


def _max(self, axis=None, out=None, keepdims=False, **_ignored):
    """NumPy's ``Z.max(axis=0)`` (``np.max(Z, axis=0)`` calls it) on a layer quantity: each column's maximum, the
    shift a stable softmax subtracts (``axis=1, keepdims=True``: each row's, for a softmax over the rows); any
    other axis is refused."""
    Q = _layer_quantity(self, "max")
    if out is None and axis in (0, -2):
        return MaxRows(Q)
    if out is None and axis in (1, -1) and keepdims:
        return MaxColumns(Q)
    q = str(Q) if isinstance(Q, sp.Symbol) else "Q"
    raise DeclarationError(
        f"{q}.max(axis={axis!r}{', keepdims=True' if keepdims else ''}) is read only as the shift of a softmax"
        f" written out: np.exp({q} - {q}.max(axis=0, keepdims=True)) over the columns, or"
        f" np.exp({q} - {q}.max(axis=1, keepdims=True)) over the rows (keepdims: NumPy's 1-D row maximum would"
        " broadcast along the wrong axis)",
        caller_place(),
    )


_sympy_pow = sp.Expr.__pow__


def _power(self, other, mod=None):
    """``Q**p`` typed in a declaration on a layer quantity: entry by entry, as NumPy means it (``power(Q, p)``).
    Else SymPy's power: SymPy writes ``W*W`` (``W @ W``, a matrix product) as ``W**2`` by this operator, and the
    engine's own ``a**2`` (tanh' = 1 − a²) is a scalar's."""
    if mod is None and not self.is_commutative and not isinstance(self, sp.MatrixExpr) and typed(sys._getframe(1)):
        try:
            p = sp.sympify(other)
        except (sp.SympifyError, TypeError):
            return NotImplemented
        if p.is_commutative:
            return power(self, p)
    return _sympy_pow(self, other, mod)


# A layer declaration's quantities are SymPy's non-commutative symbols; these give them NumPy's @, .T, ** (entry by
# entry), .sum() and .mean() (np.sum and np.mean call them; np.log, np.tanh and NumPy's other functions are read
# by derive.ir.ufuncs).  SymPy's own expressions have none of them, so a commutative expression still refuses them
# (or, for **, still means SymPy's power) exactly as before.
sp.Expr.__matmul__ = lambda self, other: _matmul(self, other)
sp.Expr.__rmatmul__ = lambda self, other: _matmul(other, self)
sp.Expr.T = property(_transposed)
sp.Expr.__pow__ = _power
sp.Expr.sum = _reduction("sum", SumOf, sum_rows, sum_columns)
sp.Expr.mean = _reduction("mean", MeanOf, mean_rows, mean_columns)
sp.Expr.max = property(lambda self: _max.__get__(_layer_quantity(self, "max")))

VOCABULARY = {
    "hadamard": hadamard,
    "transpose": transpose,
    "sum_columns": sum_columns,
    "mean_columns": mean_columns,
    "sum_rows": sum_rows,
    "mean_rows": mean_rows,
    "power": power,
    "frobenius_sq": frobenius_sq,
    "l1_norm": l1_norm,
    "embed": embed,
    "pool_mean": pool_mean,
    "pool_max": pool_max,
    "concat": concat,
    "dots": dots,
    SoftmaxRows.record.name: softmax_rows,
    "causal_mask": causal_mask,
    "rowsum": rowsum,
    "conv2d": conv2d,
    "max_pool": max_pool,
    "avg_pool": avg_pool,
}
