#!/usr/bin/env python3
"""Steps to the optimum of newton_logistic: Newton's method against gradient descent, on the demo data.

    python3 scripts/bench_newton.py [--tol 1e-8] [--max-steps 20000]

The generated module of ``newton_logistic`` (chainrule generate) trains on its own demo data
(128 examples, 3 features, labels drawn from a teacher's probabilities) from the same start:
``optimizer="newton"`` (lr 1, Newton's own step) and full-batch gradient descent at several
learning rates.  A method has converged at the first step where ‖∇J‖ ≤ tol; the table gives
that step, the cost there and the CPU time of the whole run.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from codegen.emit.load import load_file


def steps_to_converge(mod, X, Y, optimizer, lr, tol, max_steps):
    params = mod.init_params(seed=0)
    state = {}
    start = time.process_time()
    for t in range(1, max_steps + 1):
        if optimizer == "newton":
            mod.newton_step(params, X, Y, lr)
        else:
            mod.update(params, mod.gradients(params, X, Y), state, optimizer, lr, t)
        g = mod.gradients(params, X, Y)
        if np.sqrt(sum(float(np.sum(v * v)) for v in g.values())) <= tol:
            return t, mod.loss(params, X, Y), time.process_time() - start
    return None, mod.loss(params, X, Y), time.process_time() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tol", type=float, default=1e-8, help="‖∇J‖ at which a method has converged")
    parser.add_argument("--max-steps", type=int, default=20000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "newton_logistic.py"
        subprocess.run(
            [sys.executable, "-m", "codegen", "generate", "newton_logistic", "-o", str(path)],
            check=True,
            capture_output=True,
            cwd=ROOT,
        )
        mod = load_file(path, "bench_newton_logistic")
        X, Y = mod.demo_data()
        print(
            f"newton_logistic, demo data: {X.shape[0]} features, {X.shape[1]} examples; converged: ‖∇J‖ ≤ {args.tol:g}"
        )
        print(f"{'method':<22} {'steps':>7} {'J there':>12} {'CPU s':>8}")
        for optimizer, lr in [("newton", 1.0), ("sgd", 4.0), ("sgd", 1.0), ("sgd", 0.1), ("adam", 0.05)]:
            steps, J, cpu = steps_to_converge(mod, X, Y, optimizer, lr, args.tol, args.max_steps)
            label = (
                "Newton"
                if optimizer == "newton"
                else f"{'gradient descent' if optimizer == 'sgd' else optimizer}, α {lr:g}"
            )
            shown = str(steps) if steps else f">{args.max_steps}"
            print(f"{label:<22} {shown:>7} {J:>12.9f} {cpu:>8.3f}")


if __name__ == "__main__":
    main()
