"""``chainrule derive SPEC``: the chain-rule derivation of every gradient, step by step (``--json`` for
scripts); and the first part of ``chainrule demo``: every catalogue network derived and checked."""

from __future__ import annotations

import os
import sys
import time
from operator import itemgetter

from derive import ChainruleError, VecNetwork, gradcheck
from derive.catalogue import load_spec
from derive.names import did_you_mean

from ..emit.files import write_atomic
from . import demo_plan, jsonout, report
from .report import status


def register(sub) -> None:
    p = sub.add_parser("derive", help="print the chain-rule derivation of gradients, step by step")
    p.add_argument("spec", metavar="SPEC", help="catalogue name, or a Python file that defines `network`")
    p.add_argument("--wrt", nargs="+", metavar="NAME", help="variables to differentiate for (default: every parameter)")
    p.add_argument("--json", action="store_true", help="as JSON (keys: see docs/cli.md)")
    p.set_defaults(run=run)


def run(args) -> int:
    net = load_spec(args.spec)
    report.announce_size(net)
    if isinstance(net, VecNetwork):  # layer-level: the vectorised equations with their shapes
        derivation = net.derive()
        if args.json:
            jsonout.dump(jsonout.layers_derivation(derivation))
        else:
            sys.stdout.write(derivation.text())
        return 0
    derivation = net.derive()
    wrt = args.wrt or net.names("param")
    for name in wrt:
        if name not in net.kinds:
            raise ChainruleError(
                f"unknown name '{name}'{did_you_mean(name, net.kinds)} in network '{net.name}' "
                f"(it has: {', '.join(net.kinds)})",
                "--wrt",
            )
    point = gradcheck.smooth_point(derivation, seed=0)
    if args.json:
        jsonout.dump(jsonout.units_derivation(derivation, wrt, point))
    else:
        sys.stdout.write(report.derivation_text(derivation, wrt, point))
    return 0


DEMO_CHECK_ENTRIES = 48  # entries of each parameter the demo checks by finite differences (drawn at random)


def demo(out: str) -> bool:
    """Derive every catalogue network and check its gradients by finite differences: OUT/NAME/derivation.txt,
    a table on stdout, and (name, parameters, worst error) of each for the demo's index (``demo_plan.record``).
    The first part: it derives, here, what the others reuse (``demo_plan``); the checks then run on the
    workers, which start with every derivation made."""
    todo = demo_plan.networks()
    status(f"demo: deriving and checking {len(todo)} catalogue networks")
    took = {}
    for number, name in enumerate(todo, 1):
        status(f"demo: deriving {name} ({number}/{len(todo)})")
        start = time.perf_counter()
        load_spec(name).derive()
        took[name] = time.perf_counter() - start
    print(f"{'network':<20} {'params':>6} {'derive ms':>10} {'max rel err':>12}")
    summary = []
    checks = demo_plan.run_all(check_network, [(name, out) for name in todo], network=itemgetter(0))
    for number, (name, (params, worst)) in enumerate(zip(todo, checks), 1):
        status(f"demo: checked {name} ({number}/{len(todo)})")
        print(f"{name:<20} {params:>6} {took[name] * 1000:>10.1f} {worst:>12.1e}")
        summary.append((name, params, worst))
    demo_plan.record("networks", summary)
    ok = all(w <= 1e-6 for _, _, w in summary)
    status(f"wrote {len(summary)} derivations to {out}/; gradient checks {'pass' if ok else 'FAIL'}")
    return ok


def check_network(job: tuple[str, str]) -> tuple[int, float]:
    """Check catalogue network NAME's gradients by finite differences and write OUT/NAME/derivation.txt: (its
    number of parameters, the worst relative error)."""
    name, out = job
    net = load_spec(name)
    derivation = net.derive()
    params = net.names("param")
    if isinstance(net, VecNetwork):
        worst = gradcheck.worst(gradcheck.check(derivation, max_entries=DEMO_CHECK_ENTRIES))
        write_atomic(os.path.join(out, name, "derivation.txt"), f"# {net.name}: {net.doc}\n\n{derivation.text()}")
        return len(params), worst
    point = gradcheck.smooth_point(derivation, seed=0)
    parts = [f"# {net.name}: {net.doc}\n", report.derivation_text(derivation, params, point)]
    for title, example in sorted(net.examples.items()):
        parts.append(report.forward_text(derivation, example, title))
    table, worst = report.gradcheck_text(derivation, point, "a seeded random point")
    parts.append(table)
    write_atomic(os.path.join(out, name, "derivation.txt"), "\n".join(parts))
    return len(params), worst
