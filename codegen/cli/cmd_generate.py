"""``chainrule generate SPEC -o FILE.py [--backend numpy|jax]``: a training module and its tests.

Writes FILE.py (needs only NumPy: init_params, forward, loss, gradients, train,
predict, accuracy, save, load, demo_data and a ``__main__`` demo) and test_FILE.py
next to it (pytest: gradients against finite differences, training lowers the loss,
stability, predict's shape, labels, train's copy, save/load).  Both are written atomically, after everything is rendered; a file
that chainrule did not write, or that was edited since, is not overwritten
unless ``--force`` is given.

``--backend jax`` writes the same derivation as a JAX module instead (needs only JAX: one jit-compiled
training step, lax.scan for a recurrence, explicit PRNG keys for dropout, ``train(..., shard=True)`` across
devices), whose tests compare its derived gradients with ``jax.grad``.

Also the generated/ golden files (``regenerate``) and its part of
``chainrule demo`` (``demo``).
"""

from __future__ import annotations

import os
import subprocess
import sys
from operator import itemgetter
from pathlib import Path

from derive import ChainruleError
from derive.catalogue import load_spec, names

from ..emit.files import copy_resources, write_all_atomic, write_atomic
from ..emit.load import context_for
from ..emit.numpy_module import check_overwrite, module_text, test_text
from . import demo_plan, jsonout
from .report import announce_size, status

GENERATED = "generated"
SHADOWED = ("numpy", "np", "pytest", "jax", "scipy", "sympy")  # what a module's own imports would find instead
CHECK_M = 8  # examples used by the generated finite-difference test


def load_any(spec: str):
    """The declaration named by ``spec``: a catalogue name or a .py file."""
    return load_spec(spec)


def render(spec: str, module_name: str, backend: str = "numpy") -> tuple[str, str]:
    """(module text, test text) for ``spec``; the test imports ``module_name``.py from its own folder.
    ``backend``: numpy (the default) or jax (``codegen.emit.backends``)."""
    from ..emit import nlp_module
    from ..emit.backends import BACKENDS

    chosen = BACKENDS[backend]
    if spec in nlp_module.MODULES:
        return nlp_module.module_text(spec, chosen), nlp_module.test_text(spec, module_name, chosen)
    declaration = load_any(spec)
    announce_size(declaration)
    source = spec if not spec.endswith(".py") else os.path.basename(spec)
    context = context_for(declaration, source, chosen)
    where = f"network '{context['name']}'"
    check_m = min(CHECK_M, context["demo"]["m"])
    return module_text(context, where), test_text(module_name, check_m, 0, where, context)


def generate(spec: str, output: str, *, force: bool = False, tests: bool = True, backend: str = "numpy") -> list[str]:
    """Write the module (and its test file) for ``spec``; returns the paths written."""
    if not output.endswith(".py"):
        raise ChainruleError("the output must be a .py file", output)
    stem = os.path.splitext(os.path.basename(output))[0]
    if not stem.isidentifier():
        raise ChainruleError(f"'{stem}' is not a valid module name", output)
    if stem in SHADOWED or stem in sys.stdlib_module_names:
        raise ChainruleError(
            f"a module named '{stem}' would shadow the module {stem} that Python imports (the generated code and its"
            " tests import numpy, pytest and the standard library); choose another name",
            output,
        )
    test_path = os.path.join(os.path.dirname(output), f"test_{stem}.py")
    targets = [output] + ([test_path] if tests else [])
    for path in targets:
        check_overwrite(path, force)
    module, test = render(spec, stem, backend)
    files = ([(test_path, test)] if tests else []) + [(output, module)]  # the module never without its tests
    write_all_atomic(files, check=lambda: [check_overwrite(path, force) for path in targets])
    return targets


def cmd_generate(args) -> int:
    written = generate(args.spec, args.output, force=args.force, tests=not args.no_tests, backend=args.backend)
    for path in written:
        print(f"wrote {path}", file=sys.stderr)
    if args.json:
        jsonout.dump(jsonout.written(args.spec, written))
    return 0


def register(sub) -> None:
    p = sub.add_parser("generate", help="write a NumPy (or JAX) training module (and its pytest file) for a network")
    p.add_argument("spec", metavar="SPEC", help="catalogue name, or a Python file that defines `network`")
    p.add_argument(
        "-o",
        "--output",
        required=True,
        metavar="FILE.py",
        help="the module to write (its tests go to test_FILE.py beside it)",
    )
    p.add_argument("--force", action="store_true", help="overwrite files edited by hand")
    p.add_argument("--no-tests", action="store_true", help="do not write the test file")
    p.add_argument(
        "--backend",
        choices=("numpy", "jax"),
        default="numpy",
        help="numpy (default): in place on preallocated buffers, needs only NumPy; jax: one jit-compiled step, runs"
        " on CPU, GPU or TPU, train(..., shard=True) splits each batch across devices (pip install 'chainrule[jax]')",
    )
    p.add_argument("--json", action="store_true", help="say what was written as JSON on stdout (keys: see docs/cli.md)")
    p.set_defaults(run=cmd_generate)


# ----------------------------------------------------------- golden files
def golden_names(selection: list[str] | None = None) -> list[tuple[str, str | None]]:
    """(catalogue name, None) for each network (of ``selection``, default all) that generates, (name, reason)
    for each that cannot."""
    return [(name, why_no_module(name)) for name in (names() if selection is None else selection)]


def why_no_module(name: str) -> str | None:
    """Why catalogue network ``name`` has no training module (None when it has one)."""
    try:
        context_for(load_any(name), name)
    except ChainruleError as exc:
        return exc.message
    return None


def regenerate(root: Path) -> list[Path]:
    """generated/NAME.py and generated/test_NAME.py for every catalogue network that generates."""
    written = []
    for name, reason in golden_names():
        if reason is not None:
            continue
        module, test = render(name, name)
        for filename, content in ((f"{name}.py", module), (f"test_{name}.py", test)):
            path = Path(root) / GENERATED / filename
            write_atomic(str(path), content)
            written.append(path)
    return written


def demo(out_dir: str) -> bool:
    """Write the training modules into OUT/generated and run each (its own demo training); the NLP modules
    train on the shipped data, written to OUT/data, where they look for it."""
    from derive.nlp.features import DATA

    folder = Path(out_dir) / GENERATED
    copy_resources(DATA, Path(out_dir) / "data")
    ok = True
    todo = golden_names(demo_plan.networks())
    ready = [name for name, reason in todo if reason is None]
    status(f"demo: writing and training {len(ready)} generated modules")
    print(f"{'module':<24} {'status':<8} result")
    results = demo_plan.run_all(write_and_train, [(name, str(folder)) for name in ready], network=itemgetter(0))
    done = 0
    for name, reason in todo:
        if reason is not None:
            print(f"{name:<24} {'skipped':<8} {reason}")
            continue
        good, result = next(results)
        ok = ok and good
        done += 1
        status(f"demo: trained {name} ({done}/{len(ready)})")
        print(f"{name:<24} {'ok' if good else 'FAIL':<8} {result}")
    status(f"wrote training modules and tests to {folder}/")
    return ok


def write_and_train(job: tuple[str, str]) -> tuple[bool, str]:
    """Generate catalogue network NAME into FOLDER and run the module (its demo training): (it trained, the
    last line it printed or the error)."""
    name, folder = job
    paths = generate(name, os.path.join(folder, f"{name}.py"), force=True)
    try:
        run = subprocess.run([sys.executable, paths[0]], capture_output=True, text=True, timeout=300, check=False)
    except subprocess.TimeoutExpired:
        return False, "timed out"
    last = (run.stdout.strip().splitlines() or [""])[-1]
    if run.returncode == 0 and last.startswith("final loss"):
        return True, last
    return False, (run.stderr.strip().splitlines() or ["no output"])[-1]
