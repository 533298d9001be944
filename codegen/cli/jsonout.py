"""``--json`` output of ``list``, ``derive``, ``verify``, ``handout`` and ``generate`` (and of any command's
bad input): plain data with stable keys, for scripts.

The keys are documented in docs/cli.md ("Scripting"); adding a key is compatible, renaming one is not.
SymPy and ``derive`` are imported where they are used: ``chainrule list --json`` loads neither.
"""

from __future__ import annotations

import json
import math
import re
import sys

FORMAT = 1  # bumped when a key changes meaning or goes away


def dump(data) -> None:
    """``data`` as JSON on stdout (UTF-8 as it is: ∂, σ, ŷ); a number that is not finite is null (JSON has
    no NaN), and text that is not UTF-8 (a lone surrogate from an argument) is escaped."""
    data = finite({"format": FORMAT, **data})
    text = json.dumps(data, ensure_ascii=False, indent=2, allow_nan=False)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = json.dumps(data, ensure_ascii=True, indent=2, allow_nan=False)
    sys.stdout.write(text + "\n")


def finite(value):
    """``value`` with every float that is not finite replaced by None."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [finite(v) for v in value]
    return value


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


def written(network: str, paths: list[str]) -> dict:
    """What ``handout`` or ``generate`` wrote."""
    return {"network": network, "written": list(paths)}


def catalogue(rows: list[tuple[str, str]]) -> dict:
    return {"networks": [{"name": name, "description": description} for name, description in rows]}


def units_derivation(derivation, names, point) -> dict:
    """A per-unit network's gradients: each with its steps and its check against central differences."""
    from derive import gradcheck
    from derive.printing.text import text

    gradients = []
    checked = {row.name: row for row in gradcheck.check(derivation, point, list(names))}
    for name in names:
        expr = derivation.gradient(name)
        row = checked[name]
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
            "note": (v.details or {}).get("note"),
        }
    )
    return out


def sheet(path: str, rows) -> dict:
    claims = [verdict(v, n) for n, v in rows]
    return {"sheet": path, "claims": claims, "hold": sum(c["holds"] for c in claims), "total": len(claims)}


def steps(path: str, rows) -> dict:
    """A derivation checked step by step: each line's verdict, whether it follows from the line before,
    and the first line that is not right (None when every one holds)."""
    lines = [{**verdict(v, n), "follows": follows} for n, v, follows in rows]
    first = next((line["line"] for line in lines if not line["holds"]), None)
    return {
        "steps": path,
        "lines": lines,
        "hold": sum(line["holds"] for line in lines),
        "total": len(lines),
        "first_wrong": first,
    }
