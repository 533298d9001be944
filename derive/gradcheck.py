"""Gradient checking against central finite differences, in float64.

``check(derivation, point)`` compares every derived gradient with the
fourth-order central difference
``(−f(x+2h) + 8f(x+h) − 8f(x−h) + f(x−2h)) / 12h`` of the loss, and reports
the relative error ``|a − n| / max(|a|, |n|)`` (0 when both are below
``tiny``).  Seeded random points come from ``random_point``.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

import numpy as np

TOLERANCE = 1e-6


@dataclass(frozen=True)
class GradCheck:
    name: str
    analytic: float
    numeric: float

    @property
    def rel_error(self) -> float:
        return relative_error(self.analytic, self.numeric)

    @property
    def ok(self) -> bool:
        return self.rel_error <= TOLERANCE


def relative_error(a, n, tiny: float = 1e-10) -> float:
    """``|a − n| / max(|a|, |n|)``, 0 where both are below ``tiny``; the worst entry for arrays."""
    a, n = np.asarray(a, dtype=float), np.asarray(n, dtype=float)
    scale = np.maximum(np.abs(a), np.abs(n))
    err = np.where(scale < tiny, 0.0, np.abs(a - n) / np.maximum(scale, tiny))
    return float(np.max(err)) if err.size else 0.0


def five_point(f, h: float) -> float:
    """The central difference of ``f`` at 0 (``f(δ)`` is the function at x + δ), error O(h⁴)."""
    return (-f(2 * h) + 8 * f(h) - 8 * f(-h) + f(-2 * h)) / (12 * h)


def numeric_gradient(derivation, point: dict[str, float], name: str, h: float = 1e-4) -> float:
    """∂L/∂name at ``point`` by central differences (``name`` a leaf, or a node: its value is shifted)."""
    loss = derivation.loss

    is_node = derivation.net.kinds.get(name) == "node"
    if is_node:  # a node near a singularity of the loss (ŷ → 0 under log) needs a step relative to its value
        value = abs(derivation.forward(point)[name])
        h = min(h, 1e-3 * value) if value > 0 else h

    def f(delta: float) -> float:
        if is_node:
            return derivation.forward(point, shift={name: delta})[loss]
        shifted = dict(point)
        shifted[name] = point[name] + delta
        return derivation.forward(shifted)[loss]

    return five_point(f, h)


def check(derivation, point: dict[str, float], names=None, h: float = 1e-4) -> list[GradCheck]:
    """Derived versus numeric gradients of the loss for ``names`` (default: every parameter and input)."""
    point = {getattr(k, "name", k): float(v) for k, v in point.items()}
    result = derivation.evaluate(point)
    net = derivation.net
    names = names or (net.names("param") + net.names("input"))
    return [GradCheck(n, result.gradients[n], numeric_gradient(derivation, point, n, h)) for n in names]


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
    return point


def kink_distance(derivation, point: dict[str, float]) -> float:
    """How far the point is from a ReLU kink (the smallest |z| fed to a step); inf if none."""
    from .functions import ReLU

    values = derivation.forward(point)
    out = math.inf
    for node in derivation.net.nodes:
        for sub in node.expr.atoms(ReLU):
            arg = sub.args[0]
            if arg.is_Symbol:
                out = min(out, abs(values[arg.name]))
    return out


def smooth_point(derivation, seed: int = 0, margin: float = 1e-2) -> dict[str, float]:
    """A seeded random point at least ``margin`` away from every ReLU kink."""
    for attempt in range(1000):
        point = random_point(derivation.net, seed=seed * 1000 + attempt)
        if kink_distance(derivation, point) > margin:
            return point
    raise RuntimeError("no point away from the kinks found")  # pragma: no cover
