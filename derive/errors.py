"""Errors and warnings that name the problem and its place."""

from __future__ import annotations

import os
import sys

import sympy


class ChainruleError(Exception):
    """Bad input. ``str(err)`` is one line: ``place: problem``."""

    def __init__(self, message: str, where: str | None = None):
        self.message = message
        self.where = where
        super().__init__(f"{where}: {message}" if where else message)


class DeclarationError(ChainruleError):
    """A network declaration that cannot be derived."""


def check_title(name, doc, where: str | None) -> None:
    """A network's name is one line of printable text; its doc string is text."""
    if not (isinstance(name, str) and name.strip() and name.isprintable() and len(name) <= 1000):
        raise DeclarationError(f"the network's name must be one line of printable text, got {name!r:.80}", where)
    if not isinstance(doc, str):
        raise DeclarationError(f"the network's doc must be a string, got {type(doc).__name__}", where)


_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))
_SYMPY_DIR = os.path.dirname(os.path.abspath(sympy.__file__)) + os.sep
# the engine's own folders; the catalogue counts as a user's file
_ENGINE_DIRS = {os.path.join(_PACKAGE_DIR, sub) for sub in ("ir", "ops", "unit", "verify")}


def caller_place() -> str | None:
    """``file:line`` of the nearest frame outside this package (the user's declaration)."""
    frame = sys._getframe(1)
    while frame is not None:
        filename = os.path.abspath(frame.f_code.co_filename)
        folder = os.path.dirname(filename)
        inside = folder == _PACKAGE_DIR or folder in _ENGINE_DIRS
        inside = inside or (
            frame.f_code.co_filename == "<string>" and frame.f_code.co_name == "__init__"
        )  # a dataclass's generated __init__
        if not inside and not filename.startswith(_SYMPY_DIR):
            return f"{_short(filename)}:{frame.f_lineno}"
        frame = frame.f_back
    return None


def _short(path: str) -> str:
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return path
    return path if rel.startswith(".." + os.sep + "..") else rel
