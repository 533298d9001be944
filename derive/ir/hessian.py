"""The Hessian as a matrix, read off the R-operator's equations, where every parameter is a row or a number.

CS229 (problem set 1; the notes on Newton's method) writes logistic regression's Hessian as
``H = (1/m) Xᵀ diag(σ(1 − σ)) X`` with one example per row of X; with one example per column
(this project's convention, Ng's) it is ``(1/m) X diag(σ(1 − σ)) Xᵀ``.  The engine does not
paste that formula: it takes the R-operator's ``R{dQ}`` (``derive.ir.rop``), substitutes every
tangent until only the directions ``V_P`` are left, and reads the coefficient of each:

    R{dQ} = Σ_P V_P H[P, Q],   so block (P, Q) of H is the coefficient of V_P in R{dQ}

(``∂²J/∂P ∂Q``, entries in the order of the parameters' flattened entries).  With ``V_P`` a
row, the coefficient is found by the rules ``V → I``, ``(u + v) → coef(u) + coef(v)``,
``u B → coef(u) B`` and ``u ⊙ s → coef(u) diag(s)`` (s a row: ``u ⊙ s = u diag(s)``), then
``1ᵀ diag(s) = s`` and ``diag(s) 1 = sᵀ``.  A network with a matrix parameter (a hidden layer)
has a Hessian over all its entries that is no such product; ``hvp`` is its tool.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sympy as sp
from sympy.matrices.expressions.special import OneMatrix

from ..errors import ChainruleError
from ..ops.base import total
from ..ops.diag import Diag
from ..printing.matrix import matrix_text
from .lower import shape_text
from .rop import ROpDerivation, r_operator


class NotRowLinear(Exception):
    """The expression is not of the form ``V M`` the reading rules cover."""


@dataclass(frozen=True)
class Block:
    """``H[row, col] = expr``: ∂²J/∂row ∂col, a k_row × k_col block (``R{d col}``'s coefficient of ``V_row``)."""

    row: str
    col: str
    expr: sp.Basic
    read_from: sp.Basic  # R{d col} with every tangent substituted

    @property
    def name(self) -> str:
        return f"H_{self.row}_{self.col}"

    @property
    def text(self) -> str:
        return f"H[{self.row}, {self.col}] = {matrix_text(self.expr)}"


@dataclass
class HessianDerivation:
    """Every block of the Hessian of J over the parameters (each a row 1×k or a number), in declaration order."""

    derivation: object
    rop: ROpDerivation | None = None
    blocks: dict[tuple[str, str], Block] = field(default_factory=dict)
    params: list[str] = field(default_factory=list)

    def __post_init__(self):
        d = self.derivation
        net = d.network
        self.params = [p for p, _ in net.params()]
        # a row declared with a dimension of size 1 (n1 = 1) is a row: read with 1 in its place
        ones = {r: sp.S.One for _, (r, _) in net.params() if isinstance(r, sp.Symbol) and net.size(r) == 1}
        for p, (rows, cols) in net.params():
            if rows.xreplace(ones) != 1:
                raise ChainruleError(
                    f"the Hessian is written as a matrix where every parameter is a row or a number (declared"
                    f" 1×k); '{p}' is {shape_text((rows, cols))} (use hvp(params, X, Y, V))",
                    f"network '{net.name}'",
                )
        self.rop = self.rop or r_operator(d)
        definitions = {e.target: e.expr for e in self.rop.equations}
        for col in self.params:
            name = self.rop.hvp[col]
            full = _substituted(sp.MatrixSymbol(name, *net.matrices[col].shape), definitions) if name else None
            full = full.xreplace(ones) if full is not None else None
            for row in self.params:
                V = self.rop.directions[row].xreplace(ones)
                try:
                    coefficient = _coefficient(full, V) if full is not None else None
                except NotRowLinear:
                    raise ChainruleError(
                        f"the Hessian block H[{row}, {col}] is not of the form V M the reading rules cover",
                        f"network '{net.name}'",
                    ) from None
                shape = (net.matrices[row].shape[1].xreplace(ones), net.matrices[col].shape[1].xreplace(ones))
                expr = sp.ZeroMatrix(*shape) if coefficient is None else _tidy(coefficient)
                self.blocks[(row, col)] = Block(row, col, expr, full)

    def text(self) -> str:
        lines = [f"# {self.derivation.network.name}: the Hessian of J, block by block (∂²J/∂P ∂Q)"]
        lines += [f"  {b.text}" for b in self.blocks.values()]
        return "\n".join(lines) + "\n"


def hessian(derivation) -> HessianDerivation:
    """The Hessian's blocks of a ``VecDerivation`` whose parameters are rows or numbers."""
    return HessianDerivation(derivation)


def _substituted(expr, definitions: dict):
    """``expr`` with every tangent ``R…`` replaced by its equation's value, until none is left."""
    for _ in range(len(definitions) + 1):
        inner = {s: definitions[s.name] for s in expr.atoms(sp.MatrixSymbol) if s.name in definitions}
        if not inner:
            return expr
        expr = expr.xreplace(inner)
    raise ChainruleError("internal: the R-operator's equations refer to each other in a cycle")


def _coefficient(expr, V):
    """``M`` with ``expr = V M`` for the row ``V`` (None where ``expr`` does not depend on V)."""
    if expr == V:
        return sp.Identity(V.shape[1])
    if V not in expr.atoms(sp.MatrixSymbol):
        return None
    if isinstance(expr, sp.MatAdd):
        return total(_coefficient(t, V) for t in expr.args)
    if isinstance(expr, sp.MatMul):
        scalar, factors = expr.as_coeff_matrices()
        moving = [i for i, f in enumerate(factors) if V in f.atoms(sp.MatrixSymbol)]
        if moving != [0]:
            raise NotRowLinear(expr)
        return _product(scalar, [_coefficient(factors[0], V), *factors[1:]])
    if isinstance(expr, sp.HadamardProduct):
        moving = [f for f in expr.args if V in f.atoms(sp.MatrixSymbol)]
        rest = [f for f in expr.args if V not in f.atoms(sp.MatrixSymbol)]
        if len(moving) != 1 or any(f.shape[0] != 1 for f in rest):
            raise NotRowLinear(expr)
        weights = rest[0] if len(rest) == 1 else sp.HadamardProduct(*rest)
        return _product(1, [_coefficient(moving[0], V), Diag(weights)])
    raise NotRowLinear(expr)


def _product(scalar, factors):
    """``scalar F1 … Fk`` flattened, with no identity and without SymPy's ``doit`` (which reorders a ⊙)."""
    flat = []
    for f in factors:
        if isinstance(f, sp.MatMul):
            inner_scalar, inner = f.as_coeff_matrices()
            scalar *= inner_scalar
            flat.extend(inner)
        elif not isinstance(f, sp.Identity):
            flat.append(f)
    if not flat:
        flat = [next(f for f in factors if isinstance(f, sp.Identity))]
    return sp.MatMul(scalar, *flat) if scalar != 1 else (flat[0] if len(flat) == 1 else sp.MatMul(*flat))


def _tidy(expr):
    """``1ᵀ diag(s)`` as ``s``, ``diag(s) 1`` as ``sᵀ``, ``1ᵀ 1`` as its length (inside products), and products of
    identities dropped."""
    if not isinstance(expr, sp.MatrixExpr) or expr.is_Atom:
        return expr
    args = [_tidy(a) for a in expr.args]
    if args != list(expr.args):
        expr = expr.func(*args)  # rebuilt only where something changed: SymPy would reorder a ⊙'s factors
    if not isinstance(expr, sp.MatMul):
        return expr
    scalar, factors = expr.as_coeff_matrices()
    factors = [f for f in factors if not isinstance(f, sp.Identity)]
    out: list = []
    for f in factors:
        if isinstance(f, Diag) and out and isinstance(out[-1], OneMatrix) and out[-1].shape[0] == 1:
            out[-1] = f.arg
        elif isinstance(f, OneMatrix) and f.shape[1] == 1 and out and isinstance(out[-1], Diag):
            out[-1] = sp.Transpose(out[-1].arg)
        elif isinstance(f, OneMatrix) and out and isinstance(out[-1], OneMatrix):  # 1ᵀ 1 = m (least squares' H[b, b])
            scalar *= f.shape[0]
            out[-1] = OneMatrix(out[-1].shape[0], f.shape[1])
        else:
            out.append(f)
    product = out[0] if len(out) == 1 else sp.MatMul(*out)
    return product if scalar == 1 else sp.MatMul(scalar, product)


def without_diag(expr):
    """``expr`` with each ``F diag(s) G`` written ``(F ⊙ 1 s) G``: the same matrix, never the n×n diag(s)
    (generated code: ``(X * s) @ X.T``)."""
    if not isinstance(expr, sp.MatrixExpr) or expr.is_Atom:
        return expr
    expr = expr.func(*[without_diag(a) for a in expr.args])
    if not isinstance(expr, sp.MatMul):
        return expr
    scalar, factors = expr.as_coeff_matrices()
    factors = list(factors)
    for i, f in enumerate(factors):
        if isinstance(f, Diag) and i > 0:
            left = factors[0] if i == 1 else sp.MatMul(*factors[:i])
            scaled = sp.HadamardProduct(left, OneMatrix(left.shape[0], 1) * f.arg)
            rest = [scaled, *factors[i + 1 :]]
            out = rest[0] if len(rest) == 1 else sp.MatMul(*rest)
            return without_diag(out if scalar == 1 else sp.MatMul(scalar, out))
    return expr
