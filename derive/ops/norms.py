"""``‖W‖²_F = Σ W²``, the L2 penalty's building block (Ng, deeplearning.ai course 2; cs231n)."""

from __future__ import annotations

from .base import Op, stanza


def _frobenius_vjp(expr, G, ctx):
    return [(expr.arg, 2 * G * expr.arg, "frobenius")]


def _text(printer, expr):
    return f"‖{printer._print(expr.arg)}‖²"


def _latex(printer, expr):
    return rf"\lVert {printer._print(expr.arg)} \rVert_F^2"


def _numpy(printer, expr):
    inner = printer._print(expr.arg)
    return f"np.sum({inner} * {inner})"


def _evaluate(evaluator, expr):
    return evaluator.frobenius_sq(evaluator(expr.arg))


FROBENIUS = stanza(
    Op(
        "frobenius_sq",
        "FrobeniusSq",
        _frobenius_vjp,
        {"frobenius": "‖W‖²_F = Σ W² pulls G back to 2 G W"},
        {"frobenius": r"$\lVert W \rVert_F^2 = \sum W^2$ pulls $G$ back to $2 G W$"},
        text=_text,
        latex=_latex,
        numpy=_numpy,
        evaluate=_evaluate,
    )
)
