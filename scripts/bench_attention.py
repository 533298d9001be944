#!/usr/bin/env python3
"""Training throughput of the generated attention models (generated/self_attention.py, transformer_block.py) against PyTorch eager.

    python3 scripts/bench_attention.py [--model self_attention|transformer_block|both] [--epochs N] [--repeats R]
                                       [--dtype float32|float64] [--batch B]

Both sides train the same network from the same starting parameters on the shipped corpus
(derive/nlp/data/lm/corpus.txt, cut into windows of T consecutive words, or characters for the block), with the
same batches of B windows in the same order, by plain SGD (the module's gradients and update),
at the catalogue's sizes.  self_attention: X = E[:, W]ᵀ, Q = X Wq, K = X Wk, V = X Wv,
S = causal_mask(Q Kᵀ/√d), P = softmax_rows(S), O = P V, A = softmax(Wo Oᵀ + bo) (dm = d = 32, T = 32);
transformer_block adds H = X + O, layer norm of each position, H2 = H̃ + ReLU(H̃ W1 + b1) W2 + b2
(d = 32, 64 units, T = 64).  Throughput is predicted tokens (positions) per second, the best of R repeats of N
epochs; the ratio is NumPy / PyTorch (above 1: the generated module is faster).  PyTorch runs on the CPU, eager,
with one thread and with its default number, and its better figure counts; both reach the same final cost.
PyTorch is not a dependency of chainrule: without it only the NumPy figures are printed.
"""

import argparse
import importlib.util
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
LR = 0.5


def load(name):
    spec = importlib.util.spec_from_file_location(name, ROOT / "generated" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    text = (ROOT / "generated" / f"{name}.py").read_text()
    assert "P = softmax_rows(S)" in text and "causal_mask(" in text, "the PyTorch models below assume causal attention"
    return module


def batches(m, size, epochs, seed=0):
    """The windows (columns) of each step, in the order train() would take them (shuffled per epoch)."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(epochs):
        order = rng.permutation(m)
        out += [order[i : i + size] for i in range(0, m, size)]
    return out


def numpy_run(mod, X, Y, steps, T, dtype):
    params = mod.init_params(seed=0, dtype=dtype)
    Y1 = mod.check_data(X, Y)[1].astype(dtype)  # the next tokens as one-hot, T×|V|×m, once
    parts = [(X[:, cols], Y1[..., cols]) for cols in steps]
    grads, state = None, {}
    start = time.perf_counter()
    for Xb, Yb in parts:
        grads = mod.gradients(params, Xb, Yb, out=grads)
        mod.update(params, grads, state, "sgd", LR)
    elapsed = time.perf_counter() - start
    return elapsed, float(np.mean([mod.loss(params, Xb, Yb) for Xb, Yb in parts[: max(len(steps) // 4, 1)]]))


def torch_run(name, mod, X, Y, steps, T, dtype):
    import torch

    torch_dtype = {"float32": torch.float32, "float64": torch.float64}[dtype]
    p0 = mod.init_params(seed=0, dtype=np.dtype(dtype))
    params = {n: torch.tensor(p0[n], dtype=torch_dtype, requires_grad=True) for n in mod.PARAMS}
    optimizer = torch.optim.SGD(list(params.values()), lr=LR)
    d = p0["Wq"].shape[1]
    mask = torch.ones(T, T, dtype=torch.bool).tril()

    def cost(ids, target):
        x = params["E"][:, ids].permute(2, 1, 0)  # B × T × d
        q, k, v = x @ params["Wq"], x @ params["Wk"], x @ params["Wv"]
        s = (q @ k.transpose(1, 2) / d**0.5).masked_fill(~mask, float("-inf"))
        h = torch.softmax(s, dim=-1) @ v
        if name == "transformer_block":
            h = x + h
            mu = h.mean(dim=-1, keepdim=True)
            c = h - mu
            ht = params["gamma"] * c / torch.sqrt((c * c).mean(dim=-1, keepdim=True) + 1e-5) + params["beta"]
            h = ht + torch.relu(ht @ params["W1"] + params["b1"]) @ params["W2"] + params["b2"]
        logits = h @ params["Wo"].T + params["bo"][:, 0]  # B × T × |V|
        return torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), target.reshape(-1))

    ids, y = torch.from_numpy(X), torch.from_numpy(Y)
    parts = [(ids[:, cols], y[:, cols].T) for cols in steps]  # ids T×B, targets B×T
    start = time.perf_counter()
    for context, target in parts:
        optimizer.zero_grad(set_to_none=True)
        loss = cost(context, target)
        loss.backward()
        optimizer.step()
    elapsed = time.perf_counter() - start
    with torch.no_grad():
        final = float(np.mean([cost(c, t).item() for c, t in parts[: max(len(steps) // 4, 1)]]))
    return elapsed, final


def bench(name, epochs, repeats, dtype, batch):
    mod = load(name)
    (X, Y), _, vocab = mod.load_data(ROOT / "derive" / "nlp" / "data")
    T = mod.LENGTH
    steps = batches(X.shape[1], batch, epochs)
    tokens = T * X.shape[1] * epochs
    sizes = ", ".join(f"{n} {mod.PARAMS[n][0][0]}×{mod.PARAMS[n][0][1]}" for n in mod.PARAMS)
    print(f"{name}: {X.shape[1]} training windows, |V| = {len(vocab)}, T = {T}, {sizes}; "
          f"{epochs} epochs ({len(steps)} steps of {batch} windows), SGD lr {LR}, {dtype}")  # fmt: skip
    best_np = min(numpy_run(mod, X, Y, steps, T, dtype) for _ in range(repeats))
    print(
        f"  numpy (generated)          : {tokens / best_np[0]:>10.0f} tokens/s  ({best_np[0]:.3f} s, final cost {best_np[1]:.4f})"
    )
    try:
        import torch
    except ImportError:
        print("  pytorch                    : not installed")
        return
    default_threads = torch.get_num_threads()
    best_t = None
    for threads in sorted({1, default_threads}):  # PyTorch's best: one thread is often faster at this size
        torch.set_num_threads(threads)
        run = min(torch_run(name, mod, X, Y, steps, T, dtype) for _ in range(repeats))
        print(f"  pytorch {torch.__version__} ({threads} thread{'s' if threads > 1 else ''}): {tokens / run[0]:>10.0f} tokens/s  "
              f"({run[0]:.3f} s, final cost {run[1]:.4f})")  # fmt: skip
        best_t = run if best_t is None or run[0] < best_t[0] else best_t
    print(f"  ratio numpy / pytorch: {best_t[0] / best_np[0]:.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=("self_attention", "transformer_block", "both"), default="both")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--dtype", choices=("float32", "float64"), default="float32")
    parser.add_argument("--batch", type=int, default=8, help="windows per step (default 8)")
    args = parser.parse_args()
    for name in ("self_attention", "transformer_block") if args.model == "both" else (args.model,):
        bench(name, args.epochs, args.repeats, args.dtype, args.batch)


if __name__ == "__main__":
    main()
