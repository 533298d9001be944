"""Name the likely slip in a wrong claim.

Each detector proposes a repair of the claim and keeps it only when the
repaired claim agrees with the truth at every test point:

* a flipped sign (claim = −truth);
* a constant factor (a dropped or extra 2, a missing 1/m);
* a swapped index (``W12`` written for ``W21``: index digits permuted);
* a factor missing, extra, or written in place of another (``a1`` for
  ``(1 − a1)``), found by comparing the two products factor by factor in node
  names and confirmed numerically;
* a missing or extra term.
"""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter
from fractions import Fraction

import sympy as sp

from ..ops import records
from ..printing.text import text
from .claim_scope import node_form
from .equivalence import SYMBOLIC_MAX_TERMS, agree, expanded_terms, numeric_function, values_at

_DIGITS = re.compile(r"^(.*?)(\d{2,})$")


def scalar_hint(scope, target, claim: sp.Expr, rows) -> str | None:
    d = scope.d
    values = []
    for row in rows:
        values.append(values_at(d, row.point))
    truth_fn = numeric_function(target.truth)
    trues = [truth_fn(v) if v is not None else None for v in values]

    def matches(expr: sp.Expr) -> bool:
        fn = numeric_function(expr)
        ok = 0
        for v, t in zip(values, trues):
            if v is None:
                continue
            try:
                if not agree(fn(v), t):
                    return False
            except (ZeroDivisionError, ValueError, OverflowError):
                return False
            ok += 1
        return ok > 0

    constant = constant_ratio([(r.claimed, r.true) for r in rows])
    if constant is not None:
        return describe_constant(constant)
    swapped = swapped_index(scope, claim, matches)
    if swapped:
        return swapped
    left_out = path_left_out(scope, target, lambda e: _agrees_with(e, claim, values))
    if left_out:
        return left_out
    written = activation_for_derivative(scope, claim, matches)
    if written:
        return written
    claim_n = node_form(d, claim)
    truth_n = node_form(d, target.truth)
    found = None
    if truth_n.is_Add and sp.count_ops(truth_n) <= 40:  # (1 − y)/(1 − ŷ) − y/ŷ as one product: (ŷ − y)/(ŷ(1 − ŷ))
        product = sp.factor(sp.together(truth_n))
        found = factor_difference(claim_n, product, matches, claim, target.truth) if not product.is_Add else None
    found = found or factor_difference(claim_n, truth_n, matches, claim, target.truth)
    mask = re.fullmatch(r"a missing factor step\((\w+)\)", found or "")
    if mask:
        z = mask.group(1)
        applied = [n.expr for n in scope.net.nodes if n.expr.args == (scope.sym.get(z),) and n.expr.is_Function]
        f = text(applied[0]).split("(")[0] if applied else "g"
        return f"the {f} mask lost: a missing factor step({z}) ({f}′({z}) = 1 where {z} ≥ 0, else 0)"
    if found:
        return found + quadratic_cost_note(scope, found)
    other = other_gradient(scope, target, claim, matches_other=lambda e: _agrees_with(e, claim, values))
    if other:
        return other
    return term_difference(claim_n, truth_n)


def activation_for_derivative(scope, claim: sp.Expr, matches) -> str | None:
    """σ written where σ′ belongs: the claim applies an activation, ``σ(z1)``, where the chain rule needs its
    derivative ``σ′(z1) = a1·(1 − a1)``."""
    from ..functions import RULES
    from .claim_scope import ACTIVATIONS

    for f in sorted(claim.atoms(*ACTIVATIONS.values()), key=str):
        derivative = RULES[type(f)].partial(f, 0)
        if matches(claim.xreplace({f: derivative})):
            name = text(f).split("(")[0]
            arg = text(f.args[0])
            return (
                f"{name} written where {name}′ belongs: {text(f)} is the activation itself; the chain rule needs its "
                f"derivative {name}′({arg}) = {text(node_form(scope.d, derivative))}"
            )
    return None


def path_left_out(scope, target, claim_is) -> str | None:
    """One of the paths from the loss down to the variable left out: the claim is the sum of the
    products along every other path."""
    d = scope.d
    if target.of != scope.net.loss_name:
        return None
    paths = d.paths(target.wrt)
    if not 2 <= len(paths) <= 8:
        return None
    products = [sp.Mul(*(d.factors[(a, b)].value for a, b in itertools.pairwise(p))) for p in paths]
    for i, path in enumerate(paths):
        if claim_is(sp.Add(*(q for j, q in enumerate(products) if j != i))):
            through = " → ".join(path[1:-1])
            return (
                f"one of the {len(paths)} paths left out: the path through {through} "
                f"(∂{path[0]}/∂{path[-1]} adds up the products along every path)"
            )
    return None


def quadratic_cost_note(scope, hint: str) -> str:
    """``a missing factor ŷ·(1 − ŷ)`` under a quadratic cost with a σ output: σ'(z^L) was left out (any output
    activation other than the loss's matched one, its derivative written as the record writes it)."""
    from ..ops import find, record_of

    loss = find(type(scope.net.node(scope.net.loss_name).expr))
    out = scope.output
    if not (
        loss is not None and loss.matched and record_of(loss.matched).is_identity and out and "missing factor" in hint
    ):
        return ""
    expr = scope.net.node(out).expr if scope.kinds.get(out) == "node" else None
    g = find(type(expr)) if expr is not None else None
    if g is None or g.kind != "activation" or g.derivative is None or g.is_identity:
        return ""
    a = scope.sym[out]
    if text(g.derivative(a, expr.args[0])) not in hint:
        return ""
    matched = next((r for r in records("loss") if r.matched == g.name), None)
    holds = f"ŷ − y alone holds for {g.text} with {matched.title}" if matched else ""
    return f" — {g.text}'(z^L) left out: under a quadratic cost the output error is ({text(a)} − y)·{g.text}'(z)" + (
        f"; {holds}" if holds else ""
    )


def _agrees_with(expr: sp.Expr, claim: sp.Expr, values) -> bool:
    f, g = numeric_function(expr), numeric_function(claim)
    try:
        return all(agree(f(v), g(v)) for v in values if v is not None)
    except (ZeroDivisionError, ValueError, OverflowError):
        return False


def other_gradient(scope, target, claim: sp.Expr, matches_other) -> str | None:
    """The claim is the gradient of another variable (``∂L/∂W12`` given for ``∂L/∂W21``)."""
    if target.of != scope.net.loss_name:
        return None
    m = _DIGITS.match(target.wrt)
    candidates = []
    if m:
        stem, digits = m.groups()
        candidates = [stem + "".join(p) for p in sorted(set(itertools.permutations(digits)))]
    candidates += [n for n in scope.kinds if n not in candidates]
    for name in candidates:
        if name == target.wrt or name not in scope.kinds or scope.kinds[name] == "node":
            continue
        if matches_other(scope.d.gradient(name)):
            swapped = (
                " (a swapped index)"
                if m
                and _DIGITS.match(name)
                and sorted(_DIGITS.match(name).group(2)) == sorted(m.group(2))
                and _DIGITS.match(name).group(1) == m.group(1)
                else ""
            )
            return f"the claim is ∂{scope.net.loss_name}/∂{name}, not ∂{scope.net.loss_name}/∂{target.wrt}{swapped}"
    return None


def constant_ratio(pairs) -> Fraction | None:
    """claimed/true when it is the same simple number at every point with a nonzero truth."""
    ratios = [c / t for c, t in pairs if abs(t) > 1e-9 and math.isfinite(c) and math.isfinite(t)]
    if len(ratios) < 2:
        return None
    first = ratios[0]
    if any(abs(r - first) > 1e-7 * max(1.0, abs(first)) for r in ratios):
        return None
    frac = Fraction(first).limit_denominator(1000)
    if abs(float(frac) - first) > 1e-7 * max(1.0, abs(first)) or frac == 1:
        return None
    return frac


def describe_constant(c: Fraction) -> str:
    if c == -1:
        return "a flipped sign: the claim is −1 × the derivation"
    sign = " and a flipped sign" if c < 0 else ""
    c = abs(c)
    if not 1e-6 <= c <= 1e6:  # e^700 written in: say how big, not its 300 digits
        return f"a wrong constant factor{sign} (the claim is {float(c):.3g} × the derivation)"
    if c.denominator == 1:
        return f"an extra factor {c.numerator}{sign} (the claim is {c.numerator} × the derivation)"
    if c.numerator == 1:
        return f"a missing factor {c.denominator}{sign} (the claim is {c.denominator} × too small)"
    return f"a wrong constant factor {c}{sign}"


def swapped_index(scope, claim: sp.Expr, matches) -> str | None:
    """``W12`` written for ``W21``: permute the index digits of each indexed name in the claim."""
    names = scope.kinds
    for sym in sorted(claim.free_symbols, key=lambda s: s.name):
        m = _DIGITS.match(sym.name)
        if not m:
            continue
        stem, digits = m.groups()
        for perm in sorted(set(itertools.permutations(digits))):
            other = stem + "".join(perm)
            if other == sym.name or other not in names:
                continue
            repaired = (
                claim.xreplace({sym: scope.sym[other], scope.sym[other]: sym})
                if scope.sym[other] in claim.free_symbols
                else claim.xreplace({sym: scope.sym[other]})
            )
            if matches(repaired):
                return f"a swapped index: {sym.name} written for {other}"
    return None


def _factors(expr: sp.Expr) -> tuple[sp.Expr, Counter, dict]:
    """(number, multiset of sign-normalised factors, normalised -> as written) of a product."""
    coeff, out, shown = sp.S.One, Counter(), {}
    for f in sp.Mul.make_args(sp.factor_terms(expr)):
        if f.is_Number:
            coeff *= f
            continue
        base, power = (f.base, f.exp) if f.is_Pow and f.exp.is_Integer else (f, sp.S.One)
        key = -base if base.could_extract_minus_sign() else base
        if power < 0:
            key, base = 1 / key, 1 / base
        out[key] += abs(int(power))
        shown.setdefault(key, base)
    return abs(coeff), out, shown


def factor_difference(claim_n, truth_n, matches, claim, truth) -> str | None:
    """Compare the products factor by factor; confirm the repair numerically (with or without a sign flip)."""
    c_coeff, c_f, c_shown = _factors(claim_n)
    t_coeff, t_f, t_shown = _factors(truth_n)
    if c_coeff != t_coeff:
        return None
    miss = [t_shown[k] for k in (t_f - c_f).elements()]
    ext = [c_shown[k] for k in (c_f - t_f).elements()]
    if not (miss or ext) or (miss and ext and (len(miss) > 2 or len(ext) > 2)) or len(miss) > 3 or len(ext) > 3:
        return None
    repaired = claim
    for f in ext:
        repaired = repaired / f
    for f in miss:
        repaired = repaired * f
    if matches(repaired):
        sign = ""
    elif matches(-repaired):
        sign = " and a flipped sign"
    else:
        return None
    if miss and ext:
        return f"{_par(ext)} written for {_par(miss)}{sign}"
    if miss:
        return f"a missing factor {_par(miss)}{sign}"
    return f"an extra factor {_par(ext)}{sign}"


def _par(factors) -> str:
    return "·".join(f"({text(f)})" if f.is_Add else text(f) for f in factors)


def term_difference(claim_n, truth_n) -> str | None:
    """A single missing or extra term."""
    if expanded_terms(claim_n - truth_n) > SYMBOLIC_MAX_TERMS:
        return None
    diff = sp.expand(claim_n - truth_n)
    if diff == 0 or diff.is_Add:
        return None
    if diff.could_extract_minus_sign():
        return f"a missing term {text(-diff)}"
    return f"an extra term {text(diff)}"
