"""The handout's pages for a recurrence: the unrolled graph, one step's equations, and BPTT.

For a network declared with one time step (``derive.ir.recurrence``): the
computation graph unrolled for T = 3 in TikZ (as J&M ch. 8 and Goodfellow
§10.1 draw it: the inputs below, the state carried left to right, the
outputs above), the step's equations with time on every name, the δ
recursion written out (Goodfellow §10.2.2; Ng, course 5, ``rnn_backward``),
and the parameters' sums over t.
"""

from __future__ import annotations

import dataclasses

import sympy as sp

from derive.ir.recurrence import NEXT, carried_values, display, readable, readable_target, shifted, time_of

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
    return rf"{mp.doprint(eq.shape[0])} \times {mp.doprint(eq.shape[1])}"


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
    weights = [p for p in vn.names("param") if _multiplies(vn, p, prev)]
    leaves = [n for n in rec.per_step if vn.kinds[n] == "input"]
    outputs = [n for n in rec.per_step if n == (vn.cost_operands or ("",))[0]]
    after = vn.cost_operands[0] if not outputs else None
    return {
        "state": mp.name(f"{h}_t"),
        "state_name": h,
        "previous": mp.name(f"{h}_t-1"),
        "T": vn.dim_sizes[rec.T],
        "graph": _graph(vn, rec, mp, h, leaves, outputs, after, weights),
        "delta_lhs": mp.name(f"d{Z}_t"),
        "delta": delta_tex,
        "dh_lhs": mp.name(f"d{h}_t"),
        "dh": mp.doprint(readable(dh, rec, carried, latex=True)),
        "sums": [{"lhs": mp.name(e.target), "rhs": mp.doprint(readable(e, rec, carried, latex=True))} for e in sums],
        "weights": ", ".join(f"${mp.name(w)}$" for w in weights),
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


def _graph(vn, rec, mp, h, leaves, outputs, after, weights) -> str:
    """TikZ of the network unrolled for UNROLL steps."""
    w_label = ", ".join(mp.name(w) for w in weights)
    style = (
        r"\begin{tikzpicture}[x=2.6cm, y=1.5cm, q/.style={draw, circle, minimum size=1.05cm, inner sep=1pt},"
        r" leaf/.style={draw, rectangle, minimum size=0.8cm}, >=stealth]"
    )
    lines = [style]
    lines.append(rf"\node[leaf] (h0) at (0, 1) {{${mp.name(h + '_0')}$}};")
    for t in range(1, UNROLL + 1):
        for leaf in leaves:
            lines.append(rf"\node[leaf] (x{t}) at ({t}, 0) {{${mp.name(f'{leaf}_{t}')}$}};")
        lines.append(rf"\node[q] (h{t}) at ({t}, 1) {{${mp.name(f'{h}_{t}')}$}};")
        lines.append(rf"\draw[->] (x{t}) -- (h{t});")
        lines.append(rf"\draw[->] (h{t - 1}) -- node[above] {{\small ${w_label}$}} (h{t});")
        for out in outputs:
            lines.append(rf"\node[q] (y{t}) at ({t}, 2) {{${mp.name(f'{out}_{t}')}$}};")
            lines.append(rf"\draw[->] (h{t}) -- (y{t});")
    if after is not None:
        lines.append(rf"\node[q] (y) at ({UNROLL + 1}, 1) {{${mp.name(after)}$}};")
        lines.append(rf"\draw[->] (h{UNROLL}) -- (y);")
        lines.append(rf"\node[leaf] (J) at ({UNROLL + 1}, 2) {{$J$}};")
        lines.append(r"\draw[->] (y) -- (J);")
    else:
        lines.append(rf"\node[leaf] (J) at ({UNROLL + 1}, 2) {{$J = \sum_t L_t$}};")
        for t in range(1, UNROLL + 1):
            lines.append(rf"\draw[->, gray] (y{t}) to[bend left=12] (J);")
    lines.append(r"\end{tikzpicture}")
    return "\n".join(lines)
