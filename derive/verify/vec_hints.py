"""The hint of a wrong vectorised claim: a constant factor (1/m), a slip of the training lecture's further
topics (dropout, penalties, batch norm, attention), or the first repair that makes it agree everywhere."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import sympy as sp

from ..printing.matrix import matrix_text, unbroadcast
from .claims import ClaimError
from .hessian_slips import hessian_repairs
from .slips import describe_constant
from .vec_repairs import _walk, classic_repairs, derivative_repairs, repairs
from .vec_slips import course_repairs, edited_slip
from .vec_target import VecTarget, resolve
from .vec_trials import Trial, run_trials, same


def vector_hint(net: VecTarget, name: str, tree, trials: list[Trial]) -> str | None:
    def holds(candidate) -> bool:
        try:
            return all(t.agrees for t in run_trials(net, name, candidate, trials=3))
        except ClaimError:  # a repair naming something the network does not have (dA2)
            return False

    kept = [t for t in trials if t.problem is None and np.asarray(t.claimed).shape == t.true.shape]
    if len(kept) == len(trials):
        slip = topic_slip(net, name, kept) or edited_slip(net, name, kept)
        if slip:
            return slip
    if len(kept) == len(trials):
        ratios = [_ratio(np.asarray(t.claimed, float), t.true) for t in kept]
        if all(r is not None and math.isfinite(r) and not math.isclose(r, 1.0) for r in ratios):
            ms = [t.shape["m"] for t in kept]
            if all(math.isclose(r, m, rel_tol=1e-9) for r, m in zip(ratios, ms)):
                return "a missing factor 1/m (the claim is m × the truth)"
            if all(math.isclose(r, 1 / m, rel_tol=1e-9) for r, m in zip(ratios, ms)):
                return "an extra factor 1/m"
            if all(math.isclose(r, ratios[0], rel_tol=1e-9) for r in ratios):
                return describe_constant(Fraction(ratios[0]).limit_denominator(1000))
    candidates = [
        *classic_repairs(net, name, tree),
        *hessian_repairs(net, name, tree),
        *course_repairs(net, name, tree),
        *repairs(tree, lambda n: resolve(net, n)),
        *derivative_repairs(net, tree),
    ]
    for label, candidate in candidates:
        if holds(candidate):
            square = [
                np.shape(t.claimed) for t in trials if t.problem is None and _square(np.shape(t.claimed), t.true.shape)
            ]
            if label.startswith("keepdims") and square:
                n = square[0][0]
                label += f"; the rank-1 ({n},) array broadcasts against an ({n}, 1) column to {square[0]}"
            return label
    for t in trials:
        shape = np.shape(t.claimed) if t.problem is None else None
        if shape and _square(shape, t.true.shape) and _unkept_sum(tree):
            return f"keepdims left out: a rank-1 ({shape[0]},) array broadcast against a column gives {shape}, not {t.true.shape}"
    return None


def topic_slip(net: VecTarget, name: str, trials: list[Trial]) -> str | None:
    """The usual slips of the training lecture's further topics, each tested as a correction of the claim:
    dropout's 1/keep_prob, the penalty's (λ/m) W, a regularised bias, and batch norm's two Σ terms."""
    from ..ir.numeric import NumPyEvaluator

    candidates = list(_topic_candidates(net, name))
    if not candidates:
        return None
    for label, correct in candidates:
        ok = True
        for t in trials:
            env, dims = net.at(t.seed)
            value = NumPyEvaluator(env, dims)
            with np.errstate(all="ignore"):
                repaired = correct(np.asarray(t.claimed, dtype=float), value, env)
            if not same(repaired, t.true):
                ok = False
                break
        if ok:
            return label
    return None


def _topic_candidates(net: VecTarget, name: str):
    """``(label, correct(claimed, evaluate, env))`` pairs for the slips that apply to ``name``."""
    from ..ir.rewrites import NamedRewrite

    eq = net.equations.get(name)
    vn = net.net
    if eq is None:
        return
    yield from _attention_candidates(net, name, eq)
    masks = [d for d in vn.masks if d in {s.name for s in eq.expr.atoms(sp.MatrixSymbol)}]
    for d in masks:
        keep = vn.masks[d]
        shown = "keep_prob" if str(keep) == "keep_prob" else str(keep)
        yield (
            f"the inverted-dropout scaling 1/{shown} is missing: the backward pass scales like the forward, {eq.text}",
            lambda c, ev, env, keep=keep: c / ev.scalar(keep),
        )
        yield (
            f"multiplied by {shown} instead of divided: inverted dropout divides by it in both passes",
            lambda c, ev, env, keep=keep: c / ev.scalar(keep) ** 2,
        )
    penalties = [t for t in eq.terms if t.via == "J" and t.kind != "loss_grad"] if eq.kind == "sum" else []
    for t in penalties:
        shown = matrix_text(t.expr)
        other, other_shown = _other_penalty(t.expr)
        yield (
            f"the {'L2' if other_shown.endswith(name[1:]) else 'L1'} penalty's gradient {other_shown} written for "
            f"{shown}: "
            + ("the derivative of |w| is sign(w), not w" if "sign" in shown else "the derivative of ½w² is w"),
            lambda c, ev, env, e=t.expr, o=other: c - ev(o) + ev(e),
        )
        yield (
            f"the penalty's term {shown} is missing: {name[1:]} is used twice, by its layer and by the penalty",
            lambda c, ev, env, e=t.expr: c + ev(e),
        )
        yield (
            f"λ where the gradient has λ/m: the penalty's term is {shown}",
            lambda c, ev, env, e=t.expr: c - (env["m"] - 1) * ev(e),
        )
        yield (
            f"the penalty's term counted twice: the ½ of (λ/2m)‖W‖² cancels the 2 of ∂W²/∂W, leaving {shown}",
            lambda c, ev, env, e=t.expr: c - ev(e),
        )
    if name[1:] in vn.names("param") and vn.kinds.get(name[1:]) == "param" and not penalties:
        for other in net.equations.values():
            for t in other.terms if other.kind == "sum" else ():
                if t.via != "J" or t.kind == "loss_grad":
                    continue
                scalar, factors = t.expr.as_coeff_matrices() if isinstance(t.expr, sp.MatMul) else (1, [t.expr])
                if len(factors) != 1:
                    continue
                b = vn.matrices[name[1:]]
                mine = factors[0].xreplace({a: b for a in factors[0].atoms(sp.MatrixSymbol)})
                yield (
                    (
                        f"the bias {name[1:]} is not regularised: the penalty sums over the weights only,"
                        f" so {name} has no {matrix_text(scalar * mine)} term"
                    ),
                    lambda c, ev, env, e=scalar * mine: c - ev(e),
                )
                return
    for step in net.d.steps:
        if isinstance(step, NamedRewrite) and step.target == name:
            scalar, (product,) = step.after.as_coeff_matrices()
            spread, inner = product.args if not isinstance(product.args[0], sp.MatAdd) else product.args[::-1]
            parts = [
                sp.MatMul(scalar, sp.HadamardProduct(spread, -term))
                for term in inner.args
                if term.could_extract_minus_sign()
            ]
            if len(parts) > 1:
                stats = "the batch's μ and σ²" if step.name.startswith("the batch") else "the example's μ and σ²"
                yield (
                    (
                        f"the statistics treated as constants: {stats} depend on {name[1:]} too, so {name} has a "
                        f"term through each, {net.truth_text(name)}"
                    ),
                    lambda c, ev, env, es=parts: c - sum(ev(e) for e in es),
                )
            for term in inner.args:
                if not term.could_extract_minus_sign():
                    continue
                part = sp.MatMul(scalar, sp.HadamardProduct(spread, -term))
                variance = len((-term).atoms(sp.MatrixSymbol)) > 1  # Ẑ ⊙ Σ(dZ̃ ⊙ Ẑ): through σ²
                what = (
                    ("the batch's σ²" if variance else "the batch's μ")
                    if step.name.startswith("the batch")
                    else ("the example's σ²" if variance else "the example's μ")
                )
                yield (
                    f"the term −{matrix_text(unbroadcast(-term))} is missing: it comes through {what}",
                    lambda c, ev, env, e=part: c - ev(e),
                )


def _other_penalty(term):
    """The other penalty's gradient: (λ/m) W for (λ/m) sign(W), and (λ/m) sign(W) for (λ/m) W."""
    from ..ops.nodes import Sign

    if term.has(Sign):
        other = term.replace(lambda e: isinstance(e, Sign), lambda e: e.args[0])
    else:
        other = term.xreplace({w: Sign(w) for w in term.atoms(sp.MatrixSymbol)})
    return other, matrix_text(other)


def _attention_candidates(net: VecTarget, name: str, eq):
    """Self-attention's usual slips: dS = dP ⊙ P without the rowsum correction, a missing 1/√d."""
    from ..ops import Apply
    from ..ops.activations.softmax_rows import SoftmaxRows

    vn = net.net
    softmaxes = {
        a.operands[0]: a.name
        for a in vn.assignments
        if isinstance(a.value, Apply) and a.value.record is SoftmaxRows.record
    }
    if name[1:] in softmaxes:
        P, dP = softmaxes[name[1:]], f"d{softmaxes[name[1:]]}"
        yield (
            f"the rowsum correction is missing: the row softmax's Jacobian is diag(p) − p pᵀ, not diag(p), so {eq.text}",
            lambda c, ev, env, P=P, dP=dP: c - env[P] * np.sum(env[dP] * env[P], axis=1, keepdims=True),
        )
    roots = [
        p.base
        for p in sp.sympify(eq.expr.as_coeff_matrices()[0] if isinstance(eq.expr, sp.MatMul) else 1).atoms(sp.Pow)
        if p.exp == -sp.S.Half and p.base in vn.dim_sizes
    ]
    for d in roots:
        yield (
            f"the scale 1/√{d} is missing: S = Q Kᵀ/√{d} scales its gradient too, {eq.text}",
            lambda c, ev, env, d=d: c / np.sqrt(ev.size(d)),
        )


def _square(shape, true_shape) -> bool:
    return len(shape) == 2 and shape[0] == shape[1] == true_shape[0] and true_shape[1] == 1 and shape != true_shape


def _unkept_sum(tree) -> bool:
    return any(node[0] == "sum" and not node[3] for _, node in _walk(tree))


def _ratio(claimed: np.ndarray, true: np.ndarray) -> float | None:
    mask = np.abs(true) > 1e-9
    if not mask.any():
        return None
    r = claimed[mask] / true[mask]
    return float(r[0]) if np.allclose(r, r[0], rtol=1e-9) else None
