r"""Verify an optimiser's update rule as a course writes it: ``chainrule verify adam --claim "m_t = …"``.

A claim names what it defines on its left-hand side (``m_t``, ``v_t``, ``mhat_t``, ``vhat_t``,
``theta_t``; ``=`` or ``←``) or through ``--wrt``; its right-hand side may use the inputs
(θ_{t−1}, g_t, m_{t−1}, v_{t−1}, t, α, β1, β2, ε) and the other quantities, which are replaced by the
module's definitions (``derive.verify.optimiser_rules``).  Written forms:

* text: ``m_t``, ``m_tm1`` or ``m_{t-1}`` (also ``m_prev``), ``mhat_t`` or ``m̂_t``, ``beta1**t`` (or
  ``beta1^t``), ``sqrt(vhat_t)`` or ``√vhat_t``, ``eps`` or ``ε``, ``alpha``/``eta``/``lr``; a bare name is
  the value at step t, except the quantity being defined on its own right-hand side
  (``m ← beta1*m + (1 - beta1)*g``: the old m);
* LaTeX: ``\hat{m}_t = \frac{m_t}{1-\beta_1^t}``, ``\mathbf{s}_t \leftarrow \beta_2 \mathbf{s}_{t-1} +
  (1-\beta_2)\mathbf{g}_t^2``, ``\odot``, ``\sqrt{}``, ``\epsilon``, d2l's ``\mathbf{g}_t'``.

Adam has two notations: Kingma and Ba's (θ, m, v, α; also cs231n's) and d2l's §12.10 (x, v for the
first moment, s for the second, η, g′ for the step).  The reading is chosen by the names the claim uses
(``s``, ``ŝ``, ``x``, ``g′`` → d2l; ``m``, ``m̂``, ``θ`` → Kingma), or by ``notation``; the verdict says
which.  The check: both sides at seeded points (t = 1, early and late steps; ε between 0.01 and 0.1, so
that ε inside and outside the square root differ), and a bounded symbolic cancellation.  A wrong claim is
matched against each slip of the rule (the rule as the slip has it); a documented variant is named as one.
"""

from __future__ import annotations

import math
import random
import re

import sympy as sp

from ..names import did_you_mean
from . import claims as C
from .claims import ClaimError
from .equivalence import RANDOM_POINTS, agree, brought_to_zero, numeric_function
from .optimiser_rules import RANGES, RULES, STEPS, Notation, Rule, now, prev
from .slips import constant_ratio, describe_constant
from .verdict import Counterexample, Verdict

_WRITTEN = re.compile(r"([A-Za-z]+?[12]?)(?:_(t|tm1|prev))?")
_PREVIOUS = ("tm1", "prev")


class OptimiserTarget:
    """What ``chainrule verify adam`` checks claims against: the rule of one optimiser (``derive.verify.scalar``
    calls ``check_claim``)."""

    def __init__(self, rule: Rule | str, notation: str | None = None):
        self.rule = RULES[rule] if isinstance(rule, str) else rule
        names = [n.name for n in self.rule.notations]
        if notation is not None and notation not in names:
            raise ClaimError(
                f"{self.rule.name} has no notation '{notation}' (its notations: {', '.join(names)})"
                + did_you_mean(notation, names)
            )
        self.notation = notation

    def goal(self, wrt: str) -> str:
        """What a question about ``wrt`` asks (``chainrule grade``): ``m̂_t``, read in the module's notation
        (d2l's letters for d2l's own names: x, s, ŝ, g′); a ``ClaimError`` when the rule defines no such thing."""
        return wrt_label(self.rule, self.rule.notation(self.notation or self.rule.notations[0].name), wrt)

    def check_claim(self, wrt, claim, latex: bool = False, where=None) -> Verdict:
        return verify_rule(self.rule, wrt, claim, latex=latex, where=where, notation=self.notation)


# ------------------------------------------------------------------ reading
_TEXT = [  # the printed forms a text claim may use, as names parse_text reads
    (re.compile(r"_\{\s*t\s*[-−]\s*1\s*\}|_\(\s*t\s*[-−]\s*1\s*\)|ₜ₋₁"), "_tm1"),
    (re.compile(r"_\{\s*t\s*\}|ₜ"), "_t"),
    (re.compile(r"m̂|m\u0302"), "mhat"),
    (re.compile(r"v̂|v\u0302"), "vhat"),
    (re.compile(r"ŝ|s\u0302"), "shat"),
    (re.compile(r"θ"), "theta"),
    (re.compile(r"β\s*_?\{?([12])\}?|β([₁₂])|beta_\{?([12])\}?"), lambda m: "beta" + _digit(m)),
    (re.compile(r"β"), "beta"),
    (re.compile(r"[εϵ]|epsilon"), "eps"),
    (re.compile(r"ρ"), "rho"),
    (re.compile(r"μ"), "mu"),
    (re.compile(r"γ"), "gamma"),
    (re.compile(r"\bg\s*[′']\s*_t|\bg_t\s*[′']|\bg\s*[′'](?!\s*\()"), "gprime_t"),
    (re.compile(r"ᵗ"), "**t"),
    (re.compile(r"\^"), "**"),
]
_LATEX = [  # LaTeX the shared reader (derive.verify.latex_reader) reads once these are written as names
    (re.compile(r"\\(?:mathbf|boldsymbol|bm|vec)\s*\{\s*(\\?[A-Za-z]+)\s*\}"), r"\1"),
    (re.compile(r"_\{\s*t\s*[-−]\s*1\s*\}"), "_{tm1}"),
    (re.compile(r"\\hat\s*\{\s*([A-Za-z])\s*\}|\\hat\s+([A-Za-z])"), lambda m: (m.group(1) or m.group(2)) + "hat"),
    (re.compile(r"\\theta(?![A-Za-z])"), "theta "),
    (re.compile(r"\\rho(?![A-Za-z])"), "rho "),
    (re.compile(r"\\mu(?![A-Za-z])"), "mu "),
    (
        re.compile(
            r"(?<![A-Za-z\\])g\s*(?:'|\^\{?\\prime\}?)\s*_\{?t\}?|(?<![A-Za-z\\])g_\{?t\}?\s*(?:'|\^\{?\\prime\}?)"
        ),
        "gprime_{t}",
    ),
    (re.compile(r"(?<![A-Za-z\\])g(?![A-Za-z_'])"), "g_{t}"),  # a bare g is g_t (the reader takes g for g(z))
]


def _digit(m) -> str:
    d = next(x for x in m.groups() if x)
    return {"₁": "1", "₂": "2"}.get(d, d)


def _rewrite(src: str, table) -> str:
    for pattern, new in table:
        src = pattern.sub(new, src)
    return src


def written(name: str) -> tuple[str, str | None] | None:
    """``m_tm1`` → (``m``, ``tm1``); ``beta1`` → (``beta1``, None); None when it is no name of that shape."""
    m = _WRITTEN.fullmatch(name)
    return (m.group(1), m.group(2)) if m else None


def read(rule: Rule, claim: str, latex: bool, where):
    """(lhs tree or None, rhs tree) of a claim about ``rule``."""
    if not isinstance(claim, str):
        raise ClaimError("a claim must be text", where)
    vocabulary = {w for n in rule.notations for w in n.names}

    def known(name: str) -> bool:
        parts = written(name)
        return parts is not None and parts[0] in vocabulary

    exponents = frozenset({"t"})
    stripped = claim.strip()
    if latex or (stripped.startswith("$") and stripped.endswith("$") and len(stripped) > 1):
        from .latex_reader import parse_latex

        return parse_latex(_rewrite(stripped.strip("$"), _LATEX), where, known=known, exponents=exponents)
    src = _rewrite(stripped, _TEXT)
    lhs, rhs = C.split_update(src)
    if lhs is not None:
        return ("update", C.parse_text(lhs, where, known, exponents)), C.parse_text(rhs, where, known, exponents)
    lhs, rhs = C.split_equation(src)
    return (C.parse_text(lhs, where, known, exponents) if lhs is not None else None), C.parse_text(
        rhs, where, known, exponents
    )


def choose_notation(rule: Rule, names: set[str], asked: str | None, where) -> Notation:
    """The notation the names of a claim are written in: the one asked for, else the one whose own names
    (``s``, ``x`` for d2l) it uses; the first (the module's) when it uses none."""
    if asked is not None:
        return rule.notation(asked)
    bases = {written(n)[0] for n in names if written(n)}
    marked = [n for n in rule.notations if n.marks & bases]
    if len(marked) > 1:
        used = "; ".join(f"{', '.join(sorted(n.marks & bases))} ({n.name})" for n in marked)
        raise ClaimError(f"the claim mixes two notations: {used}; write one (or pass --notation)", where)
    return marked[0] if marked else rule.notations[0]


class _Names:
    """A claim's written names as the rule's symbols, in one notation."""

    def __init__(self, rule: Rule, notation: Notation, defined: str | None, where):
        self.rule, self.notation, self.defined, self.where = rule, notation, defined, where
        self.inputs = set(rule.inputs())

    def shown(self, key: str) -> str:
        return self.notation.shown.get(key, key)

    def describe(self, symbol: sp.Symbol) -> str:
        """How the notation prints an input or a quantity: ``m_{t−1}``, ``g_t``, ``β1``."""
        name = symbol.name
        if name.endswith("_prev"):
            return f"{self.shown(name.removesuffix('_prev'))}_{{t−1}}"
        if name in self.rule.keys or name == "g":
            return f"{self.shown(name)}_t"
        return self.shown(name)

    def input_list(self) -> str:
        return ", ".join(self.describe(s) for s in sorted(self.inputs, key=_order))

    def key(self, name: str, lhs: bool = False) -> tuple[str, str | None]:
        parts = written(name)
        if parts is None or parts[0] not in self.notation.names:
            options = sorted(self.notation.names)
            raise ClaimError(
                f"unknown name '{name}' in {self.rule.name}'s rule (written as {self.notation.name}:"
                f" {', '.join(options)}, with _t or _tm1)" + did_you_mean(parts[0] if parts else name, options),
                self.where,
            )
        return self.notation.names[parts[0]], parts[1]

    def symbol(self, name: str) -> sp.Symbol:
        key, when = self.key(name)
        carried = key == "theta" or key in self.rule.state
        if key in self.rule.keys:
            if when in _PREVIOUS or (when is None and key == self.defined and carried):
                if not carried:
                    raise ClaimError(
                        f"'{name}' is not an input of {self.rule.name}'s step (its inputs: {self.input_list()})",
                        self.where,
                    )
                return prev(key)
            return now(key)
        if when in _PREVIOUS:
            raise ClaimError(
                f"'{name}' is not an input of {self.rule.name}'s step (its inputs: {self.input_list()})", self.where
            )
        symbol = sp.Symbol(key)
        if symbol not in self.inputs:
            raise ClaimError(
                f"'{name}' is not in {self.rule.name}'s rule (its inputs: {self.input_list()})", self.where
            )
        return symbol

    def to_sympy(self, tree) -> sp.Expr:
        kind = tree[0]
        if kind == "num":
            return tree[1]
        if kind == "name":
            return self.symbol(tree[1])
        if kind == "neg":
            return -self.to_sympy(tree[1])
        if kind == "T":
            return self.to_sympy(tree[1])  # elementwise: each entry is a number
        if kind == "call" and tree[1] == "sqrt" and len(tree[2]) == 1:
            return sp.sqrt(self.to_sympy(tree[2][0]))
        if kind in ("add", "sub", "mul", "jux", "matmul", "div", "pow"):
            a, b = self.to_sympy(tree[1]), self.to_sympy(tree[2])
            if kind == "add":
                return a + b
            if kind == "sub":
                return a - b
            if kind == "div":
                if b == 0:
                    raise ClaimError("division by zero in the claim", self.where)
                return a / b
            if kind == "pow":
                return a**b
            return a * b
        shown = tree[1] if kind == "call" else kind
        raise ClaimError(f"'{shown}' has no place in an update rule (only + − × / powers and √)", self.where)


def _order(symbol: sp.Symbol) -> tuple:
    """Inputs in the order the rules list them: θ_{t−1}, g_t, the state, t, then the hyperparameters."""
    name = symbol.name
    rank = 0 if name == "theta_prev" else 1 if name == "g" else 2 if name.endswith("_prev") else 3 if name == "t" else 4
    return (rank, name)


def _lhs(rule: Rule, lhs, wrt, notation: Notation, where) -> str:
    """The key the claim defines, from its left-hand side or ``wrt``."""
    if lhs is not None and lhs[0] == "update":
        lhs = lhs[1]
    if lhs is not None and lhs[0] != "name":
        raise ClaimError(
            f"the left-hand side names what the claim defines ({_definable(rule, notation)}), not '{C.to_text(lhs)}'",
            where,
        )
    written_lhs = lhs[1] if lhs is not None else wrt
    if written_lhs is None:
        raise ClaimError(
            f"say what the claim defines: a left-hand side ({_definable(rule, notation)}), or --wrt", where
        )
    probe = _Names(rule, notation, None, where)
    found = _wrt_key(rule, notation, wrt) if lhs is None else None
    key, when = found or probe.key(written_lhs)  # probe.key raises, naming the notation's names
    if key not in rule.keys or when in _PREVIOUS:
        raise ClaimError(
            f"'{written_lhs}' is not something {rule.name}'s step defines (it defines {_definable(rule, notation)})",
            where,
        )
    if lhs is not None and wrt is not None and (_wrt_key(rule, notation, wrt) or probe.key(wrt))[0] != key:
        raise ClaimError(f"the claim defines '{written_lhs}' but is given for '{wrt}'", where)
    return key


def _wrt_key(rule: Rule, notation: Notation, wrt: str):
    """(key, when) of ``wrt`` in ``notation``, else in the first notation that has the name (a question's
    ``--wrt theta_t`` for an answer in d2l's letters); None when none has it."""
    found = wrt_notation(rule, notation, wrt)
    return (found.names[written(wrt)[0]], written(wrt)[1]) if found else None


def wrt_notation(rule: Rule, notation: Notation, wrt: str) -> Notation | None:
    """The notation ``wrt`` is read in: ``notation`` when it has the name, else the first that has it."""
    parts = written(wrt)
    return next((n for n in (notation, *rule.notations) if parts and parts[0] in n.names), None)


def wrt_label(rule: Rule, notation: Notation, wrt: str) -> str:
    """``θ_t``: what ``wrt`` names, in the letters of the notation it is read in (the verdict's target)."""
    shown = wrt_notation(rule, notation, wrt) or notation
    key = _lhs(rule, None, wrt, notation, None)
    return f"{shown.shown.get(key, key)}_t"


def _definable(rule: Rule, notation: Notation) -> str:
    out = []
    for key in rule.keys:
        own = [w for w, k in notation.names.items() if k == key]
        if own:
            out.append(f"{own[0]}_t")
    return ", ".join(out)


# ------------------------------------------------------------------ checking
def points(rule: Rule, n: int = RANDOM_POINTS, seed: int = 0) -> list[dict[str, float]]:
    """Seeded test points: every input of the rule drawn from ``RANGES`` on a 0.01 grid, t from ``STEPS``
    (the state 0 at t = 1, as the module starts it), β1 ≠ β2."""
    rng = random.Random(seed)
    names = [s.name for s in rule.inputs()]
    out = []
    for i in range(n):
        values: dict[str, float] = {}
        for name in names:
            if name == "t":
                values[name] = STEPS[i % len(STEPS)]
                continue
            low, high = RANGES[name]
            value = round(rng.uniform(low, high), 2)
            while name == "beta2" and abs(value - values.get("beta1", -1)) < 0.05:
                value = round(rng.uniform(low, high), 2)
            values[name] = -value if name == "g" and rng.random() < 0.5 else value
        if values.get("t") == 1:
            values.update({name: 0.0 for name in names if name.endswith("_prev") and name != "theta_prev"})
        out.append(values)
    return out


def _value(fn, values) -> float:
    try:
        v = fn(values)
    except (ZeroDivisionError, OverflowError, ValueError, TypeError):
        return math.nan
    return v if isinstance(v, float) else math.nan


def _same(a: float, b: float) -> bool:
    """Agree, or both undefined (a slip that divides by 1 − β^0 at t = 1 is matched there too)."""
    return agree(a, b) or (not math.isfinite(a) and not math.isfinite(b))


def values_of(expr: sp.Expr, pts) -> list[float]:
    fn = numeric_function(expr)
    return [_value(fn, p) for p in pts]


def verify_rule(rule: Rule, wrt, claim, *, latex: bool = False, where=None, notation: str | None = None) -> Verdict:
    """The verdict on one claim about ``rule``'s step; ``ClaimError`` (bad input) when it cannot be read."""
    lhs, rhs = read(rule, claim, latex, where)
    names = C.names_in(rhs) | (C.names_in(lhs) if lhs is not None else {wrt} if wrt else set())
    chosen = choose_notation(rule, names, notation, where)
    key = _lhs(rule, lhs, wrt, chosen, where)
    scope = _Names(rule, chosen, key, where)
    reference = rule.resolved()
    quantities = {now(k): v for k, v in reference.items()}
    claimed = scope.to_sympy(rhs).xreplace(quantities)
    truth = reference[key]
    notes = []
    if len(rule.notations) > 1:
        undecided = notation is None and not any(
            n.marks & {p[0] for w in names if (p := written(w))} for n in rule.notations
        )
        others = ", ".join(f"--notation {n.name}" for n in rule.notations if n is not chosen)
        notes.append(
            f"read in {chosen.title}" + (f" (no name decides it: {others} for the other)" if undecided else "")
        )
    fixed, fixed_note = _written_numbers(rule, rhs, claimed, truth)
    if fixed_note:
        notes.append(fixed_note)
    pts = points(rule)
    checked = [{**p, **{s.name: v for s, v in fixed.items()}} for p in pts]
    claim_values = values_of(claimed, checked)
    true_values = values_of(truth.xreplace(fixed), checked)
    bad = [i for i, (a, b) in enumerate(zip(claim_values, true_values)) if not agree(a, b)]
    variant, hint = False, None
    if not bad:
        proved = brought_to_zero(claimed - truth.xreplace(fixed))
        symbolic = "proved (the difference cancels to 0)" if proved else "not proved (checked numerically)"
        numeric = f"agrees at {len(pts)} points (t from 1 to {max(STEPS)})"
    else:
        symbolic = "disproved (the difference is not 0 at the counterexample)"
        numeric = f"differs at {len(bad)} of {len(pts)} points"
        other = _other_value(rule, rhs, claimed, truth, fixed, checked)
        if other is not None:
            variant, hint = True, other
        else:
            found = _slip(rule, key, claim_values, checked, fixed)
            if found is not None:
                variant, hint = found.variant, found.label.format(**_letters(chosen))
            else:
                hint = _generic(key, claim_values, true_values, checked)
    counterexample = None
    if bad:
        finite = [i for i in bad if math.isfinite(claim_values[i])]
        i = (finite or bad)[0]
        used = sorted((claimed.free_symbols | truth.free_symbols) - set(fixed), key=_order)
        point = {scope.describe(s): _shown_value(checked[i][s.name]) for s in used}
        counterexample = Counterexample(point, claim_values[i], true_values[i])
    line = rule.lines[key].format(**_letters(chosen))
    target = f"{chosen.shown.get(key, key)}_t"
    if key == "delta" and "delta" not in chosen.names.values():
        target = f"the step of {chosen.shown['theta']}"
    if wrt is not None:  # the name a question asks for (chainrule grade compares it with ``goal``)
        target = wrt_label(rule, chosen, wrt)
    details = {"note": "; ".join(notes), "notation": chosen.name, "optimizer": rule.name, "variant": variant}
    return Verdict(target, claim, not bad, symbolic, numeric, line, counterexample, hint, None, details)


def _letters(notation: Notation) -> dict[str, str]:
    return {"G": "G", "s": "s", "v": "v", "m": "m", "rho": "ρ", "mu": "μ", **notation.shown}


def _shown_value(v: float):
    return int(v) if float(v).is_integer() and abs(v) >= 1 else v


def _numbers(tree) -> list[float]:
    out, stack = [], [tree]
    while stack:
        node = stack.pop()
        if node[0] == "num":
            out.append(float(node[1]))
        stack.extend(C.children(node))
    return out


def _written_numbers(rule: Rule, rhs, claimed: sp.Expr, truth: sp.Expr) -> tuple[dict, str]:
    """The hyperparameters the claim writes as numbers (``0.9*m_tm1 + 0.1*g_t``): those the truth has, the
    claim does not, and whose default (or 1 − it, or a documented other value) the claim writes; they are
    fixed at the module's defaults."""
    numbers = _numbers(rhs)
    fixed = {}
    for name, default in rule.defaults.items():
        symbol = sp.Symbol(name)
        if symbol not in truth.free_symbols or symbol in claimed.free_symbols:
            continue
        values = [default] + [v for v, _ in rule.other_values.get(name, ())]
        if any(abs(x - v) < 1e-12 or abs(x - (1 - v)) < 1e-12 for x in numbers for v in values):
            fixed[symbol] = default
    if not fixed:
        return {}, ""
    shown = ", ".join(f"{s.name.replace('beta', 'β').replace('eps', 'ε')} = {v:g}" for s, v in fixed.items())
    return fixed, f"written as numbers, checked at the module's defaults: {shown}"


def _other_value(rule, rhs, claimed, truth, fixed, pts) -> str | None:
    """A hyperparameter written as a documented other value (β2 = 0.99): named as that variant."""
    for symbol in fixed:
        for value, label in rule.other_values.get(symbol.name, ()):
            other = {**fixed, symbol: value}
            moved = [{**p, symbol.name: value} for p in pts]
            if all(_same(a, b) for a, b in zip(values_of(claimed, moved), values_of(truth.xreplace(other), moved))):
                return (
                    f"not the form the module uses: this is {label}; the module's default is"
                    f" {rule.defaults[symbol.name]:g}"
                )
    return None


def _slip(rule: Rule, key: str, claim_values, pts, fixed):
    """The slip of the rule (the rule as it has it) the claim agrees with at every point; the one that edits
    fewest definitions first (the first moment's correction alone before both)."""
    reference = rule.resolved()[key]
    for slip in sorted(rule.slips, key=lambda s: len(s.edit)):
        edited = rule.resolved(slip.edit)[key]
        if edited == reference:
            continue
        if all(_same(a, b) for a, b in zip(claim_values, values_of(edited.xreplace(fixed), pts))):
            return slip
    return None


def _generic(key: str, claim_values, true_values, pts) -> str | None:
    """A flipped sign or a constant factor: of the step for θ (θ_{t−1} − θ_t), else of the quantity."""
    if key == "theta":
        pairs = [(p["theta_prev"] - c, p["theta_prev"] - r) for p, c, r in zip(pts, claim_values, true_values)]
        ratio = constant_ratio(pairs)
        return f"in the step: {describe_constant(ratio)}" if ratio is not None else None
    ratio = constant_ratio(list(zip(claim_values, true_values)))
    return describe_constant(ratio) if ratio is not None else None
