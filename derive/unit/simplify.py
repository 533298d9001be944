"""Targeted rewrites that bring gradients to the lecture's forms.

No blind ``simplify()``: each rewrite is bounded and says why it applies.

* ``cancel``: a product of a rational factor and another whose numerator
  shares a factor with its denominator, such as
  ``(−y/ŷ + (1 − y)/(1 − ŷ)) · ŷ(1 − ŷ)`` → ``ŷ − y`` ("ŷ(1 − ŷ) cancels").
  Kept only when it makes the expression smaller.
* ``one-hot``: in a sum over classes, ``Σᵢ yᵢ`` becomes 1 when the targets are
  one-hot (softmax + cross-entropy: ``ŷⱼ Σᵢ yᵢ − yⱼ`` → ``ŷⱼ − yⱼ``).

Products are also kept in a second, unevaluated form in chain order (loss
end first), so that ``(ŷ − y)·w1·a1·(1 − a1)·x1`` prints as the lecture
writes it.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from ..printing.text import GREEK, text
from ..steps import Rewrite


@dataclass(frozen=True)
class Simplification:
    """A rewrite not yet tied to the gradient it simplifies (see ``steps.Rewrite``)."""

    before: sp.Expr
    after: sp.Expr
    reason: str
    kind: str
    cancelled: sp.Expr | None = None

    def of(self, target: str, loss: str) -> Rewrite:
        """This simplification as the step that rewrites ∂loss/∂target."""
        return Rewrite(target, loss, self.before, self.after, self.reason, self.kind, self.cancelled)


def ordered_mul(*factors) -> sp.Expr:
    """An unevaluated product in the given order: numbers first, ones dropped, nested products flattened."""
    flat = []
    for f in factors:
        flat.extend(sp.Mul.make_args(f) if f.is_Mul and not _is_unit(f) else [f])
    number = sp.Mul(*[f for f in flat if f.is_Number])
    rest = [f for f in flat if not f.is_Number]
    if number == 0:
        return sp.S.Zero
    if number != 1:
        rest.insert(0, number)
    if not rest:
        return sp.S.One
    if len(rest) == 1:
        return rest[0]
    return sp.Mul(*rest, evaluate=False)


def _is_unit(f: sp.Expr) -> bool:
    """A signed or fractional product (``−y/ŷ``) stays one factor when multiplied."""
    return any((a.is_Number and a.is_negative) or (a.is_Pow and a.exp.is_negative) for a in f.args)


def lecture_order(expr: sp.Expr) -> sp.Expr:
    """A product with a hyperparameter first and its sums last, as lectures write ``λ·W11`` and ``a(1 − a)``; other
    expressions unchanged."""
    if not expr.is_Mul:
        return expr
    args = sorted(expr.args, key=lambda f: (not _hyperparameter(f), f.is_Add, f.is_Pow and f.exp.is_negative))
    return ordered_mul(*args)


def _hyperparameter(f) -> bool:
    """λ, η, ε …: a constant a lecture writes in Greek (and first in a product)."""
    return f.is_Symbol and f.name in GREEK


def _size(expr) -> int:
    return int(sp.count_ops(expr, visual=False)) + len(expr.atoms(sp.Symbol))


def _has_denominator(expr) -> bool:
    if not any(p.exp.is_negative for p in expr.atoms(sp.Pow)) and all(r.q == 1 for r in expr.atoms(sp.Rational)):
        return False  # no division anywhere: nothing to bring over a common denominator
    return sp.fraction(sp.together(expr))[1] != 1


def simplify_product(delta: sp.Expr, shown: sp.Expr, local: sp.Expr):
    """``delta · local`` for one child: (value, shown form, Simplification or None)."""
    before = ordered_mul(shown, local)
    value = delta * local
    if delta == 1:
        return local, local, None
    if not (_has_denominator(delta) or _has_denominator(local)):
        return value, before, None
    candidate = sp.cancel(sp.together(value))
    candidate = sp.factor_terms(candidate)
    if _size(candidate) < _size(value):
        value = candidate
    if _size(value) >= _size(sp.Mul(delta, local, evaluate=False)):
        return delta * local, before, None
    cancelled = _common_factor(delta, local)
    reason = f"{text(cancelled)} cancels" if cancelled is not None else "common factors cancel"
    return value, value, Simplification(before, value, reason, "cancel", cancelled)


def _common_factor(a: sp.Expr, b: sp.Expr):
    """The factor that cancels between ``a`` and ``b``, in the form it has in ``b`` when it can."""
    na, da = sp.fraction(sp.together(a))
    nb, db = sp.fraction(sp.together(b))
    g = sp.factor(sp.gcd(da, nb) * sp.gcd(db, na))
    if g == 1 or g.is_Number:
        return None
    for cand in (b, a, nb, na):
        ratio = sp.cancel(g / cand)
        if ratio in (1, -1):
            return cand
    # a factor of b's numerator, written as b writes it
    parts = [f for f in sp.Mul.make_args(nb) if sp.cancel(g / f) in (1, -1) or sp.gcd(g, f) != 1]
    if parts:
        return ordered_mul(*parts)
    return g


def combine_terms(terms, shown_terms, one_hot_groups):
    """Sum the children's contributions: (value, shown form, [Simplification])."""
    if not terms:
        return sp.S.Zero, sp.S.Zero, []
    if len(terms) == 1:
        return terms[0], shown_terms[0], []
    value = sp.Add(*terms)
    shown = sp.Add(*shown_terms, evaluate=False)
    rewrites = []
    for group in one_hot_groups:
        if not set(group) & value.free_symbols:
            continue
        done = one_hot(value, group)
        if done is not None:
            collected, after = done
            total = sp.Add(*group, evaluate=False)
            rewrites.append(Simplification(shown, collected, "sum of the terms, collected", "collect"))
            rewrites.append(Simplification(collected, after, f"{text(total)} = 1 (y is one-hot)", "one-hot", total))
            value, shown = after, after
    return value, shown, rewrites


ONE_HOT_MAX_OPS = 40  # a lecture's Σ yᵢ = 1 shows in small sums; expanding a large one costs seconds


def one_hot(expr: sp.Expr, group) -> tuple[sp.Expr, sp.Expr] | None:
    """Replace ``Σᵢ yᵢ`` by 1 wherever it is a coefficient; (collected form, result) or None.
    Tried on sums of up to ``ONE_HOT_MAX_OPS`` operations only (the result is the same value either way)."""
    if sp.count_ops(expr) > ONE_HOT_MAX_OPS:
        return None
    expanded = sp.expand(expr)
    total = sp.Add(*group)
    gens = sorted(expanded.free_symbols - set(group), key=lambda s: s.name)
    if not gens:
        return None
    parts = sp.collect(expanded, gens, evaluate=False)
    hit = False
    collected, after = [], []
    for key in sorted(parts, key=sp.default_sort_key):
        coeff = parts[key]
        if sp.expand(coeff - total) == 0:
            hit = True
            collected.append(sp.Mul(key, sp.Add(*group, evaluate=False), evaluate=False))
            after.append(key)
        else:
            collected.append(key * coeff)
            after.append(key * coeff)
    if not hit:
        return None
    result = sp.Add(*after)
    if _size(result) >= _size(expr):
        return None
    return sp.Add(*collected, evaluate=False), result
