"""The handout's section on a network taught in two conventions (``derive.convention``): the GRU's reset
gate after the hidden product (PyTorch, CMU 11-785) or before it (d2l, Cho et al.).  The equations of
both derivations that differ, side by side, in the handout's notation."""

from __future__ import annotations

from derive.convention import convention_of
from derive.ir.recurrence import carried_values

from .document import Display, Row, Section, Text
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
        "courses": [(_escape(course), _spellings(vn, spelled, mp)) for course, spelled in mine.names.items()],
    }


def _spellings(vn, spelled: dict, mp) -> str:
    """A course's names of the parameters, in the network's order: ``$U_{n}$ is \texttt{Wnh}``; two spellings of
    one parameter are its two biases, summed."""
    from derive.convention import ROWS

    parts = []
    for own in vn.names("param"):
        top = r"^{\top}" if any(o == own + ROWS for o in spelled.values()) else ""  # in rows: d2l's W_xr is W_rᵀ
        names = [rf"\texttt{{{_escape(s)}}}" for s, o in spelled.items() if o.removesuffix(ROWS) == own and s != own]
        if names:
            parts.append(f"${mp.name(own)}{top}$ is {' + '.join(names)}")
    return ", ".join(parts)


def _escape(text: str) -> str:
    return text.replace("_", r"\_").replace("&", r"\&")


HERE, THERE = r"\text{here: }\ ", r"\text{there: }\ "  # the other convention's rows are marked: not this network's


def convention_section(c: dict) -> Section:
    """Section "Two conventions": the equations of both derivations that differ, one under the other."""

    def rows(found, missing: str) -> list[Row]:
        out = []
        for r in found:
            out.append(Row(HERE + r["lhs"], r["here"]))
            out.append(Row(THERE + r["lhs"], r["there"] if r["there"] else rf"\text{{({missing})}}"))
        return out

    blocks = [
        Text(
            rf"This network is written in {c['mine']} convention. {c['theirs']} convention (\texttt{{chainrule handout"
            rf" {c['other']}}}) is a different function of the same inputs, with different gradients: the same names"
            r" give these equations there. Forward:"
        ),
        Display(rows(c["forward"], "no such quantity")),
        Text("Backward, where the derivations part:"),
        Display(rows(c["backward"], "no such parameter")),
    ]
    if c["only_there"]:
        blocks += [Text("And there only:"), Display([Row(THERE + r["lhs"], r["rhs"]) for r in c["only_there"]])]
    blocks.append(
        Text(
            r"Every other equation is the same in both. \texttt{chainrule verify} names a formula of the other"
            r" convention checked against this one."
        )
    )
    for course, spellings in c["courses"]:
        if spellings:
            blocks.append(Text(rf"In the names of {course}, which \texttt{{chainrule verify}} reads too: {spellings}."))
    return Section("convention", "Two conventions", blocks, label="sec:convention")
