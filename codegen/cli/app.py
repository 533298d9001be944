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
import contextlib
import importlib
import os
import pkgutil
import re
import signal
import sys
import warnings

from chainrule import __version__

from . import jsonout

EXIT_BAD_INPUT = 2
EXIT_BROKEN_PIPE = 128 + 13  # as if killed by SIGPIPE
EXIT_INTERNAL = 70  # sysexits' EX_SOFTWARE: a bug in chainrule, not in the input
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


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The parser for ``argv``, with only the commands it needs (``needed``); every command without ``argv``."""
    parser = Parser(prog="chainrule", description="Derive, explain and generate neural-network training code.")
    parser.argv = argv or []
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
    as_json = "--json" in argv  # errors as JSON too (on stdout; the one line stays on stderr)
    try:
        parser = build_parser(argv)
        args = parser.parse_args(argv)
        status_code = run(args)
        sys.stdout.flush()  # a closed pipe shows here, not at exit
        return status_code
    except UsageError as exc:
        sys.stderr.write(exc.usage)
        message = printable(exc.message)
        return _error(f"{exc.prog}: error: {message}", message, None, as_json)
    except loaded("derive.errors", "ChainruleError") as exc:
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
    except loaded("derive.errors", "Terminated") as exc:
        number = exc.args[0] if exc.args else signal.SIGTERM
        print(f"chainrule: stopped by {signal.Signals(number).name}; no file was left half-written", file=sys.stderr)
        return 128 + number
    except Exception as exc:  # a bug of ours: one line saying so, the traceback on request
        if os.environ.get("CHAINRULE_DEBUG"):
            raise
        where = _where(exc)
        print(
            f"chainrule: internal error: {type(exc).__name__}: {one_line(exc)}{where} (a bug in chainrule, not in"
            " your input: please report it with the command; CHAINRULE_DEBUG=1 shows the traceback)",
            file=sys.stderr,
        )
        return EXIT_INTERNAL


def one_line(exc, limit: int = 300) -> str:
    """``exc``'s message on one line (whitespace runs as one space), cut to ``limit`` characters; loads nothing,
    so it serves when a failed import is the bug."""
    text = " ".join(str(exc).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _where(exc) -> str:
    """`` at file.py:line``: the innermost frame of ``exc``'s traceback, where the bug showed ("" without one)."""
    import traceback

    frames = traceback.extract_tb(exc.__traceback__)
    return f" at {os.path.basename(frames[-1].filename)}:{frames[-1].lineno}" if frames else ""


def printable(text) -> str:
    """``derive.errors.printable`` (imported on an error's path only: it loads SymPy)."""
    from derive.errors import printable

    return printable(text)


def did_you_mean(word: str, known) -> str:
    """``derive.names.did_you_mean`` (imported on an error's path only: it loads SymPy)."""
    from derive.names import did_you_mean

    return did_you_mean(word, known)


def _error(line: str, message: str, where, as_json: bool) -> int:
    """Bad input: the one line on stderr and, with --json, the error as JSON on stdout; exit status 2."""
    print(line, file=sys.stderr)
    if as_json:
        where = printable(where) if where is not None else None
        with contextlib.suppress(OSError):
            jsonout.dump({"error": {"message": message, "place": where, "status": EXIT_BAD_INPUT}})
            sys.stdout.flush()
    return EXIT_BAD_INPUT
