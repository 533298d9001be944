#!/usr/bin/env python3
"""word2vec's training step (the gradients of J for one batch of (center, outside) pairs), as chainrule's generated
modules compute it, against hand-written NumPy (cs224n's one pair at a time, and a vectorised version with
np.add.at) and PyTorch eager autograd, at the catalogue's size and at a larger one, for the naive softmax and
for negative sampling.

    python3 scripts/bench_word2vec.py [--repeat N] [--threads T]

"Generated" is ``gradients(params, X, Y)`` of the module ``chainrule generate`` writes for the declaration
(``word2vec_softmax``, ``word2vec_negative``; the larger size declares the same networks with d = 128,
|V| = 20 000), argument checks included.  Every implementation is checked against the generated one first.
Each is timed ``--repeat`` times; the table gives the fastest CPU time and the fastest wall time of one step, in
float64 on ``--threads`` threads (BLAS and PyTorch alike).  The machine may be shared: CPU time is the steadier
figure.  PyTorch is optional (skipped when it is not installed; never a test dependency).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _threads(argv) -> int:
    for i, a in enumerate(argv):
        if a == "--threads" and i + 1 < len(argv):
            return int(argv[i + 1])
        if a.startswith("--threads="):
            return int(a.split("=", 1)[1])
    return 1


for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):  # before NumPy loads its BLAS
    os.environ[_var] = str(_threads(sys.argv[1:]))

import numpy as np

from codegen.emit.load import load_module
from derive import VecNetwork, binary_cross_entropy, cross_entropy, dots, embed, sigmoid, softmax

SIZES = {  # name: (d, |V|, K, pairs per batch)
    "catalogue (d 16, |V| 88, K 10, 16 pairs)": (16, 88, 10, 16),
    "larger (d 128, |V| 20000, K 10, 512 pairs)": (128, 20000, 10, 512),
}


# ------------------------------------------------------------------ chainrule's generated modules
def declaration(kind: str, d: int, V: int, K: int) -> VecNetwork:
    """The catalogue's declaration (derive/catalogue/word2vec_*.py) at other sizes, without its data section."""
    net = VecNetwork(f"w2v_{kind}_{d}_{V}")  # not the catalogue's name: that one is the module with its data
    dd, nV, k = net.dims(d=d, nV=V, K=K)
    Vm, U = net.param("V", (dd, nV)), net.param("U", (dd, nV))
    c = net.indices("c", 1, nV)
    if kind == "softmax":
        y = net.target("y", nV)
        v_c = net.let("v_c", embed(Vm, c))
        net.let("yhat", softmax(U.T @ v_c))
        net.cost(net.m * cross_entropy(net.handles["yhat"], y))
        return net
    O = net.indices("O", k + 1, nV)
    y = net.target("y", k + 1)
    v_c = net.let("v_c", embed(Vm, c))
    U_O = net.let("U_O", embed(U, O))
    net.let("yhat", sigmoid(net.let("s", dots(U_O, v_c))))
    net.cost(net.m * binary_cross_entropy(net.handles["yhat"], y))
    return net


def generated(kind, d, V, K):
    module = load_module(declaration(kind, d, V, K), f"w2v_{kind}_{d}_{V}")
    return lambda p, X, Y: module.gradients(p, X, Y)


# ------------------------------------------------------------------ hand-written NumPy
def _sigmoid(x):
    return 0.5 * (1 + np.tanh(0.5 * x))


def cs224n_softmax(p, X, Y):
    """cs224n's naiveSoftmaxLossAndGradient, one pair at a time (its outside vectors are U's columns here)."""
    Vm, U = p["V"], p["U"]
    dV, dU = np.zeros_like(Vm), np.zeros_like(U)
    for c, o in zip(X[0], Y):
        v_c = Vm[:, c]
        z = U.T @ v_c
        yhat = np.exp(z - z.max())
        yhat /= yhat.sum()
        yhat[o] -= 1.0  # ŷ − y
        dV[:, c] += U @ yhat
        dU += np.outer(v_c, yhat)
    return {"V": dV, "U": dU}


def numpy_softmax(p, X, Y):
    """The same for the whole batch at once: dz = ŷ − y, dU = v_c dzᵀ, dv_c = U dz, dV by np.add.at."""
    Vm, U = p["V"], p["U"]
    c = X[0]
    v_c = Vm[:, c]
    z = U.T @ v_c
    yhat = np.exp(z - z.max(axis=0))
    yhat /= yhat.sum(axis=0)
    yhat[Y, np.arange(c.size)] -= 1.0
    dV = np.zeros_like(Vm)
    np.add.at(dV.T, c, (U @ yhat).T)
    return {"V": dV, "U": v_c @ yhat.T}


def cs224n_negative(p, X, Y):
    """cs224n's negSamplingLossAndGradient, one pair at a time; a word drawn twice adds twice."""
    Vm, U = p["V"], p["U"]
    dV, dU = np.zeros_like(Vm), np.zeros_like(U)
    for c, o, *ks in X.T:
        v_c = Vm[:, c]
        so = _sigmoid(U[:, o] @ v_c)
        dV[:, c] -= (1 - so) * U[:, o]
        dU[:, o] -= (1 - so) * v_c
        for k in ks:
            sk = _sigmoid(-U[:, k] @ v_c)
            dV[:, c] += (1 - sk) * U[:, k]
            dU[:, k] += (1 - sk) * v_c
    return {"V": dV, "U": dU}


def numpy_negative(p, X, Y):
    """The same for the whole batch at once: the K + 1 looked-up vectors of each pair (einsum) and np.add.at."""
    Vm, U = p["V"], p["U"]
    c, O = X[0], X[1:]
    v_c = Vm[:, c]  # d×m
    U_O = U[:, O]  # d×(K+1)×m
    ds = _sigmoid(np.einsum("dkm,dm->km", U_O, v_c)) - Y
    dv_c = np.einsum("dkm,km->dm", U_O, ds)
    dU = np.zeros_like(U)
    np.add.at(dU.T, O.ravel(), (v_c[:, None, :] * ds[None]).transpose(1, 2, 0).reshape(-1, U.shape[0]))
    dV = np.zeros_like(Vm)
    np.add.at(dV.T, c, dv_c.T)
    return {"V": dV, "U": dU}


# ------------------------------------------------------------------ PyTorch eager
def torch_step(kind):
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(_threads(sys.argv[1:]))

    def step(p, X, Y):
        Vm = torch.from_numpy(p["V"]).requires_grad_()
        U = torch.from_numpy(p["U"]).requires_grad_()
        c = torch.from_numpy(X[0])
        v_c = Vm[:, c]
        if kind == "softmax":
            z = U.T @ v_c
            J = torch.nn.functional.cross_entropy(z.T, torch.from_numpy(Y), reduction="sum")
        else:
            O = torch.from_numpy(X[1:])
            s = torch.einsum("dkm,dm->km", U[:, O], v_c)
            J = torch.nn.functional.binary_cross_entropy_with_logits(s, torch.from_numpy(Y), reduction="sum")
        J.backward()
        return {"V": Vm.grad.numpy(), "U": U.grad.numpy()}

    return step


# ------------------------------------------------------------------ the table
def data(kind, d, V, K, m, seed=0):
    rng = np.random.default_rng(seed)
    p = {"V": rng.normal(0, 0.1, (d, V)), "U": rng.normal(0, 0.1, (d, V))}
    c, o = rng.integers(1, V, m), rng.integers(1, V, m)
    if kind == "softmax":
        return p, c[None, :], o
    samples = rng.integers(1, min(V, 30), (K, m))  # few words: repeated draws, as on a small corpus
    Y = np.zeros((K + 1, m))
    Y[0] = 1.0
    return p, np.vstack([c, o, samples]), Y


def timed(f, args, repeat):
    cpu, wall = [], []
    for _ in range(repeat):
        c0, w0 = time.process_time(), time.perf_counter()
        f(*args)
        cpu.append(time.process_time() - c0)
        wall.append(time.perf_counter() - w0)
    return min(cpu), min(wall)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    print(f"one training step (∂J/∂V and ∂J/∂U of a batch), float64, {args.threads} thread(s), best of {args.repeat}")
    print()
    print("| model | size | implementation | CPU ms | wall ms |")
    print("|---|---|---|---:|---:|")
    for kind in ("softmax", "negative"):
        for label, (d, V, K, m) in SIZES.items():
            p, X, Y = data(kind, d, V, K, m)
            gen = generated(kind, d, V, K)
            runs = {"chainrule (generated)": (gen, (p, X, Y))}  # Y: labels (softmax) or [1; 0 … 0]
            runs["cs224n, one pair at a time"] = ((cs224n_softmax if kind == "softmax" else cs224n_negative), (p, X, Y))
            runs["NumPy, vectorised by hand"] = ((numpy_softmax if kind == "softmax" else numpy_negative), (p, X, Y))
            torch = torch_step(kind)
            if torch is not None:
                runs["PyTorch eager (autograd)"] = (torch, (p, X, Y))
            want = gen(p, X, Y)
            for name, (f, a) in runs.items():
                got = f(*a)
                for q in ("V", "U"):
                    scale = np.abs(want[q]).max()
                    assert np.abs(got[q] - want[q]).max() <= 1e-9 * max(scale, 1e-12), (kind, label, name, q)
            for name, (f, a) in runs.items():
                repeat = args.repeat if "one pair" not in name or m <= 16 else max(3, args.repeat // 5)
                cpu, wall = timed(f, a, repeat)
                print(f"| word2vec_{kind} | {label} | {name} | {1000 * cpu:.3f} | {1000 * wall:.3f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
