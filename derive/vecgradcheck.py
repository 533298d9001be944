"""Check a vectorised derivation numerically: its equations, evaluated with NumPy, against
central finite differences of the cost J = (1/m) Σ L, in float64."""

from __future__ import annotations

import numpy as np

from .vecnumeric import run
from .vectorised import M, VecDerivation


def random_instance(d: VecDerivation, m: int = 5, seed: int = 0, scale: float = 0.5) -> dict:
    """Random inputs, valid targets (0/1, or one-hot columns for softmax) and parameters."""
    net = d.network
    rng = np.random.default_rng(seed)
    shapes = d.concrete_shapes(m)
    env = {}
    for name in net.names("param"):
        env[name] = rng.normal(0.0, scale, shapes[name])
    (x,) = net.names("input")
    (y,) = net.names("target")
    env[x] = rng.normal(0.0, 1.0, shapes[x])
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
    return run(d.equations, env, {**d.network.dim_sizes, M: m})


def cost(d: VecDerivation, env: dict, m: int) -> float:
    return float(run(d.forward, env, {**d.network.dim_sizes, M: m})["J"][0, 0])


def relative_error(a, n, tiny: float = 1e-10) -> float:
    a, n = np.asarray(a, float), np.asarray(n, float)
    return float(np.max(np.abs(a - n) / np.maximum(np.maximum(np.abs(a), np.abs(n)), tiny)))


def check(d: VecDerivation, m: int = 5, seed: int = 0, h: float = 1e-5) -> dict[str, float]:
    """``{param: relative error}`` of each ``d<param>`` against central differences of J."""
    env = random_instance(d, m, seed)
    values = evaluate(d, env, m)
    out = {}
    for name in d.network.names("param"):
        numeric = np.zeros_like(env[name])
        for idx in np.ndindex(*env[name].shape):
            saved = env[name][idx]
            env[name][idx] = saved + h
            plus = cost(d, env, m)
            env[name][idx] = saved - h
            minus = cost(d, env, m)
            env[name][idx] = saved
            numeric[idx] = (plus - minus) / (2 * h)
        out[name] = relative_error(values[f"d{name}"], numeric)
    return out
