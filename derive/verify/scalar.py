"""Verify a hand-derived formula against the derivation.

    d = net.derive()
    v = d.verify("W11", "(yhat - y)*w1*a1*(1 - a1)*x1")
    bool(v), v.symbolic, v.numeric, v.counterexample, v.hint

A claim is text (Python/SymPy syntax, read safely by ``derive.verify.claims``), LaTeX
as the lectures write it (``$…$`` or ``latex=True``, read by
``derive.verify.latex_reader``), or a SymPy expression.  It may use node names
(``a1``, ``yhat``) or only inputs and parameters.  It may have a left-hand
side: ``dW11 = …``, ``\\frac{\\partial L}{\\partial W_{11}} = …``, a local
partial ``\\frac{\\partial a_1}{\\partial z_1} = …``, or any expression (then
the claim is the identity LHS = RHS).

Two verdicts:

* symbolic: both sides with every node replaced by its definition; the
  difference is brought to 0 by bounded steps (expand; cancel; sigmoid and
  tanh written with exp), each under a size and time limit — never an
  unbounded ``simplify()``;
* numeric: the claim and the truth evaluated at seeded random points and, for
  ReLU/step networks, exactly at each kink (``ReLU'(0) = 1``) and on both
  sides of it.

The claim holds when the numeric verdict agrees everywhere (a symbolic proof
is reported when found).  When it does not, the result carries a
counterexample (the point, the claimed value, the true value) and, where it
can tell, the likely slip (``derive.verify.slips``).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import sympy as sp

from ..names import did_you_mean
from ..printing.text import text
from . import claims as C
from .claim_scope import ScalarScope, free_names, index_letters, node_form, substitute_index
from .claims import ClaimError
from .equivalence import RATE_VALUES, OutOfTime, Row, bounded, cpu_limit, numeric_rows, symbolic_verdict
from .slips import scalar_hint
from .verdict import Counterexample, Verdict

HINT_SECONDS = 3.0
CLAIM_SECONDS = 5.0  # CPU time for one claim, hint included: longer is bad input


# ---------------------------------------------------------- the checking
@dataclass(frozen=True)
class Target:
    """What a claim is compared with."""

    wrt: str
    of: str | None
    truth: sp.Expr
    rate: sp.Symbol | None = None  # an update ``p ← p − rate·∂L/∂p``


def read_claim(claim, latex: bool = False, where=None, known=None):
    """(lhs tree or None, rhs tree) from text, ``$…$``/``latex=True`` LaTeX, or a SymPy expression."""
    if isinstance(claim, sp.Basic):
        return None, claim
    if not isinstance(claim, str):
        raise ClaimError(f"a claim must be text or a SymPy expression, not {type(claim).__name__}", where)
    stripped = claim.strip()
    if latex or (stripped.startswith("$") and stripped.endswith("$") and len(stripped) > 1):
        from .latex_reader import parse_latex

        return parse_latex(stripped.strip("$"), where, known=known)
    lhs, rhs = C.split_update(stripped)
    if lhs is not None:
        return ("update", C.parse_text(lhs, where, known)), C.parse_text(rhs, where, known)
    lhs, rhs = C.split_equation(stripped)
    return (C.parse_text(lhs, where, known) if lhs is not None else None), C.parse_text(rhs, where, known)


def target_for(scope: ScalarScope, wrt: str | None, lhs, where=None, rhs=None) -> Target:
    """The truth a claim is checked against: ∂L/∂wrt, a local partial, an identity's LHS, or an update."""
    loss = scope.net.loss_name
    if lhs is not None and lhs[0] == "update":
        if lhs[1][0] != "name":
            raise ClaimError(f"an update assigns to a parameter, not to '{C.to_text(lhs[1])}'", where)
        param = scope.resolve(lhs[1][1], where)
        if wrt is not None and scope.resolve(wrt, where) != param:
            raise ClaimError(f"the update is for '{param}' but the claim is given for '{wrt}'", where)
        if scope.kinds[param] != "param":
            raise ClaimError(f"an update assigns to a parameter; '{param}' is a {scope.kinds[param]}", where)
        rates = sorted({C.RATES[n] for n in C.names_in(rhs) if n in C.RATES}) if rhs is not None else []
        step = sp.Symbol(rates[0]) if len(rates) == 1 else numeric_rate(rhs, param, scope) if not rates else None
        if step is None:
            raise ClaimError("an update needs one learning rate (alpha, eta, α, η, or a number: w5 - 0.5*dw5)", where)
        return Target(param, None, scope.sym[param] - step * scope.d.gradient(param), step)
    if lhs is None:
        if wrt is None:
            params = scope.net.names("param")
            example = params[0] if params else next(iter(scope.kinds))
            raise ClaimError(
                f"say which gradient the claim is for (--wrt {example}, or a left-hand side: d{example} = …)", where
            )
        wrt = scope.resolve(wrt, where)
        return Target(wrt, loss, scope.d.gradient(wrt))
    named = lhs_names(scope, lhs, where)
    if named is not None:
        of, lhs_wrt = named
        if wrt is not None and scope.resolve(wrt, where) != lhs_wrt:
            raise ClaimError(f"the left-hand side is ∂{of}/∂{lhs_wrt} but the claim is given for '{wrt}'", where)
        return Target(lhs_wrt, of, scope.partial(of, lhs_wrt, where))
    truth = scope.to_sympy(lhs, where)
    return Target(wrt or C.to_text(lhs), None, truth)


def numeric_rate(rhs, param: str, scope: ScalarScope):
    """The learning rate of ``p − 0.5·dp`` written as a number: the constant factor of the term
    subtracted from the parameter (None when the update is not of that form)."""
    if rhs is None or rhs[0] not in ("sub", "add") or rhs[1][0] != "name" or not _is(scope, rhs[1][1], param):
        return None
    term = rhs[2]
    if rhs[0] == "add" and term[0] == "neg":
        term = term[1]
    factors, stack = [], [term]
    while stack:
        node = stack.pop()
        if node[0] in ("mul", "jux"):
            stack.extend((node[2], node[1]))
        else:
            factors.append(node)
    numbers = [v for v in (C.const_value(f) for f in factors) if v is not None]
    if len(numbers) == 1 and len(factors) > 1 and numbers[0] > 0:
        return sp.Rational(repr(numbers[0]))
    return None


def _is(scope: ScalarScope, name: str, param: str) -> bool:
    try:
        return scope.resolve(name) == param
    except ClaimError:
        return False


def lhs_names(scope: ScalarScope, lhs, where=None):
    """(of, wrt) when the left-hand side names a derivative: ``∂L/∂W11``, ``dW11``, ``dL/dW11``; else None."""
    if lhs[0] == "partial":
        return scope.resolve(lhs[1], where), scope.resolve(lhs[2], where)
    if lhs[0] == "name" and not scope.is_node_name(lhs[1]):
        named = scope.gradient_name(lhs[1])
        if named is not None:
            return scope.net.loss_name, named
    if lhs[0] == "div" and lhs[1][0] == "name" and lhs[2][0] == "name":
        top, bottom = lhs[1][1], lhs[2][1]
        if top.startswith("d") and bottom.startswith("d") and top not in scope.kinds and bottom not in scope.kinds:
            return scope.resolve(top[1:], where), scope.resolve(bottom[1:], where)
    return None


def verify_claim(derivation, wrt, claim, *, latex: bool = False, where=None) -> Verdict:
    """Check ``claim`` for ∂L/∂wrt (or what its left-hand side names); see the module docstring."""
    try:
        return _verify_claim(derivation, wrt, claim, latex, where)
    except RecursionError:
        raise ClaimError("the claim is nested too deeply", where) from None


def _verify_claim(derivation, wrt, claim, latex, where) -> Verdict:
    scope = ScalarScope.of(derivation)
    wrt = getattr(wrt, "name", wrt)
    lhs, rhs = read_claim(claim, latex, where, known=scope.knows_claim_name)
    letters = index_letters(lhs) | index_letters(rhs) | index_letters(("name", wrt) if wrt else None)
    if letters:
        return verify_indexed(scope, wrt, lhs, rhs, letters, claim, where)
    return verify_tree(scope, wrt, lhs, rhs, claim, where)


def verify_tree(scope: ScalarScope, wrt, lhs, rhs, claim, where=None) -> Verdict:
    target = target_for(scope, wrt, lhs, where, rhs=rhs)
    expr = rhs if isinstance(rhs, sp.Basic) else scope.to_sympy(rhs, where)
    unknown = sorted(s.name for s in expr.free_symbols if s.name not in scope.kinds and s.name not in RATE_VALUES)
    if unknown == ["m"]:
        raise ClaimError(
            f"unknown name 'm' (network '{scope.net.name}' has: {', '.join(scope.kinds)}): it is written unit by "
            "unit and sees one example, so m appears only as the mean over a batch, (1/m) Σ_examples",
            where,
        )
    if unknown:
        hint = did_you_mean(unknown[0], scope.kinds)
        raise ClaimError(f"unknown name '{unknown[0]}'{hint} in network '{scope.net.name}'", where)
    return compare(scope, target, expr, claim if isinstance(claim, str) else text(claim))


class SpecTarget:
    """A network seen two ways: ``primary`` (a derivation, or a ``VecTarget``) and, made on first
    use by ``other()``, the other view — the batch equations of a per-unit network, or a network
    declared in matrices written out unit by unit.  A claim the primary view cannot read (a
    handout's section-4 ``dW^{[1]} = …`` for a per-unit network, section 3's ``∂L/∂W^{[1]}_{11}``
    for a vectorised one) is read in the other."""

    def __init__(self, primary, other=None):
        self.primary = primary
        self._other = other
        self._made = None

    def other(self):
        if self._made is None and self._other is not None:
            try:
                self._made = self._other() or False
            except Exception:  # noqa: BLE001 - a network the other view cannot express has only its own
                self._made = False
        return self._made or None


def verify_spec(target, wrt, claim, *, latex: bool = False, where=None, seconds: float | None = None) -> Verdict:
    """``verify_claim`` for a derivation, or ``verify_vector`` for a vectorised network; for a
    ``SpecTarget``, the other view when the first cannot read the claim.  Within ``seconds`` of CPU time
    (on the main thread; the symbolic steps are bounded in any thread): a claim that would take longer
    is a ``ClaimError``.  ``seconds`` defaults to ``CLAIM_SECONDS``."""
    seconds = CLAIM_SECONDS if seconds is None else seconds
    try:
        with cpu_limit(seconds):
            return _verify_spec(target, wrt, claim, latex, where)
    except OutOfTime:
        raise ClaimError(f"checking the claim took longer than {seconds:g} s", where) from None
    except NotImplementedError as exc:  # an expression the numeric evaluator has no rule for: one line, not a trace
        raise ClaimError(f"verify cannot check this claim numerically yet ({exc})", where) from None


def _verify_spec(target, wrt, claim, latex: bool, where) -> Verdict:
    from .pairs import PairTarget, verify_pairs
    from .recurrent import RecTarget, verify_recurrent
    from .vec_target import VecTarget
    from .vectorised import verify_vector

    own = getattr(target, "check_claim", None)  # a target that reads its own notation first (a conv layer's)
    if own is not None:
        return own(wrt, claim, latex=latex, where=where)
    if isinstance(target, SpecTarget):
        try:
            return _verify_spec(target.primary, wrt, claim, latex, where)
        except ClaimError as first:
            other = target.other()
            if other is None:
                raise
            try:
                return _verify_spec(other, wrt, claim, latex, where)
            except ClaimError as second:  # the other view's problem when it read further than a name
                shallow = second.message.startswith(
                    ("unknown name", "cannot read", "the LaTeX ends", "unbalanced", "say which")
                )
                raise (first if shallow else second) from None
    if isinstance(target, RecTarget):
        return verify_recurrent(target, wrt, claim, latex=latex, where=where)
    if isinstance(target, PairTarget):
        return verify_pairs(target, wrt, claim, latex=latex, where=where)
    if isinstance(target, VecTarget):
        return verify_vector(target, wrt, claim, latex=latex, where=where)
    return verify_claim(target, wrt, claim, latex=latex, where=where)


def verify_indexed(scope: ScalarScope, wrt, lhs, rhs, letters, claim, where=None) -> Verdict:
    """A claim with free indices (``∂L/∂w_j = (σ(w·x + b) − y) x_j``): checked for every value the network has."""
    if len(letters) > 2:
        raise ClaimError(f"too many free indices ({', '.join(sorted(letters))}; at most two)", where)
    letters = sorted(letters)
    verdicts = []
    lhs_letters = index_letters(lhs) | index_letters(("name", wrt) if wrt else None)
    for combo in itertools.product(range(1, 10), repeat=len(letters)):
        w, sub_lhs, sub_rhs = (("name", wrt) if wrt else None), lhs, rhs
        for letter, value in zip(letters, combo):
            w = substitute_index(w, letter, value)
            sub_lhs, sub_rhs = substitute_index(sub_lhs, letter, value), substitute_index(sub_rhs, letter, value)
        w = w[1] if w else None
        names = free_names(sub_rhs) | ({w} if w else set()) | free_names(sub_lhs)
        if lhs_letters == set(letters):  # the left-hand side says which values there are; the right must follow
            names = ({w} if w else set()) | free_names(sub_lhs)
        if all(scope.knows_claim_name(n) or scope.family(n) or n in ("e", "m") for n in names) and not index_letters(
            sub_rhs
        ):
            try:
                verdicts.append((combo, verify_tree(scope, w, sub_lhs, sub_rhs, claim, where)))
            except ClaimError as exc:
                shown = ",".join(map(str, combo))
                raise ClaimError(f"for {','.join(letters)} = {shown}: {exc.message}", where) from None
    if not verdicts:
        raise ClaimError(f"the free index {', '.join(letters)} matches no names of network '{scope.net.name}'", where)
    wrong = [(v, x) for v, x in verdicts if not x.equal]
    first = (wrong or verdicts)[0][1]
    label = ",".join(letters)
    shown = "; ".join(",".join(map(str, v)) for v, _ in verdicts)
    numeric = f"{label} = {shown}: " + (
        "agrees everywhere" if not wrong else f"wrong for {label} = {','.join(map(str, wrong[0][0]))}: {first.numeric}"
    )
    symbolic = "proved" if all(x.symbolic == "proved" for _, x in verdicts) else first.symbolic
    generic = wrt or (lhs[2] if lhs is not None and lhs[0] == "partial" else first.wrt)
    shown_at = ",".join(map(str, (wrong or verdicts)[0][0]))
    truth = f"{first.truth}  (for {label} = {shown_at})"
    return Verdict(
        generic, first.claim, not wrong, symbolic, numeric, truth, first.counterexample, first.hint, first.of
    )


def compare(scope: ScalarScope, target: Target, claim: sp.Expr, claim_text: str) -> Verdict:
    d = scope.d
    truth_text = text(node_form(d, target.truth))
    if target.of is None and isinstance(target.truth, sp.Symbol) and d.net.kinds.get(target.truth.name) == "node":
        truth_text = f"{target.truth.name} = {text(d.net.node(target.truth.name).expr)}"
    rows, kinks = numeric_rows(d, claim, target.truth)
    bad = [r for r in rows if not r.agrees]
    unevaluable = bool(bad) and all(not math.isfinite(r.claimed) for r in bad)
    if unevaluable:
        symbolic = "not decided (the claim cannot be evaluated, in floating point or with mpmath)"
    elif bad:
        symbolic = "disproved (the difference is not 0 at the counterexample)"
    else:
        symbolic = symbolic_verdict(d, claim, target.truth)
    if not rows:
        numeric = "no point could be evaluated"
    elif unevaluable:
        numeric = f"cannot be evaluated at {len(bad)} of {len(rows)} points (the claim overflows or is undefined there)"
    elif bad:
        numeric = f"differs at {len(bad)} of {len(rows)} points"
    else:
        numeric = f"agrees at {len(rows)} points" + (f" ({kinks} at or beside a kink)" if kinks else "")
    equal = bool(rows) and not bad
    counterexample = hint = None
    if not equal and bad:
        first = min(bad, key=lambda r: (bool(r.at_kink), r.index))
        counterexample = Counterexample(first.point, first.claimed, first.true, first.at_kink)
        if unevaluable:
            hint = None
        elif all(r.at_kink == "at a kink" for r in bad):
            hint = (
                "it differs only exactly at a ReLU kink: the claim takes ReLU'(0) = 0, "
                "the lectures' convention is ReLU'(0) = 1 (step(z) = 1 for z ≥ 0)"
            )
        else:
            hint = bounded(
                lambda: (
                    update_hint(scope, target, claim, rows) if target.rate else scalar_hint(scope, target, claim, rows)
                ),
                HINT_SECONDS,
                None,
            )
    of = "update" if target.rate is not None else target.of
    return Verdict(target.wrt, claim_text, equal, symbolic, numeric, truth_text, counterexample, hint, of)


def update_hint(scope: ScalarScope, target: Target, claim: sp.Expr, rows) -> str | None:
    """For ``p ← claim``: the slip in the step ``(p − claim)/rate`` against ∂L/∂p."""
    p, rate = scope.sym[target.wrt], target.rate
    value = float(rate) if rate.is_Number else RATE_VALUES[rate.name]
    shown = str(rate) if rate.is_Number else rate.name

    def step(v: float, row) -> float:
        return (row.point[target.wrt] - v) / value

    steps = [Row(r.index, r.point, step(r.claimed, r), step(r.true, r), r.at_kink) for r in rows]
    gradient = Target(target.wrt, scope.net.loss_name, scope.d.gradient(target.wrt))
    hint = scalar_hint(scope, gradient, (p - claim) / rate, steps)
    return f"in the step (the part multiplied by {shown}): {hint}" if hint else None
