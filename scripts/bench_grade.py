"""How long `chainrule grade` takes for a class, and `chainrule verify --claims` for a long sheet (figures
for reports; not a test).

    python3 scripts/bench_grade.py [--students 200] [--jobs N] [--sheet 10000]

Makes a class of made-up submissions in a temporary folder: 5 questions (a per-unit gradient, a vectorised
one, a chain of steps, BPTT, a ReLU/dropout layer), each student's answer drawn at random (seeded) from
right answers and classic slips, in text or LaTeX, with the factors in a random order and the spacing
varied, so that few answers are alike (the run checks each distinct answer once; the count is printed).
Then runs ``chainrule grade`` in a child process and prints its wall time and CPU time (user + sys of the
children).  With ``--sheet N``: a sheet of N claim lines (the example sheets' lines, cycled) through
``chainrule verify --claims``, timed the same way.
"""

from __future__ import annotations

import argparse
import itertools
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

QUESTIONS = """title = "Benchmark class"

[[question]]
id = "q1"
spec = "two_layer_sigmoid"
wrt = "W11"
points = 2

[[question]]
id = "q2"
spec = "one_hidden_layer"
wrt = "dW1"
points = 2

[[question]]
id = "q3"
spec = "two_layer_sigmoid"
wrt = "W11"
points = 4
kind = "steps"

[[question]]
id = "q4"
spec = "elman_rnn"
wrt = "dW"
points = 2

[[question]]
id = "q5"
spec = "dropout_mlp"
wrt = "dZ1"
points = 2
"""

Q1_FACTORS = ["(yhat - y)", "w1", "a1", "(1 - a1)", "x1"]
Q1_SLIPS = {"(1 - a1)": ["a1", "(1 - yhat)"], "x1": ["x2"], "w1": ["w2"], "(yhat - y)": ["(y - yhat)"]}
Q2 = [
    "dW1 = (1/m) * dZ1 @ X.T",
    "dW1 = np.dot(dZ1, X.T) / m",
    "dW1 = (1/m) dZ1 X.T",
    "$dW^{[1]} = \\frac{1}{m} dZ^{[1]} X^{T}$",
    "dW1 = dZ1 @ X.T",
    "dW1 = (1/m) dZ1 @ X",
    "dW1 = (1/m) X @ dZ1.T",
    "dW1 = (1/m) * dZ1 * X.T",
]
Q3 = [
    "dL/dyhat = (yhat - y)/(yhat*(1 - yhat))",
    "dyhat/dz = yhat*(1 - yhat)",
    "dz/da1 = w1",
    "da1/dz1 = a1*(1 - a1)",
    "dz1/dW11 = x1",
]
Q3_SLIPS = {1: "dyhat/dz = yhat", 3: "da1/dz1 = a1*a1", 4: "dz1/dW11 = x2"}
Q4 = [
    "dW = (1/m) Σ_t da_t @ h_{t-1}.T",
    "dW += np.dot(da[t], hs[t-1].T) / m",
    "dW = Σ_t da_t @ h_{t-1}.T",
    "dW = (1/m) Σ_t da_t @ h_t.T",
    "dW = (1/m) Σ_t dh_t @ h_{t-1}.T",
    "$\\mathrm{d}W = \\frac{1}{m} \\sum_{t=1}^{T} \\mathrm{d}a_{t} h_{t-1}^{\\top}$",
]
Q5 = [
    "dZ1 = dA1 * (Z1 >= 0)",
    "dZ1 = dA1 * np.int64(Z1 > 0)",
    "dZ1 = (W2.T @ dZ2) * D1 / keep_prob * (Z1 >= 0)",
    "dZ1 = dA1",
    "dZ1 = dAtilde1 * (Z1 >= 0)",
    "dZ1 = W2.T @ dZ2 * (Z1 >= 0)",
]


def spaced(text: str, rng: random.Random) -> str:
    """The same formula with the spacing a student might use."""
    return text.replace("*", rng.choice(["*", " * "])).replace(" - ", rng.choice([" - ", "-"]))


def answer(rng: random.Random) -> str:
    factors = list(Q1_FACTORS)
    if rng.random() < 0.4:
        k = rng.choice(list(Q1_SLIPS))
        factors[factors.index(k)] = rng.choice(Q1_SLIPS[k])
    rng.shuffle(factors)
    lines = [f"q1: {spaced('*'.join(factors), rng)}", f"q2: {rng.choice(Q2)}"]
    steps = list(Q3)
    if rng.random() < 0.4:
        i = rng.choice(list(Q3_SLIPS))
        steps[i] = Q3_SLIPS[i]
    steps = steps[: rng.randint(3, 5)] + [f"dW11 = {spaced('*'.join(rng.sample(Q1_FACTORS, 5)), rng)}"]
    lines += [f"q3: {s}" for s in steps]
    if rng.random() < 0.9:
        lines.append(f"q4: {rng.choice(Q4)}")
    lines.append(f"q5: {spaced(rng.choice(Q5), rng)}")
    return "\n".join(lines) + "\n"


def timed(argv: list[str]) -> tuple[int, float, float, str]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    wall = time.monotonic() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return done.returncode, wall, cpu, done.stdout + done.stderr


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=200)
    parser.add_argument("--jobs", type=int, default=None)
    parser.add_argument("--sheet", type=int, default=0, help="also time a sheet of this many lines")
    args = parser.parse_args()
    chainrule = [sys.executable, "-m", "chainrule"]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "questions.toml").write_text(QUESTIONS, encoding="utf-8")
        (folder / "subs").mkdir()
        rng = random.Random(2024)
        answers = set()
        for i in range(args.students):
            text = answer(rng)
            (folder / "subs" / f"student{i:03d}.txt").write_text(text, encoding="utf-8")
            by_question: dict[str, list[str]] = {}
            for line in text.splitlines():
                q, _, formula = line.partition(": ")
                by_question.setdefault(q, []).append(formula)
            answers.update((q, tuple(f)) for q, f in by_question.items())
        argv = [*chainrule, "grade", str(folder / "questions.toml"), str(folder / "subs"), "-o", str(folder / "report")]
        if args.jobs:
            argv += ["--jobs", str(args.jobs)]
        status, wall, cpu, out = timed(argv)
        print(out.rstrip())
        cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
        print(
            f"\ngrade: {args.students} submissions x 5 questions ({len(answers)} distinct answers), exit {status}: "
            f"{wall:.1f} s wall, {cpu:.1f} s CPU (user + sys, {args.jobs or cpus} worker(s) on {cpus} CPU(s))"
        )
        if args.sheet:
            sheets = ROOT / "codegen" / "sheets"
            lines = [
                line
                for name in ("two_layer_sigmoid.txt", "mistakes.txt")
                for line in (sheets / name).read_text(encoding="utf-8").splitlines()
                if line.strip() and not line.startswith("#")
            ]
            sheet = folder / "sheet.txt"
            sheet.write_text("\n".join(itertools.islice(itertools.cycle(lines), args.sheet)) + "\n", encoding="utf-8")
            status, wall, cpu, out = timed([*chainrule, "verify", "two_layer_sigmoid", "--claims", str(sheet)])
            print(
                f"verify --claims: {args.sheet} lines ({len(set(lines))} distinct), exit {status}: {wall:.1f} s wall, {cpu:.1f} s CPU"
            )
            print(out.rstrip().splitlines()[-1])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
