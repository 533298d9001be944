"""The op table's record and registry: one ``Op`` stanza per primitive of the matrix program.

Like autograd's ``defvjp`` table and jax's per-primitive stanzas, everything
chainrule knows about one operation of a layer-level program sits in one
record: its vector-Jacobian rule per operand, the reason a step shows, and
(for the ops that own a class here) how it reads in text, LaTeX and NumPy.
The engine (``derive.ir.backprop``) and the printers read the table; a
missing rule is an error that names the op.

A rule works in the gradient of the scalar cost J: ``vjp(expr, G, ctx)``
returns, for each operand that can carry a gradient, ``(operand, ∂J/∂operand
contribution, why)`` given ``G = ∂J/∂expr``.  Rules are linear in ``G``.

A stanza may also carry the Jacobian-vector rule ``jvp(expr, d, ctx)``: the
directional derivative of ``expr`` when each operand moves along ``d(operand)``
(``None``: it stays put), forward mode.  ``push_forward`` walks an expression
with it; Pearlmutter's R-operator (``derive.ir.rop``) applies it to the forward
and the backward equations to get Hessian-vector products.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import sympy as sp
from sympy.matrices.expressions.special import OneMatrix

from ..errors import ChainruleError

Contribution = tuple[sp.Basic, sp.Basic, str]  # (operand, its adjoint contribution, rule key)
PATH = ">"  # joins the rule keys of the ops a contribution passed through, outermost first


@dataclass(frozen=True)
class Op:
    """One primitive: ``ir`` is the SymPy class that represents it in the program (the table's key)."""

    name: str
    ir: type
    vjp: Callable[[sp.Basic, sp.Basic, PullContext], list[Contribution]]
    why: dict[str, str]  # rule key -> the reason a step shows
    why_latex: dict[str, str] = field(default_factory=dict)  # rule key -> the same reason in LaTeX, for handouts
    text: Callable | None = None  # (printer, expr) -> str, installed as _print_<ir> on the text printer
    latex: Callable | None = None  # (printer, expr) -> str, installed on the LaTeX printer
    numpy: Callable | None = None  # (printer, expr) -> str, installed on the generated-code printer
    evaluate: Callable | None = None  # (evaluator, expr) -> value, for the reference interpreter
    # the JAX source of the helpers its NumPy form calls, where NumPy's does not run under jax.numpy (an in-place
    # write, np.add.at); the others are NumPy's with np read as jnp (codegen.render.jax_matrix)
    jax_helpers: dict[str, str] = field(default_factory=dict)
    jvp: Callable | None = None  # (expr, d, ctx) -> R{expr} (None: 0), d(operand) the operand's tangent or None
    # (evaluator, expr) -> how far its values are from a kink (max pooling's tie) or a singularity (B^(−1/2) at 0)
    kink: Callable | None = None


@dataclass
class PullContext:
    """What a rule may need besides its expression: names given to subexpressions (σ' = A ⊙ (1 − A))."""

    named: dict[sp.Basic, sp.MatrixSymbol] = field(default_factory=dict)

    def name_of(self, expr):
        return self.named.get(expr, expr)


OPS: dict[type, Op] = {}


def stanza(op: Op) -> Op:
    """Add ``op`` to the table (one per IR class)."""
    if op.ir in OPS:
        raise ValueError(f"op for {op.ir.__name__} is defined twice")
    OPS[op.ir] = op
    return op


def why(key: str, form: str = "text") -> str:
    """The reason rule ``key`` shows, as text or (``form="latex"``) LaTeX."""
    for op in OPS.values():
        if key in op.why:
            return op.why[key] if form == "text" else op.why_latex.get(key, "")
    raise KeyError(key)


def op_of(expr) -> Op:
    """The stanza of ``expr``'s operation; ChainruleError naming the op if there is none."""
    op = next((OPS[c] for c in type(expr).__mro__ if c in OPS), None)
    if op is None:
        raise ChainruleError(f"no vector-Jacobian rule for the op '{type(expr).__name__}' in {expr}")
    return op


def push_forward(expr, tangent: Callable, ctx: PullContext | None = None):
    """``R{expr}``: the directional derivative of ``expr`` when each matrix symbol ``s`` moves along
    ``tangent(s)`` (``None``: it stays put); ``None`` when nothing in ``expr`` moves.  ChainruleError
    naming the op when a stanza has no Jacobian-vector rule."""
    ctx = ctx or PullContext()
    if isinstance(expr, sp.MatrixSymbol):
        return tangent(expr)
    if isinstance(expr, OneMatrix) or not isinstance(expr, sp.MatrixExpr):
        return None  # constants and scalar coefficients do not move
    op = op_of(expr)
    if op.jvp is None:
        raise ChainruleError(f"no Jacobian-vector (R-operator) rule for the op '{op.name}' in {expr}")
    return op.jvp(expr, lambda operand: push_forward(operand, tangent, ctx), ctx)


def total(terms):
    """The sum of the terms that are not ``None`` (``None`` when all are)."""
    terms = [t for t in terms if t is not None]
    if not terms:
        return None
    out = terms[0]
    for t in terms[1:]:
        out = out + t
    return out


def pull_back(expr, G, ctx: PullContext | None = None) -> list[Contribution]:
    """Every ``(symbol, contribution, rules)`` reached from ``expr`` with adjoint ``G``, in expression order;
    ``rules`` are the keys of the ops passed through, outermost first, joined by ``PATH``
    (``"hadamard>broadcast"`` for γ in ``γ 1ᵀ ⊙ Ẑ``)."""
    ctx = ctx or PullContext()
    if isinstance(expr, sp.MatrixSymbol):
        return [(expr, G, "")]
    if isinstance(expr, OneMatrix) or not isinstance(expr, sp.MatrixExpr):
        return []  # constants and scalar coefficients carry no gradient
    out = []
    for operand, contribution, key in op_of(expr).vjp(expr, G, ctx):
        for symbol, value, inner in pull_back(operand, contribution, ctx):
            out.append((symbol, value, f"{key}{PATH}{inner}" if inner else key))
    return out
