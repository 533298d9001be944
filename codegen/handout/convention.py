"""The handout's section on a network taught in two conventions (``derive.convention``): the GRU's reset
gate after the hidden product (PyTorch, CMU 11-785) or before it (d2l, Cho et al.).  The equations of
both derivations that differ, side by side, in the handout's notation."""

from __future__ import annotations

from derive.convention import convention_of
from derive.ir.recurrence import carried_values

from .recurrence import equation_row


def convention_topic(vn, vd, mp) -> dict | None:
    """Template data: both conventions' names and the forward and backward equations that differ (None when the
    declaration names no other convention)."""
    mine = convention_of(vn)
    if mine is None:
        return None
    other = mine.other()
    theirs = convention_of(other)
    od = other.derive()

    def equations(d):  # the boundary at t = T + 1 (what reads h_T after the last step) is the same in both
        return [e for e in d.equations if e.kind != "boundary"]

    def rows(d, net):
        if net.recurrence is None:
            return {e.target: (e.text, {"lhs": mp.name(e.target), "rhs": mp.doprint(e.expr)}) for e in equations(d)}
        carried = carried_values(d.backward, net.recurrence)
        return {e.target: (e.text, equation_row(e, net.recurrence, carried, mp)) for e in equations(d)}

    here, there = rows(vd, vn), rows(od, other)
    differ = []
    for e in equations(vd):
        text, row = here[e.target]
        if e.target in there and there[e.target][0] == text:
            continue
        differ.append(
            {
                "lhs": row["lhs"],
                "here": row["rhs"],
                "there": there[e.target][1]["rhs"] if e.target in there else None,
                "backward": e in vd.backward,
            }
        )
    only_there = [there[t][1] for t in there if t not in here]
    return {
        "mine": _escape(mine.name),
        "theirs": _escape(theirs.name if theirs else other.name),
        "other": _escape(other.name),
        "forward": [r for r in differ if not r["backward"]],
        "backward": [r for r in differ if r["backward"]],
        "only_there": [{"lhs": r["lhs"], "rhs": r["rhs"]} for r in only_there],
    }


def _escape(text: str) -> str:
    return text.replace("_", r"\_").replace("&", r"\&")
