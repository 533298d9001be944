"""The penalties' building blocks: ``‖W‖²_F = Σ W²`` (L2) and ``‖W‖₁ = Σ |W|`` (L1), with ``sign(W)``.

Ng, deeplearning.ai course 2 (regularisation); cs231n notes, "Regularization".
L1 is not differentiable where an entry is 0; the rule uses the subgradient
with sign(0) = 0, as NumPy's ``np.sign`` and PyTorch's autograd do.
"""

from __future__ import annotations

import sympy as sp
from sympy.matrices.expressions.special import OneMatrix

from .base import Op, stanza
from .nodes import FrobeniusSq, L1Norm, Sign


def _frobenius_vjp(expr, G, ctx):
    return [(expr.arg, 2 * G * expr.arg, "frobenius")]


def _entry_sum(Q):
    """``1ᵀ Q 1``: the sum of Q's entries (1×1)."""
    return OneMatrix(1, Q.shape[0]) * Q * OneMatrix(Q.shape[1], 1)


def _frobenius_jvp(expr, d, ctx):
    """``R{‖W‖²_F} = 2 Σ W ⊙ R{W}``."""
    dW = d(expr.arg)
    return None if dW is None else 2 * _entry_sum(sp.HadamardProduct(expr.arg, dW))


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
        FrobeniusSq,
        _frobenius_vjp,
        {"frobenius": "‖W‖²_F = Σ W² pulls G back to 2 G W"},
        {"frobenius": r"$\lVert W \rVert_F^2 = \sum W^2$ pulls $G$ back to $2 G W$"},
        text=_text,
        latex=_latex,
        numpy=_numpy,
        evaluate=_evaluate,
        jvp=_frobenius_jvp,
    )
)


def _l1_vjp(expr, G, ctx):
    return [(expr.arg, G * Sign(expr.arg), "l1")]


def _l1_jvp(expr, d, ctx):
    """``R{‖W‖₁} = Σ sign(W) ⊙ R{W}`` (where no entry is 0)."""
    dW = d(expr.arg)
    return None if dW is None else _entry_sum(sp.HadamardProduct(Sign(expr.arg), dW))


def _l1_text(printer, expr):
    return f"‖{printer._print(expr.arg)}‖₁"


def _l1_latex(printer, expr):
    return rf"\lVert {printer._print(expr.arg)} \rVert_1"


def _l1_numpy(printer, expr):
    return f"np.sum(np.abs({printer._print(expr.arg)}))"


def _l1_evaluate(evaluator, expr):
    return evaluator.l1_norm(evaluator(expr.arg))


L1 = stanza(
    Op(
        "l1_norm",
        L1Norm,
        _l1_vjp,
        {"l1": "‖W‖₁ = Σ |W| pulls G back to G sign(W) (the subgradient, sign(0) = 0)"},
        {
            "l1": r"$\lVert W \rVert_1 = \sum |W|$ pulls $G$ back to $G \operatorname{sign}(W)$, with $\operatorname{sign}(0) = 0$"
        },
        text=_l1_text,
        latex=_l1_latex,
        numpy=_l1_numpy,
        evaluate=_l1_evaluate,
        jvp=_l1_jvp,
    )
)


def _sign_vjp(expr, G, ctx):
    return []  # sign' = 0 wherever it is defined: nothing flows back


def _sign_text(printer, expr):
    return f"sign({printer._print(expr.arg)})"


def _sign_latex(printer, expr):
    return rf"\operatorname{{sign}}({printer._print(expr.arg)})"


def _sign_numpy(printer, expr):
    return f"np.sign({printer._print(expr.arg)})"


def _sign_evaluate(evaluator, expr):
    return evaluator.sign(evaluator(expr.arg))


SIGN = stanza(
    Op(
        "sign",
        Sign,
        _sign_vjp,
        {"sign": "sign(W) is constant between its jumps: nothing flows back"},
        {"sign": r"$\operatorname{sign}(W)$ is constant between its jumps: nothing flows back"},
        text=_sign_text,
        latex=_sign_latex,
        numpy=_sign_numpy,
        evaluate=_sign_evaluate,
        jvp=lambda expr, d, ctx: None,  # constant between its jumps: R{sign(W)} = 0
    )
)
