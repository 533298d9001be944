"""Text ops (J&M ch. 7, embeddings as input; Stanford CS124): embedding lookup, mean and max pooling,
concatenation, word2vec's dot products of looked-up vectors (cs224n assignment 2), and the adjoints their rules
write.

``Emb = E[:, W]`` gathers word vectors, so its rule is the scatter-add into the
columns of E of the words present (never a d×|V| product); ``pool_mean``
spreads G evenly over the words, ``pool_max`` routes each entry of G to its
arg-max word, ``[A; B]`` splits G into each part's rows, and ``Qᵀ v`` (``dots``: per column, the n looked-up
vectors of Q against v) pulls G back to ``Q G`` for v and ``v Gᵀ`` for Q, column by column.  The adjoint
nodes print and evaluate but are not differentiated again: their rule says so.
"""

from __future__ import annotations

import sympy as sp

from ..errors import ChainruleError
from . import text_numpy as T
from .base import Op, stanza
from .text_nodes import (
    Concat,
    Dots,
    DotsMix,
    DotsOuter,
    Embed,
    PoolMax,
    PoolMean,
    RouteMax,
    RowBlock,
    ScatterAdd,
    SpreadMean,
)


# ------------------------------------------------------------------ rules
def _embed_vjp(expr, G, ctx):
    E, W = expr.args
    return [(E, ScatterAdd(G, W, E.shape[1]), "embed")]


def _pool_mean_vjp(expr, G, ctx):
    Q, W = expr.args
    return [(Q, SpreadMean(G, W), "pool_mean")]


def _pool_max_vjp(expr, G, ctx):
    Q, W = expr.args
    return [(Q, RouteMax(G, Q, W), "pool_max")]


def _concat_vjp(expr, G, ctx):
    out, start = [], sp.S.Zero
    for part in expr.args:
        stop = start + part.shape[0]
        out.append((part, RowBlock(G, start, stop), "concat"))
        start = stop
    return out


def _dots_vjp(expr, G, ctx):
    Q, v = expr.args
    return [(Q, DotsOuter(G, v), "dots-vectors"), (v, DotsMix(G, Q), "dots-vector")]


def _adjoint_only(expr, G, ctx):
    raise ChainruleError(f"'{type(expr).__name__}' is an adjoint of the op table; it is not differentiated again")


# ------------------------------------------------------------------ forms
def _evaluate_with(function):
    def evaluate(evaluator, expr):
        values = []
        for a in expr.args:
            if isinstance(a, sp.MatrixExpr):
                values.append(evaluator(a))
            else:
                values.append(evaluator.size(a))
        return function(*values)

    return evaluate


def _numpy_with(name):
    def numpy(printer, expr):
        args = []
        for a in expr.args:
            if isinstance(a, sp.MatrixExpr):
                args.append(printer._print(a))
            else:
                args.append(str(int(sp.sympify(a).subs(printer.sizes))))
        return printer.use(f"{name}({', '.join(args)})")

    return numpy


def _product(printer, *parts) -> str:
    """Juxtaposed factors, each in parentheses unless it is one name (``U_O ds``, ``(A + B) G``)."""
    out = []
    for part, suffix in parts:
        text = printer._print(part)
        out.append((text if isinstance(part, sp.MatrixSymbol) else f"({text})") + suffix)
    return " ".join(out)


def _product_latex(printer, *parts) -> str:
    r"""The same in LaTeX: ``U_{O}^{\top} v_{c}``, ``\left(A + B\right) G``."""
    out = []
    for part, transposed in parts:
        text = printer._print(part)
        if not isinstance(part, sp.MatrixSymbol):
            text = rf"\left({text}\right)"
        elif transposed and "^" in text:
            text = f"{{{text}}}"
        out.append(text + (r"^{\top}" if transposed else ""))
    return " ".join(out)


def _block_text(printer, expr):
    G, start, stop = expr.args
    return f"{printer._print(G)}[{printer._print(start)}:{printer._print(stop)}]"


def _block_latex(printer, expr):
    G, start, stop = expr.args
    return rf"{printer._print(G)}_{{{printer._print(start)}:{printer._print(stop)}}}"


def _block_numpy(printer, expr):
    G, start, stop = expr.args
    first = int(sp.sympify(start).subs(printer.sizes))
    last = int(sp.sympify(stop).subs(printer.sizes))
    return f"{printer._print(G)}[{first}:{last}]"


EMBED = stanza(
    Op(
        "embed",
        Embed,
        _embed_vjp,
        {
            "embed": "Emb = E[:, W] copies column W_t of E into block t (0 at padding), so G pulls back to a"
            " scatter-add: dE[:, v] = Σ of G's blocks at the positions holding word v, 0 for a word not in the batch"
        },
        {
            "embed": r"$E_{:,W}$ copies column $W_t$ of $E$ into block $t$ (0 at padding), so $G$ pulls back to a"
            r" scatter-add: $\mathrm{d}E_{:,v} = \sum_{t:\,W_t = v} G_t$, $0$ for a word not in the batch"
        },
        text=lambda p, e: f"{p._print(e.args[0])}[:, {p._print(e.args[1])}]",
        latex=lambda p, e: rf"{p._print(e.args[0])}_{{:,{p._print(e.args[1])}}}",
        numpy=_numpy_with("embed"),
        evaluate=_evaluate_with(T.embed),
    )
)
POOL_MEAN = stanza(
    Op(
        "pool_mean",
        PoolMean,
        _pool_mean_vjp,
        {
            "pool_mean": "X = (1/n) Σ_t Emb_t over the n words present, so G pulls back to G/n in the block of"
            " every word present, 0 at padding"
        },
        {
            "pool_mean": r"$X = \frac{1}{n}\sum_t \mathit{Emb}_t$ over the $n$ words present, so $G$ pulls back to"
            r" $G/n$ in the block of every word present, $0$ at padding"
        },
        text=lambda p, e: f"pool_mean({p._print(e.args[0])})",
        latex=lambda p, e: rf"\operatorname{{mean}}_t\, {p._print(e.args[0])}_t",
        numpy=_numpy_with("pool_mean"),
        evaluate=_evaluate_with(T.pool_mean),
    )
)
POOL_MAX = stanza(
    Op(
        "pool_max",
        PoolMax,
        _pool_max_vjp,
        {
            "pool_max": "X_i = max_t Emb_{t,i} over the words present, so ∂X_i/∂Emb_{t,i} is 1 at the arg-max t and"
            " 0 elsewhere: each entry of G is routed to its arg-max word"
        },
        {
            "pool_max": r"$X_i = \max_t \mathit{Emb}_{t,i}$ over the words present, so each entry of $G$ is routed"
            r" to its arg-max word ($\partial X_i/\partial \mathit{Emb}_{t,i} = [t = \arg\max]$)"
        },
        text=lambda p, e: f"pool_max({p._print(e.args[0])})",
        latex=lambda p, e: rf"\max_t {p._print(e.args[0])}_t",
        numpy=_numpy_with("pool_max"),
        evaluate=_evaluate_with(T.pool_max),
    )
)
CONCAT = stanza(
    Op(
        "concat",
        Concat,
        _concat_vjp,
        {"concat": "[A; B] stacks the rows, so G splits: each part gets its own rows of G"},
        {"concat": r"$[A; B]$ stacks the rows, so $G$ splits: each part gets its own rows of $G$"},
        text=lambda p, e: "[" + "; ".join(p._print(a) for a in e.args) + "]",
        latex=lambda p, e: r"\begin{bmatrix}" + r" \\ ".join(p._print(a) for a in e.args) + r"\end{bmatrix}",
        numpy=lambda p, e: p.use("np.concatenate([" + ", ".join(p._print(a) for a in e.args) + "])"),
        evaluate=_evaluate_with(T.concat),
    )
)

DOTS = stanza(
    Op(
        "dots",
        Dots,
        _dots_vjp,
        {
            "dots-vector": "s = Qᵀ v column by column (one column is one pair: Q's column is the d×n matrix of its n"
            " looked-up word vectors), so G pulls back to Q G for v: Σ_j G_j q_j, each vector weighted by its score's"
            " gradient",
            "dots-vectors": "s = Qᵀ v column by column, so G pulls back to v Gᵀ for Q: the vector of word j gets G_j v",
        },
        {
            "dots-vector": r"$s = Q^{\top} v$ column by column (one column is one pair: $Q$'s column is the"
            r" $d \times n$ matrix of its $n$ looked-up word vectors), so $G$ pulls back to $Q G = \sum_j G_j q_j$"
            r" for $v$",
            "dots-vectors": r"$s = Q^{\top} v$ column by column, so $G$ pulls back to $v G^{\top}$ for $Q$: the vector"
            r" of word $j$ gets $G_j v$",
        },
        text=lambda p, e: _product(p, (e.args[0], "ᵀ"), (e.args[1], "")),
        latex=lambda p, e: _product_latex(p, (e.args[0], True), (e.args[1], False)),
        numpy=_numpy_with("dots"),
        evaluate=_evaluate_with(T.dots),
    )
)
DOTS_MIX = stanza(
    Op(
        "dots_mix",
        DotsMix,
        _adjoint_only,
        {},
        text=lambda p, e: _product(p, (e.args[1], ""), (e.args[0], "")),
        latex=lambda p, e: _product_latex(p, (e.args[1], False), (e.args[0], False)),
        numpy=_numpy_with("dots_mix"),
        evaluate=_evaluate_with(T.dots_mix),
    )
)
DOTS_OUTER = stanza(
    Op(
        "dots_outer",
        DotsOuter,
        _adjoint_only,
        {},
        text=lambda p, e: _product(p, (e.args[1], ""), (e.args[0], "ᵀ")),
        latex=lambda p, e: _product_latex(p, (e.args[1], False), (e.args[0], True)),
        numpy=_numpy_with("dots_outer"),
        evaluate=_evaluate_with(T.dots_outer),
    )
)

SCATTER_ADD = stanza(
    Op(
        "scatter_add",
        ScatterAdd,
        _adjoint_only,
        {},
        text=lambda p, e: f"scatter_add({p._print(e.args[0])}, {p._print(e.args[1])})",
        latex=lambda p, e: rf"\operatorname{{scatter}}_{{{p._print(e.args[1])}}}\!\left({p._print(e.args[0])}\right)",
        numpy=_numpy_with("scatter_add"),
        evaluate=_evaluate_with(T.scatter_add),
    )
)
SPREAD_MEAN = stanza(
    Op(
        "spread_mean",
        SpreadMean,
        _adjoint_only,
        {},
        text=lambda p, e: f"spread_mean({p._print(e.args[0])}, {p._print(e.args[1])})",
        latex=lambda p, e: rf"\operatorname{{spread}}_{{{p._print(e.args[1])}}}\!\left({p._print(e.args[0])}\right)",
        numpy=_numpy_with("spread_mean"),
        evaluate=_evaluate_with(T.spread_mean),
    )
)
ROUTE_MAX = stanza(
    Op(
        "route_max",
        RouteMax,
        _adjoint_only,
        {},
        text=lambda p, e: f"route_max({p._print(e.args[0])}, {p._print(e.args[1])})",
        latex=lambda p, e: (
            rf"\operatorname{{route}}_{{\arg\max {p._print(e.args[1])}}}\!\left({p._print(e.args[0])}\right)"
        ),
        numpy=_numpy_with("route_max"),
        evaluate=_evaluate_with(T.route_max),
    )
)
ROW_BLOCK = stanza(
    Op(
        "row_block",
        RowBlock,
        _adjoint_only,
        {},
        text=_block_text,
        latex=_block_latex,
        numpy=_block_numpy,
        evaluate=_evaluate_with(T.row_block),
    )
)
