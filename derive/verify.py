"""Verify a hand-derived formula against the derivation.

    d = net.derive()
    v = d.verify("W11", "(yhat - y)*w1*a1*(1 - a1)*x1")
    bool(v), v.symbolic, v.numeric, v.counterexample, v.hint

A claim is text (Python/SymPy syntax, read safely by ``derive.claims``), LaTeX
as the lectures write it (``$…$`` or ``latex=True``, read by
``derive.latex_reader``), or a SymPy expression.  It may use node names
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
can tell, the likely slip (``derive.slips``).
"""

from __future__ import annotations

import itertools
import math
import random
import re
import signal
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field

import sympy as sp

from . import claims as C
from .claims import ClaimError
from .errors import ChainruleError
from .functions import NUMERIC, RULES, BinaryCrossEntropy, CrossEntropy, ReLU, Sigmoid, SquaredError, Step, Tanh
from .text import text

_LAYER_NAME = re.compile(r"^([A-Za-z]+)\[(\d+)\]$")
_INDEXED = re.compile(r"^([A-Za-z]+)_([ijk0-9]*[ijk][ijk0-9]*)$")

RANDOM_POINTS = 24
KINK_OFFSET = 1e-3
TOLERANCE = 1e-8
SYMBOLIC_SECONDS = 2.0
SYMBOLIC_MAX_OPS = 3000
HINT_SECONDS = 3.0
PRECISE_SECONDS = 1.0

ACTIVATIONS = {"sigmoid": Sigmoid, "tanh": Tanh, "relu": ReLU, "step": Step}


@dataclass(frozen=True)
class Counterexample:
    """Where a claim fails: the point (leaf values), the claimed and the true value."""

    point: dict[str, float]
    claimed: object
    true: object
    note: str = ""

    def __str__(self) -> str:
        where = ", ".join(f"{k} = {v:.10g}" if isinstance(v, float) else f"{k} = {v}" for k, v in self.point.items())
        extra = f" ({self.note})" if self.note else ""
        return f"at {where}: claimed {_num(self.claimed)}, true {_num(self.true)}{extra}"


@dataclass(frozen=True)
class Verdict:
    """The result of checking one claim; ``bool(v)`` is whether it holds."""

    wrt: str
    claim: str
    equal: bool
    symbolic: str  # "proved" | "not proved" | "skipped"
    numeric: str  # e.g. "agrees at 30 points (6 at kinks)" or "differs"
    truth: str  # the derived formula, as text
    counterexample: Counterexample | None = None
    hint: str | None = None
    of: str | None = None  # the function differentiated (the loss, a node) or None for an identity
    details: dict = field(default_factory=dict)

    def __bool__(self) -> bool:
        return self.equal

    @property
    def target(self) -> str:
        if self.wrt.endswith("←") or self.of == "update":
            return f"update of {self.wrt.rstrip('←')}"
        if self.of is None:
            return self.wrt
        return f"∂{self.of}/∂{self.wrt}"

    def report(self) -> str:
        """Several lines for a person: verdict, both checks, the counterexample and the hint."""
        head = "holds" if self.equal else "WRONG"
        lines = [
            f"{self.target}: {head}",
            f"  claim:    {self.claim}",
            f"  derived:  {self.truth}",
            f"  symbolic: {self.symbolic}",
            f"  numeric:  {self.numeric}",
        ]
        if self.counterexample is not None:
            lines.append(f"  counterexample: {self.counterexample}")
        if self.hint:
            lines.append(f"  likely slip: {self.hint}")
        return "\n".join(lines)


# ---------------------------------------------------------------- the scope
class ScalarScope:
    """Network names, lecture aliases and functions for turning a claim tree into SymPy."""

    def __init__(self, derivation):
        self.d = derivation
        self.net = derivation.net
        self.kinds = self.net.kinds
        self.sym = self.net.symbols
        self.lower: dict[str, list[str]] = {}
        for name in self.kinds:
            self.lower.setdefault(name.lower(), []).append(name)
        self.output = self._output_node()
        self.layers = self._layers()

    def _output_node(self) -> str | None:
        loss = self.net.node(self.net.loss_name).expr
        first = loss.args[0] if loss.args else None
        return first.name if isinstance(first, sp.Symbol) and first.name in self.kinds else None

    def _layers(self) -> dict[str, str]:
        """Layer-superscript names for the output layer: ``a^{[L]}`` → the output, ``z^{[L]}`` → its input."""
        out: dict[str, str] = {}
        if self.output is None or self.kinds.get(self.output) != "node":
            return out
        depth: dict[str, int] = {}
        for node in self.net.nodes:
            below = max((depth.get(s.name, 0) for s in node.deps), default=0)
            depth[node.name] = below + (
                1
                if isinstance(node.expr, sp.Function)
                and type(node.expr) in RULES
                and RULES[type(node.expr)].kind == "activation"
                else 0
            )
        layer = depth[self.output]
        out[f"a{layer}"] = self.output
        out["a"] = self.output
        expr = self.net.node(self.output).expr
        if isinstance(expr, sp.Function) and len(expr.args) == 1 and isinstance(expr.args[0], sp.Symbol):
            out[f"z{layer}"] = expr.args[0].name
        return out

    def knows(self, name: str) -> bool:
        try:
            self.resolve(name)
        except ClaimError:
            return False
        return True

    def resolve(self, name: str, where=None) -> str:
        """A claim's name as a network name: exact, a lecture alias, or a unique case-insensitive match."""
        if name in self.kinds:
            return name
        if name in C.RATES:
            return C.RATES[name]
        layer = _LAYER_NAME.match(name)
        if layer:
            base, k = layer.groups()
            for key in (f"{base}{k}", f"{base.lower()}{k}"):
                if key in self.layers:
                    return self.layers[key]
            raise ClaimError(
                f"'{base}^{{[{k}]}}' names a layer; network '{self.net.name}' names single units "
                f"({', '.join(n for n in self.kinds if n.lower().startswith(base.lower()))}): write {base}_1, {base}_2 …",
                where,
            )
        if "_" in name and _INDEXED.match(name):
            raise ClaimError(f"free index in '{name}': say which gradient (∂L/∂{name}) so it can be expanded", where)
        if name in self.layers and self.layers[name] in self.kinds:
            return self.layers[name]
        same = self.lower.get(name.lower(), [])
        if len(same) == 1:
            return same[0]
        shown = ", ".join(self.kinds)
        raise ClaimError(f"unknown name '{name}' (network '{self.net.name}' has: {shown})", where)

    def symbol(self, name: str, where=None):
        if name == "e" and "e" not in self.kinds:
            return sp.E
        if name in C.RATES and name not in self.kinds:
            return sp.Symbol(C.RATES[name])
        return self.sym[self.resolve(name, where)]

    # --------------------------------------------------------- conversion
    def to_sympy(self, tree, where=None) -> sp.Expr:
        kind = tree[0]
        if kind == "num":
            return tree[1]
        if kind == "name":
            name = tree[1]
            if not self.knows(name) and name.startswith("d") and len(name) > 1 and self.knows(name[1:]):
                return self.d.gradient(self.resolve(name[1:]))  # dW11: ∂L/∂W11, as the lectures write it
            return self.symbol(name, where)
        if kind == "neg":
            return -self.to_sympy(tree[1], where)
        if kind == "T":
            return self.to_sympy(tree[1], where)  # a scalar is its own transpose
        if kind == "sum":
            raise ClaimError("np.sum(…) needs a vectorised network", where)
        if kind == "partial":
            return self.partial(tree[1], tree[2], where)
        if kind == "call":
            args = [self.to_sympy(a, where) for a in tree[2]]
            return self.call(tree[1], args, where)
        if kind in ("jux", "mul") and tree[1][0] == tree[2][0] == "name":
            dot = self.dot(tree[1][1], tree[2][1])
            if dot is not None:
                return dot
        a, b = self.to_sympy(tree[1], where), self.to_sympy(tree[2], where)
        if kind == "add":
            return a + b
        if kind == "sub":
            return a - b
        if kind in ("mul", "jux", "matmul"):
            return a * b
        if kind == "div":
            if b == 0:
                raise ClaimError("division by zero in the claim", where)
            return a / b
        if kind == "pow":
            return a**b
        raise ClaimError(f"cannot use '{kind}' in a claim", where)  # pragma: no cover

    def family(self, stem: str) -> list[str]:
        """``w`` → ``[w1, w2, w3]`` when the network declares them (and not ``w`` itself)."""
        if stem in self.kinds:
            return []
        out = []
        while f"{stem}{len(out) + 1}" in self.kinds:
            out.append(f"{stem}{len(out) + 1}")
        return out

    def dot(self, a: str, b: str):
        """``w·x`` = Σᵢ wᵢxᵢ for two families of the same length, else None."""
        fa, fb = self.family(a), self.family(b)
        if fa and len(fa) == len(fb):
            return sp.Add(*(self.sym[p] * self.sym[q] for p, q in zip(fa, fb)))
        return None

    def call(self, fname: str, args, where=None) -> sp.Expr:
        if len(args) != 1:
            raise ClaimError(f"{fname}(…) takes one argument", where)
        (u,) = args
        derivative = fname.endswith("'")
        base = fname.rstrip("'")
        if base == "exp":
            return sp.exp(u)
        if base == "log":
            return sp.log(u) if not derivative else 1 / u
        if base == "softmax":
            raise ClaimError(
                "softmax(…) is vector-valued: in a per-unit network write its outputs (yhat1, yhat2 …)", where
            )
        if base == "g":
            cls = self.activation_of(u, where)
        elif base in ACTIVATIONS:
            cls = ACTIVATIONS[base]
        else:
            raise ClaimError(f"unknown function '{base}'", where)
        if not derivative:
            return cls(u)
        return RULES[cls].partial(cls(u), 0)

    def activation_of(self, u, where=None):
        """The activation the network applies to ``u`` (for ``g(z1)``, ``g'(z1)``)."""
        for node in self.net.nodes:
            if (
                isinstance(node.expr, sp.Function)
                and type(node.expr) in ACTIVATIONS.values()
                and node.expr.args == (u,)
            ):
                return type(node.expr)
        raise ClaimError(f"no activation g is applied to {text(u)} in network '{self.net.name}'", where)

    def partial(self, of: str, wrt: str, where=None) -> sp.Expr:
        """∂of/∂wrt: the gradient when ``of`` is the loss, else the derivative of the node ``of``
        with every other node written out (``wrt`` held as a variable)."""
        of = self.resolve(of, where)
        wrt = self.resolve(wrt, where)
        if of == self.net.loss_name:
            return self.d.gradient(wrt)
        if of == wrt:
            return sp.S.One
        if self.kinds[of] != "node":
            raise ClaimError(f"∂{of}/∂{wrt}: '{of}' is a {self.kinds[of]}, not a node", where)
        return sp.diff(expand_until(self.net, self.sym[of], wrt), self.sym[wrt])


def expand_until(net, expr: sp.Expr, stop: str) -> sp.Expr:
    """Replace node symbols by their definitions, except ``stop``, until only leaves and ``stop`` remain."""
    for node in reversed(net.nodes):
        if node.name != stop and node.symbol in expr.free_symbols:
            expr = expr.xreplace({node.symbol: node.expr})
    return expr


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
        return ("update", C.parse_text(lhs, where)), C.parse_text(rhs, where)
    lhs, rhs = C.split_equation(stripped)
    return (C.parse_text(lhs, where) if lhs is not None else None), C.parse_text(rhs, where)


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
        if len(rates) != 1:
            raise ClaimError("an update needs one learning rate (alpha, eta, α, η)", where)
        step = sp.Symbol(rates[0])
        return Target(param, None, scope.sym[param] - step * scope.d.gradient(param), step)
    if lhs is None:
        if wrt is None:
            raise ClaimError("say which gradient the claim is for (--wrt NAME, or a left-hand side)", where)
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


def lhs_names(scope: ScalarScope, lhs, where=None):
    """(of, wrt) when the left-hand side names a derivative: ``∂L/∂W11``, ``dW11``, ``dL/dW11``; else None."""
    if lhs[0] == "partial":
        return scope.resolve(lhs[1], where), scope.resolve(lhs[2], where)
    if lhs[0] == "name" and lhs[1] not in scope.kinds and lhs[1].startswith("d") and len(lhs[1]) > 1:
        return scope.net.loss_name, scope.resolve(lhs[1][1:], where)
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
    scope = ScalarScope(derivation)
    wrt = getattr(wrt, "name", wrt)
    lhs, rhs = read_claim(claim, latex, where, known=scope.knows)
    letters = index_letters(lhs) | index_letters(rhs) | index_letters(("name", wrt) if wrt else None)
    if letters:
        return verify_indexed(scope, wrt, lhs, rhs, letters, claim, where)
    return verify_tree(scope, wrt, lhs, rhs, claim, where)


def verify_tree(scope: ScalarScope, wrt, lhs, rhs, claim, where=None) -> Verdict:
    target = target_for(scope, wrt, lhs, where, rhs=rhs)
    expr = rhs if isinstance(rhs, sp.Basic) else scope.to_sympy(rhs, where)
    unknown = sorted(s.name for s in expr.free_symbols if s.name not in scope.kinds and s.name not in RATE_VALUES)
    if unknown:
        raise ClaimError(f"unknown name '{unknown[0]}' in network '{scope.net.name}'", where)
    return compare(scope, target, expr, claim if isinstance(claim, str) else text(claim))


def verify_spec(target, wrt, claim, *, latex: bool = False, where=None) -> Verdict:
    """``verify_claim`` for a derivation, or ``vecverify.verify_vector`` for a vectorised network."""
    from .vecverify import VecTarget, verify_vector

    if isinstance(target, VecTarget):
        return verify_vector(target, wrt, claim, latex=latex, where=where)
    return verify_claim(target, wrt, claim, latex=latex, where=where)


def index_letters(tree) -> set[str]:
    """Free index letters (``x_j``) in a claim tree."""
    if tree is None or isinstance(tree, sp.Basic):
        return set()
    names = tree[1:] if tree[0] == "partial" else C.names_in(tree)
    return {ch for n in names if (m := _INDEXED.match(n)) for ch in m.group(2) if ch.isalpha()}


def substitute_index(tree, letter: str, value: int):
    """``x_j`` → ``x3`` throughout a claim tree."""
    if tree is None:
        return None

    def name(n: str) -> str:
        m = _INDEXED.match(n)
        if not m:
            return n
        index = m.group(2).replace(letter, str(value))
        return f"{m.group(1)}{index}" if index.isdigit() else f"{m.group(1)}_{index}"

    kind = tree[0]
    if kind == "name":
        return ("name", name(tree[1]))
    if kind == "partial":
        return ("partial", name(tree[1]), name(tree[2]))
    if kind == "num":
        return tree
    if kind == "call":
        return ("call", tree[1], tuple(substitute_index(a, letter, value) for a in tree[2]))
    return (kind, *(substitute_index(x, letter, value) if isinstance(x, tuple) else x for x in tree[1:]))


def verify_indexed(scope: ScalarScope, wrt, lhs, rhs, letters, claim, where=None) -> Verdict:
    """A claim with free indices (``∂L/∂w_j = (σ(w·x + b) − y) x_j``): checked for every value the network has."""
    if len(letters) > 2:
        raise ClaimError(f"too many free indices ({', '.join(sorted(letters))}; at most two)", where)
    letters = sorted(letters)
    verdicts = []
    for combo in itertools.product(range(1, 10), repeat=len(letters)):
        w, sub_lhs, sub_rhs = (("name", wrt) if wrt else None), lhs, rhs
        for letter, value in zip(letters, combo):
            w = substitute_index(w, letter, value)
            sub_lhs, sub_rhs = substitute_index(sub_lhs, letter, value), substitute_index(sub_rhs, letter, value)
        w = w[1] if w else None
        names = (
            C.names_in(sub_rhs)
            | ({w} if w else set())
            | (set(sub_lhs[1:]) if sub_lhs and sub_lhs[0] == "partial" else set())
        )
        if all(scope.knows(n) or scope.family(n) or n == "e" for n in names):
            verdicts.append((combo, verify_tree(scope, w, sub_lhs, sub_rhs, claim, where)))
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
    if bad:
        symbolic = "disproved (the difference is not 0 at the counterexample)"
    else:
        symbolic = symbolic_verdict(d, claim, target.truth)
    if not rows:
        numeric = "no point could be evaluated"
    elif bad:
        numeric = f"differs at {len(bad)} of {len(rows)} points"
    else:
        numeric = f"agrees at {len(rows)} points" + (f" ({kinks} at or beside a kink)" if kinks else "")
    equal = bool(rows) and not bad
    counterexample = hint = None
    if not equal and bad:
        first = min(bad, key=lambda r: (bool(r.at_kink), r.index))
        counterexample = Counterexample(first.point, first.claimed, first.true, first.at_kink)
        from .slips import scalar_hint

        if all(r.at_kink == "at a kink" for r in bad):
            hint = (
                "it differs only exactly at a ReLU kink: the claim takes ReLU'(0) = 0, "
                "the lectures' convention is ReLU'(0) = 1 (step(z) = 1 for z ≥ 0)"
            )
        else:
            try:
                with time_limit(HINT_SECONDS):
                    hint = (
                        update_hint(scope, target, claim, rows)
                        if target.rate
                        else scalar_hint(scope, target, claim, rows)
                    )
            except _Timeout:
                hint = None
    of = "update" if target.rate is not None else target.of
    return Verdict(target.wrt, claim_text, equal, symbolic, numeric, truth_text, counterexample, hint, of)


def update_hint(scope: ScalarScope, target: Target, claim: sp.Expr, rows) -> str | None:
    """For ``p ← claim``: the slip in the step ``(p − claim)/rate`` against ∂L/∂p."""
    from .slips import scalar_hint

    p, rate = scope.sym[target.wrt], target.rate
    value = RATE_VALUES[rate.name]

    def step(v: float, row) -> float:
        return (row.point[target.wrt] - v) / value

    steps = [Row(r.index, r.point, step(r.claimed, r), step(r.true, r), r.at_kink) for r in rows]
    gradient = Target(target.wrt, scope.net.loss_name, scope.d.gradient(target.wrt))
    hint = scalar_hint(scope, gradient, (p - claim) / rate, steps)
    return f"in the step (the part multiplied by {rate.name}): {hint}" if hint else None


def node_form(d, expr: sp.Expr) -> sp.Expr:
    """``expr`` with node definitions folded back into node names (σ(z1) → a1), in program order."""
    for node in d.net.nodes:
        if not node.expr.is_Atom:
            expr = expr.xreplace({node.expr: node.symbol})
    return expr


# ------------------------------------------------------------- symbolic
class _Timeout(BaseException):  # not an Exception: library code must not swallow it
    """Raised by the alarm of ``time_limit``."""


@contextmanager
def time_limit(seconds: float):
    """Raise ``_Timeout`` after ``seconds`` (main thread only; elsewhere no limit but the size bound)."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        yield
        return

    def handler(signum, frame):
        raise _Timeout()

    old = signal.signal(signal.SIGALRM, handler)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def _to_exp(expr: sp.Expr) -> sp.Expr:
    """Sigmoid and tanh written with exp, the losses written out (bounded: one pass each)."""
    return (
        expr.replace(lambda e: isinstance(e, Sigmoid), lambda e: 1 / (1 + sp.exp(-e.args[0])))
        .replace(lambda e: isinstance(e, Tanh), lambda e: sp.tanh(e.args[0]))
        .replace(lambda e: isinstance(e, BinaryCrossEntropy), lambda e: _bce(*e.args))
        .replace(lambda e: isinstance(e, (CrossEntropy, SquaredError)), _written_out)
    )


def _bce(p, y):
    return -(y * sp.log(p) + (1 - y) * sp.log(1 - p))


def _written_out(e):
    k = len(e.args) // 2
    pairs = list(zip(e.args[:k], e.args[k:]))
    if isinstance(e, CrossEntropy):
        return -sp.Add(*(y * sp.log(p) for p, y in pairs))
    return sp.Rational(1, 2) * sp.Add(*((p - y) ** 2 for p, y in pairs))


def symbolic_verdict(d, claim: sp.Expr, truth: sp.Expr) -> str:
    """Return "proved" when the difference (over leaves) reaches 0 by bounded steps, else "not proved"."""
    diff = d.expand_nodes(claim) - d.expand_nodes(truth)
    for group in d.net.one_hot:  # one-hot targets: the last is 1 − the others
        diff = diff.xreplace({group[-1]: 1 - sp.Add(*group[:-1])})
    if sp.count_ops(diff) > SYMBOLIC_MAX_OPS:
        return "skipped (expression too large)"
    steps = (
        lambda e: e,
        sp.expand,
        lambda e: sp.cancel(sp.together(e)),
        lambda e: sp.cancel(sp.together(sp.expand(_to_exp(e)))),
        lambda e: sp.cancel(sp.together(sp.expand(_to_exp(e).rewrite(sp.exp)))),
    )
    try:
        with time_limit(SYMBOLIC_SECONDS):
            for step in steps:
                if step(diff) == 0:
                    return "proved"
    except _Timeout:
        return f"not proved (stopped after {SYMBOLIC_SECONDS:g} s)"
    except (TypeError, ValueError, ZeroDivisionError, RecursionError, sp.PolynomialError):
        return "not proved"
    return "not proved"


# -------------------------------------------------------------- numeric
@dataclass(frozen=True)
class Row:
    index: int
    point: dict[str, float]
    claimed: float
    true: float
    at_kink: str  # "", "at a kink" or "beside a kink"

    @property
    def agrees(self) -> bool:
        return agree(self.claimed, self.true)


def agree(a: float, b: float, tol: float = TOLERANCE) -> bool:
    if math.isnan(a) or math.isnan(b):
        return False
    scale = max(abs(a), abs(b))
    return scale < 1e-12 or abs(a - b) <= tol * max(scale, 1e-6)


def _function(expr: sp.Expr):
    args = sorted(expr.free_symbols, key=lambda s: s.name)
    fn = sp.lambdify(args, expr, modules=[NUMERIC, "math"])
    names = [a.name for a in args]
    return lambda values: float(fn(*(values[n] for n in names)))


def numeric_rows(d, claim: sp.Expr, truth: sp.Expr) -> tuple[list[Row], int]:
    """The claim and the truth at every test point; (rows, how many are at or beside a kink)."""
    f_claim, f_truth = _function(claim), _function(truth)
    rows, kinks = [], 0
    for i, (point, at_kink) in enumerate(test_points(d)):
        try:
            values = values_at(d, point)
            true = f_truth(values)
        except (ValueError, ZeroDivisionError, OverflowError, ChainruleError):  # undefined here: not a test point
            continue
        if not math.isfinite(true):
            continue
        try:
            claimed = f_claim(values)
        except (ZeroDivisionError, ValueError, OverflowError, TypeError):
            claimed = math.nan
        if not agree(claimed, true):  # rounding in the claim's own arithmetic must not make it wrong
            precise = precise_value(claim, values)
            if precise is not None:
                claimed = precise
        rows.append(Row(i, point, claimed, true, at_kink))
        kinks += bool(at_kink)
    return rows, kinks


RATE_VALUES = {"alpha": 0.125, "eta": 0.125, "lr": 0.125}  # a learning rate, exact in binary


def values_at(d, point: dict) -> dict:
    """Every name's value at ``point``, and the learning rate an update claim may use."""
    return {**d.forward(point), **RATE_VALUES}


def precise_value(expr: sp.Expr, values: dict) -> float | None:
    """``expr`` at ``values`` in exact rationals and 40-digit floats (None when that is not possible in time)."""
    exact = {s: sp.Rational(values[s.name]) for s in expr.free_symbols}
    opened = _to_exp(expr).replace(lambda e: isinstance(e, ReLU), lambda e: sp.Max(e.args[0], 0))
    opened = opened.replace(lambda e: isinstance(e, Step), lambda e: sp.Piecewise((1, e.args[0] >= 0), (0, True)))
    try:
        with time_limit(PRECISE_SECONDS):
            value = opened.xreplace(exact).evalf(40)
            return float(value) if value.is_real and value.is_finite else None
    except (_Timeout, TypeError, ValueError, ZeroDivisionError, OverflowError, AttributeError):
        return None


def grid_value(rng: random.Random) -> float:
    """A random multiple of 1/16 in [−2, 2], nonzero: exact in binary, short in decimal."""
    while True:
        v = rng.randint(-32, 32) / 16
        if v:
            return v


def test_points(d, n: int = RANDOM_POINTS, seed: int = 0):
    """Seeded random points, then for each ReLU/step argument: exactly on the kink and either side."""
    net = d.net
    rng = random.Random(seed)
    for _ in range(n):
        yield random_point(net, rng), ""
    for arg in kink_arguments(net):
        for _ in range(2):
            base = random_point(net, rng)
            found = on_kink(d, arg, base)
            if found is None:
                continue
            on, (leaf, coeff) = found
            yield on, "at a kink"
            for side in (-1, 1):
                shifted = dict(on)
                shifted[leaf] += side * KINK_OFFSET / coeff
                yield shifted, "beside a kink"


def random_point(net, rng: random.Random) -> dict[str, float]:
    point = {}
    for name in net.leaves:
        point[name] = float(rng.random() < 0.5) if net.kinds[name] == "target" else grid_value(rng)
    for group in net.one_hot:
        hot = rng.randrange(len(group))
        for i, sym in enumerate(group):
            point[sym.name] = 1.0 if i == hot else 0.0
    return point


def kink_arguments(net) -> list[sp.Expr]:
    out = []
    for node in net.nodes:
        for f in node.expr.atoms(ReLU, Step):
            if f.args[0] not in out:
                out.append(f.args[0])
    return out


def on_kink(d, arg: sp.Expr, point: dict[str, float]):
    """``point`` moved so that ``arg`` is exactly 0 (solving for a parameter it is linear in)."""
    expr = d.expand_nodes(arg)
    for sym in sorted(expr.free_symbols, key=lambda s: (d.net.kinds[s.name] != "param", s.name)):
        if d.net.kinds[sym.name] == "target":
            continue
        coeff = sp.diff(expr, sym)
        if coeff.free_symbols or coeff == 0:
            continue
        value = float(expr.subs({s: point[s.name] for s in expr.free_symbols}))
        moved = dict(point)
        moved[sym.name] = point[sym.name] - value / float(coeff)
        check = float(expr.subs({s: moved[s.name] for s in expr.free_symbols}))
        if check == 0.0:
            return moved, (sym.name, float(coeff))
    return None


def _num(v) -> str:
    if isinstance(v, float):
        if math.isnan(v):
            return "undefined"
        return f"{v + 0.0:.6g}"
    return str(v)
