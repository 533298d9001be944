"""The handout's pages for a recurrence: the unrolled graph, one step's equations, and BPTT.

For a network declared with one time step (``derive.ir.recurrence``): the
computation graph unrolled for T = 3 (``render.program_graph.unrolled``, as
J&M ch. 8 and Goodfellow §10.1 draw it: the inputs below, every state carried
left to right, the outputs above), the step's equations with time on every
name, the δ recursion written out (Goodfellow §10.2.2; Ng, course 5,
``rnn_backward``), and the parameters' sums over t.
"""

from __future__ import annotations

import dataclasses

import sympy as sp

from derive.ir.recurrence import NEXT, carried_values, display, readable, readable_target, shifted, time_of

from .document import shape_latex

UNROLL = 3  # steps drawn in the unrolled graph


def equation_row(eq, rec, carried, mp) -> dict:
    """One equation of the handout's table, with time on every name."""
    when = time_of(eq, rec)
    if when == "boundary":
        value = "0" if isinstance(eq.expr, sp.ZeroMatrix) else mp.doprint(readable(eq, rec, {}, latex=True))
        lhs = rf"\left.{mp.name(readable_target(eq, rec, latex=True).replace('_T', '_t-1'))}\right|_{{t=T+1}}"
        return {"number": eq.number, "lhs": lhs, "rhs": value, "shape": _shape(eq, mp), "kind": "boundary"}
    expr = readable(eq, rec, carried, latex=True)
    if eq.target == "J":
        rhs = mp.doprint(expr)
        rhs = rhs.replace(r"\sum", r"\sum_{t=1}^{T} \sum", 1) if rec.is_step(eq.operands[0]) else rhs
        return {"number": eq.number, "lhs": "J", "rhs": rhs, "shape": _shape(eq, mp), "kind": eq.kind}
    return {
        "number": eq.number,
        "lhs": mp.name(readable_target(eq, rec, latex=True)),
        "rhs": mp.doprint(expr),
        "shape": _shape(eq, mp),
        "kind": eq.kind,
    }


def _shape(eq, mp) -> str:
    return shape_latex(eq.shape, mp)


def rule_step(step, rec, kinds):
    """A chain-rule step of the sweep with time on its names: (target, via, the renaming of its expressions).

    Through a quantity of the step (or a loss at every step) it is step t's: dQ_t, dh_{t−1}; through one
    after the last step, a state reads h_T; a parameter's own name keeps no time (its sum over t follows)."""
    via = step.via
    inside = rec.is_step(via) or (via == "J" and _loss_in_step(rec, step))
    when = "t" if inside else ""
    target = _timed(step.target, inside, rec, kinds)
    return target, via + ("_t" if inside and via != "J" else ""), lambda expr: display(expr, rec, when, latex=True)


def _timed(target: str, inside: bool, rec, kinds) -> str:
    """An adjoint's name with time: dQ_t or dh_{t−1} within the step, dh_T after it; a parameter's without."""
    base = target[1:]
    if kinds.get(base) == "param":
        return target
    if not inside:
        return f"{target}_T" if base in rec.states else target
    if base in rec.previous:
        return f"d{rec.previous[base]}_t-1"
    return f"{target}_t"


def sum_step(step, rec, kinds, carried, mp) -> tuple[str, str, list[tuple[str, str]]]:
    """A sum over uses with time on its names: (its adjoint, its quantity, each use's (label, term)): a use of
    step t as Q_t, and step t+1's use of h_t as what it sends back (dh_{t−1} there, spelled out)."""
    inside = any(via == NEXT or rec.is_step(via) for via, _ in step.terms)
    target = _timed(step.target, inside, rec, kinds)
    terms = []
    for via, expr in step.terms:
        if via == NEXT:
            terms.append((r"\text{step } t+1", mp.doprint(shifted(carried[expr.name], rec, latex=True))))
            continue
        label = "J" if via == "J" else mp.name(via + "_t" if rec.is_step(via) else via)
        terms.append((label, mp.doprint(display(expr, rec, "t" if inside else "", latex=True))))
    return mp.name(target), mp.name(target[1:]), terms


def next_step(step, rec, carried, mp) -> dict:
    """The step's extra use of h_t: step t+1 reads it as h_{t−1} and sends back its d(h_prev)."""
    return {
        "kind": "next",
        "lhs": mp.name(f"{step.target}_t"),
        "state": mp.name(f"{step.target[1:]}_t"),
        "previous": mp.name(f"{step.target[1:]}_t-1"),
        "rhs": mp.doprint(shifted(carried[step.expr.name], rec, latex=True)),
    }


def _loss_in_step(rec, step) -> bool:
    return any(s.name in rec.per_step for s in step.definition.atoms(sp.MatrixSymbol))


def bptt_section(vn, vd, mp, label):
    """The section on backpropagation through time (``document.Section``); ``label(name, when)`` names a
    quantity at a time, as the computation graphs do."""
    from ..render.graph_layout import Figure
    from ..render.graph_tikz import tikz
    from ..render.program_graph import unrolled
    from .document import Display, Picture, Row, Section, Text, visible_width

    r = recurrence_topic(vn, vd, mp)
    graph = unrolled(vn, label, visible_width, UNROLL)
    caption = (
        rf"The network unrolled for $T = {UNROLL}$ steps: every arrow into a step's state passes through the step's"
        rf" equations, with the same parameters {r['params']} at every step."
    )
    if r["many_to_one"]:
        outputs = rf"Only the last state feeds the output ${r['output']}$ (many-to-one)."
    else:
        outputs = rf"Every step has its output ${r['output']}_t$ and its loss; $J$ sums them over $t$."
    blocks = [
        Text(
            rf"Unrolled for $T = {UNROLL}$ steps, the network is an ordinary computation graph in which every step uses"
            r" the same parameters:"
        ),
        Picture(caption, figure=Figure(graph), tikz=tikz(graph)),
        Text(
            rf"{outputs} The state ${r['state']}$ is used twice: by its own step, and by step $t+1$, which reads it as"
            rf" its ${r['previous']}$. So its gradient is the sum of both uses' terms,"
        ),
        Display([Row(r["dh_lhs"], r["dh"])]),
        Text(
            r"where the last term is what step $t+1$ sends back; at $t = T$ there is no step $T+1$"
            + (", and the output's term takes its place" if r["many_to_one"] else "")
            + r". Written into the step's activation, this is the $\delta$ recursion, run backwards from $t = T$ to $1$:"
        ),
        Display([Row(r["delta_lhs"], r["delta"])]),
        Text(
            r"Each parameter of the step is used at every $t$, so its gradient is the sum over $t$ of the step's term:"
        ),
        Display([Row(s["lhs"], s["rhs"]) for s in r["sums"]]),
        Text(
            rf"Along the way back, step $t$'s gradient is multiplied once by {r['weights']} (transposed) and by the"
            r" activation's derivative for every step it travels, so over many steps it can shrink towards 0 or grow"
            r" without bound (vanishing and exploding gradients). The generated module's \texttt{train} can clip the"
            r" gradients' norm (\texttt{clip\_norm}), as courses teach for RNNs."
        ),
    ]
    return Section("bptt", "Backpropagation through time", blocks, label="sec:bptt")


def recurrence_topic(vn, vd, mp) -> dict | None:
    """Template data of the section on backpropagation through time (None without a recurrence)."""
    rec = vn.recurrence
    if rec is None:
        return None
    (h, prev), *_ = rec.states.items()
    carried = carried_values(vd.backward, rec)
    by_target = {e.target: e for e in vd.backward}
    dh = by_target[f"d{h}"]
    # the δ recursion: the state's pre-activation adjoint with dh_t written in, and each step's output delta
    act = next(e for e in vd.forward if e.target == h)
    Z = act.operands[0]
    dZ = by_target[f"d{Z}"]
    step_adjoints = {
        sp.MatrixSymbol(e.target, *e.shape): e.expr
        for e in vd.backward
        if time_of(e, rec) == "t" and e.kind in ("output_delta",)
    }
    dh_value = dh.expr.xreplace(step_adjoints)
    delta = dZ.expr.xreplace({sp.MatrixSymbol(f"d{h}", *dh.shape): dh_value})
    eq_delta = dataclasses.replace(dZ, expr=delta)
    delta_tex = mp.doprint(readable(eq_delta, rec, carried, latex=True))
    sums = [e for e in vd.backward if e.kind == "time_sum"]
    inside = [a for a in vn.assignments if rec.is_step(a.name)]
    weights = [p for p in vn.names("param") if _multiplies(vn, p, prev)]
    outputs = [n for n in rec.per_step if n == (vn.cost_operands or ("",))[0]]
    after = vn.cost_operands[0] if not outputs else None
    return {
        "state": mp.name(f"{h}_t"),
        "state_name": h,
        "previous": mp.name(f"{h}_t-1"),
        "T": vn.dim_sizes[rec.T],
        "delta_lhs": mp.name(f"d{Z}_t"),
        "delta": delta_tex,
        "dh_lhs": mp.name(f"d{h}_t"),
        "dh": mp.doprint(readable(dh, rec, carried, latex=True)),
        "sums": [{"lhs": mp.name(e.target), "rhs": mp.doprint(readable(e, rec, carried, latex=True))} for e in sums],
        "weights": ", ".join(f"${mp.name(w)}$" for w in weights),
        "params": ", ".join(f"${mp.name(p)}$" for p in vn.names("param") if any(p in _reads(a) for a in inside)),
        "many_to_one": after is not None,
        "output": mp.name(after or outputs[0]) if (after or outputs) else "",
    }


def _multiplies(vn, p, prev) -> bool:
    for a in vn.assignments:
        for term in sp.preorder_traversal(a.value):
            if isinstance(term, sp.MatMul):
                names = [f.name for f in term.args if isinstance(f, sp.MatrixSymbol)]
                if p in names and prev in names:
                    return True
    return False


def _reads(assignment) -> set[str]:
    return {m.name for m in assignment.value.atoms(sp.MatrixSymbol)}
