"""Pearlmutter's R-operator on a layer-level derivation: Hessian-vector products, forward over reverse.

Pearlmutter, "Fast exact multiplication by the Hessian" (Neural Computation 6, 1994): for a
direction V (one matrix ``V_P`` per parameter P, shaped like P), the operator
``R{f} = d/dr f(θ + r V) at r = 0`` is the directional derivative.  Applied to the
forward equations it is forward mode (``R{W} = V_W``, ``R{X} = 0``); applied to the
backward equations, whose values are ∂J/∂·, it gives ``R{dP} = H V`` restricted to P:
the product of the Hessian with V, in one forward and one backward sweep more, without
ever forming H.

Every line is the directional derivative of one equation of the derivation, taken by the
op table's Jacobian-vector rules (``derive.ops.push_forward``): the product rule on
``A B`` and ``A ⊙ B``, ``R{g(Z)} = g'(Z) ⊙ R{Z}``, ``R{Qᵀ} = R{Q}ᵀ``.  A quantity whose
value does not depend on the parameters (the inputs, the targets, a dropout mask) has
``R = 0`` and no line.  Names: ``R<name>`` for R{name} (``RZ1``, ``RdW2``), ``V<param>``
for the direction (``VW1``).  The scale convention is the derivation's: ``R{dQ}`` is
``m R{∂J/∂Q}`` wherever ``dQ`` is ``m ∂J/∂Q``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sympy as sp

from ..errors import ChainruleError
from ..ops import PullContext
from ..ops.base import push_forward
from ..printing.matrix import matrix_text, pull_scalars
from .backprop import names_in
from .equation import Equation

DIRECTION, TANGENT = "V", "R"  # V<param>: the direction; R<name>: R{name}

PRODUCT_RULE = (
    "R{·} of each operation: R{A + B} = R{A} + R{B}, R{A B} = R{A} B + A R{B}, R{A ⊙ B} = R{A} ⊙ B + A ⊙ R{B}"
)


def direction_name(param: str) -> str:
    return f"{DIRECTION}{param}"


def tangent_name(name: str) -> str:
    return f"{TANGENT}{name}"


@dataclass(frozen=True)
class Directional:
    """One step: ``target = R{of}``, the directional derivative of equation ``of = definition``."""

    target: str
    of: str
    definition: sp.Basic
    expr: sp.Basic

    def __str__(self) -> str:
        return f"R-operator: {self.target} = R{{{self.of}}} of {self.of} = {matrix_text(self.definition)}: {matrix_text(self.expr)}"


@dataclass
class ROpDerivation:
    """The R-operator's equations for a ``VecDerivation``: ``forward`` (R{Z}, R{A}, …) and ``backward``
    (R{dZ}, …, R{dW}); ``hvp[P]`` names the equation that is the Hessian-vector product's part for P."""

    derivation: object
    forward: list[Equation] = field(default_factory=list)
    backward: list[Equation] = field(default_factory=list)
    steps: list[Directional] = field(default_factory=list)
    directions: dict[str, sp.MatrixSymbol] = field(default_factory=dict)
    hvp: dict[str, str] = field(default_factory=dict)  # parameter -> the name of R{dP} (None: H V is 0 there)

    def __post_init__(self):
        d = self.derivation
        net = d.network
        if net.recurrence is not None:
            raise ChainruleError("the R-operator is derived for layer programs without a recurrence", net.name)
        names = set(net.kinds) | {e.target for e in d.equations}
        params = [p for p, _ in net.params()]
        self.directions = {p: sp.MatrixSymbol(direction_name(p), *net.matrices[p].shape) for p in params}
        taken = sorted(n for n in names if n.startswith((DIRECTION, TANGENT)) and _strip(n) in names)
        if taken:
            raise ChainruleError(
                f"the name '{taken[0]}' is also the R-operator's name for the direction or tangent of"
                f" '{_strip(taken[0])}'; rename one to derive Hessian-vector products",
                f"network '{net.name}'",
            )
        ctx = PullContext({a.value: net.matrices[a.name] for a in net.assignments if a.kind == "activation"})
        moving: dict[str, sp.MatrixSymbol] = dict(self.directions)
        number = len(d.equations)

        def tangent(symbol):
            return moving.get(symbol.name)

        for eq, into in [(e, self.forward) for e in d.forward if e.kind not in ("loss", "cost")] + [
            (e, self.backward) for e in d.backward
        ]:
            value = push_forward(eq.expr, tangent, ctx)
            if value is None:
                continue  # does not depend on the parameters: R = 0
            value = pull_scalars(value)
            name = tangent_name(eq.target)
            number += 1
            into.append(
                Equation(
                    number,
                    name,
                    "tangent",
                    names_in(value),
                    eq.function,
                    tuple(eq.shape),
                    value,
                    f"{name} = {matrix_text(value)}",
                    eq.layer,
                )
            )
            moving[eq.target] = sp.MatrixSymbol(name, *eq.shape)
            self.steps.append(Directional(name, eq.target, eq.expr, value))
        for p in params:
            grad = f"d{p}"
            self.hvp[p] = tangent_name(grad) if grad in moving else None

    @property
    def equations(self) -> list[Equation]:
        return self.forward + self.backward

    def text(self) -> str:
        """The R-operator's equations with their shapes, one per line."""
        from .lower import shape_text

        lines = [f"# {self.derivation.network.name}: Hessian-vector products H V by the R-operator"]
        lines.append(f"  {PRODUCT_RULE}")
        lines.append(
            "  direction: " + ", ".join(f"{v.name} (like {p})" for p, v in self.directions.items()) + "; R{input} = 0"
        )
        for title, eqs in (("forward", self.forward), ("backward", self.backward)):
            lines.append(f"{title}:")
            width = max((len(e.text) for e in eqs), default=0)
            for e in eqs:
                lines.append(f"  {f'({e.number})':>4} {e.text:<{width}}   {shape_text(e.shape)}")
        lines.append("H V: " + ", ".join(f"{p}: {r or '0'}" for p, r in self.hvp.items()))
        return "\n".join(lines) + "\n"


def _strip(name: str) -> str:
    return name[1:]


def r_operator(derivation) -> ROpDerivation:
    """The R-operator's equations (Hessian-vector products) for a ``VecDerivation``."""
    return ROpDerivation(derivation)
