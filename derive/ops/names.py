"""An activation or a loss named by a declaration: the function (``relu``), its class, or a string (``"relu"``)."""

from __future__ import annotations

from ..errors import ChainruleError
from . import ACTIVATIONS, LOSSES
from .record import find


def _label(value) -> str:
    return value if isinstance(value, str) else getattr(value, "__name__", repr(value))


def _by_word(value: str, table: dict) -> str | None:
    word = value.lower()
    for name, rec in table.items():
        if word == name or word in (w.lower() for w in rec.words) or word in getattr(rec, "aliases", ()):
            return name
    return None


def activation_name(value, allowed=None, role: str = "activation", where: str | None = None) -> str:
    """The name of an activation given as a function, a class or a string; else ChainruleError."""
    allowed = tuple(ACTIVATIONS) if allowed is None else tuple(allowed)
    if isinstance(value, str):
        name = _by_word(value, ACTIVATIONS)
    else:
        rec = find(value)
        name = rec.name if rec is not None and rec.name in ACTIVATIONS else None
    if name in ACTIVATIONS and name not in allowed:
        raise ChainruleError(f"{name} cannot be the {role} (expected one of: {', '.join(allowed)})", where)
    if name not in allowed:
        raise ChainruleError(f"unknown {role} '{_label(value)}' (expected one of: {', '.join(allowed)})", where)
    return name


def loss_name(value, where: str | None = None) -> str:
    """The name of a loss given as a function, a class or a string; else ChainruleError."""
    if isinstance(value, str):
        name = _by_word(value, LOSSES)
    else:
        rec = find(value)
        name = rec.name if rec is not None and rec.name in LOSSES else None
    if name not in LOSSES:
        raise ChainruleError(f"unknown loss '{_label(value)}' (expected one of: {', '.join(LOSSES)})", where)
    return name
