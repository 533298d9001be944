r"""The network a vectorised claim is checked against: a ``VecNetwork`` with its derivation, every
name a claim may use (``resolve``: ``a^{[1]}`` → ``A1``, ``\hat{Y}``, ``δ^{[L]}``), and their true
values at random shapes and values."""

from __future__ import annotations

import re

import numpy as np
import sympy as sp

from ..names import did_you_mean
from ..printing.matrix import GREEK
from .claims import RATES, ClaimError

RATE = 0.125  # the learning rate of update claims, exact in binary


class VecTarget:
    """A ``VecNetwork`` with its derivation: every name a claim may use, and their true values."""

    def __init__(self, net):
        self.net = net
        self.name = net.name
        self.d = net.derive()
        self.shown = {eq.target: eq.text for eq in net.derive(fuse=True).equations}
        self.equations = {eq.target: eq for eq in self.d.equations}
        self.activation = {eq.operands[0]: eq.function for eq in self.d.forward if eq.kind == "activation"}
        (self.y,) = net.names("target")
        self.params = tuple(net.names("param"))
        self.scalars = {eq.target for eq in self.d.forward if eq.kind == "loss"}
        self.data = tuple(net.names("input")) + (self.y, "m")
        self.staged = _staged_equations(self.d)
        for step in self.staged:
            self.equations.update({e.target: e for e in step if e.target not in self.equations})
        self.staged += _hessian_equations(self.d)  # H_w_w … (and H, the first parameter's block) where H derives
        for e in self.staged[-1] if self.staged and self.staged[-1] and self.staged[-1][0].target == "H" else []:
            self.equations.setdefault(e.target, e)
            self.shown.setdefault(e.target, e.text)
        self._at: dict = {}

    def at(self, seed: int) -> tuple[dict, dict]:
        """``values`` at the random shapes and values of ``seed``, made once (every trial and every repair of
        every claim reads the same ones; nothing writes to them)."""
        if seed not in self._at:
            self._at[seed] = self.values(np.random.default_rng(seed))
        return self._at[seed]

    def names(self) -> tuple[str, ...]:
        derived = tuple(t for t in self.equations if t not in self.net.kinds)
        sizes = tuple(s.name for s in self._sizes())  # a width used as a number: attention's 1/√d
        return (*self.net.kinds, *derived, "m", *sizes, *sorted(set(RATES.values())))

    def _sizes(self) -> list:
        """The dimensions a claim may use as numbers: those the derivation's equations use as numbers (d of 1/√d)."""
        used = set()
        for eq in self.d.equations:
            for node in sp.preorder_traversal(eq.expr):
                if isinstance(node, sp.MatMul):
                    used |= sp.sympify(node.as_coeff_matrices()[0]).free_symbols
        return sorted((s for s in self.net.dim_sizes if s in used and s.name not in self.net.kinds), key=str)

    def knows(self, name: str) -> bool:
        try:
            resolve(self, name)
        except ClaimError:
            return False
        return True

    def truth_text(self, name: str) -> str:
        if name.endswith("←"):
            p = name[:-1]
            return f"{p} ← {p} − α d{p}"
        return self.shown.get(name) or self.equations[name].text

    def dims(self, rng: np.random.Generator) -> dict:
        """Random widths: the output's as declared; the others and m pairwise distinct, from 2 up."""
        from ..ir.network import M

        out_rows = sp.sympify(self.net.matrices[self.y].shape[0])
        held = out_rows.free_symbols & set(self.net.dim_sizes)  # the output's rows (K + 1: each of its sizes)
        free = [d for d in self.net.dim_sizes if d not in held]
        sizes = rng.permutation(np.arange(2, max(10, len(free) + 3)))[: len(free) + 1]
        dims = {d: int(s) for d, s in zip(free, sizes)}
        dims.update({d: self.net.dim_sizes[d] for d in held})
        dims[M] = int(sizes[-1])
        return dims

    def values(self, rng: np.random.Generator, equations=None) -> tuple[dict, dict]:
        """(every name's true value, the dims) at random shapes and values; ``equations`` in place of the
        derivation's (one of them edited: the truth as a slip would have it)."""
        from ..ir.network import M
        from ..ir.numeric import run

        dims = self.dims(rng)
        constants = getattr(self.net, "constant_values", {})
        dims.update({self.net.constants[n]: v for n, v in constants.items()})  # hyperparameters, as declared

        def shape(name):
            return tuple(int(sp.sympify(x).subs(dims)) for x in self.net.matrices[name].shape)

        env = {}
        for name in self.params + tuple(self.net.names("input")):
            if name in self.net.index_inputs:  # word indices: 1 … |V| − 1 (no padding)
                vocab = int(sp.sympify(self.net.index_inputs[name]).subs(dims))
                env[name] = rng.integers(1, vocab, shape(name))
                continue
            env[name] = rng.normal(0.0, 0.7, shape(name))
        for name, keep in self.net.masks.items():  # a dropout mask of one training step
            p = float(sp.sympify(keep).subs(dims))
            env[name] = (rng.random(shape(name)) < p).astype(float)
        rows, cols = shape(self.y)
        if self.net.target_kind == "one-hot":
            env[self.y] = np.eye(rows)[:, rng.integers(0, rows, cols)]
        elif self.net.target_kind == "real":
            env[self.y] = rng.normal(0.0, 1.0, (rows, cols))
        else:
            env[self.y] = rng.integers(0, 2, (rows, cols)).astype(float)
        with np.errstate(all="ignore"):
            values = run(self.d.equations if equations is None else equations, env, dims)
            for step in self.staged:  # the stages a named rewrite replaced (dσ², dμ of batch norm): claimable too
                values.update(run(step, values, dims))
        values["m"] = float(dims[M])
        values.update({s.name: float(dims[s]) for s in self._sizes()})
        values.update(constants)
        self.add_updates(values)
        return values, dims

    def add_updates(self, values: dict) -> None:
        """The learning rate's names (α, η, lr) and each parameter's gradient-descent update p ← p − α dp."""
        for rate in set(RATES.values()):
            values[rate] = RATE
        for p in self.params:
            values[f"{p}←"] = values[p] - RATE * values[f"d{p}"]


def _staged_equations(d) -> list[list]:
    """The staged equations each named rewrite replaced (all but its result), as evaluable equations."""
    from ..ir.equation import Equation
    from ..ir.rewrites import NamedRewrite
    from ..printing.matrix import matrix_text

    out = []
    for step in d.steps:
        if isinstance(step, NamedRewrite):
            out.append(
                [
                    Equation(0, t, "adjoint", (), None, tuple(e.shape), e, f"{t} = {matrix_text(e)}", None)
                    for t, e in step.staged[:-1]
                ]
            )
    return out


def _hessian_equations(d) -> list[list]:
    """The Hessian's blocks as evaluable equations, ``H`` first (the first parameter's own block: CS229's
    (1/m) X diag(σ(1 − σ)) Xᵀ, the weights' block), then ``H_<P>_<Q>``; none where no Hessian derives."""
    from ..errors import ChainruleError
    from ..ir.equation import Equation
    from ..ir.hessian import hessian

    try:
        h = hessian(d)
    except ChainruleError:
        return []
    first = h.params[0]
    blocks = [("H", h.blocks[(first, first)])] + [(b.name, b) for b in h.blocks.values()]
    return [
        [
            Equation(0, t, "hessian", (), None, tuple(b.expr.shape), b.expr, f"{t} = {b.text.split(' = ', 1)[1]}")
            for t, b in blocks
        ]
    ]


def output_layer(net: VecTarget) -> str:
    """The number of the output layer (``A2`` → ``2``), for ``a^{[L]}`` and ``δ^L``."""
    return "".join(ch for ch in net.net.cost_operands[0] if ch.isdigit())


def resolve(net: VecTarget, name: str, where=None) -> str:
    known = net.names()
    if name in known:
        return name
    if name.lower() == "yhat":  # \hat{Y}: the output layer's activations
        return net.net.cost_operands[0]
    layer = re.match(r"^([A-Za-z]+)\[(\d+|L)\]$", name)  # a^{[1]} → A1 or a1, as the network declares it
    if layer:
        base, k = layer.groups()
        k = output_layer(net) if k == "L" else k
        name = ("dZ" if base == "delta" else base) + k  # Ng's δ^{[l]} is dZ^{[l]}
        if name in known:
            return name
    if name == "delta":
        name = "dZ" + output_layer(net)
    spelled = [
        k for k in known if GREEK.get(k) and GREEK.get(k) == GREEK.get(name, name)
    ]  # ε, eps, epsilon  # λ as chainrule derive prints the constant lam
    if len(spelled) == 1:
        return spelled[0]
    same = [k for k in known if k.lower() == name.lower()] or [
        k
        for k in known
        if "_" in k and k.replace("_", "").lower() == name.lower()  # keep\_prob read as keepprob
    ]
    if len(same) == 1:
        return same[0]
    shown = ", ".join(known)
    raise ClaimError(
        f"unknown name '{name}' (vectorised network '{net.name}' has: {shown}){did_you_mean(name, known)}", where
    )
