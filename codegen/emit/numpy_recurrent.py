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
from sympy.matrices.expressions.special import OneMatrix

from derive import ChainruleError
from derive.ir.recurrence import time_of
from derive.ops import record_of
from derive.ops.nodes import TimeSum

from ..render.numpy_matrix import MatrixCodePrinter
from . import losses
from .backends import NUMPY, Backend


def recurrent_source(
    net, d, printer: MatrixCodePrinter, X: str, Y: str, environment, backend: Backend = NUMPY
) -> tuple[str, dict]:
    """The forward / run_steps / loss / gradients source, and what the rest of the module needs.

    NumPy's module loops over t and names step t's quantity ``Q[t]``; JAX's runs each step as the body of a
    ``lax.scan`` (forward, then reversed), where step t's quantity is ``Q`` itself."""
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

    at_t = "[t]" if backend.inplace else ""  # step t's Q: Q[t] in NumPy's loop, Q in a scan's body

    def in_step(expr):
        """Per-step Q as Q[t] (a scan's body: Q); h_prev stays (the loop's variable); the word indices as w."""
        ren = {}
        for s in expr.atoms(sp.MatrixSymbol):
            if s.name in step_nodes:
                ren[s] = sp.MatrixSymbol(f"{s.name}{at_t}", *s.shape)
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
            step_forward.append(Line(f"{e.target}{at_t} = {code(in_step(e.expr))}", [f"({e.number}) {e.text}"]))
        else:
            after_forward.append(Line(f"{e.target} = {code(after(e.expr))}", [f"({e.number}) {e.text}"]))
    cost = next(e for e in d.forward if e.target == "J")
    out = next(e for e in d.forward if e.target == A_L)
    act = record_of(out.function) if out.kind == "activation" else None  # None: the output is the read-out itself
    Z_L = out.operands[0] if act is not None else A_L
    at = ("[t]" if backend.inplace else "_t") if every_step else ""  # a loss at every step: step t's logits, word
    loss_code, logits = losses.loss_code(
        printer, act, record_of(net.loss), f"{Z_L}{at}", f"{A_L}{at}", Y_L + ("_t" if at else "")
    )
    where_from = f"each step's from its logits {Z_L}_t" if every_step else f"computed from the logits {Z_L}"
    loss_comment = f"({cost.number}) {cost.text}" + (f", {where_from} (log-sum-exp: stable)" if logits else "")

    after_backward, step_backward, sums_start, sums_end = [], [], [], []
    steps_start, sums_after, kept, whole = [], [], set(), set()  # the sums over t taken after the loop (NumPy)
    params = [n for n, _ in net.params()]
    body_targets: dict[str, int] = {}  # what step t's backward computes: name -> rows
    for e in d.backward:
        when = time_of(e, rec)
        comment = [f"({e.number}) {e.text}"]
        if when == "":
            after_backward.append(Line(f"{e.target} = {code(after(e.expr))}", comment))
        elif when == "boundary":
            value = (
                printer.use(f"np.zeros(({net.size(e.shape[0])}, m), dtype=dtype)")
                if isinstance(e.expr, sp.ZeroMatrix)
                else code(after(e.expr))
            )
            after_backward.append(Line(f"{e.target} = {value}", comment))
        elif when == "t":
            step_backward.append(Line(f"{e.target} = {code(in_step(e.expr))}", comment))
            body_targets[e.target] = net.size(e.shape[0])
        else:  # a parameter's sum over t
            sums = sorted(e.expr.atoms(TimeSum), key=str)
            if len(sums) != 1:
                raise ChainruleError(f"the module templates cannot express {e.text}", where)
            (ts,) = sums
            factors = _after_the_loop(ts.arg, body_targets, step_nodes, rec, leaves[0] if not indices else None, net.m)
            if backend.inplace and factors is not None:
                # Σ_t dZ_t Bᵀ as one product over every step, after the loop (one large matrix product, not T
                # small ones: the BLAS is far more efficient at that size); step t keeps its dZ_t
                A, B = factors
                if A not in kept:
                    kept.add(A)
                    steps_start.append(
                        f"{A}_steps = np.empty((T, {body_targets[A]}, m), dtype=dtype)  # {A}_t of every step"
                    )
                    step_backward.append(Line(f"{A}_steps[t] = {A}", ["kept for the sums over t after the loop"]))
                if B is None:
                    total = f"{A}_steps.sum(axis=(0, 2))[:, None]"
                else:
                    if B in rec.states.values():
                        h = next(h for h, p in rec.states.items() if p == B)
                        if f"{B}_steps" not in whole:
                            steps_start.append(
                                f"{B}_steps = np.concatenate([np.zeros_like({h}[:1]), {h}[:-1]])  # {h}_{{t−1}} of every step"
                            )
                            whole.add(f"{B}_steps")
                        B = f"{B}_steps"
                    elif B == leaves[0]:
                        B = X
                    whole.add(B)
                    total = f"np.tensordot({A}_steps, {B}, axes=([0, 2], [0, 2]))"
                sums_after.append(Line(f"{e.target} = {total}", [f"({e.number}) {e.text}: every step's term at once"]))
                sums_end.append(
                    f'grads["{e.target[1:]}"] = {code(after(e.expr.xreplace({ts: sp.MatrixSymbol(e.target, *ts.shape)})))}  # ({e.number})'
                )
                continue
            sums_start.append(
                printer.use(f"{e.target} = np.zeros_like({e.target[1:]})  # Σ_t of the step's term, below")
            )
            add = f"{e.target} += " if backend.inplace else f"{e.target} = {e.target} + "
            step_backward.append(Line(f"{add}{code(in_step(ts.arg))}", [f"({e.number}) {e.text}: step t's term"]))
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
    backward_reads = [
        n
        for n, _ in per_step
        if reads(after_forward + after_backward + step_backward, n) or n in whole or f"{n}_steps" in whole
    ]
    rec_states = [(h, p, None) for h, p in rec.states.items()]
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
        "Y_L": Y_L,
        "step_leaves": [
            (f"{w} = {X}[t : t + 1]" if backend.inplace else f"{w} = {X}_t[None, :]")
            + f"  # {w}_t: word t of every sequence, 1×m"
            if indices
            else (f"{w} = {X}[t]" if backend.inplace else f"{w} = {X}_t") + f"  # {w}_t: the inputs at step t, {rows}×m"
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
        "steps_start": steps_start,
        "sums_after": sums_after,
        "sums_end": sums_end,
        "loss_code": loss_code,
        "loss_comment": loss_comment,
        "cost_text": cost.text,
        # what a reversed scan carries (JAX): what step t sends back to step t − 1, and the parameters' sums over t
        "carried": [f"d{p}" for p in rec.states.values()] + [line.split(" = ", 1)[0] for line in sums_start],
        # a scan's body (JAX): the per-step quantities and previous states step t's backward reads, and the
        # per-step quantities of a loss at every step (named Q_t in loss_code)
        "body_reads": [n for n, _ in per_step if any(re.search(rf"\b{n}\b", x.code) for x in step_backward)],
        "body_states": [p for _, p, _ in rec_states if any(re.search(rf"\b{p}\b", x.code) for x in step_backward)],
        # whether step t's backward reads the step's input (not when every term in it is summed after the loop)
        "body_leaf": any(re.search(rf"\b{w}\b", x.code) for x in step_backward),
        "step_loss_args": sorted(set(re.findall(r"\b(\w+)_t\b", loss_code))),
    }
    source = environment.get_template(backend.recurrent_template).render(**context)
    return source, context


def _after_the_loop(term, body_targets, step_nodes, rec, leaf, m):
    """(A, B) when step t's term of a sum over t is A_t B_tᵀ (B None: Σ_columns A_t), A computed by step t's
    backward and B a quantity every step keeps (a step's quantity, a previous state, the numeric input): the sum
    is then one product over every step, after the loop.  None otherwise."""
    if not isinstance(term, sp.MatMul):
        return None
    scalar, factors = term.as_coeff_matrices()
    if scalar != 1 or len(factors) != 2 or not isinstance(factors[0], sp.MatrixSymbol):
        return None
    A, other = factors
    if A.name not in body_targets:
        return None
    if isinstance(other, OneMatrix) and other.shape == (m, 1):
        return A.name, None
    if isinstance(other, sp.Transpose) and isinstance(other.arg, sp.MatrixSymbol):
        B = other.arg.name
        if B in step_nodes or B in rec.states.values() or B == leaf:
            return A.name, B
    return None


def _unpack(params, lines) -> str:
    """``W, b = params["W"], params["b"]`` for the parameters ``lines`` read (nothing when none)."""
    from .numpy_module import unpack_params

    used = [p for p in params if any(re.search(rf"\b{p}\b", line.code) for line in lines)]
    return unpack_params(used) if used else ""
