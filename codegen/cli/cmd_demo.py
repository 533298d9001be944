"""``chainrule demo``: the main job on the built-in lecture networks, into one folder.

Each ``cmd_*.py`` adds its part with ``demo(out_dir) -> bool``, in the order of ``command_modules()``:
the derivations and their checks, the generated training modules, the handouts, the NLP models, the
claim sheets.  Each network is derived once and shared by the parts; their independent jobs run on
every core (``demo_plan``).  Each part reports its progress on stderr; the exit status is 1 if any part
failed.
"""

from __future__ import annotations

from derive import ChainruleError

from ..emit.files import make_folder
from . import demo_plan
from .app import command_modules
from .report import status


def register(sub) -> None:
    p = sub.add_parser("demo", help="run the main job on the built-in lecture networks")
    p.add_argument(
        "-o", "--output", default="chainrule-demo", metavar="DIR", help="output folder (default: chainrule-demo)"
    )
    p.add_argument(
        "-j", "--jobs", type=int, metavar="N", help="run the independent jobs on N processes (default: one per core)"
    )
    p.add_argument(
        "--quick",
        action="store_true",
        help=f"only {', '.join(demo_plan.QUICK)} (and NLP models {', '.join(demo_plan.QUICK_NLP)}), in seconds",
    )
    p.set_defaults(run=run)


def run(args) -> int:
    if args.jobs is not None and args.jobs < 1:
        raise ChainruleError(f"the number of jobs must be at least 1, got {args.jobs}", "--jobs")
    out = args.output
    make_folder(out)
    ok = True
    with demo_plan.plan(jobs=args.jobs, quick=args.quick):
        for module in command_modules():
            if hasattr(module, "demo"):
                ok = module.demo(out) and ok
        index = write_demo_index(out, demo_plan.recorded("networks", []))
    status(f"demo: {'every part succeeded' if ok else 'some part FAILED'}; everything is linked from {index}")
    return 0 if ok else 1


def write_demo_index(out: str, summary) -> str:
    """``<out>/index.html`` for the demo's output; its path.  ``summary``: (name, parameters, worst error) of
    each network the derivation part checked."""
    from ..emit import nlp_module
    from .cmd_verify import DEMO_SHEETS
    from .demo_index import write_index

    networks = [{"name": name, "params": params, "worst": worst} for name, params, worst in summary]
    sheets = {
        sheet: f"claims about {network}: "
        + ("the lecture's formulas (each holds)" if all_hold else "typical mistakes (each caught, with the slip named)")
        for sheet, (network, all_hold) in DEMO_SHEETS.items()
    }
    models = [name for name in nlp_module.names() if name in demo_plan.nlp_models()]
    return write_index(out, networks, sheets, models)
