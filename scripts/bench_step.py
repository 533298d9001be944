#!/usr/bin/env python3
"""One training step's gradients, side by side: generated module, hand-written NumPy, PyTorch, the floor.

    python3 scripts/bench_step.py [--threads N] [--dtypes float32 float64] [--sizes 2-2-1 ...] [--budget S]

For each size and dtype, in one run, the median time of the contenders below,
interleaved in rounds (each round calls every NumPy contender once, in a fresh
random order, so a busy machine slows them alike; PyTorch runs in its own block
just after, since its OpenMP threads keep spinning after each call):

* gen:   the generated module's ``gradients(params, X, Y, out=grads)``, as
         its ``train`` calls it (chainrule generate on ``mlp(...)``);
* gen*:  the same with ``out=None`` (new gradient arrays each call);
* hand:  idiomatic hand-written NumPy, Ng's vectorised equations
         (``dZ = A − Y``, ``dW = (1/m) dZ Aᵀ``, ``db = (1/m) Σ dZ``, ``dA = Wᵀ dZ``, ``dZ = dA ⊙ g'(Z)``);
* torch: PyTorch CPU eager, forward + ``backward()`` (when torch is installed);
* floor: the matrix products alone (forward W A, backward dZ Aᵀ and Wᵀ dZ) into preallocated outputs.

Hidden layers are ReLU; one output unit means σ + binary cross-entropy, ten
mean softmax + cross-entropy.  BLAS threads (OpenBLAS/MKL/OMP and torch) are
set to the same N for every contender before NumPy is imported.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

SIZES = {
    "2-2-1": ([2, 2, 1], 4),
    "6-16-1": ([6, 16, 1], 64),
    "784-128-10": ([784, 128, 10], 128),
    "784-512-512-10": ([784, 512, 512, 10], 256),
    "1000-2000-2000-10": ([1000, 2000, 2000, 10], 512),
}


def parse():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--threads", type=int, default=os.cpu_count() or 1, help="BLAS/torch threads for every contender")
    p.add_argument("--dtypes", nargs="+", default=["float32", "float64"])
    p.add_argument("--sizes", nargs="+", default=list(SIZES), choices=list(SIZES))
    p.add_argument("--budget", type=float, default=20.0, help="seconds of timing per size and dtype (default 20)")
    p.add_argument("--no-torch", action="store_true")
    return p.parse_args()


ARGS = parse() if __name__ == "__main__" else None
if ARGS is not None:
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(ARGS.threads)

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


# ------------------------------------------------------------- contenders
def generated_module(sizes):
    """The module chainrule generates for mlp(sizes), imported."""
    from codegen.emit.load import load_module
    from derive import mlp

    output, loss = ("sigmoid", "binary_cross_entropy") if sizes[-1] == 1 else ("softmax", "cross_entropy")
    name = "bench_" + "_".join(map(str, sizes))
    return load_module(mlp(name, sizes=sizes, hidden="relu", output=output, loss=loss))


def hand_written(params, X, Y):
    """Ng's equations as one would write them by hand in NumPy."""
    L = len(params) // 2
    m = X.shape[1]
    A, Zs, As = X, [], [X]
    for l in range(1, L):
        Z = params[f"W{l}"] @ A + params[f"b{l}"]
        A = np.maximum(Z, 0)
        Zs.append(Z)
        As.append(A)
    Z = params[f"W{L}"] @ A + params[f"b{L}"]
    if Y.shape[0] == 1:
        AL = 1 / (1 + np.exp(-Z))
    else:
        E = np.exp(Z - Z.max(axis=0, keepdims=True))
        AL = E / E.sum(axis=0, keepdims=True)
    grads = {}
    dZ = AL - Y
    for l in range(L, 0, -1):
        grads[f"W{l}"] = (1 / m) * dZ @ As[l - 1].T
        grads[f"b{l}"] = (1 / m) * np.sum(dZ, axis=1, keepdims=True)
        if l > 1:
            dA = params[f"W{l}"].T @ dZ
            dZ = dA * (Zs[l - 2] >= 0)
    return grads


def floor_step(params, X, buffers):
    """Only the matrix products of a step (forward W A, backward dZ Aᵀ and Wᵀ dZ), into preallocated outputs."""
    L = len(params) // 2
    A = X
    for l in range(1, L + 1):
        A = np.matmul(params[f"W{l}"], A, out=buffers[f"Z{l}"])
    for l in range(L, 0, -1):
        dZ = buffers[f"Z{l}"]
        prev = X if l == 1 else buffers[f"Z{l - 1}"]
        np.matmul(dZ, prev.T, out=buffers[f"dW{l}"])
        if l > 1:
            np.matmul(params[f"W{l}"].T, dZ, out=buffers[f"dA{l - 1}"])


def torch_contender(params, X, Y, dtype, threads):
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(threads)
    tdtype = {np.float32: torch.float32, np.float64: torch.float64}[dtype]
    tp = {k: torch.tensor(v, dtype=tdtype, requires_grad=True) for k, v in params.items()}
    tX, tY = torch.tensor(X, dtype=tdtype), torch.tensor(Y, dtype=tdtype)
    labels = torch.tensor(np.argmax(Y, axis=0)) if Y.shape[0] > 1 else None
    L = len(params) // 2
    F = torch.nn.functional

    def step():
        for p in tp.values():
            p.grad = None
        A = tX
        for l in range(1, L):
            A = torch.relu(tp[f"W{l}"] @ A + tp[f"b{l}"])
        Z = tp[f"W{L}"] @ A + tp[f"b{L}"]
        if labels is None:
            J = F.binary_cross_entropy_with_logits(Z, tY)
        else:
            J = F.cross_entropy(Z.T, labels)
        J.backward()
        return {k: p.grad for k, p in tp.items()}

    return step


def make_contenders(module, params, X, Y, out, buffers) -> dict:
    return {
        "floor": lambda: floor_step(params, X, buffers),
        "gen": lambda: module.gradients(params, X, Y, out=out),
        "gen*": lambda: module.gradients(params, X, Y),
        "hand": lambda: hand_written(params, X, Y),
    }


# ---------------------------------------------------------------- timing
def measure(contenders: dict, budget: float, seed: int = 0) -> tuple[dict[str, float], int]:
    """Median seconds per call of each contender: rounds within ``budget`` seconds, each round calling
    every contender once in a fresh random order (so none always runs on another's warm or busy cores)."""
    rng = random.Random(seed)
    for fn in contenders.values():  # warm up: buffers made, caches filled
        fn()
        fn()
    times = {k: [] for k in contenders}
    names = list(contenders)
    start = time.perf_counter()
    rounds = 0
    while rounds < 5 or (time.perf_counter() - start < budget and rounds < 2000):
        rng.shuffle(names)
        for name in names:
            fn = contenders[name]
            t0 = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t0)
        rounds += 1
    return {k: statistics.median(v) for k, v in times.items()}, rounds


def main() -> int:
    args = ARGS
    print(
        f"# one gradient step, median ms (NumPy contenders interleaved in random order, torch in its own block); {args.threads} BLAS thread(s); numpy {np.__version__}",
        end="",
    )
    try:
        import torch

        print(f", torch {torch.__version__}" if not args.no_torch else "")
    except ImportError:
        print(", torch not installed")
    header = f"{'size':<18} {'m':>4} {'dtype':<8} {'floor':>9} {'gen':>9} {'gen*':>9} {'hand':>9} {'torch':>9}   {'gen/floor':>9} {'hand/floor':>10} {'torch/floor':>11} {'gen/hand':>8} {'rounds':>6}"
    print(header)
    for label in args.sizes:
        sizes, m = SIZES[label]
        module = generated_module(sizes)
        for dname in args.dtypes:
            dtype = getattr(np, dname)
            rng = np.random.default_rng(0)
            params = module.init_params(seed=0, dtype=dtype)
            X = rng.standard_normal((sizes[0], m)).astype(dtype)
            if sizes[-1] == 1:
                Y = (rng.random((1, m)) > 0.5).astype(dtype)
            else:
                Y = np.eye(sizes[-1], dtype=dtype)[:, rng.integers(0, sizes[-1], m)]
            out = {k: np.empty_like(v) for k, v in params.items()}
            # the contenders compute the same gradients
            ref = hand_written(params, X, Y)
            got = module.gradients(params, X, Y, out=out)
            tol = 1e-4 if dtype == np.float32 else 1e-10
            for k in params:
                assert np.allclose(got[k], ref[k], rtol=tol, atol=tol * 1e-2), f"{label} {dname}: {k} differs"
            buffers = {}
            for l in range(1, len(sizes)):
                buffers[f"Z{l}"] = np.empty((sizes[l], m), dtype)
                buffers[f"dW{l}"] = np.empty((sizes[l], sizes[l - 1]), dtype)
                buffers[f"dA{l}"] = np.empty((sizes[l], m), dtype)
            contenders = make_contenders(module, params, X, Y, out, buffers)
            t, rounds = measure(contenders, args.budget)
            # PyTorch on its own, after the NumPy contenders: its OpenMP threads and OpenBLAS's spin
            # for a while after each call, and would steal the cores from whichever contender ran next
            torch_step = None if args.no_torch else torch_contender(params, X, Y, dtype, args.threads)
            if torch_step is not None:
                time.sleep(0.5)
                t_torch, _ = measure({"torch": torch_step}, args.budget / 4)
                t["torch"] = t_torch["torch"]
            ms = {k: v * 1000 for k, v in t.items()}
            torch_ms = f"{ms['torch']:>9.3f}" if "torch" in ms else f"{'-':>9}"
            torch_ratio = f"{t['torch'] / t['floor']:>11.2f}" if "torch" in t else f"{'-':>11}"
            print(
                f"{label:<18} {m:>4} {dname:<8} {ms['floor']:>9.3f} {ms['gen']:>9.3f} {ms['gen*']:>9.3f} {ms['hand']:>9.3f} {torch_ms}   "
                f"{t['gen'] / t['floor']:>9.2f} {t['hand'] / t['floor']:>10.2f} {torch_ratio} {t['gen'] / t['hand']:>8.2f} {rounds:>6}",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
