#!/usr/bin/env python3
"""Every contender in one run, side by side: one training step's gradients, median ms.

    python3 scripts/bench.py [--threads N] [--budget S] [--cases NAME ...] [--dtypes float32 float64]
                             [--json FILE] [--no-torch] [--gpu]

The contenders, each computing the same gradients of the same cost from the same parameters and data
(checked before timing):

* numpy:    the generated NumPy module's ``gradients(params, X, Y, out=grads)``, as its ``train`` calls it;
* jax:      the generated JAX module's jit-compiled gradients (the derived equations, the function its
            ``train_step`` runs), on arrays already on the device;
* hand:     idiomatic hand-written NumPy of the lecture's equations (bench_step's for the MLPs);
* torch:    PyTorch eager, forward + ``backward()`` (when torch is installed: never a chainrule dependency);
* jax.grad: ``jax.jit(jax.grad(loss))`` of a hand-written JAX loss.

The cases: the MLP sizes of bench_step (ReLU hidden; one output σ + BCE, ten softmax + CE); an MLP with
batch normalisation before each ReLU (784-512-512-10, m = 256); an LSTM (Ng's cell, d = n = 256, T = 64,
batch 32, a label from its last state); a transformer block (causal attention, residual, layer norm, a
feedforward network of 4d ReLU units; d = 256, T = 128, batch 32, |V| = 64, the next token at every
position).  The NumPy contenders and the two JAX ones run interleaved in rounds, each round in a fresh random
order (bench_step's ``measure``: a busy machine slows them alike); PyTorch runs in its own block just after
(its OpenMP threads spin after each call), or in the same rounds with --threads 1.  BLAS and torch get
the same thread count, and the process is held to that many cores (XLA's runtime takes a thread per core).

Prints one table and writes JSON (default ``bench.json``): per case and dtype every contender's median ms,
and the ratios numpy/hand, numpy/torch and jax/jax.grad.  With --gpu the JAX contenders and PyTorch run on
the GPU (``pip install 'jax[cuda12]'`` and a CUDA torch), NumPy on the CPU.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MLP_SIZES = ("2-2-1", "6-16-1", "784-128-10", "784-512-512-10", "1000-2000-2000-10")
CASES = (*MLP_SIZES, "batchnorm", "lstm", "transformer")


def parse():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--threads", type=int, default=os.cpu_count() or 1, help="BLAS, torch and XLA threads")
    p.add_argument("--budget", type=float, default=10.0, help="seconds of timing per case and dtype (default 10)")
    p.add_argument("--cases", nargs="+", default=list(CASES), choices=CASES)
    p.add_argument("--dtypes", nargs="+", default=["float32"], choices=["float32", "float64"])
    p.add_argument("--json", default="bench.json", help="where to write the figures (default bench.json)")
    p.add_argument("--no-torch", action="store_true")
    p.add_argument("--gpu", action="store_true", help="the JAX contenders and PyTorch on the GPU")
    p.add_argument(
        "--clock",
        choices=("wall", "cpu"),
        default="wall",
        help="what the table shows: wall-clock time (default; on a quiet machine), or the process's CPU time"
        " (every thread's; with --threads 1 the work itself, less distorted by other jobs on a busy machine)",
    )
    return p.parse_args()


ARGS = parse() if __name__ == "__main__" else None
if ARGS is not None:
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(ARGS.threads)
    if ARGS.threads < (os.cpu_count() or 1) and not ARGS.gpu:
        # XLA's CPU runtime keeps a thread per core whatever its flags say: the process is held to as many cores
        # as the other contenders get threads, so every contender has the same CPU to spend
        os.sched_setaffinity(0, range(ARGS.threads))
    if not ARGS.gpu:
        os.environ.setdefault("JAX_PLATFORMS", "cpu")

import jax
import jax.numpy as jnp
import numpy as np
import sympy as sp

sys.path.insert(0, str(ROOT))
_spec = importlib.util.spec_from_file_location("bench_step", ROOT / "scripts" / "bench_step.py")
bench_step = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench_step)

from codegen.emit.backends import JAX, NUMPY
from codegen.emit.load import load_module
from derive import (
    VecNetwork,
    binary_cross_entropy,
    cross_entropy,
    hadamard,
    mean_columns,
    mlp,
    power,
    relu,
    sigmoid,
    softmax,
    tanh,
)
from derive.catalogue import transformer_block

EPS = 1e-5


# ----------------------------------------------------------------- the declarations
def mlp_net(sizes):
    output, loss = ("sigmoid", "binary_cross_entropy") if sizes[-1] == 1 else ("softmax", "cross_entropy")
    return mlp("bench_" + "_".join(map(str, sizes)), sizes=sizes, hidden="relu", output=output, loss=loss)


def batchnorm_net(sizes):
    """Batch normalisation before every ReLU (no bias there: β takes its place), softmax + CE."""
    net = VecNetwork("bench_batchnorm")
    dims = net.dims(**{f"n{i}": s for i, s in enumerate(sizes)})
    A, Y = net.input("X", dims[0]), net.target("Y", dims[-1])
    eps = net.constant("eps", EPS)
    for l in range(1, len(sizes) - 1):
        W = net.param(f"W{l}", (dims[l], dims[l - 1]))
        gamma, beta = net.param(f"gamma{l}", (dims[l], 1)), net.param(f"beta{l}", (dims[l], 1))
        Z = net.let(f"Z{l}", W * A)
        C = net.let(f"C{l}", Z - net.let(f"mu{l}", mean_columns(Z)))
        var = net.let(f"var{l}", mean_columns(hadamard(C, C)))
        Zhat = net.let(f"Zhat{l}", hadamard(C, power(var + eps, sp.Rational(-1, 2))))
        A = net.let(f"A{l}", relu(net.let(f"Ztilde{l}", hadamard(gamma, Zhat) + beta)))
    L = len(sizes) - 1
    W, b = net.param(f"W{L}", (dims[L], dims[L - 1])), net.param(f"b{L}", (dims[L], 1))
    net.cost(cross_entropy(softmax(net.let(f"Z{L}", W * A + b)), Y))
    return net


def lstm_net(d, n, T):
    """Ng's LSTM cell over numeric inputs, a label from the last state: ŷ = σ(Vy a_T + by), BCE."""
    net = VecNetwork("bench_lstm")
    d_, n_, k = net.dims(d=d, n=n, k=1)
    gate = {
        g: (net.param(f"W{g}", (n_, n_)), net.param(f"U{g}", (n_, d_)), net.param(f"b{g}", (n_, 1))) for g in "fuco"
    }
    net.sequence("T", T)
    with net.step():
        x = net.input("x", d_)
        a_prev, c_prev = net.state("a", n_), net.state("c", n_)

        def pre(g):
            W, U, b = gate[g]
            return net.let(f"Z{g}", W * a_prev + U * x + b)

        Gf, Gu = net.let("Gf", sigmoid(pre("f"))), net.let("Gu", sigmoid(pre("u")))
        ct, Go = net.let("ctilde", tanh(pre("c"))), net.let("Go", sigmoid(pre("o")))
        c = net.let("c", hadamard(Gf, c_prev) + hadamard(Gu, ct))
        net.let("a", hadamard(Go, tanh(c)))
    Y = net.target("Y", k)
    Vy, by = net.param("Vy", (k, n_)), net.param("by", (k, 1))
    net.cost(binary_cross_entropy(sigmoid(net.let("o", Vy * net.handles["a"] + by)), Y))
    return net


def transformer_net(d, dff, nv):
    """The catalogue's transformer_block at other sizes: causal attention, residual, layer norm, feedforward."""
    net = VecNetwork("bench_transformer")
    transformer_block.declare(net, *net.dims(d=d, dff=dff, nv=nv), eps=EPS)
    return net


# ----------------------------------------------------------------- hand-written NumPy
def bn_hand(params, X, Y):
    """cs231n's batch norm, forward and batchnorm_backward_alt, before each ReLU; softmax + CE."""
    L, m = sum(k.startswith("W") for k in params), X.shape[1]
    A, cache = X, []
    for l in range(1, L):
        Z = params[f"W{l}"] @ A
        mu = Z.mean(axis=1, keepdims=True)
        var = Z.var(axis=1, keepdims=True)
        Zhat = (Z - mu) / np.sqrt(var + EPS)
        Zt = params[f"gamma{l}"] * Zhat + params[f"beta{l}"]
        cache.append((A, Zhat, var, Zt))
        A = np.maximum(Zt, 0)
    Z = params[f"W{L}"] @ A + params[f"b{L}"]
    E = np.exp(Z - Z.max(axis=0, keepdims=True))
    dZ = (E / E.sum(axis=0, keepdims=True) - Y) / m
    grads = {f"W{L}": dZ @ A.T, f"b{L}": dZ.sum(axis=1, keepdims=True)}
    dA = params[f"W{L}"].T @ dZ
    for l in range(L - 1, 0, -1):
        A_prev, Zhat, var, Zt = cache[l - 1]
        dZt = dA * (Zt >= 0)
        grads[f"beta{l}"] = dZt.sum(axis=1, keepdims=True)
        grads[f"gamma{l}"] = (dZt * Zhat).sum(axis=1, keepdims=True)
        dZhat = dZt * params[f"gamma{l}"]
        dZ = (m * dZhat - dZhat.sum(axis=1, keepdims=True) - Zhat * (dZhat * Zhat).sum(axis=1, keepdims=True)) / (
            m * np.sqrt(var + EPS)
        )
        grads[f"W{l}"] = dZ @ A_prev.T
        dA = params[f"W{l}"].T @ dZ
    return grads


def lstm_hand(params, X, Y):
    """Ng's lstm_forward / lstm_backward (deeplearning.ai course 5), a label from the last state."""
    T, m = X.shape[0], X.shape[-1]
    n = params["Wf"].shape[0]
    sig = lambda z: 0.5 * (1 + np.tanh(0.5 * z))
    a, c = np.zeros((n, m), X.dtype), np.zeros((n, m), X.dtype)
    steps = []
    for t in range(T):
        x = X[t]
        f = sig(params["Wf"] @ a + params["Uf"] @ x + params["bf"])
        u = sig(params["Wu"] @ a + params["Uu"] @ x + params["bu"])
        ct = np.tanh(params["Wc"] @ a + params["Uc"] @ x + params["bc"])
        o = sig(params["Wo"] @ a + params["Uo"] @ x + params["bo"])
        c_new = f * c + u * ct
        tc = np.tanh(c_new)
        steps.append((x, a, c, f, u, ct, o, tc))
        a, c = o * tc, c_new
    do = (sig(params["Vy"] @ a + params["by"]) - Y) / m
    grads = {"Vy": do @ a.T, "by": do.sum(axis=1, keepdims=True)}
    for name in params:
        if name[0] in "WUb" and name not in grads:
            grads[name] = np.zeros_like(params[name])
    da, dc = params["Vy"].T @ do, np.zeros((n, m), X.dtype)
    for x, a_prev, c_prev, f, u, ct, o, tc in reversed(steps):
        dc = dc + da * o * (1 - tc * tc)
        dZ = {
            "o": da * tc * o * (1 - o),
            "c": dc * u * (1 - ct * ct),
            "u": dc * ct * u * (1 - u),
            "f": dc * c_prev * f * (1 - f),
        }
        da = 0
        for g, dz in dZ.items():
            grads[f"W{g}"] += dz @ a_prev.T
            grads[f"U{g}"] += dz @ x.T
            grads[f"b{g}"] += dz.sum(axis=1, keepdims=True)
            da = da + params[f"W{g}"].T @ dz
        dc = dc * f
    return grads


def transformer_hand(params, X, Y1):
    """The transformer block's backward written out by hand, batched: B sequences of T positions (X: T×B word
    indices, Y1: B×T×|V| one-hot next tokens)."""
    p = params
    B, T = X.shape[1], X.shape[0]
    d = p["Wq"].shape[0]
    tokens = X.T  # B×T
    x = p["E"].T[tokens]  # B×T×d
    q, k, v = x @ p["Wq"], x @ p["Wk"], x @ p["Wv"]
    s = np.where(np.tri(T, dtype=bool), q @ k.transpose(0, 2, 1) / d**0.5, -np.inf)  # d**0.5: a float, not float64
    e = np.exp(s - s.max(axis=-1, keepdims=True))
    P = e / e.sum(axis=-1, keepdims=True)
    h = x + P @ v
    c = h - h.mean(axis=-1, keepdims=True)
    var = (c * c).mean(axis=-1, keepdims=True)
    hhat = c / np.sqrt(var + EPS)
    ht = p["gamma"] * hhat + p["beta"]
    g1 = ht @ p["W1"] + p["b1"]
    f1 = np.maximum(g1, 0)
    h2 = ht + f1 @ p["W2"] + p["b2"]
    z = h2 @ p["Wo"].T + p["bo"][:, 0]
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    dz = (e / e.sum(axis=-1, keepdims=True) - Y1) / (B * T)
    flat = lambda a: a.reshape(-1, a.shape[-1])
    grads = {"Wo": flat(dz).T @ flat(h2), "bo": flat(dz).sum(axis=0)[:, None]}
    dh2 = dz @ p["Wo"]
    grads["W2"], grads["b2"] = flat(f1).T @ flat(dh2), flat(dh2).sum(axis=0, keepdims=True)
    dg1 = (dh2 @ p["W2"].T) * (g1 >= 0)
    grads["W1"], grads["b1"] = flat(ht).T @ flat(dg1), flat(dg1).sum(axis=0, keepdims=True)
    dht = dg1 @ p["W1"].T + dh2
    grads["beta"], grads["gamma"] = flat(dht).sum(axis=0, keepdims=True), flat(dht * hhat).sum(axis=0, keepdims=True)
    dhhat = dht * p["gamma"]
    dh = (d * dhhat - dhhat.sum(axis=-1, keepdims=True) - hhat * (dhhat * hhat).sum(axis=-1, keepdims=True)) / (
        d * np.sqrt(var + EPS)
    )
    dP = dh @ v.transpose(0, 2, 1)
    dv = P.transpose(0, 2, 1) @ dh
    ds = P * (dP - (dP * P).sum(axis=-1, keepdims=True)) / d**0.5
    dq, dk = ds @ k, ds.transpose(0, 2, 1) @ q
    grads["Wq"], grads["Wk"], grads["Wv"] = flat(x).T @ flat(dq), flat(x).T @ flat(dk), flat(x).T @ flat(dv)
    dx = dh + dq @ p["Wq"].T + dk @ p["Wk"].T + dv @ p["Wv"].T
    dE = np.zeros_like(p["E"].T)
    np.add.at(dE, tokens, dx)
    grads["E"] = dE.T
    return grads


# ----------------------------------------------------------------- hand-written JAX losses
def mlp_loss(params, X, Y):
    L = len(params) // 2
    A = X
    for l in range(1, L):
        A = jax.nn.relu(params[f"W{l}"] @ A + params[f"b{l}"])
    Z = params[f"W{L}"] @ A + params[f"b{L}"]
    if Y.shape[0] == 1:
        return jnp.mean(jax.nn.softplus(Z) - Y * Z)  # BCE of σ(Z), smooth at Z = 0
    return -jnp.mean(jnp.sum(Y * jax.nn.log_softmax(Z, axis=0), axis=0))


def bn_loss(params, X, Y):
    L = sum(k.startswith("W") for k in params)
    A = X
    for l in range(1, L):
        Z = params[f"W{l}"] @ A
        Zhat = (Z - Z.mean(axis=1, keepdims=True)) / jnp.sqrt(Z.var(axis=1, keepdims=True) + EPS)
        A = jax.nn.relu(params[f"gamma{l}"] * Zhat + params[f"beta{l}"])
    Z = params[f"W{L}"] @ A + params[f"b{L}"]
    return -jnp.mean(jnp.sum(Y * jax.nn.log_softmax(Z, axis=0), axis=0))


def lstm_loss(params, X, Y):
    n, m = params["Wf"].shape[0], X.shape[-1]

    def step(state, x):
        a, c = state
        f = jax.nn.sigmoid(params["Wf"] @ a + params["Uf"] @ x + params["bf"])
        u = jax.nn.sigmoid(params["Wu"] @ a + params["Uu"] @ x + params["bu"])
        ct = jnp.tanh(params["Wc"] @ a + params["Uc"] @ x + params["bc"])
        o = jax.nn.sigmoid(params["Wo"] @ a + params["Uo"] @ x + params["bo"])
        c = f * c + u * ct
        return (o * jnp.tanh(c), c), None

    zeros = jnp.zeros((n, m), X.dtype)
    (a, _), _ = jax.lax.scan(step, (zeros, zeros), X)
    z = params["Vy"] @ a + params["by"]
    return jnp.mean(jax.nn.softplus(z) - Y * z)  # BCE of σ(z)


def transformer_loss(params, X, Y1):
    p = params
    T, d = X.shape[0], p["Wq"].shape[0]
    x = p["E"].T[X.T]
    q, k, v = x @ p["Wq"], x @ p["Wk"], x @ p["Wv"]
    s = jnp.where(jnp.tri(T, dtype=bool), q @ k.transpose(0, 2, 1) / np.sqrt(d), -jnp.inf)
    h = x + jax.nn.softmax(s, axis=-1) @ v
    c = h - h.mean(axis=-1, keepdims=True)
    ht = p["gamma"] * c / jnp.sqrt((c * c).mean(axis=-1, keepdims=True) + EPS) + p["beta"]
    h2 = ht + jax.nn.relu(ht @ p["W1"] + p["b1"]) @ p["W2"] + p["b2"]
    z = h2 @ p["Wo"].T + p["bo"][:, 0]
    return -jnp.mean(jnp.sum(Y1 * jax.nn.log_softmax(z, axis=-1), axis=-1))


# ----------------------------------------------------------------- PyTorch eager
def torch_step(case, params, X, Y, dtype, threads, device):
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(threads)
    tdtype = {np.float32: torch.float32, np.float64: torch.float64}[dtype]
    tp = {k: torch.tensor(np.asarray(v), dtype=tdtype, device=device, requires_grad=True) for k, v in params.items()}
    F = torch.nn.functional
    if case == "batchnorm":
        tX, labels = torch.tensor(X, dtype=tdtype, device=device), torch.tensor(np.argmax(Y, axis=0), device=device)
        L = sum(k.startswith("W") for k in params)

        def cost():
            A = tX.T  # m × n0: PyTorch's layout
            for l in range(1, L):
                Z = A @ tp[f"W{l}"].T
                A = F.relu(
                    F.batch_norm(Z, None, None, tp[f"gamma{l}"][:, 0], tp[f"beta{l}"][:, 0], training=True, eps=EPS)
                )
            return F.cross_entropy(A @ tp[f"W{L}"].T + tp[f"b{L}"][:, 0], labels)

    elif case == "lstm":
        tX, tY = torch.tensor(X, dtype=tdtype, device=device), torch.tensor(Y, dtype=tdtype, device=device)

        def cost():
            a = torch.zeros(tp["Wf"].shape[0], X.shape[-1], dtype=tdtype, device=device)
            c = a
            for t in range(X.shape[0]):
                x = tX[t]
                f = torch.sigmoid(tp["Wf"] @ a + tp["Uf"] @ x + tp["bf"])
                u = torch.sigmoid(tp["Wu"] @ a + tp["Uu"] @ x + tp["bu"])
                ct = torch.tanh(tp["Wc"] @ a + tp["Uc"] @ x + tp["bc"])
                o = torch.sigmoid(tp["Wo"] @ a + tp["Uo"] @ x + tp["bo"])
                c = f * c + u * ct
                a = o * torch.tanh(c)
            return F.binary_cross_entropy_with_logits(tp["Vy"] @ a + tp["by"], tY)

    else:  # transformer
        ids = torch.tensor(X.T, device=device)  # B × T
        labels = torch.tensor(np.argmax(Y, axis=1).T, device=device)  # B × T
        T, d = X.shape[0], params["Wq"].shape[0]
        mask = torch.ones(T, T, dtype=torch.bool, device=device).tril()

        def cost():
            x = tp["E"].T[ids]
            q, k, v = x @ tp["Wq"], x @ tp["Wk"], x @ tp["Wv"]
            s = (q @ k.transpose(1, 2) / d**0.5).masked_fill(~mask, float("-inf"))
            h = x + torch.softmax(s, dim=-1) @ v
            ht = F.layer_norm(h, (d,), tp["gamma"][0], tp["beta"][0], eps=EPS)
            h2 = ht + F.relu(ht @ tp["W1"] + tp["b1"]) @ tp["W2"] + tp["b2"]
            z = h2 @ tp["Wo"].T + tp["bo"][:, 0]
            return F.cross_entropy(z.reshape(-1, z.shape[-1]), labels.reshape(-1))

    def step():
        for t in tp.values():
            t.grad = None
        cost().backward()
        if device != "cpu":
            torch.cuda.synchronize()
        return {k: t.grad for k, t in tp.items()}

    return step


# ----------------------------------------------------------------- the cases
def case_of(name, dtype, rng):
    """(declaration, X, Y, hand-written NumPy gradients, hand-written JAX loss, m) of case ``name``."""
    if name in MLP_SIZES:
        sizes, m = bench_step.SIZES[name]
        X = rng.standard_normal((sizes[0], m)).astype(dtype)
        Y = (
            (rng.random((1, m)) > 0.5).astype(dtype)
            if sizes[-1] == 1
            else np.eye(sizes[-1], dtype=dtype)[:, rng.integers(0, 10, m)]
        )
        return mlp_net(sizes), X, Y, bench_step.hand_written, mlp_loss, m
    if name == "batchnorm":
        X = rng.standard_normal((784, 256)).astype(dtype)
        Y = np.eye(10, dtype=dtype)[:, rng.integers(0, 10, 256)]
        return batchnorm_net([784, 512, 512, 10]), X, Y, bn_hand, bn_loss, 256
    if name == "lstm":
        X = rng.standard_normal((64, 256, 32)).astype(dtype)
        Y = (rng.random((1, 32)) > 0.5).astype(dtype)
        return lstm_net(256, 256, 64), X, Y, lstm_hand, lstm_loss, 32
    X = rng.integers(1, 64, (128, 32))  # T×B tokens (0 is padding: never drawn)
    Y = np.eye(64, dtype=dtype)[rng.integers(1, 64, (128, 32))].transpose(0, 2, 1)  # T×|V|×B one-hot
    hand_Y = Y.transpose(2, 0, 1)  # B×T×|V|, the hand-written layout
    return (
        transformer_net(256, 1024, 64),
        X,
        Y,
        lambda p, X_, Y_: transformer_hand(p, X_, hand_Y),
        lambda p, X_, Y_: transformer_loss(p, X_, jnp.transpose(Y_, (2, 0, 1))),
        32,
    )


def measure(contenders: dict, budget: float, seed: int = 0) -> tuple[dict, dict, int]:
    """Median wall-clock and CPU seconds per call of each contender: rounds within ``budget`` seconds (at least
    5), each calling every contender once in a fresh random order (as bench_step's ``measure``)."""
    rng = random.Random(seed)
    for fn in contenders.values():  # warm up: compiled, buffers made, caches filled
        fn()
        fn()
    wall, cpu = {k: [] for k in contenders}, {k: [] for k in contenders}
    names, start, rounds = list(contenders), time.perf_counter(), 0
    while rounds < 5 or (time.perf_counter() - start < budget and rounds < 2000):
        rng.shuffle(names)
        for name in names:
            w0, c0 = time.perf_counter(), time.process_time()
            contenders[name]()
            cpu[name].append(time.process_time() - c0)
            wall[name].append(time.perf_counter() - w0)
        rounds += 1
    return {k: statistics.median(v) for k, v in wall.items()}, {k: statistics.median(v) for k, v in cpu.items()}, rounds


def relative(a, b) -> float:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(a) + np.linalg.norm(b), 1e-30))


def run_case(name, dname, args, modules):
    dtype = getattr(np, dname)
    rng = np.random.default_rng(0)
    net, X, Y, hand, jax_loss, m = case_of(name, dtype, rng)
    if name not in modules:
        modules[name] = (load_module(net, backend=NUMPY), load_module(net, backend=JAX))
    gen, gen_jax = modules[name]
    params = gen.init_params(seed=0, dtype=dtype)
    params = {k: v for k, v in params.items() if k in gen.PARAMS}
    out = {k: np.empty_like(v) for k, v in params.items()}
    device_params = {k: jnp.asarray(v) for k, v in params.items()}
    Xj, Yj = gen_jax._arrays(device_params, *gen_jax.check_data(X, Y))
    key = jax.random.key(0)
    derived = gen_jax._gradients_jit
    automatic = jax.jit(jax.grad(jax_loss))

    def jax_step():
        return jax.block_until_ready(derived(device_params, Xj, Yj, key, gen_jax.CONSTS)[0])

    def grad_step():
        return jax.block_until_ready(automatic(device_params, Xj, Yj))

    # every contender computes the same gradients
    tol = 1e-3 if dtype == np.float32 else 1e-9
    want = {k: np.asarray(v) for k, v in gen.gradients(params, X, Y).items()}
    for label, got in (("hand", hand(params, X, Y)), ("jax", jax_step()), ("jax.grad", grad_step())):
        for k, value in want.items():
            assert relative(got[k], value) <= tol, f"{name} {dname}: {label}'s ∂J/∂{k} differs"
    contenders = {
        "numpy": lambda: gen.gradients(params, X, Y, out=out),
        "hand": lambda: hand(params, X, Y),
        "jax": jax_step,
        "jax.grad": grad_step,
    }
    device = "cuda" if args.gpu else "cpu"
    step = None if args.no_torch else torch_step_of(name, params, X, Y, dtype, args.threads, device)
    if step is not None:
        for k, v in step().items():
            assert relative(v.detach().cpu().numpy(), want[k]) <= tol, f"{name} {dname}: torch's ∂J/∂{k} differs"
    together = step is not None and args.threads == 1 and not args.gpu  # one thread: no OpenMP spin to steal cores
    wall, cpu, rounds = measure({**contenders, "torch": step} if together else contenders, args.budget)
    if step is not None and not together:
        time.sleep(0.5)
        torch_wall, torch_cpu, _ = measure({"torch": step}, args.budget / 2)
        wall["torch"], cpu["torch"] = torch_wall["torch"], torch_cpu["torch"]
    return {
        "case": name,
        "m": m,
        "dtype": dname,
        "rounds": rounds,
        "ms": {k: v * 1000 for k, v in (cpu if args.clock == "cpu" else wall).items()},
        "wall_ms": {k: v * 1000 for k, v in wall.items()},
        "cpu_ms": {k: v * 1000 for k, v in cpu.items()},
    }


def torch_step_of(name, params, X, Y, dtype, threads, device):
    if name in MLP_SIZES:
        return bench_step.torch_contender(params, X, Y, dtype, threads) if device == "cpu" else None
    return torch_step(name, params, X, Y, dtype, threads, device)


COLUMNS = ("numpy", "jax", "hand", "torch", "jax.grad")


def row_text(row) -> str:
    ms = row["ms"]
    cells = " ".join(f"{ms[c]:>9.3f}" if c in ms else f"{'-':>9}" for c in COLUMNS)
    ratio = lambda a, b: f"{ms[a] / ms[b]:>8.2f}" if a in ms and b in ms else f"{'-':>8}"
    return (
        f"{row['case']:<18} {row['m']:>4} {row['dtype']:<8} {cells}   {ratio('numpy', 'hand')} {ratio('numpy', 'torch')}"
        f" {ratio('jax', 'jax.grad')} {row['rounds']:>6}"
    )


def main() -> int:
    args = ARGS
    try:
        import torch

        torch_version = "not used" if args.no_torch else torch.__version__
    except ImportError:
        torch_version = "not installed"
    header = (
        f"# one training step's gradients, median {args.clock} ms (numpy, jax, hand and jax.grad interleaved in random"
        f" order, torch {'with them' if args.threads == 1 else 'in its own block'}); {args.threads} thread(s); numpy"
        f" {np.__version__}, jax {jax.__version__}"
        f" ({jax.devices()[0].platform}), torch {torch_version}; load {os.getloadavg()[0]:.2f}"
    )
    print(header)
    print(
        f"{'case':<18} {'m':>4} {'dtype':<8} "
        + " ".join(f"{c:>9}" for c in COLUMNS)
        + f"   {'np/hand':>8} {'np/torch':>8} {'jax/grad':>8} {'rounds':>6}"
    )
    rows, modules = [], {}
    cpu = time.process_time()
    for name in args.cases:
        for dname in args.dtypes:
            row = run_case(name, dname, args, modules)
            rows.append(row)
            print(row_text(row), flush=True)
    Path(args.json).write_text(
        json.dumps(
            {
                "header": header,
                "threads": args.threads,
                "load_after": os.getloadavg()[0],
                "cpu_seconds": time.process_time() - cpu,
                "rows": rows,
            },
            indent=1,
        )
        + "\n"
    )
    print(f"# wrote {args.json}; load average at the end {os.getloadavg()[0]:.2f}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
