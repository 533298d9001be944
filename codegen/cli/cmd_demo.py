"""``chainrule demo``: the main job on the built-in lecture networks, into one folder.

Each ``cmd_*.py`` adds its part with ``demo(out_dir) -> bool``, in the order of ``command_modules()``:
the derivations and their checks, the generated training modules, the handouts, the NLP models, the
claim sheets.  Each part reports its progress on stderr; the exit status is 1 if any part failed.
"""

from __future__ import annotations

from ..emit.files import make_folder
from .app import command_modules
from .report import status


def register(sub) -> None:
    p = sub.add_parser("demo", help="run the main job on the built-in lecture networks")
    p.add_argument(
        "-o", "--output", default="chainrule-demo", metavar="DIR", help="output folder (default: chainrule-demo)"
    )
    p.set_defaults(run=run)


def run(args) -> int:
    out = args.output
    make_folder(out)
    ok = True
    for module in command_modules():
        if hasattr(module, "demo"):
            ok = module.demo(out) and ok
    status(f"demo: {'every part succeeded' if ok else 'some part FAILED'}; output in {out}/")
    return 0 if ok else 1
