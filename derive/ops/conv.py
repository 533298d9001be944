"""Image ops (cs231n assignment 2, "Convolutional Networks"; deeplearning.ai course 4, week 1): im2col and the
reshapes of the im2col form, max and average pooling, and the adjoints their rules write.

A convolution is no op of its own: ``derive.conv2d`` writes it in the im2col form, so the product rule
derives what cs231n's ``conv_backward_im2col`` computes::

    X_col = im2col(X)                      (C·HH·WW·H'·W')×m, the patches
    Z     = unmat(W mat(X_col) + b 1ᵀ)     out = W_row X_col + b, laid out one image per column
    dW    = (1/m) mat(dZ) mat(X_col)ᵀ      dW_row = dout X_colᵀ   (the sum over the batch is the product's)
    db    = (1/m) Σ_columns mat(dZ)        db[f] = Σ_{n,i,j} dout[n,f,i,j]
    dX_col = unmat(Wᵀ mat(dZ)),  dX = col2im(dX_col)

``im2col`` copies every pixel of the padded image into each patch that covers it, so its rule is the
scatter-add col2im: entry ((c, k, l), (i, j)) of dX_col goes to pixel (s·i + k, s·j + l) of dx̃, summed
where patches overlap, and the padding is cropped.  ``mat``/``unmat`` only lay entries out again: each
pulls G back through the other.  Max pooling routes each entry of G to its window's arg-max (ties: the
first in row-major order, as np.argmax and PyTorch choose; any split among the tied entries is also a
subgradient, and cs231n's fast pooling splits evenly); average pooling spreads G/size² over the window.
The adjoint nodes print and evaluate but are not differentiated again.
"""

from __future__ import annotations

import sympy as sp

from . import conv_numpy as N
from .base import Op, stanza
from .conv_nodes import AvgPool, Col2im, Im2col, Mat, MaxPool, Unmat, UnpoolAvg, UnpoolMax
from .text import _adjoint_only


# ------------------------------------------------------------------ rules
def _im2col_vjp(expr, G, ctx):
    return [(expr.args[0], Col2im(G, *expr.geometry), "im2col")]


def _mat_vjp(expr, G, ctx):
    Q, _, H, W = expr.args
    return [(Q, Unmat(G, H, W), "mat")]


def _unmat_vjp(expr, G, ctx):
    R, H, W = expr.args
    return [(R, Mat(G, R.shape[0], H, W), "unmat")]


def _max_pool_vjp(expr, G, ctx):
    return [(expr.arg, UnpoolMax(G, expr.arg, *expr.geometry), "max_pool")]


def _avg_pool_vjp(expr, G, ctx):
    return [(expr.arg, UnpoolAvg(G, *expr.geometry), "avg_pool")]


# ------------------------------------------------------------------ forms
def _sizes(printer, values) -> list[str]:
    return [str(int(sp.sympify(v).subs(printer.sizes))) for v in values]


def _numpy_call(name, operands: int):
    """``name(A, …, C, H, W, …)``: the first ``operands`` arguments printed, the sizes as integers."""

    def numpy(printer, expr):
        args = [printer._print(a) for a in expr.args[:operands]] + _sizes(printer, expr.args[operands:])
        return printer.use(f"{name}({', '.join(args)})")

    return numpy


def _size(evaluator, n) -> int:
    """A size argument as an integer: a number as it is, a dimension by the evaluator's sizes."""
    return int(n) if n.is_Integer else evaluator.size(n)


def _evaluate_with(function, operands: int):
    def evaluate(evaluator, expr):
        values = [evaluator(a) for a in expr.args[:operands]] + [_size(evaluator, a) for a in expr.args[operands:]]
        return function(*values)

    return evaluate


def _window_text(k1, k2) -> str:
    return f"{k1}×{k2}"


def _im2col_text(printer, expr):
    HH, WW, s, p = (printer._print(a) for a in expr.geometry[3:])
    return f"im2col({printer._print(expr.args[0])}, {_window_text(HH, WW)}, s={s}, p={p})"


def _im2col_latex(printer, expr):
    HH, WW, s, p = (printer._print(a) for a in expr.geometry[3:])
    return rf"\operatorname{{im2col}}_{{{HH}\times {WW},\,s={s},\,p={p}}}\!\left({printer._print(expr.args[0])}\right)"


def _pool_text(word):
    def text(printer, expr):
        size, stride = (printer._print(a) for a in expr.geometry[3:])
        return f"{word}({printer._print(expr.arg)}, {_window_text(size, size)}, s={stride})"

    return text


def _pool_latex(word):
    def latex(printer, expr):
        size, stride = (printer._print(a) for a in expr.geometry[3:])
        return rf"\operatorname{{{word}}}_{{{size}\times {size},\,s={stride}}}\!\left({printer._print(expr.arg)}\right)"

    return latex


def _reshaped(printer, arg) -> str:
    """``arg`` ready for a method call: a name as it is, anything else in parentheses."""
    text = printer._print(arg)
    return text if isinstance(arg, (sp.MatrixSymbol, Mat, Unmat)) else f"({text})"


def _mat_numpy(printer, expr):
    Q, C = expr.args[:2]
    return f"{_reshaped(printer, Q)}.reshape({_sizes(printer, [C])[0]}, -1)"


def _unmat_numpy(printer, expr):
    R, H, W = expr.args
    return f"{_reshaped(printer, R)}.reshape({_sizes(printer, [R.shape[0] * H * W])[0]}, -1)"


def _mat_evaluate(evaluator, expr):
    return evaluator(expr.args[0]).reshape(_size(evaluator, expr.args[1]), -1)


def _unmat_evaluate(evaluator, expr):
    R = evaluator(expr.args[0])
    return R.reshape(R.shape[0] * _size(evaluator, expr.args[1]) * _size(evaluator, expr.args[2]), -1)


def _pool_kink(evaluator, expr):
    """The smallest margin of the pooling's choice at the evaluator's values (ties of equal entries aside)."""
    return N.pool_gap(evaluator(expr.arg), *(_size(evaluator, a) for a in expr.geometry))


# The JAX forms of the helpers whose NumPy forms write in place (conv_numpy): the same results, functionally. The
# windows are static slices of the padded image (the sizes are Python integers at trace time); each adjoint is a
# scatter-add (.at[].add) of the same slices.
# The JAX forms of the helpers whose NumPy forms write in place (conv_numpy): the same results, functionally. The
# windows are static slices of the padded image (the sizes are Python integers at trace time); each adjoint is a
# scatter-add (.at[].add) into the same slices.
IM2COL_JAX = '''
def im2col(X, C, H, W, HH, WW, stride, pad):
    """X_col, (C·HH·WW·H'·W')×m: entry ((c, k, l), (i, j)) of column n is x̃[n, c, s·i + k, s·j + l], the pixel
    (k, l) of the patch under output position (i, j), x̃ the image padded with zeros."""
    m = X.shape[1]
    Ho, Wo = (H + 2 * pad - HH) // stride + 1, (W + 2 * pad - WW) // stride + 1
    x = jnp.pad(X.reshape(C, H, W, m), ((0, 0), (pad, pad), (pad, pad), (0, 0)))
    patches = [x[:, k : k + stride * Ho : stride, l : l + stride * Wo : stride] for k in range(HH) for l in range(WW)]
    return jnp.stack(patches, axis=1).reshape(-1, m)
'''
COL2IM_JAX = '''
def col2im(G, C, H, W, HH, WW, stride, pad):
    """The adjoint of im2col, (C·H·W)×m: each entry of G added into the pixel of x̃ it was copied from (a
    scatter-add over overlapping patches); what falls on the padding is dropped (the crop)."""
    m = G.shape[1]
    Ho, Wo = (H + 2 * pad - HH) // stride + 1, (W + 2 * pad - WW) // stride + 1
    cols = G.reshape(C, HH, WW, Ho, Wo, m)
    x = jnp.zeros((C, H + 2 * pad, W + 2 * pad, m), dtype=G.dtype)
    for k in range(HH):
        for l in range(WW):
            x = x.at[:, k : k + stride * Ho : stride, l : l + stride * Wo : stride].add(cols[:, k, l])
    return x[:, pad : pad + H, pad : pad + W].reshape(C * H * W, m)
'''
WINDOWS_JAX = '''
def pool_windows(Q, C, H, W, size, stride):
    """Every size×size window's entries, windows ``stride`` apart: size²×C×H'×W'×m, entry k·size + l first."""
    m = Q.shape[1]
    Ho, Wo = (H - size) // stride + 1, (W - size) // stride + 1
    x = Q.reshape(C, H, W, m)
    return jnp.stack(
        [x[:, k : k + stride * Ho : stride, l : l + stride * Wo : stride] for k in range(size) for l in range(size)]
    )
'''
MAX_POOL_JAX = '''
def max_pool(Q, C, H, W, size, stride):
    """The largest entry of each size×size window, windows ``stride`` apart: (C·H'·W')×m."""
    return pool_windows(Q, C, H, W, size, stride).max(axis=0).reshape(-1, Q.shape[1])
'''
WINDOW_ARGMAX_JAX = '''
def window_argmax(Q, C, H, W, size, stride):
    """For each window, the position k·size + l of its largest entry: the first in row-major order where
    entries tie (np.argmax's choice, and PyTorch's), C×H'×W'×m."""
    return jnp.argmax(pool_windows(Q, C, H, W, size, stride), axis=0)
'''
UNPOOL_MAX_JAX = '''
def unpool_max(G, Q, C, H, W, size, stride):
    """The adjoint of max_pool, Q's shape: each entry of G routed to its window's arg-max (window_argmax), added
    up where windows overlap; 0 everywhere else."""
    m = Q.shape[1]
    Ho, Wo = (H - size) // stride + 1, (W - size) // stride + 1
    where = window_argmax(Q, C, H, W, size, stride)
    g = G.reshape(C, Ho, Wo, m)
    out = jnp.zeros((C, H, W, m), dtype=G.dtype)
    for k in range(size):
        for l in range(size):
            routed = jnp.where(where == k * size + l, g, 0)
            out = out.at[:, k : k + stride * Ho : stride, l : l + stride * Wo : stride].add(routed)
    return out.reshape(C * H * W, m)
'''
AVG_POOL_JAX = '''
def avg_pool(Q, C, H, W, size, stride):
    """The mean of each size×size window, windows ``stride`` apart: (C·H'·W')×m."""
    return (pool_windows(Q, C, H, W, size, stride).sum(axis=0) / (size * size)).reshape(-1, Q.shape[1])
'''
UNPOOL_AVG_JAX = '''
def unpool_avg(G, C, H, W, size, stride):
    """The adjoint of avg_pool, (C·H·W)×m: each entry of G spread evenly, G/size², over its window, added up
    where windows overlap."""
    m = G.shape[1]
    Ho, Wo = (H - size) // stride + 1, (W - size) // stride + 1
    g = G.reshape(C, Ho, Wo, m) / (size * size)
    out = jnp.zeros((C, H, W, m), dtype=G.dtype)
    for k in range(size):
        for l in range(size):
            out = out.at[:, k : k + stride * Ho : stride, l : l + stride * Wo : stride].add(g)
    return out.reshape(C * H * W, m)
'''


IM2COL = stanza(
    Op(
        "im2col",
        Im2col,
        _im2col_vjp,
        {
            "im2col": "X_col copies pixel (s·i + k, s·j + l) of the padded x̃ into row (c, k, l) of patch (i, j),"
            " so G pulls back to col2im(G): each entry added into the pixel it came from (a scatter-add over"
            " overlapping patches), then the padding cropped"
        },
        {
            "im2col": r"$X_{\mathrm{col}}$ copies pixel $(s i + k,\, s j + l)$ of the padded $\tilde{x}$ into row"
            r" $(c, k, l)$ of patch $(i, j)$, so $G$ pulls back to $\operatorname{col2im}(G)$: each entry added into"
            r" the pixel it came from (a scatter-add over overlapping patches), then the padding cropped"
        },
        text=_im2col_text,
        latex=_im2col_latex,
        numpy=_numpy_call("im2col", 1),
        evaluate=_evaluate_with(N.im2col, 1),
        jax_helpers={"im2col": IM2COL_JAX},
    )
)
COL2IM = stanza(
    Op(
        "col2im",
        Col2im,
        _adjoint_only,
        {},
        text=lambda p, e: f"col2im({p._print(e.args[0])})",
        latex=lambda p, e: rf"\operatorname{{col2im}}\!\left({p._print(e.args[0])}\right)",
        numpy=_numpy_call("col2im", 1),
        evaluate=_evaluate_with(N.col2im, 1),
        jax_helpers={"col2im": COL2IM_JAX},
    )
)
MAT = stanza(
    Op(
        "mat",
        Mat,
        _mat_vjp,
        {"mat": "mat(Q) lays Q's entries out again, one row per channel, so G pulls back to unmat(G)"},
        {
            "mat": r"$\operatorname{mat}(Q)$ lays $Q$'s entries out again, one row per channel: $G$ pulls back to"
            r" $\operatorname{unmat}(G)$"
        },
        text=lambda p, e: f"mat({p._print(e.arg)})",
        latex=lambda p, e: rf"\operatorname{{mat}}\!\left({p._print(e.arg)}\right)",
        numpy=_mat_numpy,
        evaluate=_mat_evaluate,
    )
)
UNMAT = stanza(
    Op(
        "unmat",
        Unmat,
        _unmat_vjp,
        {"unmat": "unmat(R) lays R's entries out again, one image per column, so G pulls back to mat(G)"},
        {
            "unmat": r"$\operatorname{unmat}(R)$ lays $R$'s entries out again, one image per column: $G$ pulls"
            r" back to $\operatorname{mat}(G)$"
        },
        text=lambda p, e: f"unmat({p._print(e.arg)})",
        latex=lambda p, e: rf"\operatorname{{unmat}}\!\left({p._print(e.arg)}\right)",
        numpy=_unmat_numpy,
        evaluate=_unmat_evaluate,
    )
)
MAX_POOL = stanza(
    Op(
        "max_pool",
        MaxPool,
        _max_pool_vjp,
        {
            "max_pool": "each output is the largest entry of its window, so ∂out/∂x is 1 at the window's arg-max and"
            " 0 elsewhere: G is routed to the arg-max (the first in row-major order at a tie), added up where"
            " windows overlap"
        },
        {
            "max_pool": r"each output is the largest entry of its window, so $\partial\,\mathrm{out}/\partial x$ is"
            r" $1$ at the window's arg-max and $0$ elsewhere: $G$ is routed to the arg-max (the first in row-major"
            r" order at a tie), added up where windows overlap"
        },
        text=_pool_text("maxpool"),
        latex=_pool_latex("maxpool"),
        numpy=_numpy_call("max_pool", 1),
        evaluate=_evaluate_with(N.max_pool, 1),
        jax_helpers={"max_pool": MAX_POOL_JAX, "pool_windows": WINDOWS_JAX},
        kink=_pool_kink,
    )
)
AVG_POOL = stanza(
    Op(
        "avg_pool",
        AvgPool,
        _avg_pool_vjp,
        {
            "avg_pool": "each output is the mean of its size² window, so ∂out/∂x = 1/size² for every entry of the"
            " window: G is spread evenly, G/size² to each, added up where windows overlap"
        },
        {
            "avg_pool": r"each output is the mean of its window of $\mathit{size}^2$ entries, so $G$ is spread"
            r" evenly, $G/\mathit{size}^2$ to each entry, added up where windows overlap"
        },
        text=_pool_text("avgpool"),
        latex=_pool_latex("avgpool"),
        numpy=_numpy_call("avg_pool", 1),
        evaluate=_evaluate_with(N.avg_pool, 1),
        jax_helpers={"avg_pool": AVG_POOL_JAX, "pool_windows": WINDOWS_JAX},
    )
)
UNPOOL_MAX = stanza(
    Op(
        "unpool_max",
        UnpoolMax,
        _adjoint_only,
        {},
        text=lambda p, e: f"unpool_max({p._print(e.args[0])}, {p._print(e.args[1])})",
        latex=lambda p, e: (
            rf"\operatorname{{unpool}}_{{\max}}\!\left({p._print(e.args[0])};\, {p._print(e.args[1])}\right)"
        ),
        numpy=_numpy_call("unpool_max", 2),
        evaluate=_evaluate_with(N.unpool_max, 2),
        jax_helpers={"unpool_max": UNPOOL_MAX_JAX, "window_argmax": WINDOW_ARGMAX_JAX, "pool_windows": WINDOWS_JAX},
    )
)
UNPOOL_AVG = stanza(
    Op(
        "unpool_avg",
        UnpoolAvg,
        _adjoint_only,
        {},
        text=lambda p, e: f"unpool_avg({p._print(e.args[0])})",
        latex=lambda p, e: rf"\operatorname{{unpool}}_{{\mathrm{{avg}}}}\!\left({p._print(e.args[0])}\right)",
        numpy=_numpy_call("unpool_avg", 1),
        evaluate=_evaluate_with(N.unpool_avg, 1),
        jax_helpers={"unpool_avg": UNPOOL_AVG_JAX},
    )
)
