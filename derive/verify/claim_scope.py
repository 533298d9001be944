"""Names and functions of a per-unit network, for turning a claim tree into SymPy.

``ScalarScope.to_sympy`` maps a claim's names onto the network's (exactly, by
a lecture alias such as ``a^{[2]}`` → the output node, or by a unique
case-insensitive match: the lecture's ``W1`` is the network's ``w1``), its
functions onto the rule classes (``g'(z1)`` → the derivative of the activation
applied to ``z1``), ``w·x`` onto Σᵢ wᵢxᵢ, ``dW11`` and ``∂a1/∂z1`` onto
derivatives.
"""

from __future__ import annotations

import re

import sympy as sp

from ..functions import RULES
from ..names import did_you_mean
from ..ops import find, records
from ..printing.text import GREEK, text
from . import claims as C
from .claims import ClaimError

LAYER_NAME = re.compile(r"^([A-Za-z]+)\[(\d+|L)\]$")
LAYER_ENTRY = re.compile(r"^([A-Za-z]+)\[(\d+|L)\]_([0-9,]+)$")
INDEXED = re.compile(r"^([A-Za-z]+(?:\[(?:\d+|L)\])?)_([ijk0-9,]*[ijk][ijk0-9,]*)$")
LOSS_NAMES = ("C", "J", "L", "E")
EXAMPLES = sp.Symbol("m", positive=True)  # the batch size m: a per-unit network sees one example
MAX_INDEX_TERMS = 1000  # Σ_{i=1}^{N} over a per-unit network: it has far fewer units than this

# name -> class of every function a claim may apply to one argument (sigmoid, tanh, relu, step, softplus …)
ACTIVATIONS = {
    r.name: r.cls
    for r in records()
    if r.kind != "loss" and r.elementwise and r.partial_rule is None and "'" not in r.name
}


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
        self._partials: dict[tuple[str, str], sp.Expr] = {}  # a chain's ∂u1/∂h1 comes back on every path

    @classmethod
    def of(cls, derivation) -> ScalarScope:
        """The scope of ``derivation``, made once (a derivation does not change; a claim sheet reuses it).
        A copy of a derivation (``copy.copy``, given its layers' ``entries``) gets a scope of its own."""
        scope = derivation.__dict__.get("_claim_scope")
        if scope is None or scope.d is not derivation:
            scope = derivation.__dict__["_claim_scope"] = cls(derivation)
        return scope

    def _output_node(self) -> str | None:
        """The output (ŷ): the loss's first argument, or the node it is made of (L = c·e: e)."""
        loss = self.net.node(self.net.loss_name).expr
        first = loss.args[0] if loss.args else None
        if isinstance(first, sp.Symbol) and self.kinds.get(first.name) == "node":
            return first.name
        nodes = [a.name for a in loss.args if isinstance(a, sp.Symbol) and self.kinds.get(a.name) == "node"]
        if len(nodes) == 1:
            return nodes[0]
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
        layer = max(depth[self.output], 1)
        out[f"a{layer}"] = self.output
        out["a"] = self.output
        expr = self.net.node(self.output).expr
        if isinstance(expr, sp.Function) and len(expr.args) == 1 and isinstance(expr.args[0], sp.Symbol):
            out[f"z{layer}"] = expr.args[0].name
        return out

    def knows(self, name: str) -> bool:
        try:
            self.resolve(name, hint=False)
        except ClaimError:
            return False
        return True

    def output_layer(self) -> str | None:
        keys = [k[1:] for k in self.layers if k.startswith("a") and k[1:].isdigit()]
        return keys[0] if keys else None

    def entry(self, base: str, layer: str, sub: str) -> str | None:
        """``W[1]_12`` (entry 1, 2 of layer 1's W) as a network name: ``W1_1_2`` in a network written out
        unit by unit, ``a[2]_1`` → the output ``yhat`` (or ``yhat1``), else ``W12`` as printed per unit."""
        if layer == "L":
            layer = self.output_layer() or layer
        parts = sub.split(",") if "," in sub else (list(sub) if len(sub) == 2 else [sub])
        entries = getattr(self.d, "entries", None) or {}
        if (base, layer, *parts) in entries:  # a per-unit network read as layers: W^{[1]}_{1,2} is w2
            return entries[(base, layer, *parts)]
        candidates = [f"{base}{layer}_{'_'.join(parts)}", f"{base.upper()}{layer}_{'_'.join(parts)}"]
        if base.lower() == "a" and layer == self.output_layer() and len(parts) == 1:
            outputs = [n for n in self.kinds if re.fullmatch(r"yhat\d*", n)]
            candidates += [f"yhat{parts[0]}"] + (["yhat"] if parts[0] == "1" and outputs == ["yhat"] else [])
        candidates.append(base + "".join(parts))
        for c in candidates:
            if c in self.kinds:
                return c
            same = self.lower.get(c.lower(), [])
            if len(same) == 1:
                return same[0]
        return None

    def gradient_name(self, name: str) -> str | None:
        """The variable of a gradient name: ``dW11`` → W11; ``δ^{[2]}`` (``delta[2]``), ``δ_j`` → the
        pre-activation z of that layer or unit (Nielsen's error δ = ∂L/∂z); else None."""
        if name.startswith("delta(") and name.endswith(")"):
            inner = name[len("delta(") : -1]
            return self.resolve(inner) if self.knows(inner) else None
        if name.startswith("delta"):
            rest = name[len("delta") :]
            for z in ("z" + rest, "Z" + rest):
                if self.knows(z):
                    return self.resolve(z)
            if rest in ("", "[L]") and self.output is not None:
                expr = self.net.node(self.output).expr
                if isinstance(expr, sp.Function) and len(expr.args) == 1 and isinstance(expr.args[0], sp.Symbol):
                    return expr.args[0].name
            return None
        if name.startswith("d") and len(name) > 1 and self.knows(name[1:]):
            return self.resolve(name[1:])
        return None

    def is_node_name(self, name: str) -> bool:
        return self.knows(name)

    def knows_claim_name(self, name: str) -> bool:
        """Whether a claim may use ``name``: a network name, or a gradient written ``dW11``/``δ^{[2]}``."""
        return self.knows(name) or (self.gradient_name(name) is not None)

    def resolve(self, name: str, where=None, *, hint: bool = True) -> str:
        """A claim's name as a network name: exact, a lecture alias, or a unique case-insensitive match.
        ``hint=False`` (``knows``: the message is never shown) spares the did-you-mean search."""
        if name in self.kinds:
            return name
        if name in C.RATES:
            return C.RATES[name]
        if name in LOSS_NAMES and self.net.loss_name is not None:
            return self.net.loss_name
        entry = LAYER_ENTRY.match(name)
        if entry:
            found = self.entry(*entry.groups())
            if found is not None:
                return found
            raise ClaimError(
                f"unknown name '{name}'{did_you_mean(name, self.kinds) if hint else ''} (network '{self.net.name}' has: "
                f"{', '.join(self.kinds)})",
                where,
            )
        layer = LAYER_NAME.match(name)
        if layer:
            base, k = layer.groups()
            if k == "L":
                k = self.output_layer() or k
            for key in (f"{base}{k}", f"{base.lower()}{k}"):
                if key in self.layers:
                    return self.layers[key]
            raise ClaimError(
                f"'{base}^{{[{k}]}}' names a layer; network '{self.net.name}' names single units "
                f"({', '.join(n for n in self.kinds if n.lower().startswith(base.lower()))}): write {base}_1, {base}_2 …",
                where,
            )
        if "_" in name and INDEXED.match(name):
            raise ClaimError(f"free index in '{name}': say which gradient (∂L/∂{name}) so it can be expanded", where)
        if name in self.layers and self.layers[name] in self.kinds:
            return self.layers[name]
        same = self.lower.get(name.lower(), [])
        if len(same) == 1:
            return same[0]
        spelled = [k for k in self.kinds if GREEK.get(k) and GREEK.get(k) == GREEK.get(name, name)]  # λ, lambd, lam
        if len(spelled) == 1:
            return spelled[0]
        shown = ", ".join(self.kinds)
        suggestion = did_you_mean(name, self.kinds) if hint else ""
        raise ClaimError(f"unknown name '{name}'{suggestion} (network '{self.net.name}' has: {shown})", where)

    def symbol(self, name: str, where=None):
        if name == "e" and "e" not in self.kinds:
            return sp.E
        if name == "m" and "m" not in self.kinds:  # only (1/m) Σ_examples, the mean over a batch, cancels it
            return EXAMPLES
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
            if not self.knows(name):
                wrt = self.gradient_name(name)
                if wrt is not None:  # dW11, δ^{[2]}: ∂L/∂W11, ∂L/∂z^{[2]}, as the lectures write them
                    return self.d.gradient(wrt)
            return self.symbol(name, where)
        if kind == "kron":
            if not (tree[1].isdigit() and tree[2].isdigit()):
                raise ClaimError(f"free index in the Kronecker delta δ_{tree[1]}{tree[2]}", where)
            return sp.S.One if tree[1] == tree[2] else sp.S.Zero
        if kind == "isum":
            return self.index_sum(tree, where)
        if kind == "dop":
            wrt = self.symbol(tree[1], where)
            return sp.diff(self.to_sympy(tree[2], where), wrt)
        if kind == "neg":
            return -self.to_sympy(tree[1], where)
        if kind == "T":
            return self.to_sympy(tree[1], where)  # a scalar is its own transpose
        if kind == "sum":
            if tree[2] == 1:  # Σ over the m examples of a network that sees one: m times its value
                return EXAMPLES * self.to_sympy(tree[1], where)
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
        leibniz = self.leibniz(tree) if kind == "div" else None
        if leibniz is not None:  # dL/dyhat written in text: the derivative, as in a chain of steps
            return self.partial(*leibniz, where)
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

    def leibniz(self, tree) -> tuple[str, str] | None:
        """(of, wrt) when ``tree`` is ``dX/dY`` for two network names X and Y (neither dX nor dY a name itself)."""
        top, bottom = tree[1], tree[2]
        if top[0] != "name" or bottom[0] != "name":
            return None
        a, b = top[1], bottom[1]
        if not (a.startswith("d") and b.startswith("d")) or self.knows(a) or self.knows(b):
            return None
        return (a[1:], b[1:]) if self.knows(a[1:]) and self.knows(b[1:]) else None

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

    def index_sum(self, tree, where=None) -> sp.Expr:
        """``Σ_k y_k log ŷ_k``: the body for every value of k whose names the network has (or k = lo..hi)."""
        _, letter, low, high, body = tree
        if high is not None and high - (low or 1) + 1 > MAX_INDEX_TERMS:
            count = high - (low or 1) + 1
            raise ClaimError(f"the sum over {letter} has {count} terms (at most {MAX_INDEX_TERMS})", where)
        terms = []
        for value in range(low or 1, (high or 99) + 1):
            term = substitute_index(body, letter, value)
            names = [n for n in C.names_in(term) if n not in ("e", "m") and not index_letters(("name", n))]
            if high is None and not all(self.knows_claim_name(n) for n in names):
                break
            terms.append(self.to_sympy(term, where))
        if not terms:
            raise ClaimError(f"the sum over {letter} matches no names of network '{self.net.name}'", where)
        return sp.Add(*terms)

    def call(self, fname: str, args, where=None) -> sp.Expr:
        if fname == "max":
            if len(args) != 2:
                raise ClaimError("max(…) takes two arguments", where)
            return sp.Max(*args)
        component = next((r for r in records() if r.form == "component" and r.name == fname), None)
        if component is not None and len(args) > 1 and args[0].is_Integer:
            if not 1 <= int(args[0]) <= len(args) - 1:
                raise ClaimError(f"{fname} component {args[0]} of {len(args) - 1}", where)
            return component.cls(*args)
        if fname == "loss":
            loss = self.net.node(self.net.loss_name).expr
            try:
                return type(loss)(*args)
            except (TypeError, ValueError):
                raise ClaimError(f"the loss takes {len(loss.args)} arguments, {len(args)} given", where) from None
        if len(args) != 1:
            raise ClaimError(f"{fname}(…) takes one argument", where)
        (u,) = args
        derivative = fname.endswith("'")
        base = fname.rstrip("'")
        if base == "exp":
            return sp.exp(u)
        if base == "sqrt":
            return sp.sqrt(u) if not derivative else 1 / (2 * sp.sqrt(u))
        if base == "sign":
            return sp.sign(u) if not derivative else sp.S.Zero
        if base == "log":
            return sp.log(u) if not derivative else 1 / u
        if getattr(find(base), "form", None) == "component":
            raise ClaimError(
                f"{base}(…) is vector-valued: in a per-unit network write its outputs (yhat1, yhat2 …)", where
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
        if (of, wrt) not in self._partials:
            self._partials[of, wrt] = self._partial(of, wrt, where)
        return self._partials[of, wrt]

    def _partial(self, of: str, wrt: str, where) -> sp.Expr:
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


def node_form(d, expr: sp.Expr) -> sp.Expr:
    """``expr`` with node definitions folded back into node names (σ(z1) → a1), in program order."""
    for node in d.net.nodes:
        if not node.expr.is_Atom:
            expr = expr.xreplace({node.expr: node.symbol})
    return expr


# ------------------------------------------------------------ free indices
def index_letters(tree) -> set[str]:
    """Free index letters (``x_j``, ``δ_ij``) in a claim tree; the index of a ``Σ_k`` is bound."""
    if tree is None or isinstance(tree, sp.Basic):
        return set()
    if tree[0] == "partial":
        return {ch for n in tree[1:] if (m := INDEXED.match(n)) for ch in m.group(2) if ch.isalpha()}
    if tree[0] == "name":
        m = INDEXED.match(tree[1])
        return {ch for ch in m.group(2) if ch.isalpha()} if m else set()
    if tree[0] == "kron":
        return {ch for ch in tree[1:] if ch.isalpha()}
    if tree[0] == "isum":
        return index_letters(tree[4]) - {tree[1]}
    if tree[0] == "dop":
        return index_letters(("name", tree[1])) | index_letters(tree[2])
    out: set[str] = set()
    for child in C.children(tree):
        out |= index_letters(child)
    return out


def free_names(tree) -> set[str]:
    """The names of a claim tree outside any ``Σ_k`` (whose names depend on k)."""
    if tree is None or isinstance(tree, sp.Basic):
        return set()
    if tree[0] == "partial":
        return set(tree[1:])
    if tree[0] in ("name", "dop"):
        return {tree[1]} | (free_names(tree[2]) if tree[0] == "dop" else set())
    if tree[0] == "isum":
        return set()
    out: set[str] = set()
    for child in C.children(tree):
        out |= free_names(child)
    return out


def substitute_index(tree, letter: str, value: int):
    """``x_j`` → ``x3`` throughout a claim tree."""
    if tree is None:
        return None

    def name(n: str) -> str:
        m = INDEXED.match(n)
        if not m:
            return n
        index = m.group(2).replace(letter, str(value))
        glued = index.isdigit() and "[" not in m.group(1) and not m.group(1).startswith("delta")
        return f"{m.group(1)}{index}" if glued else f"{m.group(1)}_{index}"

    kind = tree[0]
    if kind == "name":
        return ("name", name(tree[1]))
    if kind == "partial":
        return ("partial", name(tree[1]), name(tree[2]))
    if kind == "num":
        return tree
    if kind == "kron":
        return ("kron", *(str(value) if ch == letter else ch for ch in tree[1:]))
    if kind == "isum":
        if tree[1] == letter:
            return tree
        return ("isum", *tree[1:4], substitute_index(tree[4], letter, value))
    if kind == "dop":
        return ("dop", name(tree[1]), substitute_index(tree[2], letter, value))
    if kind == "call":
        return ("call", tree[1], tuple(substitute_index(a, letter, value) for a in tree[2]))
    return (kind, *(substitute_index(x, letter, value) if isinstance(x, tuple) else x for x in tree[1:]))
