"""``--json`` output of ``list``, ``derive`` and ``verify``: plain data with stable keys, for scripts.

The keys are documented in the README ("Scripting"); adding a key is compatible, renaming one is not.
SymPy and ``derive`` are imported where they are used: ``chainrule list --json`` loads neither.
"""

from __future__ import annotations

import json
import math
import re
import sys

FORMAT = 1  # bumped when a key changes meaning or goes away


def dump(data) -> None:
    """``data`` as JSON on stdout (UTF-8 as it is: ∂, σ, ŷ)."""
    sys.stdout.write(json.dumps({"format": FORMAT, **data}, ensure_ascii=False, indent=2) + "\n")


def plain(value):
    """Numbers as numbers, arrays as nested lists, SymPy as text."""
    import sympy as sp

    if isinstance(value, float) and not math.isfinite(value):
        return None  # JSON has no NaN or infinity: undefined, or beyond the float range
    if isinstance(value, bool | int | float | str) or value is None:
        return value
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, sp.Basic):
        return float(value) if value.is_number and value.is_real else str(value)
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return str(value)


def snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def catalogue(rows: list[tuple[str, str]]) -> dict:
    return {"networks": [{"name": name, "description": description} for name, description in rows]}


def units_derivation(derivation, names, point) -> dict:
    """A per-unit network's gradients: each with its steps and its check against central differences."""
    from derive import gradcheck
    from derive.printing.text import text

    gradients = []
    for name in names:
        expr = derivation.gradient(name)
        row = gradcheck.check(derivation, point, [name])[0]
        gradients.append(
            {
                "wrt": name,
                "gradient": text(expr),
                "sympy": str(expr),
                "steps": [{"kind": snake(type(step).__name__), "text": str(step)} for step in derivation.steps(name)],
                "check": {
                    "derived": float(row.analytic),
                    "numeric": float(row.numeric),
                    "rel_error": float(row.rel_error),
                    "ok": bool(row.ok),
                },
            }
        )
    net = derivation.net
    return {"network": net.name, "kind": "units", "loss": net.loss_name, "gradients": gradients}


def layers_derivation(derivation) -> dict:
    """A layer network's numbered equations (forward, then backward) with their shapes."""
    equations = [
        {
            "number": e.number,
            "direction": direction,
            "target": e.target,
            "kind": e.kind,
            "text": e.text,
            "shape": [str(s) for s in e.shape],
        }
        for direction, eqs in (("forward", derivation.forward), ("backward", derivation.backward))
        for e in eqs
    ]
    return {"network": derivation.network.name, "kind": "layers", "equations": equations}


def verdict(v, line: int | None = None) -> dict:
    out = {} if line is None else {"line": line}
    if hasattr(v, "reason"):  # a sheet line that could not be read (cmd_verify.Unreadable)
        out.update({"target": v.target, "claim": v.claim, "holds": False, "unreadable": v.reason})
        return out
    ce = v.counterexample
    out.update(
        {
            "target": v.target,
            "wrt": v.wrt,
            "claim": v.claim,
            "holds": bool(v.equal),
            "derived": v.truth,
            "symbolic": v.symbolic,
            "numeric": v.numeric,
            "counterexample": None
            if ce is None
            else {"point": plain(ce.point), "claimed": plain(ce.claimed), "true": plain(ce.true), "note": ce.note},
            "hint": v.hint,
        }
    )
    return out


def sheet(path: str, rows) -> dict:
    claims = [verdict(v, n) for n, v in rows]
    return {"sheet": path, "claims": claims, "hold": sum(c["holds"] for c in claims), "total": len(claims)}
