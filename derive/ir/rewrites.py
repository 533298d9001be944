"""Named rewrites of a derived backward pass: the staged result, then the form the course writes.

The reverse sweep derives normalisation step by step, through the statistics
μ and σ² (cs231n's staged computational graph, assignment 2).  Courses then
collapse those stages into one line; cs231n's ``batchnorm_backward_alt``:

    dZ = (1/(k √(σ² + ε))) ⊙ (k dẐ − Σ dẐ − Ẑ ⊙ Σ (dẐ ⊙ Ẑ))

with the sums over the k entries each statistic averages (the m columns for
batch norm, the n rows for layer norm).  With Z̃ = γ ⊙ Ẑ + β and γ constant
along the sums (batch norm), dẐ = γ ⊙ dZ̃ and γ comes out of the sums:

    dZ = (γ / (m √(σ² + ε))) ⊙ (m dZ̃ − Σ_columns dZ̃ − Ẑ ⊙ Σ_columns (dZ̃ ⊙ Ẑ)).

``normalise`` finds the pattern in a program, writes that form, and checks it
against the staged equations at random values before it replaces them; the
check's figure is kept in the step.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy as sp
from sympy.matrices.expressions.special import OneMatrix

from ..errors import ChainruleError
from ..printing.matrix import matrix_text, unbroadcast
from .backprop import names_in
from .equation import Equation


@dataclass(frozen=True)
class Normalisation:
    """One normalisation in the program: ``Zhat = (Z − mu)/√(var + eps)`` with both statistics over ``axis``."""

    Z: str
    mu: str
    C: str
    var: str
    Zhat: str
    eps: sp.Basic
    axis: str  # "columns" (batch norm, over the m examples) or "rows" (layer norm, over the n features)
    k: sp.Basic  # how many entries each statistic averages


def find_normalisations(net) -> list[Normalisation]:
    """Every ``Ẑ = (Z − μ)/√(σ² + ε)`` whose μ, Z − μ and σ² serve nothing else."""
    values = {a.name: a.value for a in net.assignments}
    uses: dict[str, int] = {}
    for a in net.assignments:
        for n in {s.name for s in a.value.atoms(sp.MatrixSymbol)}:
            uses[n] = uses.get(n, 0) + 1
    for n in {s.name for s in net.cost_expr.atoms(sp.MatrixSymbol)}:
        uses[n] = uses.get(n, 0) + 1
    out = []
    for a in net.assignments:
        found = _match(a.name, a.value, values)
        if found and uses.get(found.mu) == 1 and uses.get(found.C) == 2 and uses.get(found.var) == 1:
            out.append(found)
    return out


def _match(name, value, values) -> Normalisation | None:
    if not isinstance(value, sp.HadamardProduct) or len(value.args) != 2:
        return None
    for c_b, p_b in (value.args, reversed(value.args)):
        C, power = unbroadcast(c_b), unbroadcast(p_b)
        if not (isinstance(C, sp.MatrixSymbol) and isinstance(power, sp.HadamardPower)):
            continue
        if power.exp != sp.Rational(-1, 2) or not isinstance(power.base, sp.MatAdd):
            continue
        var = next((t for t in power.base.args if isinstance(t, sp.MatrixSymbol)), None)
        rest = [t for t in power.base.args if t is not var]
        if var is None or len(rest) != 1 or not isinstance(rest[0], sp.MatMul):
            continue
        eps, factors = rest[0].as_coeff_matrices()
        if len(factors) != 1 or not isinstance(factors[0], OneMatrix):
            continue
        c_value = values.get(C.name)
        if not isinstance(c_value, sp.MatAdd) or len(c_value.args) != 2:
            continue
        Z = next((t for t in c_value.args if isinstance(t, sp.MatrixSymbol)), None)
        minus = next((t for t in c_value.args if t is not Z), None)
        if Z is None or not isinstance(minus, sp.MatMul):
            continue
        sign, parts = minus.as_coeff_matrices()
        if sign != -1 or len(parts) != 2:
            continue
        if isinstance(parts[1], OneMatrix) and parts[1].shape[0] == 1:
            mu, axis = parts[0], "columns"
        elif isinstance(parts[0], OneMatrix) and parts[0].shape[1] == 1:
            mu, axis = parts[1], "rows"
        else:
            continue
        if not isinstance(mu, sp.MatrixSymbol):
            continue
        k = Z.shape[1] if axis == "columns" else Z.shape[0]
        squares = (_mean(sp.HadamardProduct(C, C), axis, k), _mean(sp.HadamardPower(C, 2), axis, k))
        if values.get(mu.name) != _mean(Z, axis, k) or values.get(var.name) not in squares:
            continue
        return Normalisation(Z.name, mu.name, C.name, var.name, name, eps, axis, k)
    return None


def _mean(Q, axis, k):
    if axis == "columns":
        return sp.MatMul(1 / k, Q, OneMatrix(Q.shape[1], 1))
    return sp.MatMul(1 / k, OneMatrix(1, Q.shape[0]), Q)


def _sum(G, axis):
    """Σ over ``axis`` of G, repeated back to G's shape."""
    rows, cols = G.shape
    if axis == "columns":
        return G * OneMatrix(cols, 1) * OneMatrix(1, cols)
    return OneMatrix(rows, 1) * (OneMatrix(1, rows) * G)


def _spread(v, axis, shape):
    """A statistic (n×1 or 1×m) repeated to ``shape`` along ``axis``."""
    return v * OneMatrix(1, shape[1]) if axis == "columns" else OneMatrix(shape[0], 1) * v


@dataclass(frozen=True)
class NamedRewrite:
    """``target``: the staged equations ``staged`` collapse to ``after`` (``name``: the course's name for it)."""

    target: str
    staged: tuple[tuple[str, sp.Basic], ...]  # (adjoint, its staged expression), in order
    after: sp.Basic
    name: str
    reason: str
    error: float  # the largest relative difference found by the check

    def __str__(self) -> str:
        staged = "; ".join(f"{t} = {matrix_text(e)}" for t, e in self.staged)
        return f"rewrite ({self.name}): {staged}  ⇒  {self.target} = {matrix_text(self.after)}    [{self.reason}]"


def rewrite_normalisations(net, sweep, m) -> None:
    """Replace each normalisation's staged adjoints in ``sweep.backward`` by the one-line form, checked first."""
    for norm in find_normalisations(net):
        _rewrite(net, sweep, norm, m)


def _rewrite(net, sweep, norm: Normalisation, m) -> None:
    mat = net.matrices
    by_target = {e.target: e for e in sweep.backward}
    dZhat, dZ = f"d{norm.Zhat}", f"d{norm.Z}"
    staged_names = [dZhat, f"d{norm.var}", f"d{norm.C}", f"d{norm.mu}"]
    if (
        any(t not in by_target for t in staged_names + [dZ])
        or by_target[dZ].kind == "sum"
        and len(by_target[dZ].terms) != 2
    ):
        return  # Z is used elsewhere too: keep the staged equations
    Zhat, var = mat[norm.Zhat], mat[norm.var]
    shape = Zhat.shape
    inv = sp.HadamardPower(var + norm.eps * OneMatrix(*var.shape), sp.Rational(-1, 2))
    G = sweep.adjoint(norm.Zhat)
    scale = sp.S.One
    gamma = _gamma(by_target[dZhat], norm)
    keep_dZhat = True
    if gamma is not None:  # dẐ = γ ⊙ dZ̃, γ constant along the sums: γ comes out of them
        G, scale, keep_dZhat = gamma[1], gamma[0], _used_elsewhere(sweep, dZhat, staged_names)
    factor = inv if scale == 1 else sp.HadamardProduct(scale, inv)
    inner = norm.k * G - _sum(G, norm.axis) - sp.HadamardProduct(Zhat, _sum(sp.HadamardProduct(G, Zhat), norm.axis))
    after = sp.MatMul(1 / norm.k, sp.HadamardProduct(_spread(factor, norm.axis, shape), inner))
    staged = tuple((t, by_target[t].expr) for t in staged_names + [dZ])
    error = _check(net, sweep, norm, staged, after, m)
    if error > 1e-9:
        raise ChainruleError(f"internal: the {norm.axis} normalisation rewrite of {dZ} differs by {error:.1e}")
    drop = set(staged_names[1:]) | (set() if keep_dZhat else {dZhat})
    old = by_target[dZ]
    new = Equation(
        old.number, dZ, "adjoint", names_in(after), None, old.shape, after, f"{dZ} = {matrix_text(after)}", old.layer
    )
    sweep.backward = [new if e.target == dZ else e for e in sweep.backward if e.target not in drop]
    start = len(sweep.forward) + 1
    sweep.backward = [e.renumbered(start + i) for i, e in enumerate(sweep.backward)]
    batch = norm.axis == "columns" and norm.k == m  # over the m examples; over a row's entries it is layer norm
    name = "the batch-norm backward in one line" if batch else "the layer-norm backward in one line"
    reason = (
        "dμ, dσ² and the two uses of Z − μ collapse (cs231n's batchnorm_backward_alt), checked at random values"
        if batch
        else "dμ, dσ² and the two uses of Z − μ collapse, per example (over its features), checked at random values"
    )
    sweep.steps.append(NamedRewrite(dZ, staged, after, name, reason, error))


def _gamma(eq, norm):
    """``(γ, dZ̃)`` when ``dẐ = dZ̃ ⊙ γ`` with γ a column (batch norm: constant along each row's sum)."""
    e = eq.expr
    if norm.axis != "columns" or not isinstance(e, sp.HadamardProduct) or len(e.args) != 2:
        return None
    for g_b, other in (e.args, reversed(e.args)):
        g = unbroadcast(g_b)
        if g is not g_b and isinstance(g, sp.MatrixSymbol) and g.shape[1] == 1 and isinstance(other, sp.MatrixSymbol):
            return g, other
    return None


def _used_elsewhere(sweep, name, staged) -> bool:
    return any(name in e.operands for e in sweep.backward if e.target not in staged)


def _check(net, sweep, norm, staged, after, m, trials: int = 3) -> float:
    """The largest relative difference between the staged equations and ``after`` at random values."""
    from .numeric import NumPyEvaluator

    rng = np.random.default_rng(0)
    worst = 0.0
    for trial in range(trials):
        dims = {d: int(rng.integers(2, 5)) for d in net.dim_sizes}
        dims[m] = int(rng.integers(2, 6))
        env = {}
        for name, matrix in net.matrices.items():
            r, c = (int(sp.sympify(x).subs(dims)) for x in matrix.shape)
            env[name] = rng.standard_normal((r, c))
        for e in sweep.backward:
            r, c = (int(sp.sympify(x).subs(dims)) for x in e.shape)
            env.setdefault(e.target, rng.standard_normal((r, c)))
        consts = {sp.Symbol(n, real=True): v for n, v in net.constant_values.items()}
        ev = NumPyEvaluator(env, {**dims, **consts})
        Z = env[norm.Z]
        axis = 1 if norm.axis == "columns" else 0
        env[norm.mu] = Z.mean(axis=axis, keepdims=True)
        env[norm.C] = Z - env[norm.mu]
        env[norm.var] = (env[norm.C] ** 2).mean(axis=axis, keepdims=True)
        env[norm.Zhat] = ev(net.assignment(norm.Zhat).value)
        for target, expr in staged:
            env[target] = ev(expr)
        want, got = env[staged[-1][0]], ev(after)
        worst = max(worst, float(np.max(np.abs(want - got)) / max(np.max(np.abs(want)), 1e-300)))
    return worst
