#!/usr/bin/env python3
"""A training step with batch normalisation or inverted dropout, side by side: generated, hand-written, PyTorch.

    python3 scripts/bench_topics.py [--threads N] [--dtype float64] [--budget S] [--no-torch]

For a 784-512-10 network (ReLU hidden layer, softmax + cross-entropy, m = 256),
the median time of one step's gradients (forward in training mode and
backward), the contenders interleaved in random order within each round:

* gen:   the generated module's ``gradients(params, X, Y, out=grads, seed=s)``,
         for the same declarations as the catalogue's ``batchnorm_mlp`` and
         ``dropout_mlp`` at these sizes;
* hand:  idiomatic hand-written NumPy in cs231n's forms (assignment 2):
         ``batchnorm_forward`` (training) and ``batchnorm_backward_alt``;
         ``dropout_forward`` with ``mask = (np.random.rand(*x.shape) < p) / p``;
* torch: PyTorch CPU eager, ``F.batch_norm(training=True)`` / ``F.dropout``,
         forward + ``backward()`` (torch in its own block after the NumPy ones).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

ARGS = None
if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    p.add_argument("--dtype", default="float64", choices=["float32", "float64"])
    p.add_argument("--budget", type=float, default=15.0, help="seconds of timing per network (default 15)")
    p.add_argument("--no-torch", action="store_true")
    ARGS = p.parse_args()
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(ARGS.threads)

import numpy as np
import sympy as sp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
N0, N1, N2, M = 784, 512, 10, 256
KEEP, EPS = 0.86, 1e-5


def declare(kind: str):
    from derive import VecNetwork, cross_entropy, hadamard, mean_columns, power, relu

    net = VecNetwork(f"bench_{kind}")
    n0, n1, n2 = net.dims(n0=N0, n1=N1, n2=N2)
    X, Y = net.input("X", n0), net.target("Y", n2)
    W2, b2 = net.param("W2", (n2, n1)), net.param("b2", (n2, 1))
    if kind == "batchnorm":
        eps = net.constant("eps", EPS)
        W1 = net.param("W1", (n1, n0))
        gamma1, beta1 = net.param("gamma1", (n1, 1)), net.param("beta1", (n1, 1))
        Z1 = net.let("Z1", W1 * X)
        mu1 = net.let("mu1", mean_columns(Z1))
        C1 = net.let("C1", Z1 - mu1)
        var1 = net.let("var1", mean_columns(hadamard(C1, C1)))
        Zhat1 = net.let("Zhat1", hadamard(C1, power(var1 + eps, sp.Rational(-1, 2))))
        A1 = net.let("A1", relu(net.let("Ztilde1", hadamard(gamma1, Zhat1) + beta1)))
    else:
        keep = net.constant("keep_prob", KEEP)
        D1 = net.mask("D1", n1, keep)
        W1, b1 = net.param("W1", (n1, n0)), net.param("b1", (n1, 1))
        A1 = net.let("A1", relu(net.let("Z1", W1 * X + b1)))
        A1 = net.let("Atilde1", hadamard(A1, D1) / keep)
    A2 = net.activation("A2", "softmax", net.let("Z2", W2 * A1 + b2))
    net.cost(cross_entropy(A2, Y))
    return net


def _softmax_grad(Z2, Y):
    E = np.exp(Z2 - Z2.max(axis=0, keepdims=True))
    return (E / E.sum(axis=0, keepdims=True) - Y) / Y.shape[1]


def hand_batchnorm(p, X, Y):
    """cs231n: affine → batchnorm_forward (train) → ReLU → affine → softmax; batchnorm_backward_alt."""
    # the layer is written feature-by-row here (X: n0×m), so the batch axis is 1
    h = p["W1"] @ X
    mu = h.mean(axis=1, keepdims=True)
    var = h.var(axis=1, keepdims=True)
    inv_std = 1.0 / np.sqrt(var + EPS)
    xhat = (h - mu) * inv_std
    out = p["gamma1"] * xhat + p["beta1"]
    a = np.maximum(out, 0)
    dz2 = _softmax_grad(p["W2"] @ a + p["b2"], Y)
    g = {"W2": dz2 @ a.T, "b2": dz2.sum(axis=1, keepdims=True)}
    dout = (p["W2"].T @ dz2) * (out > 0)
    g["gamma1"] = np.sum(dout * xhat, axis=1, keepdims=True)
    g["beta1"] = np.sum(dout, axis=1, keepdims=True)
    N = X.shape[1]
    dh = (1.0 / N) * p["gamma1"] * inv_std * (N * dout - g["beta1"] - xhat * g["gamma1"])
    g["W1"] = dh @ X.T
    return g


def hand_dropout(p, X, Y, seed):
    """cs231n: affine → ReLU → dropout_forward (train, mask = (rand < p) / p) → affine → softmax."""
    rng = np.random.default_rng(seed)
    h = p["W1"] @ X + p["b1"]
    a = np.maximum(h, 0)
    mask = (rng.random(a.shape) < KEEP) / KEEP
    ad = a * mask
    dz2 = _softmax_grad(p["W2"] @ ad + p["b2"], Y)
    g = {"W2": dz2 @ ad.T, "b2": dz2.sum(axis=1, keepdims=True)}
    dh = (p["W2"].T @ dz2) * mask * (h > 0)
    g["W1"] = dh @ X.T
    g["b1"] = dh.sum(axis=1, keepdims=True)
    return g


def torch_step(kind, p, X, Y, dtype, threads):
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(threads)
    F = torch.nn.functional
    tdtype = torch.float32 if dtype == np.float32 else torch.float64
    tp = {k: torch.tensor(v, dtype=tdtype, requires_grad=True) for k, v in p.items() if not k.startswith("running")}
    tX = torch.tensor(X.T.copy(), dtype=tdtype)  # torch is example-by-row
    labels = torch.tensor(np.argmax(Y, axis=0))

    def step():
        for t in tp.values():
            t.grad = None
        if kind == "batchnorm":
            h = tX @ tp["W1"].T
            h = F.batch_norm(h, None, None, tp["gamma1"][:, 0], tp["beta1"][:, 0], training=True, eps=EPS)
            a = torch.relu(h)
        else:
            a = F.dropout(torch.relu(tX @ tp["W1"].T + tp["b1"][:, 0]), p=1 - KEEP, training=True)
        J = F.cross_entropy(a @ tp["W2"].T + tp["b2"][:, 0], labels)
        J.backward()

    return step


def measure(contenders: dict, budget: float) -> dict:
    rng = random.Random(0)
    for fn in contenders.values():
        fn()
        fn()
    times = {k: [] for k in contenders}
    names = list(contenders)
    start, rounds = time.perf_counter(), 0
    while rounds < 5 or (time.perf_counter() - start < budget and rounds < 1000):
        rng.shuffle(names)
        for name in names:
            t0 = time.perf_counter()
            contenders[name]()
            times[name].append(time.perf_counter() - t0)
        rounds += 1
    return {k: statistics.median(v) * 1e3 for k, v in times.items()}


def main() -> int:
    from codegen.emit.load import load_module

    args = ARGS
    dtype = np.float32 if args.dtype == "float32" else np.float64
    rng = np.random.default_rng(0)
    X = rng.standard_normal((N0, M)).astype(dtype)
    Y = np.eye(N2, dtype=dtype)[:, rng.integers(0, N2, M)]
    print(
        f"# one training step's gradients, median ms; {N0}-{N1}-{N2}, m = {M}, {args.dtype}, {args.threads} thread(s)"
    )
    print(f"{'network':<12} {'gen':>8} {'hand':>8} {'torch':>8}   {'gen/hand':>8} {'gen/torch':>9}")
    for kind in ("batchnorm", "dropout"):
        module = load_module(declare(kind))  # the module chainrule generates, imported
        params = module.init_params(seed=0, dtype=dtype)
        out = {k: np.empty_like(params[k]) for k in module.PARAMS}
        seeds = iter(range(10**9))
        if kind == "batchnorm":
            contenders = {
                "gen": lambda module=module, params=params, out=out: module.gradients(params, X, Y, out=out),
                "hand": lambda params=params: hand_batchnorm(params, X, Y),
            }
            ours, theirs = module.gradients(params, X, Y), hand_batchnorm(params, X, Y)
        else:
            contenders = {
                "gen": lambda module=module, params=params, out=out, seeds=seeds: module.gradients(
                    params, X, Y, out=out, seed=next(seeds)
                ),
                "hand": lambda params=params, seeds=seeds: hand_dropout(params, X, Y, next(seeds)),
            }
            ours, theirs = module.gradients(params, X, Y, seed=7), hand_dropout(params, X, Y, 7)
        worst = max(float(np.max(np.abs(ours[k] - theirs[k])) / max(np.max(np.abs(theirs[k])), 1e-30)) for k in theirs)
        assert worst < (1e-4 if dtype == np.float32 else 1e-9), f"{kind}: generated and hand differ by {worst:.1e}"
        times = measure(contenders, args.budget)
        torch_ms = float("nan")
        step = None if args.no_torch else torch_step(kind, params, X, Y, dtype, args.threads)
        if step is not None:
            torch_ms = measure({"torch": step}, args.budget / 2)["torch"]
        print(
            f"{kind:<12} {times['gen']:>8.3f} {times['hand']:>8.3f} {torch_ms:>8.3f}   "
            f"{times['gen'] / times['hand']:>8.2f} {times['gen'] / torch_ms:>9.2f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
