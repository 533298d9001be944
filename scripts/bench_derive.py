"""How long derivation takes: the vectorised derivation's cost does not grow with layer width.

    python3 scripts/bench_derive.py [--repeat N]

Times ``mlp(...).derive()`` (declaration included) for 2-2-1 and 784-512-512-10
(shapes are symbols n0, n1, …, m, so the width never enters the derivation),
for comparison the scalar derivation of the 9 gradients of
``two_layer_sigmoid`` (one per weight), and deep networks written unit by unit
(the per-unit sweep names the gradient of each node used more than once, δ,
so its cost grows with the edges, not the paths).  Prints the median and the best of N runs.
"""

from __future__ import annotations

import argparse
import statistics
import time

from derive import mlp
from derive.catalogue import load


def timed(fn, repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def per_unit(sizes, hidden, output, loss="binary_cross_entropy"):
    """The layer network ``sizes`` written unit by unit (one scalar per weight), then derived."""
    from codegen.handout.batch import scalar_network

    net, _ = scalar_network(mlp("unit", sizes, hidden, output, loss), limit=None)
    return lambda: net.derive()


def scalar_two_layer_sigmoid():
    net = load("two_layer_sigmoid")
    d = net.derive()
    return [d.gradient(p) for p in net.names("param")]


CASES = [
    ("vectorised 2-2-1 relu/sigmoid/BCE", lambda: mlp("a", [2, 2, 1], "relu", "sigmoid").derive()),
    ("vectorised 784-512-512-10 relu/sigmoid/BCE", lambda: mlp("b", [784, 512, 512, 10], "relu", "sigmoid").derive()),
    ("vectorised 2-2-2 relu/softmax/CE", lambda: mlp("c", [2, 2, 2], "relu", "softmax", "ce").derive()),
    (
        "vectorised 2-2-2-2 relu/softmax/CE (same depth)",
        lambda: mlp("c", [2, 2, 2, 2], "relu", "softmax", "ce").derive(),
    ),
    (
        "vectorised 784-512-512-10 relu/softmax/CE",
        lambda: mlp("d", [784, 512, 512, 10], "relu", "softmax", "ce").derive(),
    ),
    (
        "vectorised 1000-2000-2000-10 relu/softmax/CE",
        lambda: mlp("e", [1000, 2000, 2000, 10], "relu", "softmax", "ce").derive(),
    ),
    (
        "vectorised 784-512-512-10 tanh/sigmoid/MSE",
        lambda: mlp("f", [784, 512, 512, 10], "tanh", "sigmoid", "mse").derive(),
    ),
    ("scalar two_layer_sigmoid, 9 gradients", scalar_two_layer_sigmoid),
    ("per unit 2-4-4-4-4-1 tanh/sigmoid/BCE (4 × 4, 77 parameters)", per_unit([2, 4, 4, 4, 4, 1], "tanh", "sigmoid")),
    (
        "per unit 2-4-4-4-4-3 sigmoid/softmax/CE (4 × 4, 87 parameters)",
        per_unit([2, 4, 4, 4, 4, 3], "sigmoid", "softmax", "cross_entropy"),
    ),
    ("per unit 8-8-8-8-1 tanh/sigmoid/BCE (225 parameters)", per_unit([8, 8, 8, 8, 1], "tanh", "sigmoid")),
    ("per unit 60-60-1 sigmoid/sigmoid/BCE (3721 parameters)", per_unit([60, 60, 1], "sigmoid", "sigmoid")),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    for _, fn in CASES:  # warm-up: imports, SymPy caches
        fn()
    print(f"{'derivation':<50} {'median ms':>10} {'best ms':>9}")
    for title, fn in CASES:
        times = timed(fn, args.repeat)
        print(f"{title:<50} {statistics.median(times) * 1e3:>10.1f} {min(times) * 1e3:>9.1f}")
    small = mlp("a", [2, 2, 2, 2], "relu", "softmax", "cross_entropy").derive()
    large = mlp("a", [784, 512, 512, 10], "relu", "softmax", "cross_entropy").derive()
    same = [e.text for e in small.equations] == [e.text for e in large.equations]
    print(f"equations identical for 2-2-2-2 and 784-512-512-10 (only the sizes differ): {same}")


if __name__ == "__main__":
    main()
