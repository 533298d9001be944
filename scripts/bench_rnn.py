#!/usr/bin/env python3
"""Training throughput of the generated RNN language model (generated/rnn_lm.py) against PyTorch eager,
and the derivation time of each recurrent catalogue network.

    python3 scripts/bench_rnn.py [--epochs N] [--repeats R] [--dtype float32|float64] [--batch B]

Both train the same network from the same starting parameters on the shipped LM corpus, read in the
module's windows (``load_data``: T = 16 words per column), with the same batches in the same order, by
plain SGD with the module's gradients and update: x_t = E[:, w_t], h_t = tanh(W h_{t−1} + U x_t + b),
ŷ_t = softmax(V h_t + c), the cross-entropy summed over the steps and averaged over the batch.
PyTorch's is the same loop over t written with torch ops (autograd does the backward: BPTT), eager, on
the CPU, with one thread and with its default number; its better figure counts.  Throughput is predicted
tokens per second (T × columns), the best of R repeats of N epochs; the ratio is NumPy / PyTorch (above
1: the generated module is faster).  The derivation times are ``net.derive()`` of each recurrent network
of the catalogue, and of the same Elman network at T = 3 and T = 3000 and widths 4 and 512 (the
derivation is over one step: it does not depend on T or the widths).  PyTorch is not a dependency of
chainrule: without it only the NumPy figures are printed.
"""

import argparse
import importlib.util
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("rnn_lm", ROOT / "generated" / "rnn_lm.py")
lm = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(lm)
CLIP = lm.HYPER["clip"]  # gradient clipping by the global norm, in both


def batches(m, size, epochs, seed=0):
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(epochs):
        order = rng.permutation(m)
        out += [order[i : i + size] for i in range(0, m, size)]
    return out


def numpy_run(X, Y, parts, lr, dtype):
    params = lm.init_params(seed=0, dtype=dtype)
    grads, state = None, {}
    start = time.perf_counter()
    for cols in parts:
        grads = lm.gradients(params, X[:, cols], Y[:, cols], out=grads)
        norm = np.sqrt(sum(np.sum(g * g) for g in grads.values()))
        if norm > CLIP:  # as train(clip_norm=…) does
            for g in grads.values():
                g *= CLIP / norm
        lm.update(params, grads, state, "sgd", lr)
    return time.perf_counter() - start, lm.loss(params, X, Y)


def torch_run(X, Y, parts, lr, dtype):
    import torch

    torch_dtype = {"float32": torch.float32, "float64": torch.float64}[dtype]
    p0 = lm.init_params(seed=0, dtype=np.dtype(dtype))
    params = {n: torch.tensor(v, dtype=torch_dtype, requires_grad=True) for n, v in p0.items()}
    optimizer = torch.optim.SGD(list(params.values()), lr=lr)
    Xt, Yt = torch.tensor(X), torch.tensor(Y)
    E, U, W, b, V, c = (params[n] for n in ("E", "U", "W", "b", "V", "c"))

    def cost(xb, yb):
        m = xb.shape[1]
        h = torch.zeros(W.shape[0], m, dtype=torch_dtype)
        total = 0.0
        for t in range(xb.shape[0]):
            x = E[:, xb[t]] * (xb[t] != 0)  # the word's vector, 0 at padding (as the module's embed)
            h = torch.tanh(W @ h + U @ x + b)
            o = V @ h + c
            total = total + torch.nn.functional.cross_entropy(o.T, yb[t], reduction="sum")
        return total / m

    start = time.perf_counter()
    for cols in parts:
        idx = torch.as_tensor(cols)
        optimizer.zero_grad()
        cost(Xt[:, idx], Yt[:, idx]).backward()
        torch.nn.utils.clip_grad_norm_(list(params.values()), CLIP)
        optimizer.step()
    seconds = time.perf_counter() - start
    with torch.no_grad():
        final = float(cost(Xt, Yt))
    return seconds, final


def derivation_times():
    from derive import VecNetwork, binary_cross_entropy, sigmoid, tanh
    from derive.catalogue import load

    rows = []
    for name in ("elman_rnn", "lstm_cell", "rnn_lm"):
        net = load(name)
        start = time.perf_counter()
        net.derive()
        rows.append((name, time.perf_counter() - start))
    for T, n in ((3, 4), (3000, 512)):
        net = VecNetwork(f"elman_T{T}_n{n}", doc="an Elman RNN")
        n_, d_, k = net.dims(n=n, d=n, k=1)
        U, W, b = net.param("U", (n_, d_)), net.param("W", (n_, n_)), net.param("b", (n_, 1))
        net.sequence("T", T)
        with net.step():
            x = net.input("x", d_)
            h_prev = net.state("h", n_)
            net.let("h", tanh(W * h_prev + U * x + b))
        Y = net.target("Y", k)
        V, c = net.param("V", (k, n_)), net.param("c", (k, 1))
        net.cost(binary_cross_entropy(net.let("yhat", sigmoid(net.let("o", V * net.handles["h"] + c))), Y))
        start = time.perf_counter()
        net.derive()
        rows.append((f"Elman, T = {T}, widths {n}", time.perf_counter() - start))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch", type=int, default=lm.HYPER["batch"])
    parser.add_argument("--dtype", default="float64", choices=("float32", "float64"))
    args = parser.parse_args()
    (X, Y), _, _ = lm.load_data()
    T, m = X.shape
    parts = batches(m, args.batch, args.epochs)
    tokens = T * sum(len(p) for p in parts)
    lr = lm.HYPER["lr"]
    print(
        f"rnn_lm: T = {T}, n = {lm.PARAMS['W'][0][0]}, d = {lm.PARAMS['U'][0][1]}, |V| = {lm.N_WORDS}, "
        f"{m} windows, batch {args.batch}, {args.epochs} epochs, {args.dtype}, {tokens} tokens per run"
    )
    best_np = min(numpy_run(X, Y, parts, lr, args.dtype) for _ in range(args.repeats))
    print(f"  generated NumPy: {tokens / best_np[0]:>10.0f} tokens/s  (final training cost {best_np[1]:.4f})")
    try:
        import torch
    except ImportError:
        print("  PyTorch not installed: no comparison")
    else:
        figures = []
        for threads in (1, torch.get_num_threads()):
            torch.set_num_threads(threads)
            best = min(torch_run(X, Y, parts, lr, args.dtype) for _ in range(args.repeats))
            figures.append(best)
            print(
                f"  PyTorch eager, {threads} thread(s): {tokens / best[0]:>10.0f} tokens/s  (final cost {best[1]:.4f})"
            )
        fastest = min(figures)[0]
        print(f"  generated / PyTorch (its better figure): {fastest / best_np[0]:.2f}× the tokens per second")
    print("derivation (net.derive(), one step, steps recorded):")
    for name, seconds in derivation_times():
        print(f"  {name:<28} {seconds:6.2f} s")


if __name__ == "__main__":
    main()
