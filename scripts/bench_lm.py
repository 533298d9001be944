#!/usr/bin/env python3
"""Training throughput of the generated language model (generated/ffnn_lm.py) against the same model in PyTorch.

    python3 scripts/bench_lm.py [--epochs N] [--repeats R] [--dtype float32|float64]

Both train the same network on the shipped corpus (derive/nlp/data/lm/corpus.txt) with
the same mini-batches, in the same order, by plain SGD (the module's gradients and update): the N−1 = 3 previous
words' embeddings (E: d×|V|, d = 16) concatenated, 64 σ units, a softmax
over the vocabulary, mean cross-entropy.  Throughput is predicted words
(training windows) per second, the best of R repeats of N epochs; the ratio
is NumPy / PyTorch (above 1: the generated module is faster).  PyTorch runs on
the CPU, with one thread and with its default number, and its better figure counts; its embedding takes a dense gradient
(``nn.Embedding(sparse=False)``, its default), the generated module's dE is a
scatter-add (np.add.at) into the columns of the batch's words.  Without PyTorch installed only the NumPy
figure is printed.
"""

import argparse
import importlib.util
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("ffnn_lm", ROOT / "generated" / "ffnn_lm.py")
lm = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(lm)
assert "A1 = sigmoid(Z1)" in (ROOT / "generated" / "ffnn_lm.py").read_text(), "the PyTorch model below assumes σ units"


def batches(m, batch_size, epochs, seed=0):
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(epochs):
        order = rng.permutation(m)
        out.extend(order[start : start + batch_size] for start in range(0, m, batch_size))
    return out


def numpy_run(X, Y, order, lr, dtype):
    params = lm.init_params(seed=0, dtype=dtype)
    X, Y = lm.check_data(X, Y)  # the next words as one-hot columns, once
    parts = [(X[:, cols], Y[:, cols].astype(dtype)) for cols in order]
    grads, state = None, {}
    start = time.perf_counter()
    for Xb, Yb in parts:
        grads = lm.gradients(params, Xb, Yb, out=grads)
        lm.update(params, grads, state, "sgd", lr)
    return time.perf_counter() - start, lm.loss(params, X, Y)


def torch_run(X, Y, order, lr, dtype):
    import torch

    torch_dtype = {"float32": torch.float32, "float64": torch.float64}[dtype]
    torch.manual_seed(0)
    start_params = lm.init_params(seed=0, dtype=np.dtype(dtype))
    V, d, n = lm.N_WORDS, start_params["E"].shape[0], lm.LENGTH
    hidden = start_params["W1"].shape[0]
    emb = torch.nn.Embedding(V, d).to(torch_dtype)
    layer1 = torch.nn.Linear(n * d, hidden).to(torch_dtype)
    layer2 = torch.nn.Linear(hidden, V).to(torch_dtype)
    with torch.no_grad():  # the same starting point
        emb.weight.copy_(torch.from_numpy(start_params["E"].T.copy()))
        layer1.weight.copy_(torch.from_numpy(start_params["W1"]))
        layer1.bias.copy_(torch.from_numpy(start_params["b1"][:, 0]))
        layer2.weight.copy_(torch.from_numpy(start_params["W2"]))
        layer2.bias.copy_(torch.from_numpy(start_params["b2"][:, 0]))
    params = list(emb.parameters()) + list(layer1.parameters()) + list(layer2.parameters())
    optimizer = torch.optim.SGD(params, lr=lr)
    loss_fn = torch.nn.CrossEntropyLoss()
    ids = torch.from_numpy(X.T.copy())  # m × n
    y = torch.from_numpy(Y)
    parts = [(ids[cols], y[cols]) for cols in (torch.from_numpy(c) for c in order)]
    start = time.perf_counter()
    for context, target in parts:
        optimizer.zero_grad(set_to_none=True)
        hid = torch.sigmoid(layer1(emb(context).reshape(context.shape[0], -1)))
        loss = loss_fn(layer2(hid), target)
        loss.backward()
        optimizer.step()
    elapsed = time.perf_counter() - start
    with torch.no_grad():
        final = loss_fn(layer2(torch.sigmoid(layer1(emb(ids).reshape(ids.shape[0], -1)))), y).item()
    return elapsed, final


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--dtype", choices=("float32", "float64"), default="float32")
    args = parser.parse_args()
    (X, Y), _, vocab = lm.load_data(ROOT / "derive" / "nlp" / "data")
    V, m = len(vocab), Y.size
    batch_size, lr = lm.HYPER["batch"], lm.HYPER["lr"]
    order = batches(m, batch_size, args.epochs)
    words = m * args.epochs
    print(f"corpus: {m} training words, |V| = {V}, d = {lm.PARAMS['E'][0][0]}, N-1 = {lm.LENGTH}, batch {batch_size}, "
          f"{args.epochs} epochs, {args.dtype}")  # fmt: skip
    best_np = min(numpy_run(X, Y, order, lr, args.dtype) for _ in range(args.repeats))
    print(
        f"numpy (generated)         : {words / best_np[0]:>10.0f} words/s  ({best_np[0]:.3f} s, final cost {best_np[1]:.4f})"
    )
    try:
        import torch
    except ImportError:
        print("pytorch           : not installed (pip install torch==2.13.0)")
        return
    default_threads = torch.get_num_threads()
    best_t = None
    for threads in sorted({1, default_threads}):  # PyTorch's best: one thread is often faster at this size
        torch.set_num_threads(threads)
        run = min(torch_run(X, Y, order, lr, args.dtype) for _ in range(args.repeats))
        print(f"pytorch {torch.__version__} ({threads} thread{'s' if threads > 1 else ''}): {words / run[0]:>10.0f} words/s  "
              f"({run[0]:.3f} s, final cost {run[1]:.4f})")  # fmt: skip
        best_t = run if best_t is None or run[0] < best_t[0] else best_t
    print(f"ratio numpy / pytorch: {best_t[0] / best_np[0]:.2f}x")


if __name__ == "__main__":
    main()
