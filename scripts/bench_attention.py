#!/usr/bin/env python3
"""Training throughput of the generated self-attention model (generated/self_attention.py) against PyTorch eager.

    python3 scripts/bench_attention.py [--epochs N] [--repeats R] [--dtype float32|float64]

Both train the same network from the same starting parameters on the shipped corpus
(derive/nlp/data/lm/corpus.txt, read as one running text), with the same windows of T consecutive
positions in the same order, by plain SGD (the module's gradients and update): X = E[:, W]ᵀ,
Q = X Wq, K = X Wk, V = X Wv, S = causal_mask(Q Kᵀ/√d), P = softmax_rows(S), O = P V,
A = softmax(Wo Oᵀ + bo), mean cross-entropy over the positions, at the catalogue's sizes
(dm = d = 32, T = 32).  Throughput is predicted tokens (positions) per second, the best of R repeats of N
epochs; the ratio is NumPy / PyTorch (above 1: the generated module is faster).  PyTorch runs on the CPU,
eager, with one thread and with its default number, and its better figure counts.  PyTorch is not a
dependency of chainrule: without it only the NumPy figure is printed.
"""

import argparse
import importlib.util
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("self_attention", ROOT / "generated" / "self_attention.py")
sa = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(sa)
_text = (ROOT / "generated" / "self_attention.py").read_text()
assert "P = softmax_rows(S)" in _text and "causal_mask(" in _text, "the PyTorch model below assumes causal attention"


def windows(m, T, epochs, seed=0):
    """The training windows' starts, in the order train() would take them (shuffled per epoch)."""
    rng = np.random.default_rng(seed)
    return [int(i) for _ in range(epochs) for i in rng.permutation(range(0, m - T + 1, T))]


def numpy_run(X, Y, starts, T, lr, dtype):
    params = sa.init_params(seed=0, dtype=dtype)
    Y1 = sa.check_data(X, Y)[1].astype(dtype)  # the next words as one-hot columns, once
    parts = [(X[:, i : i + T], Y1[:, i : i + T]) for i in starts]
    grads, state = None, {}
    start = time.perf_counter()
    for Xb, Yb in parts:
        grads = sa.gradients(params, Xb, Yb, out=grads)
        sa.update(params, grads, state, "sgd", lr)
    return time.perf_counter() - start, float(
        np.mean([sa.loss(params, Xb, Yb) for Xb, Yb in parts[: len(starts) // 4]])
    )


def torch_run(X, Y, starts, T, lr, dtype):
    import torch

    torch_dtype = {"float32": torch.float32, "float64": torch.float64}[dtype]
    p0 = sa.init_params(seed=0, dtype=np.dtype(dtype))
    names = ("E", "Wq", "Wk", "Wv", "Wo", "bo")
    params = {n: torch.tensor(p0[n], dtype=torch_dtype, requires_grad=True) for n in names}
    optimizer = torch.optim.SGD(list(params.values()), lr=lr)
    d = p0["Wq"].shape[1]
    mask = torch.ones(T, T, dtype=torch.bool).tril()

    def cost(ids, target):
        x = params["E"][:, ids].T  # T × dm
        q, k, v = x @ params["Wq"], x @ params["Wk"], x @ params["Wv"]
        s = (q @ k.T / d**0.5).masked_fill(~mask, float("-inf"))
        o = torch.softmax(s, dim=1) @ v
        logits = o @ params["Wo"].T + params["bo"][:, 0]  # T × |V|
        return torch.nn.functional.cross_entropy(logits, target)

    ids, y = torch.from_numpy(X[0]), torch.from_numpy(Y)
    parts = [(ids[i : i + T], y[i : i + T]) for i in starts]
    start = time.perf_counter()
    for context, target in parts:
        optimizer.zero_grad(set_to_none=True)
        loss = cost(context, target)
        loss.backward()
        optimizer.step()
    elapsed = time.perf_counter() - start
    with torch.no_grad():
        final = float(np.mean([cost(c, t).item() for c, t in parts[: len(starts) // 4]]))
    return elapsed, final


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--dtype", choices=("float32", "float64"), default="float32")
    args = parser.parse_args()
    (X, Y), _, vocab = sa.load_data(ROOT / "derive" / "nlp" / "data")
    T, lr = sa.LENGTH, 0.5
    starts = windows(X.shape[1], T, args.epochs)
    tokens = T * len(starts)
    dm, d = sa.PARAMS["Wq"][0]
    print(f"corpus: {X.shape[1]} training positions, |V| = {len(vocab)}, dm = {dm}, d = {d}, T = {T}, "
          f"{args.epochs} epochs ({len(starts)} steps), SGD lr {lr}, {args.dtype}")  # fmt: skip
    best_np = min(numpy_run(X, Y, starts, T, lr, args.dtype) for _ in range(args.repeats))
    print(
        f"numpy (generated)          : {tokens / best_np[0]:>10.0f} tokens/s  ({best_np[0]:.3f} s, final cost {best_np[1]:.4f})"
    )
    try:
        import torch
    except ImportError:
        print("pytorch                    : not installed")
        return
    default_threads = torch.get_num_threads()
    best_t = None
    for threads in sorted({1, default_threads}):  # PyTorch's best: one thread is often faster at this size
        torch.set_num_threads(threads)
        run = min(torch_run(X, Y, starts, T, lr, args.dtype) for _ in range(args.repeats))
        print(f"pytorch {torch.__version__} ({threads} thread{'s' if threads > 1 else ''}): {tokens / run[0]:>10.0f} tokens/s  "
              f"({run[0]:.3f} s, final cost {run[1]:.4f})")  # fmt: skip
        best_t = run if best_t is None or run[0] < best_t[0] else best_t
    print(f"ratio numpy / pytorch: {best_t[0] / best_np[0]:.2f}x")


if __name__ == "__main__":
    main()
