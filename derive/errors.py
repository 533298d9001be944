"""Errors and warnings that name the problem and its place."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
import unicodedata

import numpy
import sympy


class ChainruleError(Exception):
    """Bad input. ``str(err)`` is one line: ``place: problem`` (a character that is not printable, from a
    name or a file's name, is shown escaped: ``\\n``, ``\\x1b``, ``\\ud800``)."""

    def __init__(self, message: str, where: str | None = None):
        self.message = printable(message)
        self.where = printable(where) if where is not None else None
        super().__init__(f"{self.where}: {self.message}" if where else self.message)


class Terminated(BaseException):
    """SIGTERM or SIGHUP while files are written, LaTeX runs or a spec file's process runs (handled like
    Ctrl-C: clean up, then stop)."""


@contextlib.contextmanager
def signals_raise():
    """On the main thread, SIGTERM and SIGHUP raise ``Terminated`` (so a ``finally`` cleans up)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum, frame):
        raise Terminated(signum)

    old = {}
    for name in ("SIGTERM", "SIGHUP"):
        number = getattr(signal, name, None)
        if number is not None:
            old[number] = signal.signal(number, stop)
    try:
        yield
    finally:
        for number, handler in old.items():
            signal.signal(number, handler)


def printable(text) -> str:
    """``text`` with each character that is not printable escaped, so it prints as one line anywhere."""
    text = str(text)
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)


def shown(name) -> str:
    """A name quoted in a message: ``'w1'``; escaped when it is not printable (``'a\\nb'``)."""
    return f"'{name}'" if isinstance(name, str) and name.isprintable() else repr(name)


class DeclarationError(ChainruleError):
    """A network declaration that cannot be derived."""


def check_title(name, doc, where: str | None) -> None:
    """A network's name is one line of printable text; its doc string is text (lines of it: no control
    character but a newline or a tab, no lone surrogate, which no file can hold)."""
    if not (isinstance(name, str) and name.strip() and name.isprintable() and len(name) <= 1000):
        raise DeclarationError(f"the network's name must be one line of printable text, got {name!r:.80}", where)
    if not isinstance(doc, str):
        raise DeclarationError(f"the network's doc must be a string, got {type(doc).__name__}", where)
    bad = next((c for c in doc if unicodedata.category(c) in ("Cc", "Cs", "Zl", "Zp") and c not in "\n\t"), None)
    if bad is not None:
        at = doc.index(bad) + 1
        raise DeclarationError(f"the network's doc must be printable text: it holds {bad!r} at character {at}", where)


def check_finite(expr, name: str, where: str | None) -> None:
    """A declared value holds no number that is not finite (``float("nan")``, ``float("inf")``)."""
    if expr.has(sympy.nan, sympy.oo, sympy.S.NegativeInfinity, sympy.zoo):
        raise DeclarationError(f"the value of '{name}' holds a number that is not finite (nan or ∞)", where)


_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))
_SYMPY_DIR = os.path.dirname(os.path.abspath(sympy.__file__)) + os.sep
_NUMPY_DIR = os.path.dirname(os.path.abspath(numpy.__file__)) + os.sep  # np.sum(Q) calls Q.sum from here
_CONTEXTLIB = os.path.abspath(contextlib.__file__)  # ``with net.step():`` enters through it
# the engine's own folders; the catalogue counts as a user's file
_ENGINE_DIRS = {os.path.join(_PACKAGE_DIR, sub) for sub in ("ir", "ops", "unit", "verify")}


def caller_place() -> str | None:
    """``file:line`` of the nearest frame outside this package (the user's declaration)."""
    frame = caller_frame()
    return None if frame is None else f"{_short(os.path.abspath(frame.f_code.co_filename))}:{frame.f_lineno}"


def caller_frame():
    """The nearest frame outside this package: the user's declaration (None if there is none)."""
    frame = sys._getframe(1)
    while frame is not None:
        if users(frame):
            return frame
        frame = frame.f_back
    return None


def users(frame) -> bool:
    """Whether ``frame`` runs the user's code: not this package's engine folders, SymPy's, NumPy's or
    contextlib's."""
    filename = os.path.abspath(frame.f_code.co_filename)
    folder = os.path.dirname(filename)
    inside = folder == _PACKAGE_DIR or folder in _ENGINE_DIRS
    inside = inside or (
        frame.f_code.co_filename == "<string>" and frame.f_code.co_name == "__init__"
    )  # a dataclass's generated __init__
    return not inside and not filename.startswith((_SYMPY_DIR, _NUMPY_DIR)) and filename != _CONTEXTLIB


def typed(frame) -> bool:
    """Whether ``frame`` is a declaration's own code (a spec, a notebook, the catalogue), not the engine's."""
    filename = os.path.abspath(frame.f_code.co_filename)
    catalogue = os.path.join(_PACKAGE_DIR, "catalogue") + os.sep
    return users(frame) and (not filename.startswith(_PACKAGE_DIR + os.sep) or filename.startswith(catalogue))


def _short(path: str) -> str:
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return path
    return path if rel.startswith(".." + os.sep + "..") else rel
