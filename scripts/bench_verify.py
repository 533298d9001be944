"""How long `chainrule verify` takes per claim (figures for reports; not a test).

    python3 scripts/bench_verify.py

Times, per claim kind, the first call (cold SymPy caches) and the median of 5 more runs of ``Derivation.verify`` (text and
LaTeX, true and wrong) and of a vectorised claim, on fresh derivations (the
derivation itself is not timed).
"""

from __future__ import annotations

import functools
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from derive.catalogue import load
from derive.verify.vec_target import VecTarget
from derive.verify.vectorised import verify_vector

CASES = [
    ("text, true", "two_layer_sigmoid", "W11", "(yhat - y)*w1*a1*(1 - a1)*x1", False),
    (
        "text, true, inputs only",
        "two_layer_sigmoid",
        "b1",
        "(sigmoid(w1*sigmoid(W11*x1 + W21*x2 + b1) + w2*a2 + b) - y)*w1*a1*(1 - a1)",
        False,
    ),
    (
        "LaTeX, true",
        "two_layer_sigmoid",
        None,
        r"\frac{\partial L}{\partial W_{11}} = (\hat{y}-y) w_1 a_1 (1-a_1) x_1",
        True,
    ),
    (
        "LaTeX, free index j",
        "logistic_regression",
        None,
        r"\frac{\partial L}{\partial w_j} = (\sigma(w \cdot x + b) - y) x_j",
        True,
    ),
    ("text, wrong (+ hint)", "two_layer_sigmoid", "W11", "(yhat - y)*w1*a1*a1*x1", False),
    (
        "text, wrong sum (+ hint)",
        "two_layer_sigmoid",
        "x1",
        "(yhat - y)*(w1*a1*(1 - a1)*W11 + w2*a2*(1 - a2)*W21)",
        False,
    ),
    ("ReLU, true (kinks)", "two_layer_relu", "W11", "(yhat - y)*w1*step(z1)*x1", False),
    ("softmax, true", "two_layer_softmax", "U21", "(yhat2 - y2)*h1", False),
]
VECTOR = [
    ("vectorised, true", "dW1 = (1/m) dZ1 X.T"),
    ("vectorised, wrong (+ hint)", "db1 = (1/m) np.sum(dZ1, axis=1)"),
]


def median_ms(fn, runs: int = 5) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def main() -> None:
    print(f"{'claim':<28} {'network':<20} {'first ms':>9} {'median ms':>10}  verdict")
    for label, network, wrt, claim, latex in CASES:
        d = load(network).derive()
        start = time.perf_counter()
        verdict = d.verify(wrt, claim, latex=latex)
        first = (time.perf_counter() - start) * 1000
        ms = median_ms(functools.partial(d.verify, wrt, claim, latex=latex))
        shown = f"{'holds' if verdict.equal else 'WRONG'} ({verdict.symbolic.split(' (')[0]})"
        print(f"{label:<28} {network:<20} {first:>9.1f} {ms:>10.1f}  {shown}")
    target = VecTarget(load("one_hidden_layer"))
    for label, claim in VECTOR:
        start = time.perf_counter()
        verdict = verify_vector(target, None, claim)
        first = (time.perf_counter() - start) * 1000
        ms = median_ms(functools.partial(verify_vector, target, None, claim))
        print(
            f"{label:<28} {'one_hidden_layer':<20} {first:>9.1f} {ms:>10.1f}  {'holds' if verdict.equal else 'WRONG'}"
        )


if __name__ == "__main__":
    main()
