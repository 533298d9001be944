"""What running a spec file in a process of its own costs: ``load_spec`` on a small spec against the
file run in this process (``runpy``), wall time and CPU time (this process and its children).

    python3 scripts/bench_spec.py [--repeat N]
"""

from __future__ import annotations

import argparse
import resource
import runpy
import statistics
import tempfile
import time
from pathlib import Path

from derive.catalogue import load_spec

SPEC = "from derive.catalogue.two_layer_sigmoid import build\n\nnetwork = build()\n"  # a small network


def cpu() -> float:
    mine, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return mine.ru_utime + mine.ru_stime + children.ru_utime + children.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        spec = str(Path(folder) / "spec.py")
        Path(spec).write_text(SPEC, encoding="utf-8")
        cases = [
            ("in this process (runpy)", lambda: runpy.run_path(spec)["network"]),
            ("own process (load_spec)", lambda: load_spec(spec)),
        ]
        print(f"{'spec file run':<26} {'median ms':>10} {'best ms':>9} {'best CPU ms':>12}")
        for title, fn in cases:
            fn()  # warm-up
            walls, cpus = [], []
            for _ in range(args.repeat):
                start, used = time.perf_counter(), cpu()
                fn()
                walls.append(time.perf_counter() - start)
                cpus.append(cpu() - used)
            print(
                f"{title:<26} {statistics.median(walls) * 1e3:>10.1f} {min(walls) * 1e3:>9.1f} {min(cpus) * 1e3:>12.1f}"
            )


if __name__ == "__main__":
    main()
