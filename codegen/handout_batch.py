"""Section 4 of a handout: the vectorised (batch) form, linked to the per-weight results."""

from __future__ import annotations


def section(net, derivation, printer, options) -> dict:
    return {"available": False}
