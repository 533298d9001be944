"""Matrix-program node classes for images (cs231n assignment 2; deeplearning.ai course 4, week 1).

The matrix program is 2-D, one column per example, so an image enters as one column: a C×H×W image is a
(C·H·W)×1 column, entry c·H·W + h·W + w holding pixel (h, w) of channel c, and a batch of m images is
(C·H·W)×m (``derive.ops.conv_numpy`` reads it as C×H×W×m).  The sizes are the nodes' own arguments,
symbols or numbers, so the shapes stay symbolic where they can.  The forward ops:

* ``Im2col(X, C, H, W, HH, WW, s, p)``: the patches of X under every output position of an HH×WW
  filter at stride s over X padded with p zeros, (C·HH·WW·H'·W')×m with H' = (H + 2p − HH)/s + 1:
  entry ((c, k, l), (i, j)) of column n is x̃[n, c, s·i + k, s·j + l];
* ``Mat(Q, C, H, W)``: Q ((C·H·W)×m) laid out as C × (H·W·m), one row per channel (a reshape: the same
  entries in the same order in memory); ``Unmat(R, H, W)`` its inverse, C × (H·W·m) back to (C·H·W)×m;
* ``MaxPool(Q, C, H, W, size, stride)``, ``AvgPool(…)``: the largest entry / the mean of each
  size×size window, windows ``stride`` apart, (C·H'·W')×m with H' = (H − size)/stride + 1.

A convolution (cs231n's conv layer, ``derive.conv2d``) is written in them, the im2col form:
``X_col = im2col(X)``, ``Z = unmat(W mat(X_col) + b 1ᵀ)`` with W the F×(C·HH·WW) filter bank (row f is
filter f flattened in (c, k, l) order, cs231n's ``w.reshape(F, -1)``).

Their adjoints, written by the op table's rules (``derive.ops.conv``), each linear in its first argument:

* ``Col2im(G, C, H, W, HH, WW, s, p)``: (C·H·W)×m, each entry of G added into the pixel it was copied
  from (a scatter-add over overlapping patches), the padding cropped;
* ``UnpoolMax(G, Q, C, H, W, size, stride)``: G routed to the arg-max of each window of Q;
* ``UnpoolAvg(G, C, H, W, size, stride)``: G spread evenly over each window.
"""

from __future__ import annotations

import sympy as sp
from sympy.matrices.expressions import MatrixExpr

from .text_nodes import _linear


def out_size(n, k, stride, pad=0):
    """The output positions along a side of n pixels for a window of k at ``stride`` with ``pad``:
    (n + 2·pad − k)/stride + 1."""
    return (sp.sympify(n) + 2 * pad - k) / stride + 1


class Im2col(MatrixExpr):
    """The patch matrix of an image batch X under an HH×WW filter: (C·HH·WW·H'·W')×m."""

    def __new__(cls, X, C, H, W, HH, WW, stride, pad):
        return super().__new__(cls, X, *map(sp.sympify, (C, H, W, HH, WW, stride, pad)))

    @property
    def geometry(self) -> tuple:
        """(C, H, W, HH, WW, stride, pad)."""
        return self.args[1:]

    @property
    def positions(self) -> tuple:
        """(H', W'): the output positions."""
        _, H, W, HH, WW, s, p = self.geometry
        return out_size(H, HH, s, p), out_size(W, WW, s, p)

    @property
    def shape(self):
        C, HH, WW = self.geometry[0], self.geometry[3], self.geometry[4]
        Ho, Wo = self.positions
        return (C * HH * WW * Ho * Wo, self.args[0].shape[1])


class _Scattered(MatrixExpr):
    """An adjoint that adds G's entries into images of C×H×W: (C·H·W)×m; its geometry follows G."""

    def __new__(cls, G, *geometry):
        return _linear(cls, G, *map(sp.sympify, geometry))

    @property
    def geometry(self) -> tuple:
        return self.args[1:]

    @property
    def image(self) -> tuple:
        return self.args[1:4]

    @property
    def shape(self):
        C, H, W = self.args[1:4]
        return (C * H * W, self.args[0].shape[1])


class Col2im(_Scattered):
    """The adjoint of Im2col, ``Col2im(G, C, H, W, HH, WW, s, p)``: (C·H·W)×m, a scatter-add of G's entries into
    the pixels they came from."""


class Mat(MatrixExpr):
    """Q ((C·H·W)×m) as C × (H·W·m): one row per channel, the same entries in the same order."""

    def __new__(cls, Q, C, H, W):
        return _linear(cls, Q, *map(sp.sympify, (C, H, W)))

    @property
    def arg(self):
        return self.args[0]

    @property
    def shape(self):
        Q, C, H, W = self.args
        return (C, H * W * Q.shape[1])


class Unmat(MatrixExpr):
    """R (C × (H·W·m)) back to (C·H·W)×m: the inverse of Mat."""

    def __new__(cls, R, H, W):
        return _linear(cls, R, *map(sp.sympify, (H, W)))

    @property
    def arg(self):
        return self.args[0]

    @property
    def image(self) -> tuple:
        """(C, H, W): the image geometry of the result."""
        R, H, W = self.args
        return (R.shape[0], H, W)

    @property
    def shape(self):
        R, H, W = self.args
        return (R.shape[0] * H * W, R.shape[1] / (H * W))


class _Pool(MatrixExpr):
    def __new__(cls, Q, C, H, W, size, stride):
        return super().__new__(cls, Q, *map(sp.sympify, (C, H, W, size, stride)))

    @property
    def arg(self):
        return self.args[0]

    @property
    def geometry(self) -> tuple:
        """(C, H, W, size, stride)."""
        return self.args[1:]

    @property
    def positions(self) -> tuple:
        _, H, W, size, stride = self.geometry
        return out_size(H, size, stride), out_size(W, size, stride)

    @property
    def image(self) -> tuple:
        return (self.args[1], *self.positions)

    @property
    def shape(self):
        Ho, Wo = self.positions
        return (self.args[1] * Ho * Wo, self.args[0].shape[1])


class MaxPool(_Pool):
    """The largest entry of each size×size window of Q's images, windows ``stride`` apart."""


class AvgPool(_Pool):
    """The mean of each size×size window of Q's images, windows ``stride`` apart."""


class UnpoolMax(MatrixExpr):
    """Q's shape: each entry of G in the position of its window's arg-max in Q (added where windows overlap)."""

    def __new__(cls, G, Q, C, H, W, size, stride):
        return _linear(cls, G, Q, *map(sp.sympify, (C, H, W, size, stride)))

    @property
    def geometry(self) -> tuple:
        return self.args[2:]

    @property
    def image(self) -> tuple:
        return self.args[2:5]

    @property
    def shape(self):
        return self.args[1].shape


class UnpoolAvg(_Scattered):
    """``UnpoolAvg(G, C, H, W, size, stride)``, (C·H·W)×m: each entry of G spread evenly, G/size², over its
    window."""
