"""The chain rule over a network's straight-line program.

For every edge ``child ← parent`` the local partial ∂child/∂parent is taken
once (``Factor``), written in node names.  Then, in one reversed sweep over
the program, each variable's gradient is the sum over its children of
(gradient of the child) × (local partial), simplified by targeted rewrites
(``simplify.py``) as a lecturer would: a sum over every path to the loss,
each shared prefix simplified once.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from functools import cached_property
from itertools import pairwise

import sympy as sp

from ..errors import ChainruleError
from ..functions import RULES, numeric_function
from ..printing.text import display_name, text
from ..steps import ChainRule, Factor, Product, Result, Rewrite, Step, Steps
from .simplify import combine_terms, lecture_order, ordered_mul, simplify_product

MAX_LISTED_PATHS = 64
# A node used more than once whose simplified gradient is larger than this gets its own name, δ_name, and its
# parents' gradients use the name: the sweep then costs the same for every edge, whatever the depth (Nielsen's δ).
NAMED_DELTA_OPS = 12


class UnreachableParameterWarning(UserWarning):
    """A parameter that cannot reach the loss: its gradient is always 0."""


@dataclass(frozen=True)
class Evaluation:
    """Forward values and gradients at one point, as floats, keyed by name."""

    values: dict[str, float]
    gradients: dict[str, float]

    @property
    def loss(self) -> float:
        return self.values[next(reversed(self.values))]


class Derivation:
    """Every gradient of ``net``'s loss, derived by the chain rule (see module docstring)."""

    def __init__(self, net):  # a derive.Network (which builds this; no import back, no circle)
        net.check()
        self.net = net
        self._expanded: dict = {}  # expand_nodes' answers
        self.loss = net.loss_name
        self.order = [n.name for n in net.nodes]
        self.sym = dict(net.symbols)
        self._node_form = {n.expr: n.symbol for n in net.nodes if not n.expr.is_Atom}
        self.children: dict[str, list[str]] = {name: [] for name in net.kinds}
        self.factors: dict[tuple[str, str], Factor] = {}
        for node in net.nodes:
            raw = partials(node.expr, node.deps)
            for dep in node.deps:
                self.children[dep.name].append(node.name)
                self.factors[(node.name, dep.name)] = self._factor(node, dep, raw[dep])
        self.reaches = self._reaching()
        self.delta: dict[str, sp.Expr] = {self.loss: sp.S.One}
        self.shown: dict[str, sp.Expr] = {self.loss: sp.S.One}
        self.rewrites: dict[str, list[Rewrite]] = {self.loss: []}
        self.named: dict[str, tuple[sp.Symbol, sp.Expr, sp.Expr]] = {}  # node -> (δ symbol, value, shown)
        for name in reversed(self.order[:-1]):
            self._adjoint(name)
        for name in net.leaves:
            self._adjoint(name)
        self.warnings = [
            f"parameter '{p}' does not reach the loss '{self.loss}': its gradient is 0"
            for p in net.names("param")
            if p not in self.reaches
        ]
        for message in self.warnings:
            warnings.warn(message, UnreachableParameterWarning, stacklevel=3)

    # ------------------------------------------------------------ building
    def _factor(self, node, dep, derivative: sp.Expr) -> Factor:
        raw = lecture_order(derivative)
        value = lecture_order(raw.xreplace(self._node_form))
        rule = None
        if isinstance(node.expr, sp.Function) and type(node.expr) in RULES:
            rule = RULES[type(node.expr)].why
        return Factor(node.name, dep.name, node.expr, raw, value, rule)

    def _reaching(self) -> set[str]:
        reach = {self.loss}
        for name in reversed(self.order):
            if any(c in reach for c in self.children[name]):
                reach.add(name)
        for name in self.net.leaves:
            if any(c in reach for c in self.children[name]):
                reach.add(name)
        return reach

    def _adjoint(self, name: str) -> None:
        terms, shown_terms, log = [], [], []
        for child in self.children[name]:
            if child not in self.reaches:
                continue
            local = self.factors[(child, name)].value
            if local == 0:
                continue
            value, shown, rewrite = simplify_product(self.delta[child], self.shown[child], local)
            if rewrite is not None:
                log.append(rewrite.of(name, self.loss))
            terms.append(value)
            shown_terms.append(shown)
        value, shown, rewrites = combine_terms(terms, shown_terms, self.net.one_hot)
        log.extend(r.of(name, self.loss) for r in rewrites)
        self.rewrites[name] = log
        if len(terms) > 1 and self.net.kinds[name] == "node" and sp.count_ops(value) > NAMED_DELTA_OPS:
            symbol = self._delta_symbol(name)
            self.named[name] = (symbol, value, shown)
            value = shown = symbol
        self.delta[name] = value
        self.shown[name] = shown

    def _delta_symbol(self, name: str) -> sp.Symbol:
        taken = set(self.net.kinds)
        candidate = f"delta_{name}"
        while candidate in taken:
            candidate = "_" + candidate
        return sp.Symbol(candidate)

    # ------------------------------------------------------------- queries
    def _name(self, name) -> str:
        name = getattr(name, "name", name)
        if name not in self.net.kinds:
            raise ChainruleError(f"unknown name '{name}' in network '{self.net.name}'")
        return name

    def gradient(self, name, expanded: bool = False, deltas: bool = False) -> sp.Expr:
        """∂L/∂name, simplified, in node names (or over leaves only with ``expanded=True``).

        ``deltas=True``: as the sweep wrote it, with the named gradients δ_q of the nodes used more than
        once (``deltas()`` lists their definitions) — the form that stays small at any depth."""
        name = self._name(name)
        value = self.delta[name] if deltas else self.resolve(self.delta[name])
        return self.expand_nodes(value) if expanded else value

    def deltas(self) -> list[tuple[sp.Symbol, str, sp.Expr]]:
        """``[(δ symbol, node, definition)]``, each defined before it is used (from the loss down)."""
        return [(self.named[n][0], n, self.named[n][1]) for n in reversed(self.order) if n in self.named]

    def resolve(self, expr: sp.Expr) -> sp.Expr:
        """``expr`` with every named gradient δ_q replaced by its definition."""
        for symbol, _, definition in reversed(self.deltas()):
            if symbol in expr.free_symbols:
                expr = expr.xreplace({symbol: definition})
        return expr

    def expand_nodes(self, expr: sp.Expr) -> sp.Expr:
        """Substitute every node's definition until only leaves remain (each expression once: verify asks again)."""
        key = (expr, len(self.net.nodes))
        if key not in self._expanded:
            for node in reversed(self.net.nodes):
                if node.symbol in expr.free_symbols:
                    expr = expr.xreplace({node.symbol: node.expr})
            self._expanded[key] = expr
        return self._expanded[key]

    def shown_gradient(self, name) -> sp.Expr:
        """The simplified gradient as the derivation shows it (chain order, unevaluated; δ_q resolved)."""
        name = self._name(name)
        shown = self.shown[name]
        for node in reversed(self.order):
            if node in self.named and self.named[node][0] in shown.free_symbols:
                shown = shown.xreplace({self.named[node][0]: self.named[node][2]})
        return shown

    def paths(self, name) -> list[tuple[str, ...]]:
        """Every path from the loss down to ``name``, as node names."""
        name = self._name(name)
        out: list[tuple[str, ...]] = []

        def walk(current: str, trail: tuple[str, ...]) -> None:
            if len(out) > MAX_LISTED_PATHS:
                return
            if current == self.loss:
                out.append(tuple(reversed(trail)))
                return
            for child in self.children[current]:
                if child in self.reaches and self.factors[(child, current)].value != 0:
                    walk(child, trail + (child,))

        walk(name, (name,))
        return out

    def steps(self, name) -> Steps:
        """The derivation of ∂L/∂name as step objects (see ``derive.steps``)."""
        name = self._name(name)
        paths = self.paths(name)
        via = tuple(c for c in self.children[name] if c in self.reaches)
        listed = len(paths) <= MAX_LISTED_PATHS
        steps: list[Step] = [ChainRule(name, self.loss, tuple(paths) if listed else None, via)]
        if listed:
            links = [link for p in paths for link in pairwise(p)]
        else:
            links = [(c, name) for c in via]
        seen = []
        for link in links:
            if link not in seen:
                seen.append(link)
        factors = [self.factors[link] for link in seen]
        steps.extend(factors)
        if listed:
            terms = [ordered_mul(*(self.factors[link].value for link in pairwise(p))) for p in paths]
        else:
            terms = [
                ordered_mul(sp.Symbol(f"∂{self.loss}/∂{display_name(c)}"), self.factors[(c, name)].value) for c in via
            ]
        product = sp.Add(*terms, evaluate=False) if len(terms) > 1 else (terms[0] if terms else sp.S.Zero)
        steps.append(Product(name, self.loss, product))
        for f in factors:
            if f.raw != f.value:
                steps.append(
                    Rewrite(
                        f.of, self.loss, f.raw, f.value, f"{derivative_text(f)} written as {text(f.value)}", "node-form"
                    )
                )
        below = self._descendants(name)
        for node in reversed(self.order):
            if node in below or node == name:
                steps.extend(self.rewrites.get(node, []))
        steps.append(Result(name, self.loss, self.shown[name], self.delta[name]))
        return Steps(steps)

    def _descendants(self, name: str) -> set[str]:
        out, todo = set(), [name]
        while todo:
            for child in self.children[todo.pop()]:
                if child not in out:
                    out.add(child)
                    todo.append(child)
        return out

    def verify(self, name, claim, *, latex: bool = False):
        """Check a hand-derived formula for ∂L/∂name (see ``derive.verify.scalar``); returns a ``Verdict``."""
        from ..verify.scalar import verify_claim

        return verify_claim(self, name, claim, latex=latex)

    def __repr__(self) -> str:
        params = self.net.names("param")
        return f"<Derivation of {self.net.name!r}: ∂{self.loss}/∂θ for {len(params)} parameters ({', '.join(params)})>"

    def _repr_latex_(self) -> str:
        """Every parameter's gradient, for Jupyter."""
        from ..printing.latex import derivation_latex

        return derivation_latex(self)

    # ---------------------------------------------------------- numbers
    @cached_property
    def _forward_fns(self):
        fns = []
        for node in self.net.nodes:
            args = node.deps
            fns.append((node.name, [a.name for a in args], numeric_function(args, node.expr)))
        return fns

    def _gradient_fn(self, name: str):
        cache = self.__dict__.setdefault("_grad_fns", {})
        if name not in cache:
            expr = self.named[name][1] if name in self.named else self.delta[name]
            args = sorted(expr.free_symbols, key=lambda s: s.name)
            cache[name] = ([a.name for a in args], numeric_function(args, expr))
        return cache[name]

    def forward(self, point, shift: dict[str, float] | None = None) -> dict[str, float]:
        """Every leaf's and node's value at ``point`` (a mapping from Symbols or names to numbers).

        ``shift`` adds to nodes' values as they are computed (for finite differences at a node)."""
        values = {}
        given = {getattr(k, "name", k): float(v) for k, v in point.items()}
        for key in given:
            if key not in self.net.kinds:
                raise ChainruleError(f"unknown name '{key}' in the values for network '{self.net.name}'")
        for leaf in self.net.leaves:
            if leaf not in given:
                raise ChainruleError(f"no value given for {self.net.kinds[leaf]} '{leaf}'")
            values[leaf] = given[leaf]
        for name, value in self.net.constant_values.items():  # λ as declared, unless given
            values[name] = given.get(name, value)
        for name, args, fn in self._forward_fns:
            try:
                values[name] = float(fn(*(values[a] for a in args))) + (shift or {}).get(name, 0.0)
            except (ValueError, ZeroDivisionError, OverflowError) as exc:
                raise ChainruleError(f"node '{name}' cannot be evaluated at the given values ({exc})") from None
        return values

    def shifted_loss(self, values: dict[str, float], name: str, delta: float) -> float:
        """The loss when ``name`` (a leaf, or a node) is ``delta`` more than in ``values`` (a ``forward``):
        only the nodes downstream of ``name`` are computed again, with the same functions, so the result is
        ``forward``'s with that leaf moved (or that node shifted)."""
        moved = {name: values[name] + delta}
        for node, args, fn in self._downstream(name):
            try:
                moved[node] = float(fn(*(moved[a] if a in moved else values[a] for a in args)))
            except (ValueError, ZeroDivisionError, OverflowError) as exc:
                raise ChainruleError(f"node '{node}' cannot be evaluated at the given values ({exc})") from None
        return moved.get(self.loss, values[self.loss])

    def _downstream(self, name: str) -> list:
        """The forward functions of the nodes that depend on ``name``, in order."""
        cache = self.__dict__.setdefault("_downstream_fns", {})
        if name not in cache:
            reached, fns = {name}, []
            for node, args, fn in self._forward_fns:
                if any(a in reached for a in args):
                    reached.add(node)
                    fns.append((node, args, fn))
            cache[name] = fns
        return cache[name]

    def evaluate(self, point) -> Evaluation:
        """Forward values and every gradient at ``point``, as floats."""
        values = self.forward(point)
        known = dict(values)  # and the named gradients δ_q, from the loss down
        grads = {}
        for name in list(reversed(self.order)) + list(self.net.leaves):
            args, fn = self._gradient_fn(name)
            grads[name] = float(fn(*(known[a] for a in args)))
            if name in self.named:
                known[self.named[name][0].name] = grads[name]
        grads = {name: grads[name] for name in list(self.net.leaves) + self.order}
        return Evaluation(values, grads)


def partials(expr: sp.Expr, symbols) -> dict[sp.Symbol, sp.Expr]:
    """``{s: sp.diff(expr, s)}``, the same expressions, faster for a unit's z = Σᵢ wᵢxᵢ + b (one term per
    edge): a sum differentiates only the terms that hold ``s``, and a product in which ``s`` is one factor
    (``wᵢxᵢ``) is the product of the others."""
    if not expr.is_Add:
        return {s: sp.diff(expr, s) for s in symbols}
    holding: dict[sp.Symbol, list[sp.Expr]] = {s: [] for s in symbols}
    for term in expr.args:
        for s in term.free_symbols:
            if s in holding:
                holding[s].append(term)
    return {s: sp.Add(*[_term_partial(term, s) for term in terms]) for s, terms in holding.items()}


def _term_partial(term: sp.Expr, s: sp.Symbol) -> sp.Expr:
    if term == s:
        return sp.S.One
    if term.is_Mul and term.args.count(s) == 1:
        others = [a for a in term.args if a != s]
        if not any(s in a.free_symbols for a in others):
            return sp.Mul(*others)
    return sp.diff(term, s)


def derivative_text(f: Factor) -> str:
    """How a factor's derivative is named: ``σ'(z)`` for a rule function of one argument."""
    expr = f.definition
    if isinstance(expr, sp.Function) and type(expr) in RULES and len(expr.args) == 1:
        return f"{RULES[type(expr)].text}'({text(expr.args[0])})"
    return text(f.raw)
