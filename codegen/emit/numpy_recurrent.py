"""The training module of a recurrent layer network: a forward loop over t, backpropagation through time.

The derivation (``derive.ir.recurrence``) gives the equations of one step t,
those after the last step, the boundary at t = T and the sums over t.  The
module runs them as Ng's ``rnn_forward`` / ``rnn_backward`` (deeplearning.ai
course 5) do: ``run_steps`` keeps every step's quantities (``Q[t]`` is
``Q_t``); ``gradients`` runs the equations after the last step, sets the
term step T + 1 sends back (the boundary), then loops t = T … 1, each step
sending ``dh_prev`` to the step before and adding its term to each
parameter's sum over t.  Each line carries its equation, numbered as in the
handout.  The rest of the module (init_params, train with gradient
clipping, predict, the data) is the family's (``train_module.py.jinja``).
"""

from __future__ import annotations

import re

import sympy as sp

from derive import ChainruleError
from derive.ir.recurrence import time_of
from derive.ops import record_of
from derive.ops.nodes import TimeSum

from ..render.numpy_matrix import MatrixCodePrinter
from . import losses


def recurrent_source(net, d, printer: MatrixCodePrinter, X: str, Y: str, environment) -> tuple[str, dict]:
    """The forward / run_steps / loss / gradients source, and what the rest of the module needs."""
    from .numpy_module import Line, live_lines

    rec = net.recurrence
    where = f"network '{net.name}'"
    A_L, Y_L = net.cost_operands
    every_step = rec.is_step(A_L)  # a loss at every step: Y holds each step's target word, T×m
    if every_step and not (record_of(net.loss).task == "multiclass" and Y_L in net.names("target")):
        raise ChainruleError(
            "the module templates express a loss at every step as a cross-entropy on the next word", where
        )
    leaves = [n for n in rec.per_step if net.kinds[n] == "input"]
    if leaves != [n for n in net.names("input")] or len(leaves) != 1:
        raise ChainruleError(
            "the module templates express one input, read at every step (word indices, or numbers X[t]);"
            f" this network has {', '.join(net.names('input')) or 'none'}",
            where,
        )
    w = leaves[0]
    indices = w in net.index_inputs
    rows = net.size(net.matrices[w].shape[0])
    step_nodes = [n for n in rec.per_step if net.kinds[n] == "node"]
    per_step = [(n, net.size(net.matrices[n].shape[0])) for n in step_nodes]

    def in_step(expr):
        """Per-step Q as Q[t]; h_prev stays (the loop's variable); the word indices as w."""
        ren = {}
        for s in expr.atoms(sp.MatrixSymbol):
            if s.name in step_nodes:
                ren[s] = sp.MatrixSymbol(f"{s.name}[t]", *s.shape)
            elif every_step and s.name == Y_L:
                ren[s] = sp.MatrixSymbol(f"{Y_L}_t", *s.shape)
        return expr.xreplace(ren)

    def after(expr):
        ren = {}
        for s in expr.atoms(sp.MatrixSymbol):
            if s.name in rec.states:
                ren[s] = sp.MatrixSymbol(f"{s.name}[-1]", *s.shape)
        return expr.xreplace(ren)

    def code(expr):
        return printer.code(expr)

    forward_eqs = [e for e in d.forward if e.target != "J"]
    step_forward, after_forward = [], []
    for e in forward_eqs:
        if time_of(e, rec) == "t":
            step_forward.append(Line(f"{e.target}[t] = {code(in_step(e.expr))}", [f"({e.number}) {e.text}"]))
        else:
            after_forward.append(Line(f"{e.target} = {code(after(e.expr))}", [f"({e.number}) {e.text}"]))
    cost = next(e for e in d.forward if e.target == "J")
    act = next(e for e in d.forward if e.target == A_L)
    Z_L = act.operands[0]
    at = "[t]" if every_step else ""  # a loss at every step: step t's logits and target word
    loss_code, logits = losses.loss_code(
        printer, record_of(act.function), record_of(net.loss), f"{Z_L}{at}", f"{A_L}{at}", Y_L + ("_t" if at else "")
    )
    where_from = f"each step's from its logits {Z_L}_t" if every_step else f"computed from the logits {Z_L}"
    loss_comment = f"({cost.number}) {cost.text}" + (f", {where_from} (log-sum-exp: stable)" if logits else "")

    after_backward, step_backward, sums_start, sums_end = [], [], [], []
    params = [n for n, _ in net.params()]
    for e in d.backward:
        when = time_of(e, rec)
        comment = [f"({e.number}) {e.text}"]
        if when == "":
            after_backward.append(Line(f"{e.target} = {code(after(e.expr))}", comment))
        elif when == "boundary":
            value = (
                f"np.zeros(({net.size(e.shape[0])}, m), dtype=dtype)"
                if isinstance(e.expr, sp.ZeroMatrix)
                else code(after(e.expr))
            )
            after_backward.append(Line(f"{e.target} = {value}", comment))
        elif when == "t":
            step_backward.append(Line(f"{e.target} = {code(in_step(e.expr))}", comment))
        else:  # a parameter's sum over t
            sums = sorted(e.expr.atoms(TimeSum), key=str)
            if len(sums) != 1:
                raise ChainruleError(f"the module templates cannot express {e.text}", where)
            (ts,) = sums
            sums_start.append(f"{e.target} = np.zeros_like({e.target[1:]})  # Σ_t of the step's term, below")
            step_backward.append(
                Line(f"{e.target} += {code(in_step(ts.arg))}", [f"({e.number}) {e.text}: step t's term"])
            )
            sums_end.append(
                f'grads["{e.target[1:]}"] = {code(after(e.expr.xreplace({ts: sp.MatrixSymbol(e.target, *ts.shape)})))}  # ({e.number})'
            )
    done = {line.split('"')[1]: line for line in sums_end}
    sums_end = [done.get(p, f'grads["{p}"] = d{p}') for p in params]

    def reads(lines, name):
        return any(re.search(rf"\b{name}\[", line.code if isinstance(line, Line) else line) for line in lines)

    loss_forward = live_lines(after_forward, [loss_code]) if not every_step else []
    forward_reads = [n for n, _ in per_step if reads(after_forward, n) or (every_step and n == A_L)]
    loss_reads = [n for n, _ in per_step if reads([*loss_forward, Line(loss_code, [])], n)]
    backward_reads = [n for n, _ in per_step if reads(after_forward + after_backward + step_backward, n)]
    context = {
        "loss_forward": loss_forward,
        "X": X,
        "Y": Y,
        "A_L": A_L,
        "T": net.size(rec.T),
        "params": params,
        "forward_unpack": _unpack(params, after_forward),
        "loss_unpack": _unpack(params, loss_forward),
        "step_unpack": _unpack(params, step_forward),
        "backward_unpack": _unpack(
            params, after_forward + after_backward + step_backward + [Line(x, []) for x in sums_start]
        ),
        "per_step": per_step,
        "forward_reads": forward_reads,
        "loss_reads": loss_reads,
        "backward_reads": backward_reads,
        "states": [(h, p, net.size(net.matrices[p].shape[0])) for h, p in rec.states.items()],
        "step_leaves": [
            f"{w} = {X}[t : t + 1]  # {w}_t: word t of every sequence, 1×m"
            if indices
            else f"{w} = {X}[t]  # {w}_t: the inputs at step t, {rows}×m"
        ],
        "x_layout": f"X is {net.size(rec.T)}×m: row t holds word t of every sequence (one column per sequence)."
        if indices
        else f"X is T×{rows}×m, time first: X[t] holds step t's inputs (one column per sequence).",
        "indices": indices,
        "input_rows": rows,
        "step_targets": [f"{Y_L}_t = eye[:, {Y}[t]]  # {Y_L}_t: the next word at step t, one-hot"]
        if every_step
        else [],
        "every_step": every_step,
        "step_forward": step_forward,
        "after_forward": after_forward,
        "step_backward": step_backward,
        "after_backward": after_backward,
        "sums_start": sums_start,
        "sums_end": sums_end,
        "loss_code": loss_code,
        "loss_comment": loss_comment,
        "cost_text": cost.text,
    }
    source = environment.get_template("recurrent.py.jinja").render(**context)
    return source, context


def _unpack(params, lines) -> str:
    """``W, b = params["W"], params["b"]`` for the parameters ``lines`` read (nothing when none)."""
    from .numpy_module import unpack_params

    used = [p for p in params if any(re.search(rf"\b{p}\b", line.code) for line in lines)]
    return unpack_params(used) if used else ""
