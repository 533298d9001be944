"""How long each program takes to derive, and how long its longest backward equation is.

    python3 scripts/bench_programs.py [--repeat N] [--json FILE]

Every catalogue network and every program in docs/examples/ (a GRU over numbers, a 4-layer transformer-style
program, …), derived in this process: "cold" is the first derivation (SymPy's caches empty for it), "warm" the
best of N more (declaration included: a spec file is read and run each time).  The longest backward equation
is counted in characters of its printed text (a per-unit network: its longest result line, as `chainrule derive`
prints it).
Timings go here and in the notes, never into tests (CPU time of this process; quote the machine's load).
"""

from __future__ import annotations

import argparse
import json
import runpy
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from derive import VecNetwork
from derive.catalogue import load, names

EXAMPLES = ROOT / "docs" / "examples"


def programs():
    """(name, build) for the catalogue, then the examples."""
    for name in names():
        yield name, lambda name=name: load(name)
    for path in sorted(EXAMPLES.glob("*.py")):
        yield f"examples/{path.name}", lambda path=path: runpy.run_path(str(path))["network"]


def longest(net, d) -> int:
    if isinstance(net, VecNetwork):
        return max(len(e.text) for e in d.backward)
    return max(len(str(d.steps(p)[-1]).removeprefix("result: ")) for p in net.names("param"))  # as derive prints it


def cpu(fn):
    start = time.process_time()
    out = fn()
    return time.process_time() - start, out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", metavar="FILE")
    args = parser.parse_args()
    rows = []
    print(f"{'program':<28} {'cold s':>7} {'warm s':>7} {'equations':>9} {'longest':>8}")
    for name, build in programs():
        cold, d = cpu(lambda build=build: build().derive())
        warm = min(cpu(lambda build=build: build().derive())[0] for _ in range(args.repeat))
        net = build()
        count = len(d.equations) if isinstance(net, VecNetwork) else len(net.names("param"))
        row = {"program": name, "cold": cold, "warm": warm, "equations": count, "longest": longest(net, d)}
        rows.append(row)
        print(f"{name:<28} {cold:>7.2f} {warm:>7.2f} {count:>9} {row['longest']:>8}")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
