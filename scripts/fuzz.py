"""Fuzz chainrule with many random networks and print counts.

    python3 scripts/fuzz.py                 # 1000 per level, every stage
    python3 scripts/fuzz.py -n 200 --seed 5000 --stages derive verify

Each network (tests/fuzz_networks.py: per unit and in layers) goes through derive, generate, handout
and verify.  Counted: ok; refused with a one-line ChainruleError (grouped by message); crashed with any
other exception (the bug this script is for; the first few are printed with their spec files kept).
Exit status 1 when anything crashed.
"""

from __future__ import annotations

import argparse
import collections
import random
import re
import sys
import tempfile
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.fuzz_networks import STAGES, layer_spec, run_all, unit_spec

LEVELS = {"unit": unit_spec, "layer": layer_spec}


def kind_of(message: str) -> str:
    """A refusal's message without its place and names: what to group by."""
    text = message.split(": ", 1)[1] if re.match(r"^\S+:\d+: |^network '[^']*': |^--\w+: ", message) else message
    return re.sub(r"'[^']*'", "'…'", text)[:100]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=1000, help="networks per level (default 1000)")
    parser.add_argument("--seed", type=int, default=0, help="first seed (default 0)")
    parser.add_argument("--levels", nargs="+", choices=tuple(LEVELS), default=list(LEVELS))
    parser.add_argument("--stages", nargs="+", choices=STAGES, default=list(STAGES))
    parser.add_argument("--keep", type=int, default=5, help="crashes to print in full (default 5)")
    args = parser.parse_args(argv)
    counts: collections.Counter = collections.Counter()
    refusals: collections.Counter = collections.Counter()
    crashes: collections.Counter = collections.Counter()
    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="chainrule-fuzz-") as tmp:
        folder = Path(tmp)
        for level in args.levels:
            for seed in range(args.seed, args.seed + args.n):
                spec = folder / f"{level}_{seed}.py"
                spec.write_text(LEVELS[level](random.Random(seed)), encoding="utf-8")
                try:
                    result = run_all(spec, folder, tuple(args.stages))
                except Exception as exc:  # noqa: BLE001 - a crash is what we count
                    counts[(level, "crashed")] += 1
                    crashes[f"{type(exc).__name__}: {str(exc).splitlines()[0][:100] if str(exc) else ''}"] += 1
                    if sum(crashes.values()) <= args.keep:
                        kept = Path(tempfile.gettempdir()) / f"chainrule-fuzz-crash-{level}-{seed}.py"
                        kept.write_text(spec.read_text(encoding="utf-8"), encoding="utf-8")
                        print(f"--- crash: {level} seed {seed} (spec kept in {kept})", file=sys.stderr)
                        traceback.print_exc(limit=-4)
                    continue
                if result == "ok":
                    counts[(level, "ok")] += 1
                else:
                    counts[(level, "refused")] += 1
                    refusals[kind_of(result)] += 1
                spec.unlink()
                for module in folder.glob("*fuzz_module_*"):
                    module.unlink()
    elapsed = time.monotonic() - start
    total = sum(counts.values())
    print(f"{total} networks ({', '.join(args.levels)}; stages {', '.join(args.stages)}) in {elapsed:.0f} s")
    for level in args.levels:
        row = {k: counts[(level, k)] for k in ("ok", "refused", "crashed")}
        print(f"  {level:<6} ok {row['ok']:>5}   refused {row['refused']:>5}   crashed {row['crashed']:>5}")
    if refusals:
        print("refusals (one-line ChainruleError), by message:")
        for message, n in refusals.most_common():
            print(f"  {n:>5}  {message}")
    if crashes:
        print("CRASHES (any other exception):")
        for message, n in crashes.most_common():
            print(f"  {n:>5}  {message}")
    return 1 if crashes else 0


if __name__ == "__main__":
    sys.exit(main())
