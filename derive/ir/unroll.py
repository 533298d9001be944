"""Run a recurrent derivation over a concrete sequence: the step's equations for t = 1 … T, then back.

A reference interpreter of the BPTT equations (``derive.ir.recurrence``) for
checking them: the forward equations of the step run for t = 1 … T with the
state carried (h_0 = 0), those after the step read h_T; backward runs the
equations after the step, sets the term step T + 1 sends back (the
boundary), then the step's adjoints for t = T … 1, carrying ``dh_prev`` to the
step before and adding each step's term to the sums over t.  The evaluator
is ``derive.ir.numeric``'s (NumPy or SymPy), one expression at a time.
"""

from __future__ import annotations

import sympy as sp

from ..ops.nodes import TimeSum
from .recurrence import time_of


def run_sequence(d, static: dict, steps: list[dict], dims: dict, evaluator) -> dict:
    """``static``: parameters and whatever is not per step; ``steps[t]``: the per-step leaves at t + 1.

    Returns the parameters' gradients (``dW``), the cost ``J``, the last state's
    quantities after the step, and ``per_step``: each step's forward and
    backward values."""
    net = d.network
    rec = net.recurrence
    step_fwd = [e for e in d.forward if time_of(e, rec) == "t"]
    after_fwd = [e for e in d.forward if time_of(e, rec) == "" and e.target != "J"]
    cost = next(e for e in d.forward if e.target == "J")
    state = {prev: _zeros(evaluator, net.matrices[prev].shape, dims) for prev in rec.states.values()}
    history = []
    for leaves in steps:
        env = {**static, **leaves, **state}
        _run(step_fwd, env, dims, evaluator)
        history.append(env)
        state = {prev: env[h] for h, prev in rec.states.items()}
    after = {**static, **{h: history[-1][h] for h in rec.states}}
    _run(after_fwd, after, dims, evaluator)
    if rec.is_step(net.cost_operands[0]):  # a loss at every step: J = Σ_t J_t
        total = None
        for env in history:
            J = evaluator({**after, **env}, dims)(cost.expr)
            total = J if total is None else total + J
        after["J"] = total
    else:
        after["J"] = evaluator(after, dims)(cost.expr)
    # backward: after the step, the boundary, then t = T … 1
    for e in d.backward:
        if time_of(e, rec) == "":
            after[e.target] = evaluator(after, dims)(e.expr)
        elif time_of(e, rec) == "boundary":
            if isinstance(e.expr, sp.ZeroMatrix):
                after[e.target] = _zeros(evaluator, e.expr.shape, dims)
            else:
                after[e.target] = evaluator(after, dims)(e.expr)
    carried = {f"d{prev}": after[f"d{prev}"] for prev in rec.states.values()}
    sums: dict[str, dict] = {}
    loop = [e for e in d.backward if time_of(e, rec) in ("t", "sum")]
    for env in reversed(history):
        env.update({k: v for k, v in after.items() if k not in env})
        env.update(carried)
        ev = evaluator(env, dims)
        for e in loop:
            if time_of(e, rec) == "t":
                env[e.target] = ev(e.expr)
            else:
                for ts in e.expr.atoms(TimeSum):
                    value = ev(ts.arg)
                    acc = sums.setdefault(e.target, {})
                    acc[ts] = value if ts not in acc else acc[ts] + value
        carried = {f"d{prev}": env[f"d{prev}"] for prev in rec.states.values()}
    out = {"J": after["J"], "per_step": history, "after": after}
    for e in d.backward:
        if time_of(e, rec) == "sum":
            holders = {ts: sp.MatrixSymbol(f"_sum{i}", *ts.shape) for i, ts in enumerate(e.expr.atoms(TimeSum))}
            env = {**after, **{holders[ts].name: v for ts, v in sums[e.target].items()}}
            out[e.target] = evaluator(env, dims)(e.expr.xreplace(holders))
        elif e.target[1:] in net.kinds and net.kinds[e.target[1:]] == "param":
            out[e.target] = after[e.target]
    return out


def _run(equations, env, dims, evaluator) -> None:
    ev = evaluator(env, dims)
    for e in equations:
        env[e.target] = ev(e.expr)


def _zeros(evaluator, shape, dims):
    return evaluator({}, dims)(sp.ZeroMatrix(*shape))
