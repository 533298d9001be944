"""The ``chainrule`` command.

Every command reports bad input as one line ``chainrule: error: <place>: <problem>``
on stderr with exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import pkgutil
import re
import signal
import sys
import time
import warnings

from chainrule import __version__
from derive import ChainruleError, UnreachableParameterWarning, VecNetwork, gradcheck
from derive.catalogue import describe, load_spec, names
from derive.errors import Terminated, printable
from derive.names import did_you_mean

from ..emit.files import make_folder, write_atomic
from . import jsonout, report
from .report import status

EXIT_BAD_INPUT = 2
EXIT_BROKEN_PIPE = 128 + 13  # as if killed by SIGPIPE


def cmd_list(args) -> int:
    rows = [(name, describe(name)) for name in names()]
    if args.json:
        jsonout.dump(jsonout.catalogue(rows))
        return 0
    width = max(len(n) for n, _ in rows)
    for name, description in rows:
        print(f"{name:<{width}}  {description}")
    return 0


def cmd_derive(args) -> int:
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


def cmd_demo(args) -> int:
    out = args.output
    make_folder(out)
    status(f"demo: deriving and checking the {len(names())} catalogue networks")
    print(f"{'network':<20} {'params':>6} {'derive ms':>10} {'max rel err':>12}")
    summary = []
    for name in names():
        net = load_spec(name)
        start = time.perf_counter()
        derivation = net.derive()
        elapsed = time.perf_counter() - start
        params = net.names("param")
        if isinstance(net, VecNetwork):
            worst = gradcheck.worst(gradcheck.check(derivation, max_entries=DEMO_CHECK_ENTRIES))
            write_atomic(os.path.join(out, name, "derivation.txt"), f"# {net.name}: {net.doc}\n\n{derivation.text()}")
            print(f"{name:<20} {len(params):>6} {elapsed * 1000:>10.1f} {worst:>12.1e}")
            summary.append((name, len(params), worst))
            continue
        point = gradcheck.smooth_point(derivation, seed=0)
        parts = [f"# {net.name}: {net.doc}\n", report.derivation_text(derivation, params, point)]
        worst = 0.0
        for title, point in sorted(net.examples.items()):
            parts.append(report.forward_text(derivation, point, title))
        table, worst = report.gradcheck_text(derivation, point, "a seeded random point")
        parts.append(table)
        write_atomic(os.path.join(out, name, "derivation.txt"), "\n".join(parts))
        print(f"{name:<20} {len(params):>6} {elapsed * 1000:>10.1f} {worst:>12.1e}")
        summary.append((name, len(params), worst))
    ok = all(w <= 1e-6 for _, _, w in summary)
    status(f"wrote {len(summary)} derivations to {out}/; gradient checks {'pass' if ok else 'FAIL'}")
    for module in command_modules():
        if hasattr(module, "demo"):
            ok = module.demo(out) and ok
    index = write_demo_index(out, summary)
    status(f"demo: {'every part succeeded' if ok else 'some part FAILED'}; everything is linked from {index}")
    return 0 if ok else 1


def write_demo_index(out: str, summary) -> str:
    """``<out>/index.html`` for the demo's output; its path."""
    from ..emit import nlp_module
    from .cmd_verify import DEMO_SHEETS
    from .demo_index import write_index

    networks = [{"name": name, "params": params, "worst": worst} for name, params, worst in summary]
    sheets = {
        sheet: f"claims about {network}: "
        + ("the lecture's formulas (each holds)" if all_hold else "typical mistakes (each caught, with the slip named)")
        for sheet, (network, all_hold) in DEMO_SHEETS.items()
    }
    return write_index(out, networks, sheets, nlp_module.names())


def command_modules():
    """The ``codegen.cli.cmd_*`` modules, sorted by name: each adds its commands with ``register(sub)``
    and may add a part to the main job with ``demo(out_dir) -> bool``."""
    package = importlib.import_module("codegen.cli")
    found = sorted(m.name for m in pkgutil.iter_modules(package.__path__) if m.name.startswith("cmd_"))
    return [importlib.import_module(f"codegen.cli.{name}") for name in found]


class UsageError(Exception):
    """A command line argparse refuses: the parser's usage line and the message (with a suggestion)."""

    def __init__(self, usage: str, prog: str, message: str):
        super().__init__(message)
        self.usage, self.prog, self.message = usage, prog, message


class Parser(argparse.ArgumentParser):
    """argparse's parser, whose errors name the close option or choice (``--jsno``: did you mean ``--json``?)
    and are raised (``UsageError``) for ``main`` to print, as text or JSON."""

    def error(self, message):
        raise UsageError(self.format_usage(), self.prog, message + self._suggestion(message))

    def _suggestion(self, message: str) -> str:
        choice = re.match(r"argument (\S+): invalid choice: '([^']*)' \(choose from (.*)\)$", message)
        if choice:
            return did_you_mean(choice.group(2), re.findall(r"'([^']*)'", choice.group(3)))
        unknown = re.match(r"unrecognized arguments: (.*)$", message)
        if unknown:
            word = next((w for w in unknown.group(1).split() if w.startswith("-")), None)
            if word is not None:
                return did_you_mean(word.split("=")[0], self._options())
        return ""

    def _options(self) -> list[str]:
        """The option strings of this parser and of the command on the command line."""
        options = [o for action in self._actions for o in action.option_strings]
        for action in self._actions:
            if isinstance(action, argparse._SubParsersAction):
                for word in getattr(self, "argv", []):
                    if word in action.choices:
                        options += action.choices[word]._options()
                        break
        return options


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="chainrule", description="Derive, explain and generate neural-network training code.")
    parser.add_argument("--version", action="version", version=f"chainrule {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("list", help="list the built-in lecture networks")
    p.add_argument("--json", action="store_true", help="as JSON (keys: see docs/cli.md)")
    p.set_defaults(run=cmd_list)

    p = sub.add_parser("derive", help="print the chain-rule derivation of gradients, step by step")
    p.add_argument("spec", metavar="SPEC", help="catalogue name, or a Python file that defines `network`")
    p.add_argument("--wrt", nargs="+", metavar="NAME", help="variables to differentiate for (default: every parameter)")
    p.add_argument("--json", action="store_true", help="as JSON (keys: see docs/cli.md)")
    p.set_defaults(run=cmd_derive)

    p = sub.add_parser("demo", help="run the main job on the built-in lecture networks")
    p.add_argument(
        "-o", "--output", default="chainrule-demo", metavar="DIR", help="output folder (default: chainrule-demo)"
    )
    p.set_defaults(run=cmd_demo)
    for module in command_modules():
        module.register(sub)
    return parser


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    as_json = "--json" in argv  # errors as JSON too (on stdout; the one line stays on stderr)
    try:
        parser = build_parser()
        parser.argv = argv
        args = parser.parse_args(argv)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", UnreachableParameterWarning)
            status_code = args.run(args)
        for w in caught:
            if issubclass(w.category, UnreachableParameterWarning):
                print(f"chainrule: warning: {w.message}", file=sys.stderr)
        sys.stdout.flush()  # a closed pipe shows here, not at exit
        return status_code
    except UsageError as exc:
        sys.stderr.write(exc.usage)
        return _error(f"{exc.prog}: error: {printable(exc.message)}", printable(exc.message), None, as_json)
    except ChainruleError as exc:
        return _error(f"chainrule: error: {exc}", exc.message, exc.where, as_json)
    except BrokenPipeError:
        # the reader went away (`chainrule list | head -1`): stop quietly, as a shell tool does
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    except OSError as exc:  # a file that cannot be read or written: one line, the file named
        place = f"{exc.filename}: " if getattr(exc, "filename", None) else ""
        message = printable(exc.strerror or exc)
        return _error(f"chainrule: error: {printable(place)}{message}", message, exc.filename, as_json)
    except KeyboardInterrupt:
        print("chainrule: interrupted (Ctrl-C); no file was left half-written", file=sys.stderr)
        return 130
    except Terminated as exc:
        number = exc.args[0] if exc.args else signal.SIGTERM
        print(f"chainrule: stopped by {signal.Signals(number).name}; no file was left half-written", file=sys.stderr)
        return 128 + number


def _error(line: str, message: str, where, as_json: bool) -> int:
    """Bad input: the one line on stderr and, with --json, the error as JSON on stdout; exit status 2."""
    print(line, file=sys.stderr)
    if as_json:
        where = printable(where) if where is not None else None
        with contextlib.suppress(OSError):
            jsonout.dump({"error": {"message": message, "place": where, "status": EXIT_BAD_INPUT}})
            sys.stdout.flush()
    return EXIT_BAD_INPUT
