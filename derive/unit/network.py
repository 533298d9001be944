"""A network is a straight-line program of named SymPy assignments.

    net = Network("two_layer_sigmoid")
    x1, x2 = net.inputs("x1 x2")
    y = net.targets("y")
    W11, … = net.params("W11 …")
    z1 = net.let("z1", W11*x1 + W21*x2 + b1)
    a1 = net.let("a1", sigmoid(z1))
    …
    net.loss(binary_cross_entropy(yhat, y))

Leaves are inputs, targets and parameters; nodes are the assignments, in
order; the last node is the loss ``L``.  Every check a declaration needs is
made here, when the line is declared, so an error names that line.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sympy as sp
from sympy.core.function import Application

from ..errors import DeclarationError, caller_frame, caller_place, check_finite, check_title
from ..functions import BUILTIN_ALLOWED, RULES, lecture_functions
from ..names import check_constant_names, check_name, pre_activation_name, why_not

LEAF_KINDS = ("input", "target", "param")


@dataclass(frozen=True)
class Node:
    """One assignment ``name = expr``; ``where`` is the declaring line."""

    name: str
    symbol: sp.Symbol
    expr: sp.Expr
    where: str | None = None

    @property
    def deps(self) -> tuple[sp.Symbol, ...]:
        return tuple(sorted(self.expr.free_symbols, key=lambda s: s.name))


@dataclass
class Network:
    """A named straight-line program; see the module docstring."""

    name: str
    doc: str = ""
    kinds: dict[str, str] = field(default_factory=dict)  # name -> input | target | param | node
    symbols: dict[str, sp.Symbol] = field(default_factory=dict)
    nodes: list[Node] = field(default_factory=list)
    one_hot: list[tuple[sp.Symbol, ...]] = field(default_factory=list)
    examples: dict[str, dict[str, float]] = field(default_factory=dict)
    loss_name: str | None = None
    constant_values: dict[str, float] = field(default_factory=dict)  # λ, ε …: fixed numbers, printed by name

    def __post_init__(self):
        check_title(self.name, self.doc, caller_place())

    # ------------------------------------------------------------ leaves
    def inputs(self, names: str):
        """Declare inputs; like ``sympy.symbols``: one name gives a Symbol, several a tuple."""
        return self._declare(names, "input")

    def targets(self, names: str, *, one_hot: bool = False):
        """Declare targets; ``one_hot=True`` records that they sum to 1 (class labels)."""
        out = self._declare(names, "target")
        if one_hot:
            group = out if isinstance(out, tuple) else (out,)
            self.one_hot.append(group)
        return out

    def params(self, names: str):
        """Declare trainable parameters."""
        return self._declare(names, "param")

    def _declare(self, names: str, kind: str):
        where = caller_place()
        split = names.replace(",", " ").split()
        if not split:
            raise DeclarationError(f"no {kind} names given", where)
        syms = []
        for name in split:
            self._check_new(name, where)
            check_name(name, self.kinds, where)
            sym = sp.Symbol(name)
            self.kinds[name] = kind
            self.symbols[name] = sym
            syms.append(sym)
        return syms[0] if len(syms) == 1 else tuple(syms)

    def constant(self, name: str, value):
        """A hyperparameter (λ, ε): printed as its symbol, ``value`` wherever a number is needed."""
        import math

        where = caller_place()
        self._check_new(name, where)
        check_name(name, self.kinds, where)
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise DeclarationError(f"the value of constant '{name}' must be a number, got {value!r}", where) from None
        if not math.isfinite(number):
            raise DeclarationError(f"the value of constant '{name}' must be finite, got {value!r}", where)
        check_constant_names(name, self.constant_values, where)
        sym = sp.Symbol(name)
        self.kinds[name] = "constant"
        self.symbols[name] = sym
        self.constant_values[name] = number
        return sym

    # ------------------------------------------------------------- nodes
    def let(self, name: str, expr):
        """Assign ``name = expr``; returns the node's Symbol (or a tuple for several names)."""
        where = caller_place()
        names = name.replace(",", " ").split()
        if isinstance(expr, (list, tuple)):
            if len(names) != len(expr):
                raise DeclarationError(f"{len(names)} names for {len(expr)} values in '{name}'", where)
            return tuple(self._let(n, e, where) for n, e in zip(names, expr))
        if len(names) != 1:
            raise DeclarationError(f"'{name}' names {len(names)} nodes but one value is given", where)
        return self._let(names[0], expr, where)

    def loss(self, expr, name: str = "L"):
        """Declare the loss node (the last assignment).  Terms of the parameters alone (a penalty,
        ``lam/2*(W11**2 + …)``) are named ``R`` first, so the chain rule reads ∂L/∂R · ∂R/∂W11."""
        where = caller_place()
        if self.loss_name is not None:
            raise DeclarationError(f"the loss is already declared as '{self.loss_name}'", where)
        expr = self._squared_error_written_out(expr)
        expr = self._named_penalty(expr, name, where)
        sym = self._let(name, expr, where)
        self.loss_name = name
        return sym

    def _squared_error_written_out(self, expr):
        """``(yhat - y)**2/2`` (and ``½((ŷ1 − y1)² + (ŷ2 − y2)²)``, ``(y − ŷ)²/2``) as the squared-error loss it
        spells out, so the derivation and the module read it as the lecture's SE(ŷ, y); other terms (a penalty)
        stay as they are."""
        from ..functions import squared_error

        try:
            expr = sp.sympify(expr, strict=True)
        except (sp.SympifyError, TypeError):
            return expr  # _let reports it
        targets = {s for s in expr.free_symbols if self.kinds.get(s.name) == "target"}
        pairs, rest = {}, []

        def square(term):
            """(t, ŷ) when ``term`` is (ŷ − t)² or (t − ŷ)² for one target t, else None."""
            if not (isinstance(term, sp.Pow) and term.exp == 2):
                return None
            hit = [t for t in targets if term.base.has(t)]
            if len(hit) != 1:
                return None
            t = hit[0]
            slope = sp.diff(term.base, t)
            yhat = term.base + t if slope == -1 else t - term.base
            if slope not in (1, -1) or yhat.has(t):
                return None
            return t, yhat

        for term in sp.Add.make_args(expr):
            coeff, factors = term.as_coeff_mul()
            inner = sp.Add.make_args(factors[0]) if coeff == sp.Rational(1, 2) and len(factors) == 1 else ()
            found = [square(s) for s in inner]
            seen = [t for t, _ in filter(None, found)]
            if inner and all(found) and len(set(seen)) == len(seen) and not pairs.keys() & set(seen):
                pairs.update(found)  # ½ Σ (ŷ − t)², each target once
            else:
                rest.append(term)  # a term that is not all squares of outputs against new targets stays as written
        if not pairs or len(pairs) != len(targets):
            return expr
        ts = sorted(pairs, key=lambda s: s.name)
        return squared_error([pairs[t] for t in ts], ts) + sp.Add(*rest)

    def _named_penalty(self, expr, name: str, where):
        """``expr`` with its terms of parameters and constants alone (a penalty) as a node R, when it has
        both those and terms of the network's nodes."""
        try:
            expr = sp.sympify(expr, strict=True)
        except (sp.SympifyError, TypeError):
            return expr  # _let reports it
        if not isinstance(expr, sp.Add):
            return expr
        fixed = {"param", "constant"}
        penalty = [
            t for t in expr.args if t.free_symbols and all(self.kinds.get(s.name) in fixed for s in t.free_symbols)
        ]
        rest = [t for t in expr.args if t not in penalty]
        if not penalty or not any(self.kinds.get(s.name) == "node" for t in rest for s in t.free_symbols):
            return expr
        r = next(n for n in ("R", "R_penalty", f"R_{name}") if n not in self.kinds and n != name)
        return sp.Add(*rest) + self._let(r, sp.Add(*penalty), where)

    def _let(self, name: str, expr, where: str | None) -> sp.Symbol:
        if self.loss_name is not None:
            raise DeclarationError(f"'{name}' is declared after the loss '{self.loss_name}'", where)
        check_name(name, self.kinds, where)
        try:
            expr = sp.sympify(expr, strict=True)
        except (sp.SympifyError, TypeError) as exc:
            raise DeclarationError(f"the value of '{name}' is not a SymPy expression ({exc})", where) from None
        if not isinstance(expr, sp.Expr) or getattr(expr, "is_Matrix", False) or getattr(expr, "shape", ()) != ():
            raise DeclarationError(
                f"the value of '{name}' is not a scalar expression ({type(expr).__name__}; matrices are declared "
                "with VecNetwork)",
                where,
            )
        check_finite(expr, name, where)
        expr = exact_constants(expr)
        expr = lecture_functions(expr)
        if name in self.kinds:
            raise DeclarationError(f"'{name}' is defined twice (already a {self.kinds[name]})", where)
        expr = self._name_parts(name, expr, where)
        if name in self.kinds:
            raise DeclarationError(f"'{name}' is defined twice (already a {self.kinds[name]})", where)
        for sym in sorted(expr.free_symbols, key=lambda s: s.name):
            if sym.name == name:
                raise DeclarationError(f"cycle: '{name}' depends on itself", where)
            if sym.name not in self.kinds:
                raise DeclarationError(f"undeclared symbol '{sym.name}' in '{name}'", where)
            if self.symbols[sym.name] != sym:
                raise DeclarationError(
                    f"symbol '{sym.name}' in '{name}' has assumptions that differ from its declaration", where
                )
        for sub in sp.preorder_traversal(expr):
            if isinstance(sub, Application) and not (type(sub) in RULES or sub.func in BUILTIN_ALLOWED):
                fname = getattr(sub.func, "__name__", str(sub.func))
                hint = " (write relu(z) for Max(0, z))" if fname == "Max" else ""
                raise DeclarationError(f"unsupported function '{fname}' in '{name}'{hint}", where)
            if isinstance(sub, (sp.Derivative, sp.Integral, sp.Piecewise, sp.Sum)) or sub.is_Relational:
                raise DeclarationError(f"unsupported construct '{type(sub).__name__}' in '{name}'", where)
            rec = RULES.get(type(sub))
            if rec is not None and rec.kind == "loss" and rec.task == "multiclass" and rec.form == "pairs":
                k = len(sub.args) // 2
                targets = tuple(sub.args[k:])
                all_targets = all(
                    getattr(t, "name", None) in self.kinds and self.kinds[t.name] == "target" for t in targets
                )
                if all_targets and targets not in self.one_hot and len(targets) > 1:
                    self.one_hot.append(targets)
        sym = sp.Symbol(name)
        self.kinds[name] = "node"
        self.symbols[name] = sym
        self.nodes.append(Node(name, sym, expr, where))
        return sym

    def _name_parts(self, name: str, expr, where):
        """``expr`` with what a lecture names named first: an activation's argument that is not a name (its
        pre-activation: a1 → z1, ŷ → z, else z_<name>; softmax's k-th logit zk), an activation inside a larger
        expression (a hidden unit h, with z_h), and a loss's output (ŷ, or ŷ1 … ŷK).  One expression gets one
        name, however often it occurs (a node that already computes it is read).  A part the program holds in a
        variable of its own (``h1 = tanh(w1*x1 + b1)``) takes that variable's name."""
        from ..ops import find

        held = self._held(expr, name)

        def fresh(base: str) -> str:
            k, out = 2, base
            while out in self.kinds or out == name:
                out, k = f"{base}_{k}", k + 1
            return out

        def own_name(e, base: str) -> str:
            """The program's name for ``e`` while it is free, else ``base``."""
            user = held.get(e)
            return user if user is not None and user not in self.kinds else base

        def named(base: str, e):
            """``e`` as a node: the one that computes it already, else a new one called ``base``."""
            if e.is_Symbol or e.is_number:
                return e
            found = next((n.symbol for n in self.nodes if n.expr == e), None)
            return found if found is not None else self._let(fresh(base), e, where)

        def visit(e, top: bool, out_name: str):
            rec = find(type(e)) if isinstance(e, sp.Function) else None
            if rec is not None and rec.kind == "loss":
                k = len(e.args) // 2 if rec.form == "pairs" else 1
                bases = [own_name(a, "yhat" if k == 1 else f"yhat{i}") for i, a in enumerate(e.args[:k], start=1)]
                outs = [named(b, visit(a, True, b)) for a, b in zip(e.args[:k], bases, strict=True)]
                return e.func(*outs, *e.args[k:])
            if rec is not None and rec.form == "component":  # softmax_k(z1, …, zK): its logits z1 … zK
                index, *zs = e.args
                logits = [own_name(z, f"z{i}") for i, z in enumerate(zs, 1)]
                return e.func(index, *(named(b, visit(z, False, b)) for z, b in zip(zs, logits, strict=True)))
            if rec is not None and rec.kind == "activation" and len(e.args) == 1 and rec.partial_rule is None:
                (arg,) = e.args
                own = out_name if top else own_name(e, None) or fresh("h")  # a hidden unit inside: h, h_2 …
                arg = named(own_name(arg, pre_activation_name(own).lower()), visit(arg, False, own))
                applied = e.func(arg)
                return applied if top else named(own, applied)
            if e.args and not e.is_Atom:
                return e.func(*(visit(a, False, out_name) for a in e.args))
            return e

        return visit(expr, True, name)

    def _held(self, expr, name: str) -> dict:
        """{part of ``expr``: the name of the program's variable that holds it} (variables whose name is free)."""
        frame = caller_frame()
        if frame is None:
            return {}
        parts = set(sp.preorder_traversal(expr))
        out: dict = {}
        for var, value in frame.f_locals.items():
            if not isinstance(value, sp.Expr) or value.is_Atom or var == name or var.startswith("_"):
                continue
            if why_not(var) is not None or var in self.kinds:
                continue
            value = lecture_functions(exact_constants(value))
            if value in parts:
                out.setdefault(value, var)
        return out

    def _check_new(self, name: str, where: str | None) -> None:
        if name in self.kinds:
            raise DeclarationError(f"'{name}' is defined twice (already a {self.kinds[name]})", where)

    # ----------------------------------------------------------- queries
    def names(self, kind: str) -> list[str]:
        return [n for n, k in self.kinds.items() if k == kind]

    @property
    def leaves(self) -> list[str]:
        return [n for n, k in self.kinds.items() if k in LEAF_KINDS]

    @property
    def constant_symbols(self) -> dict[sp.Symbol, float]:
        """Each constant's symbol and its value (what a number stands in for it)."""
        return {self.symbols[n]: v for n, v in self.constant_values.items()}

    def node(self, name: str) -> Node:
        for node in self.nodes:
            if node.name == name:
                return node
        raise KeyError(name)

    def check(self) -> None:
        """Raise if the declaration is incomplete."""
        if not self.nodes:
            raise DeclarationError(f"network '{self.name}' has no assignments")
        if self.loss_name is None:
            raise DeclarationError(f"network '{self.name}' declares no loss (call net.loss(...))")

    def derive(self):
        """The chain-rule derivation of every gradient (see ``derive.unit.chain.Derivation``)."""
        from .chain import Derivation

        return Derivation(self)

    def __carry__(self):
        """What a spec's process sends back for this network (``derive.spec.transport``): with its other
        convention, if it has one, built here, since the function that builds it cannot be carried."""
        from ..convention import with_others_built

        return with_others_built(self)

    def __repr__(self) -> str:
        return f"Network({self.name!r}: {len(self.leaves)} leaves, {len(self.nodes)} nodes)"

    def _repr_latex_(self) -> str:
        """The assignments, for Jupyter."""
        from ..printing.latex import network_latex

        return network_latex(self)


def exact_constants(expr: sp.Expr) -> sp.Expr:
    """Floats written in a declaration (``0.5*(q - y)**2``, ``-10.0/f``) as the exact numbers they
    stand for (1/2, −10), so that no derivation prints ``0.500000000000000`` or ``1.0·q``.
    A float with more than 12 significant digits stays a float."""
    floats = {f for f in expr.atoms(sp.Float)}
    exact = {}
    for f in floats:
        text = repr(float(f))
        digits = text.split("e")[0].replace("-", "").replace(".", "").strip("0")
        if "inf" not in text and "nan" not in text and len(digits) <= 12:
            exact[f] = sp.Rational(text)
    return expr.xreplace(exact) if exact else expr
