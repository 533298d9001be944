"""Gradient checking against central finite differences, in float64, for both levels.

``check(derivation)`` is the one entry point: for a per-unit ``Derivation`` it compares every
derived gradient with the fourth-order central difference
``(−f(x+2h) + 8f(x+h) − 8f(x−h) + f(x−2h)) / 12h`` of the loss at a point (a seeded one away
from ReLU kinks unless given); for a layer ``VecDerivation`` it compares each ``d<param>``,
evaluated with NumPy, entry by entry with the same difference of the cost J = (1/m) Σ L on a
seeded batch of ``m`` examples.  Either way the answer is a list of ``GradCheck`` rows whose
``rel_error`` is ``|a − n| / max(|a|, |n|)`` (0 when both are below ``tiny``; the worst entry for
arrays; for layers an entry is measured against at least what the differences resolve, see
``relative_error``).  Seeded points come from ``random_point`` (per unit) and ``random_instance`` (layers).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

import numpy as np
import sympy as sp

from .ir.backprop import names_in
from .ir.network import M, VecDerivation
from .ir.numeric import run
from .ops import record_of, records

TOLERANCE = 1e-6


@dataclass(frozen=True)
class GradCheck:
    """One quantity's derived gradient against its finite differences (floats, or arrays for layers);
    ``noise``: a bound on the differences' round-off (0: not known)."""

    name: str
    analytic: float | np.ndarray
    numeric: float | np.ndarray
    noise: float = 0.0

    @property
    def rel_error(self) -> float:
        return relative_error(self.analytic, self.numeric, noise=self.noise)

    @property
    def ok(self) -> bool:
        return self.rel_error <= TOLERANCE


def worst(rows: list[GradCheck]) -> float:
    """The largest relative error of a check (0 for none)."""
    return max((r.rel_error for r in rows), default=0.0)


def rel_errors(rows: list[GradCheck]) -> dict[str, float]:
    """``{name: relative error}`` of a check."""
    return {r.name: r.rel_error for r in rows}


def check(
    derivation,
    point: dict | None = None,
    names=None,
    *,
    h: float | None = None,
    m: int = 5,
    seed: int = 0,
    max_entries: int | None = None,
):
    """Derived versus numeric gradients, one ``GradCheck`` per name.

    Per unit: ``point`` maps every leaf to a float (default ``smooth_point(derivation, seed)``),
    ``names`` default to every parameter and input, ``h`` to 1e-4.  Layers: ``point`` maps every
    leaf to an array for a batch of ``m`` (default ``random_instance(derivation, m, seed)``),
    ``names`` default to every parameter, ``h`` to 1e-3 (shrunk below the nearest ReLU kink); ``max_entries``
    checks at most that many entries of each parameter (drawn from ``seed``; None: all).  A recurrence is
    checked over a concrete sequence (``derive.ir.unroll``) at small widths (3, T = 4): its derivation is over
    one step, so the widths and T do not change it."""
    if isinstance(derivation, VecDerivation) and derivation.network.recurrence is not None:
        return _check_recurrence(derivation, names, 1e-4 if h is None else h, m, seed, max_entries)
    if isinstance(derivation, VecDerivation):
        return _check_layers(derivation, point, names, 1e-3 if h is None else h, m, seed, max_entries)
    if point is None:
        point = smooth_point(derivation, seed)
    return _check_units(derivation, point, names, 1e-4 if h is None else h)


def relative_error(a, n, tiny: float = 1e-10, noise: float = 0.0) -> float:
    """``|a − n| / max(|a|, |n|)``, 0 where both are below ``tiny``; the worst entry for arrays, where an entry
    below 1e-4 of the array's largest is measured against that floor (round-off in the differences of an
    entry near 0 is not a wrong gradient).  ``noise`` bounds the round-off of the differences ``n``: no entry
    is measured against less than ``noise / TOLERANCE``, the smallest size they resolve to ``TOLERANCE`` (a
    whole gradient all but 0, batch norm's dW of 4e-8 where J = 0.3, is checked down to its round-off)."""
    a, n = np.asarray(a, dtype=float), np.asarray(n, dtype=float)
    scale = np.maximum(np.abs(a), np.abs(n))
    floor = max(1e-4 * float(np.max(scale)) if scale.size > 1 else 0.0, noise / TOLERANCE)
    err = np.where(scale < tiny, 0.0, np.abs(a - n) / np.maximum(scale, max(tiny, floor)))
    return float(np.max(err)) if err.size else 0.0


def five_point(f, h: float) -> float:
    """The central difference of ``f`` at 0 (``f(δ)`` is the function at x + δ), error O(h⁴).  The two
    differences come first: each is exact where the values are close (Sterbenz), so a constant ``f`` gives 0
    and the round-off is the values' own (``stencil_noise``)."""
    return (8 * (f(h) - f(-h)) - (f(2 * h) - f(-2 * h))) / (12 * h)


ROUNDING = 16  # J computed in float64 is within this many units of round-off (2⁻⁵³ |J|) of its exact value


def stencil_noise(value: float, h: float) -> float:
    """A bound on the round-off of ``five_point`` where the function is about ``value``: each of its four values
    off by ``ROUNDING`` units of round-off, weighted 8, 8, 1, 1 over 12h."""
    return 18 * ROUNDING * 2.0**-53 * abs(value) / (12 * h)


def numeric_gradient(derivation, point: dict[str, float], name: str, h: float = 1e-4, values=None) -> float:
    """∂L/∂name at ``point`` by central differences (``name`` a leaf, or a node: its value is shifted).
    ``values`` is ``derivation.forward(point)`` when the caller has it; only the nodes downstream of
    ``name`` are computed again for each shifted value."""
    values = derivation.forward(point) if values is None else values
    if derivation.net.kinds.get(name) == "node":  # near a singularity of the loss (ŷ → 0 under log): a relative step
        value = abs(values[name])
        h = min(h, 1e-3 * value) if value > 0 else h
    return five_point(lambda delta: derivation.shifted_loss(values, name, delta), h)


def _check_units(derivation, point: dict[str, float], names, h: float) -> list[GradCheck]:
    """Derived versus numeric gradients of the loss for ``names`` (default: every parameter and input)."""
    point = {getattr(k, "name", k): float(v) for k, v in point.items()}
    result = derivation.evaluate(point)
    net = derivation.net
    names = names or (net.names("param") + net.names("input"))
    return [GradCheck(n, result.gradients[n], numeric_gradient(derivation, point, n, h, result.values)) for n in names]


def random_point(net, seed: int = 0, scale: float = 1.0, *, rng=None, draw=None) -> dict[str, float]:
    """A seeded random point: normal parameters and inputs, valid targets (one-hot groups, 0/1 labels).

    ``rng`` (a ``random.Random``) and ``draw(rng) -> float`` replace the seed and the normal draw."""
    rng = rng or random.Random(seed)
    draw = draw or (lambda r: r.gauss(0.0, scale))
    point = {}
    for name in net.leaves:
        point[name] = float(rng.random() < 0.5) if net.kinds[name] == "target" else draw(rng)
    for group in net.one_hot:
        hot = rng.randrange(len(group))
        for i, sym in enumerate(group):
            point[sym.name] = 1.0 if i == hot else 0.0
    point.update(getattr(net, "constant_values", {}))  # a constant is its declared value at every point
    return point


def kink_distance(derivation, point: dict[str, float]) -> float:
    """How far a per-unit point is from a kink (the smallest |z| fed to ReLU, a step, ELU); inf if none."""
    values = derivation.forward(point)
    out = math.inf
    for node in derivation.net.nodes:
        for sub in node.expr.atoms(*_KINKED):
            arg = sub.args[0]
            if arg.is_Symbol:
                out = min(out, abs(values[arg.name]))
    return out


def _kinked(record) -> bool:
    """Whether differences straddling 0 misjudge the function's derivative: a kink (ReLU), or one of g' (ELU)."""
    return record.kinks or record.prime_kinks


_KINKED = tuple(r.cls for r in records() if _kinked(r))  # functions with a kink at 0 (ReLU, step), or g' (ELU)


def smooth_point(derivation, seed: int = 0, margin: float = 1e-2) -> dict[str, float]:
    """A seeded random point at least ``margin`` away from every ReLU kink."""
    for attempt in range(1000):
        point = random_point(derivation.net, seed=seed * 1000 + attempt)
        if kink_distance(derivation, point) > margin:
            return point
    raise RuntimeError("no point away from the kinks found")  # pragma: no cover


# Layers: a batch of m examples, every quantity an array.


DRAWS = 50  # the most batches ``random_instance`` draws


def random_instance(d: VecDerivation, m: int = 5, seed: int = 0, scale: float = 0.5, margin: float = 0.05) -> dict:
    """Random inputs, valid targets (0/1, or one-hot columns for softmax) and parameters, redrawn until every
    kink (a ReLU input's 0, a max pooling's tie, …: ``layer_kink_distance``) is at least ``margin`` away; after
    ``DRAWS`` draws, the one farthest from its kinks.  A program with thousands of ReLU inputs (conv_net's
    5760 at m = 5) has one within 0.05 of 0 in practically every draw: more draws would not find a farther one,
    and the check's step shrinks below the distance to the nearest kink anyway (``_check_layers``)."""
    rng = np.random.default_rng(seed)
    best, farthest = None, -1.0
    shapes = d.concrete_shapes(m)  # worked out once for every draw
    for _ in range(DRAWS):
        env = _draw(d, m, rng, scale, shapes)
        distance = layer_kink_distance(d, env, m)
        if distance >= margin:
            return env
        if distance > farthest:
            best, farthest = env, distance
    return best


def layer_kink_distance(d: VecDerivation, env: dict, m: int, of: str | None = None) -> float:
    """How far the batch is from a kink: the smallest |Z| over every ReLU (or ELU: ``_kinked``) layer's input
    and every entry an L1 penalty takes, and the smallest gap between the largest entry a max pooling takes and
    the best one of another word; and any op's own margin (its stanza's ``kink``: an image max pooling's, a
    negative power's |B|) (inf without any).  ``of``: only the kinks that move with that parameter (those after
    it in the program)."""
    from .ir.numeric import NumPyEvaluator
    from .ops import OPS
    from .ops.nodes import L1Norm
    from .ops.text_nodes import PoolMax

    relu_inputs = [e.operands[0] for e in d.forward if e.kind == "activation" and _kinked(record_of(e.function))]
    nodes = [p for e in d.forward for p in sp.preorder_traversal(e.expr)]
    pools = [p for p in nodes if isinstance(p, PoolMax)]
    penalised = [p.args[0] for p in nodes if isinstance(p, L1Norm)]
    kinked = [p for p in nodes if getattr(OPS.get(type(p)), "kink", None) is not None]
    if of is not None:  # a parameter after every kink (the output layer's) moves none of them
        moved = _moved_by(d.network, of)
        relu_inputs = [z for z in relu_inputs if z in moved]
        pools, penalised, kinked = (
            [p for p in group if moved & set(names_in(p))] for group in (pools, penalised, kinked)
        )
    if not relu_inputs and not pools and not penalised and not kinked:
        return float("inf")
    dims = dims_of(d.network, m)
    values = run(d.forward, env, dims)
    gaps = [float(np.min(np.abs(values[z]))) for z in relu_inputs]
    gaps += [float(np.min(np.abs(NumPyEvaluator(values, dims)(w)))) for w in penalised]
    gaps += [_pool_gap(values[p.args[0].name], values[p.args[1].name]) for p in pools]
    gaps += [OPS[type(p)].kink(NumPyEvaluator(values, dims), p) for p in kinked]
    return min(gaps)


def _moved_by(net, name: str) -> set[str]:
    """``name`` and every quantity computed from it."""
    moved = {name}
    for a in net.assignments:
        if moved & set(names_in(a.value)):
            moved.add(a.name)
    return moved


def _pool_gap(Q, W) -> float:
    """The smallest margin of a max pooling's choice over a word of another id (a word repeated in a text is
    not a kink: its positions hold the same vector, so either choice gives the same gradient of E)."""
    n, m = W.shape
    blocks = Q.reshape(n, -1, m)
    gap = float("inf")
    for j in range(m):
        words = [t for t in range(n) if W[t, j] != 0]
        for r in range(blocks.shape[1]):
            if not words:
                continue
            best = max(words, key=lambda t: blocks[t, r, j])
            others = [blocks[t, r, j] for t in words if W[t, j] != W[best, j]]
            if others:
                gap = min(gap, float(blocks[best, r, j] - max(others)))
    return gap


def _draw(d: VecDerivation, m: int, rng, scale: float, shapes: dict | None = None) -> dict:
    net = d.network
    shapes = d.concrete_shapes(m) if shapes is None else shapes
    env = {}
    for name in net.names("param"):
        env[name] = rng.normal(0.0, scale, shapes[name])
    (y,) = net.names("target")
    for x in net.names("input"):
        if x in net.index_inputs:  # word indices, 0 (padding) among them
            env[x] = rng.integers(0, net.size(net.index_inputs[x]), shapes[x])
        else:
            env[x] = rng.normal(0.0, 1.0, shapes[x])
    for mask in net.names("mask"):  # a fixed draw of the dropout mask: 1 with the keep probability
        keep = float(net.masks[mask].subs({net.constants[n]: v for n, v in net.constant_values.items()}))
        env[mask] = (rng.random(shapes[mask]) < keep).astype(float)
    rows, cols = shapes[y]
    if net.target_kind == "one-hot" or (record_of(net.loss).task == "multiclass" and rows > 1):
        env[y] = np.eye(rows)[:, rng.integers(0, rows, cols)]
    elif net.target_kind == "real":
        env[y] = rng.normal(0.0, 1.0, (rows, cols))
    else:
        env[y] = rng.integers(0, 2, (rows, cols)).astype(float)
    return env


def evaluate(d: VecDerivation, env: dict, m: int) -> dict:
    """Every quantity of the forward and backward equations, as float64 arrays."""
    return run(d.equations, env, dims_of(d.network, m))


def dims_of(net, m: int) -> dict:
    """Every size symbol and constant of ``net`` with its value, for batch size ``m``."""
    constants = {net.constants[n]: v for n, v in getattr(net, "constant_values", {}).items()}
    return {**net.dim_sizes, M: m, **constants}


def cost(d: VecDerivation, env: dict, m: int) -> float:
    return float(run(d.forward, env, dims_of(d.network, m))["J"][0, 0])


def _entries(shape, max_entries: int | None, rng) -> list:
    """Every index of ``shape``, or ``max_entries`` of them drawn at random (sorted)."""
    indices = list(np.ndindex(*shape))
    if max_entries is None or len(indices) <= max_entries:
        return indices
    return [indices[i] for i in sorted(rng.choice(len(indices), max_entries, replace=False))]


def _check_layers(
    d: VecDerivation, env: dict | None, names, h: float, m: int, seed: int, max_entries: int | None = None
) -> list[GradCheck]:
    """Each ``d<param>`` against central differences of J, entry by entry.

    The five-point central stencil (error O(h⁴)) keeps the check's own error
    near 1e-12, far below the 1e-6 it is held to.  Where no draw keeps every ReLU input 0.05 from its kink
    (a deep ReLU network has hundreds), the step shrinks so the stencil (±2h moves a ReLU input by at most
    ~2h·|x|) stays on one side of the nearest kink."""
    env = random_instance(d, m, seed) if env is None else {k: np.array(v) for k, v in env.items()}
    names = names or d.network.names("param")
    steps = {name: min(h, max(layer_kink_distance(d, env, m, of=name) / 50, 1e-6)) for name in names}
    values = evaluate(d, env, m)
    return _compare(values, env, names, lambda: cost(d, env, m), steps, seed, max_entries)


def _compare(values: dict, env: dict, names, J, h: float | dict, seed: int, max_entries) -> list[GradCheck]:
    """``values["d<name>"]`` against five-point differences of ``J()`` as each entry of ``env[name]`` moves
    (``h`` the step, or each name's)."""
    rng = np.random.default_rng(seed)
    cost = float(np.asarray(values["J"]).flat[0])
    out = []
    for name in names:
        picked = _entries(env[name].shape, max_entries, rng)
        step = h[name] if isinstance(h, dict) else h
        numeric = []
        for idx in picked:
            saved = env[name][idx]

            def shifted(delta, name=name, idx=idx, saved=saved):
                env[name][idx] = saved + delta
                return J()

            numeric.append(five_point(shifted, step))
            env[name][idx] = saved
        analytic, noise = values[f"d{name}"], stencil_noise(cost, step)
        if max_entries is None:
            out.append(GradCheck(name, analytic, np.array(numeric).reshape(analytic.shape), noise))
        else:
            out.append(GradCheck(name, np.array([analytic[i] for i in picked]), np.array(numeric), noise))
    return out


def random_sequence(d: VecDerivation, dims: dict, m: int, rng) -> tuple[dict, list[dict]]:
    """(parameters and whatever is not per step, each step's leaves) of a recurrence at the sizes ``dims``:
    normal parameters and inputs, word indices, one-hot (or 0/1) targets."""
    net = d.network
    rec = net.recurrence

    def shape(name):
        return tuple(int(sp.sympify(x).subs(dims)) for x in net.matrices[name].shape)

    def target(name):
        rows = shape(name)[0]
        if net.target_kind == "one-hot" or name in rec.per_step:
            return np.eye(rows)[:, rng.integers(0, rows, m)]
        return rng.integers(0, 2, shape(name)).astype(float)

    static = {p: rng.normal(0.0, 0.5, shape(p)) for p in net.names("param")}
    steps = []
    for _ in range(int(dims[rec.T])):
        leaves = {}
        for name in rec.per_step:
            if net.kinds[name] == "input" and name in net.index_inputs:
                leaves[name] = rng.integers(0, int(sp.sympify(net.index_inputs[name]).subs(dims)), shape(name))
            elif net.kinds[name] == "input":
                leaves[name] = rng.normal(0.0, 1.0, shape(name))
            elif net.kinds[name] == "target":
                leaves[name] = target(name)
        steps.append(leaves)
    static.update({y: target(y) for y in net.names("target") if y not in rec.per_step})
    return static, steps


def _check_recurrence(d: VecDerivation, names, h: float, m: int, seed: int, max_entries) -> list[GradCheck]:
    """A recurrence's gradients over a concrete sequence (T = 4, widths 3) against central differences of J."""
    from .ir.numeric import NumPyEvaluator
    from .ir.unroll import run_sequence

    net = d.network
    dims = {**{s: min(v, 3) for s, v in net.dim_sizes.items()}, net.recurrence.T: 4, M: m}
    dims.update({net.constants[n]: v for n, v in net.constant_values.items()})
    static, steps = random_sequence(d, dims, m, np.random.default_rng(seed))

    def J():
        return float(run_sequence(d, static, steps, dims, NumPyEvaluator)["J"][0, 0])

    values = run_sequence(d, static, steps, dims, NumPyEvaluator)
    return _compare(values, static, names or net.names("param"), J, h, seed, max_entries)


# Second order: Hessian-vector products by the R-operator, against differences of the gradients.


def check_hvp(d: VecDerivation, env: dict | None = None, m: int = 5, seed: int = 0, h: float = 1e-4) -> list[GradCheck]:
    """Each parameter's part of H V, the R-operator's ``R{dP}`` (``derive.ir.rop``), against the five-point
    central difference of the derived gradient ``dP`` along a random direction V (all parameters at once):
    ``(d/dr) dP(θ + r V)`` at r = 0.  The batch and V are seeded; the step shrinks near a kink as in
    ``check`` (the Hessian of a ReLU network is that of the linear piece the batch is on)."""
    from .ir.rop import r_operator

    rop = r_operator(d)
    env = random_instance(d, m, seed) if env is None else {k: np.array(v) for k, v in env.items()}
    h = min(h, max(layer_kink_distance(d, env, m) / 50, 1e-6))
    rng = np.random.default_rng(seed + 1)
    directions = {p: rng.normal(0.0, 1.0, env[p].shape) for p in rop.directions}
    dims = dims_of(d.network, m)
    values = run(
        d.equations + rop.equations, {**env, **{v.name: directions[p] for p, v in rop.directions.items()}}, dims
    )

    moved: dict[float, dict] = {}

    def gradient(p: str, r: float):
        if r not in moved:
            moved[r] = run(d.equations, {**env, **{q: env[q] + r * directions[q] for q in directions}}, dims)
        return moved[r][f"d{p}"]

    out = []
    for p, name in rop.hvp.items():
        numeric = five_point(lambda r, p=p: gradient(p, r), h)
        analytic = values[name] if name else np.zeros_like(env[p])
        out.append(GradCheck(p, analytic, numeric))
    return out
