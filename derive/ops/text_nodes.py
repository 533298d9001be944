"""Matrix-program node classes for text (J&M ch. 7, embeddings as input): gather, pooling, concatenation.

Word indices are an integer input ``W`` (n×m: n positions, one column per
text; id 0 is padding).  The forward ops:

* ``Embed(E, W)``: the n word vectors of each column stacked, ``[E[:, W₁]; …;
  E[:, Wₙ]]`` ((n·d)×m); a padding position gives the zero vector;
* ``PoolMean(Q, W)``, ``PoolMax(Q, W)``: the mean / element-wise maximum of
  the n blocks of d rows of Q over the positions holding a word (d×m; a text
  with no word gives 0);
* ``Concat(A, B, …)``: the rows stacked;
* ``Dots(Q, v)``: for each column, the dot products of Q's n stacked d-vectors with v's column (n×m): word2vec's
  scores ``s = U_Oᵀ v_c``, column by column, of the outside word and its K negative samples (cs224n assignment 2;
  J&M ch. 6, skip-gram with negative sampling).  Column i of Q is read as the d×n matrix of its blocks, so one
  column is one pair and ``Qᵀ v`` is the plain product there.

Their adjoints are nodes too, written by the op table's rules
(``derive.ops.text``), each linear in its first argument (a scalar
coefficient moves out, so ``(1/m)`` stays the product's):

* ``ScatterAdd(G, W, V)``: d×V, column v the sum of the blocks of G at the
  positions holding word v (the transpose of the gather; padding adds nothing);
* ``SpreadMean(G, W)``: G/count in every block holding a word, else 0;
* ``RouteMax(G, Q, W)``: G in the block of each row's arg-max, else 0;
* ``RowBlock(G, start, stop)``: rows start..stop−1 of G;
* ``DotsMix(G, Q)``: d×m, column i the blocks of Q's column i weighted by G's column: ``Q G`` per column
  (Σ_j G_j q_j), the adjoint of v in ``Qᵀ v``;
* ``DotsOuter(G, v)``: Q's shape, block j of column i ``G[j, i] v[:, i]``: ``v Gᵀ`` per column, the adjoint of Q.
"""

from __future__ import annotations

import sympy as sp
from sympy.matrices.expressions import MatrixExpr


def _linear(cls, G, *rest):
    """``cls(c G, …)`` as ``c cls(G, …)``: the scalar stays a coefficient of the product."""
    if isinstance(G, sp.MatMul):
        scalar, factors = G.as_coeff_matrices()
        if scalar != 1:
            inner = sp.MatMul(*factors) if len(factors) > 1 else factors[0]
            return sp.MatMul(scalar, cls(inner, *rest))
    return MatrixExpr.__new__(cls, G, *rest)


class Embed(MatrixExpr):
    """``[E[:, W₁]; …; E[:, Wₙ]]``: (n·d)×m for E d×|V| and word indices W n×m."""

    def __new__(cls, E, W):
        return super().__new__(cls, E, W)

    @property
    def shape(self):
        E, W = self.args
        return (W.shape[0] * E.shape[0], W.shape[1])


class _Pool(MatrixExpr):
    def __new__(cls, Q, W):
        return super().__new__(cls, Q, W)

    @property
    def shape(self):
        Q, W = self.args
        return (sp.simplify(Q.shape[0] / W.shape[0]), Q.shape[1])


class PoolMean(_Pool):
    """The mean of Q's n blocks over the positions of W that hold a word (d×m)."""


class PoolMax(_Pool):
    """The element-wise maximum of Q's n blocks over the positions of W that hold a word (d×m)."""


class Concat(MatrixExpr):
    """The rows of its operands stacked (same number of columns)."""

    def __new__(cls, *parts):
        return super().__new__(cls, *parts)

    @property
    def shape(self):
        return (sp.Add(*[p.shape[0] for p in self.args]), self.args[0].shape[1])


class ScatterAdd(MatrixExpr):
    """d×V: column v is the sum of G's blocks at the positions where W holds word v (padding: none)."""

    def __new__(cls, G, W, V):
        return _linear(cls, G, W, V)

    @property
    def shape(self):
        G, W, V = self.args
        return (sp.simplify(G.shape[0] / W.shape[0]), V)


class SpreadMean(MatrixExpr):
    """(n·d)×m: G divided by the number of words in every block holding a word, else 0."""

    def __new__(cls, G, W):
        return _linear(cls, G, W)

    @property
    def shape(self):
        G, W = self.args
        return (W.shape[0] * G.shape[0], G.shape[1])


class RouteMax(MatrixExpr):
    """Q's shape: each entry of G in the block of its row's arg-max over the words of W, else 0."""

    def __new__(cls, G, Q, W):
        return _linear(cls, G, Q, W)

    @property
    def shape(self):
        return self.args[1].shape


class RowBlock(MatrixExpr):
    """Rows ``start`` … ``stop − 1`` of G (0-based)."""

    def __new__(cls, G, start, stop):
        return _linear(cls, G, sp.sympify(start), sp.sympify(stop))

    @property
    def shape(self):
        G, start, stop = self.args
        return (stop - start, G.shape[1])


class Dots(MatrixExpr):
    """n×m: entry (j, i) is block j of Q's column i (d rows) dotted with v's column i; Q (n·d)×m, v d×m."""

    def __new__(cls, Q, v):
        return super().__new__(cls, Q, v)

    @property
    def shape(self):
        Q, v = self.args
        return (sp.simplify(Q.shape[0] / v.shape[0]), Q.shape[1])


class DotsMix(MatrixExpr):
    """d×m: column i is Σ_j G[j, i] · (block j of Q's column i): ``Q G`` column by column."""

    def __new__(cls, G, Q):
        return _linear(cls, G, Q)

    @property
    def shape(self):
        G, Q = self.args
        return (sp.simplify(Q.shape[0] / G.shape[0]), G.shape[1])


class DotsOuter(MatrixExpr):
    """(n·d)×m: block j of column i is G[j, i] · v[:, i]: ``v Gᵀ`` column by column."""

    def __new__(cls, G, v):
        return _linear(cls, G, v)

    @property
    def shape(self):
        G, v = self.args
        return (G.shape[0] * v.shape[0], G.shape[1])
