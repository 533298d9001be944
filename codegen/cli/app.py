"""The ``chainrule`` command.

Every command reports bad input as one line ``chainrule: error: <place>: <problem>``
on stderr with exit status 2, never a traceback.

The command NAME is ``codegen/cli/cmd_NAME.py``: it adds its parser with ``register(sub)``, may add a
part to ``chainrule demo`` with ``demo(out_dir) -> bool`` and golden files with ``regenerate(root)``.
A command's module is imported only when that command runs (all of them for ``--help``), so
``chainrule --version`` and ``chainrule list`` never load SymPy, and ``chainrule derive`` loads only
what a derivation needs.
"""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import sys
import warnings

from chainrule import __version__

EXIT_BAD_INPUT = 2
EXIT_BROKEN_PIPE = 128 + 13  # as if killed by SIGPIPE
FIRST = ("list", "derive", "demo")  # the tour, in the order `chainrule --help` lists it; the rest by name


def command_names() -> list[str]:
    """Every command, found by its module's name (``cmd_NAME.py``) without importing it."""
    package = importlib.import_module("codegen.cli")
    found = sorted(m.name[4:] for m in pkgutil.iter_modules(package.__path__) if m.name.startswith("cmd_"))
    return [n for n in FIRST if n in found] + [n for n in found if n not in FIRST]


def command_modules(names: list[str] | None = None):
    """The ``codegen.cli.cmd_*`` modules of ``names`` (default: every command), in ``command_names()`` order."""
    return [
        importlib.import_module(f"codegen.cli.cmd_{name}") for name in command_names() if names is None or name in names
    ]


def needed(argv: list[str]) -> list[str]:
    """The commands whose parsers ``argv`` needs: the one it names, none for ``--version`` (or an
    abbreviation argparse accepts), every one otherwise (``--help``, no command, a misspelt one)."""
    known = command_names()
    if argv and argv[0] in known:
        return [argv[0]]
    if argv and len(argv[0]) > 2 and "--version".startswith(argv[0]):
        return []
    return known


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The parser for ``argv``, with only the commands it needs (``needed``); every command without ``argv``."""
    parser = argparse.ArgumentParser(
        prog="chainrule", description="Derive, explain and generate neural-network training code."
    )
    parser.add_argument("--version", action="version", version=f"chainrule {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in command_modules(None if argv is None else needed(argv)):
        module.register(sub)
    return parser


def loaded(module: str, name: str):
    """The exception class ``module.name`` once ``module`` is loaded, else ``()`` (an ``except`` matching
    nothing): only that module's code raises it, so ``main`` catches it without importing it (and SymPy)."""
    found = sys.modules.get(module)
    return getattr(found, name) if found is not None else ()


def run(args) -> int:
    """The parsed command; a warning that a parameter cannot reach the loss is one line on stderr."""
    if "derive" not in sys.modules:  # nothing was loaded that could warn (`chainrule list`)
        return args.run(args)
    from derive import UnreachableParameterWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UnreachableParameterWarning)
        status_code = args.run(args)
    for w in caught:
        if issubclass(w.category, UnreachableParameterWarning):
            print(f"chainrule: warning: {w.message}", file=sys.stderr)
    return status_code


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(argv)
    try:
        args = parser.parse_args(argv)
        status_code = run(args)
        sys.stdout.flush()  # a closed pipe shows here, not at exit
        return status_code
    except loaded("derive.errors", "ChainruleError") as exc:
        print(f"chainrule: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except loaded("codegen.emit.files", "Terminated"):
        return 128 + 15
    except BrokenPipeError:
        # the reader went away (`chainrule list | head -1`): stop quietly, as a shell tool does
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    except OSError as exc:  # a file that cannot be read or written: one line, the file named
        place = f"{exc.filename}: " if getattr(exc, "filename", None) else ""
        print(f"chainrule: error: {place}{exc.strerror or exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        return 130
