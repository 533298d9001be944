"""Check a vectorised derivation numerically: its equations, evaluated with NumPy, against
central finite differences of the cost J = (1/m) Σ L, in float64."""

from __future__ import annotations

import numpy as np

from .gradcheck import five_point, relative_error
from .vecnumeric import run
from .vectorised import M, VecDerivation


def random_instance(d: VecDerivation, m: int = 5, seed: int = 0, scale: float = 0.5, margin: float = 0.05) -> dict:
    """Random inputs, valid targets (0/1, or one-hot columns for softmax) and parameters,
    redrawn until every ReLU input is at least ``margin`` from its kink at 0."""
    rng = np.random.default_rng(seed)
    for _ in range(1000):
        env = _draw(d, m, rng, scale)
        if kink_distance(d, env, m) >= margin:
            return env
    return env


def kink_distance(d: VecDerivation, env: dict, m: int) -> float:
    """The smallest |Z| over the entries of every ReLU layer's input (inf without ReLU)."""
    relu_inputs = [e.operands[0] for e in d.forward if e.kind == "activation" and e.function == "relu"]
    if not relu_inputs:
        return float("inf")
    values = run(d.forward, env, dims_of(d.network, m))
    return float(min(np.min(np.abs(values[z])) for z in relu_inputs))


def _draw(d: VecDerivation, m: int, rng, scale: float) -> dict:
    net = d.network
    shapes = d.concrete_shapes(m)
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
    if net.output == "softmax" or (net.loss == "cross_entropy" and rows > 1):
        env[y] = np.eye(rows)[:, rng.integers(0, rows, cols)]
    elif net.output == "identity":
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


def check(d: VecDerivation, m: int = 5, seed: int = 0, h: float = 1e-3) -> dict[str, float]:
    """``{param: worst entry-wise relative error}`` of each ``d<param>`` against central differences of J.

    The five-point central stencil (error O(h⁴)) keeps the check's own error
    near 1e-12, far below the 1e-6 it is held to.  Where no draw keeps every ReLU input 0.05 from its kink
    (a deep ReLU network has hundreds), the step shrinks so the stencil (±2h moves a ReLU input by at most
    ~2h·|x|) stays on one side of the nearest kink."""
    env = random_instance(d, m, seed)
    h = min(h, max(kink_distance(d, env, m) / 50, 1e-6))
    values = evaluate(d, env, m)
    out = {}
    for name in d.network.names("param"):
        numeric = np.zeros_like(env[name])
        for idx in np.ndindex(*env[name].shape):
            saved = env[name][idx]

            def shifted(delta, name=name, idx=idx, saved=saved):
                env[name][idx] = saved + delta
                return cost(d, env, m)

            numeric[idx] = five_point(shifted, h)
            env[name][idx] = saved
        out[name] = relative_error(values[f"d{name}"], numeric)
    return out
