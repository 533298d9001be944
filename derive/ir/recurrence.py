"""Recurrence: one declared time step, carried state, and backpropagation through time (BPTT).

A layer network may declare its body once for a step t = 1 … T of a
sequence of symbolic length T (Goodfellow et al., *Deep Learning* §10.2;
Ng, deeplearning.ai course 5, ``rnn_forward`` / ``rnn_backward``)::

    T = net.sequence("T", 12)
    with net.step():
        w = net.indices("w", 1, V)          # w_t: the t-th word of every text
        x = net.let("x", embed(E, w))
        h_prev = net.state("h", n1)         # h_{t−1}; h_0 = 0
        net.let("Z1", Wx * x + Wh * h_prev + b)
        net.let("h", tanh(net.handles["Z1"]))   # h_t, the state's update
    net.let("Z2", V * net.handles["h"] + c) # after the step, h is h_T

Quantities declared inside the step exist once per step (``Q_t``); after the
step only a state's last value ``h_T`` may be read; a loss of per-step
quantities is summed over t (J = (1/m) Σ_t Σ_columns L_t).

The sweep (``derive.ir.backprop``) runs once, over one step, with symbolic
shapes, so the derivation's cost is independent of T.  Three things are
particular to time:

* the state ``h_t`` has one more use: step t + 1 reads it as ``h_{t−1}``, and
  its adjoint there, ``dh_prev`` at t + 1, is one more term of ``dh_t``; at
  t = T that term is what the quantities after the step send back (or 0);
* a parameter used inside the step is used at every t: its gradient is the
  sum over t of the step's term (``dW = (1/m) Σ_t dZ_t h_{t−1}ᵀ``);
* the adjoint of ``h_{t−1}`` (``dh_prev``) is what step t sends back to t − 1.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sympy as sp

from ..errors import ChainruleError
from ..ops.nodes import TimeSum
from ..printing.matrix import matrix_text, sum_text
from .backprop import Sweep, names_in
from .equation import Equation, Term
from .steps import SumOverTime, VecChainRule

NEXT = "step t+1"  # the 'use' of h_t by the next step, as a via


@dataclass
class Recurrence:
    """What a network declares about time: T, the per-step quantities, the states."""

    T: sp.Symbol
    per_step: list[str] = field(default_factory=list)  # declared inside the step, in order
    states: dict[str, str] = field(default_factory=dict)  # state h -> the leaf that reads h_{t−1} (h_prev)
    open: bool = False  # inside ``with net.step():``
    closed: bool = False  # the step has been declared

    def is_step(self, name: str) -> bool:
        return name in self.per_step

    @property
    def previous(self) -> dict[str, str]:
        """h_prev -> h."""
        return {p: h for h, p in self.states.items()}


# ------------------------------------------------------------------ the sweep
class BPTT(Sweep):
    """The reverse sweep over one step, with the terms time adds (see the module docstring)."""

    @property
    def rec(self) -> Recurrence:
        return self.net.recurrence

    def in_loop(self, via: str) -> bool:
        """Whether a term that came back through ``via`` belongs to step t (else: after the last step)."""
        if via == NEXT:
            return True
        if via == "J":
            return self.net.cost_operands is not None and self.rec.is_step(self.net.cost_operands[0])
        return self.rec.is_step(via)

    def write(self, name: str) -> None:
        rec, terms = self.rec, self.terms[name]
        inner = [t for t in terms if self.in_loop(t[0])]
        after = [t for t in terms if not self.in_loop(t[0])]
        if name in rec.states:
            self.write_state(name, inner, after)
        elif self.net.kinds[name] == "param" and inner:
            self.write_time_sum(name, inner, after)
        else:
            super().write(name)

    def write_state(self, name, inner, after) -> None:
        """``dh_t``: the step's own uses, plus the term step t + 1 sends back (``dh_prev`` there)."""
        prev = self.rec.states[name]
        carried = self.adjoint(prev)
        boundary = sp.ZeroMatrix(*carried.shape) if not after else _total([t[1] for t in after])
        text = f"d{prev} = {matrix_text(boundary)}" if after else f"d{prev} = 0"
        self.emit(self.backward, f"d{prev}", "boundary", names_in(boundary), None, boundary, text=text)
        for via, expr, _key, rule, latex in after:
            self.steps.append(VecChainRule(f"d{name}", via, self.definition(via), expr, rule, latex=latex))
        rule = f"step t+1 reads {name}_t as {prev}: its adjoint there, d{prev} at t+1, is one more use"
        self.next_reads = self.net.matrices[prev]
        self.terms[name] = inner + [(NEXT, carried, "recurrence", rule, rule)]
        super().write(name)

    def write_time_sum(self, name, inner, after) -> None:
        """A parameter used at every step: the sum over t of the step's terms (plus any use after the step)."""
        target = f"d{name}"
        self.adjoint(name)
        out = []
        for via, expr, key, rule, latex in inner + after:
            self.steps.append(VecChainRule(target, via, self.definition(via), expr, rule, latex=latex))
            out.append(self.term(name, via, expr, key))
        self.done.add(name)
        step_sum = _total([t.expr for t in out[: len(inner)]])
        scalar, rest = sp.S.One, step_sum
        if isinstance(step_sum, sp.MatMul):
            scalar, factors = step_sum.as_coeff_matrices()
            rest = sp.MatMul(*factors) if len(factors) > 1 else factors[0]
        total = TimeSum(rest) if scalar == 1 else sp.MatMul(scalar, TimeSum(rest))
        for t in out[len(inner) :]:
            total = total + t.expr
        self.steps.append(SumOverTime(target, step_sum, total))
        self.emit(self.backward, target, "time_sum", names_in(total), None, total, terms=tuple(out))

    def term(self, name: str, via: str, expr, key: str) -> Term:
        if via == NEXT:
            return Term(via, "carry", (expr.name,), None, expr)
        return super().term(name, via, expr, key)

    def definition(self, via: str):
        if via == NEXT:
            return self.next_reads
        return super().definition(via)

    def finish(self) -> None:
        """The adjoint of each ``h_{t−1}``: what step t sends back to t − 1."""
        for h, prev in self.rec.states.items():
            if self.terms.get(prev):
                super().write(prev)
            else:
                raise ChainruleError(f"the state '{h}' is never read inside the step", f"network '{self.net.name}'")


def _total(exprs):
    out = exprs[0]
    for e in exprs[1:]:
        out = out + e
    return out


# ----------------------------------------------------------- reading order
def _split(name: str, rec: Recurrence) -> tuple[str, str]:
    """``("d", "h")`` for the adjoint dh of a quantity of the step (or of h_prev), ``("", name)`` otherwise."""
    if name.startswith("d") and (name[1:] in rec.per_step or name[1:] in rec.previous):
        return "d", name[1:]
    return "", name


def _at(name: str, time: str, latex: bool) -> str:
    """``name`` at ``time`` (t, T, t-1, t+1): ``h_t``, ``h_{t−1}`` in text; ``h_t-1`` for ``name_latex``."""
    if latex or len(time) == 1:
        return f"{name}_{time}"
    return f"{name}_{{{time.replace('-', '−')}}}"


def time_of(eq: Equation, rec: Recurrence) -> str:
    """``"t"`` for an equation of step t, ``"sum"`` for a gradient summed over t, ``"boundary"`` for the
    term at t = T of a state's adjoint, ``""`` for one outside the step."""
    if eq.kind == "time_sum":
        return "sum"
    if eq.kind == "boundary":
        return "boundary"
    return "t" if _split(eq.target, rec)[1] in rec.per_step else ""


def order(backward: list[Equation], rec: Recurrence) -> list[Equation]:
    """Backward equations in the order a program runs them: after-the-step first, then the boundary, then the
    reverse loop over t (the step's adjoints and the sums' terms, as the sweep wrote them)."""
    rank = {"": 0, "boundary": 1, "t": 2, "sum": 2}
    return sorted(backward, key=lambda e: rank[time_of(e, rec)])


# ------------------------------------------------------------------ display
def _renamed(expr, rec: Recurrence, label):
    """``expr`` with each name ``label(d, base)`` gives a new one renamed (None: kept)."""
    renames = {}
    for s in expr.atoms(sp.MatrixSymbol):
        new = label(*_split(s.name, rec))
        if new is not None:
            renames[s] = sp.MatrixSymbol(new, *s.shape)
    return expr.xreplace(renames)


def display(expr, rec: Recurrence, when: str, latex: bool = False):
    """``expr`` with time on its names: per-step Q as Q_t, h_prev as h_{t−1}; after the step (``when=""``)
    a state h reads h_T."""

    def label(d, base):
        if base in rec.previous:  # h_prev
            return _at(d + rec.previous[base], "t-1", latex)
        if base in rec.states and when == "":
            return _at(d + base, "T", latex)
        return _at(d + base, "t", latex) if base in rec.per_step else None

    return _renamed(expr, rec, label)


def shifted(expr, rec: Recurrence, latex: bool = False):
    """``expr`` (of step t) as it reads at step t + 1: names get ``_{t+1}``, h_prev becomes h_t."""

    def label(d, base):
        if base in rec.previous:
            return _at(d + rec.previous[base], "t", latex)
        return _at(d + base, "t+1", latex) if base in rec.per_step else None

    return _renamed(expr, rec, label)


def carried_values(backward: list[Equation], rec: Recurrence) -> dict[str, sp.Basic]:
    """``dh_prev`` -> its value at step t (``Wᵀ da``): what step t sends back, printed in dh_t as step t+1's term."""
    return {e.target: e.expr for e in backward if e.target[1:] in rec.previous and time_of(e, rec) == "t"}


def readable(eq: Equation, rec: Recurrence, carried: dict, latex: bool = False):
    """The equation's expression as the course writes it: time on every name, step t+1's term spelled out."""
    when = time_of(eq, rec)
    if when not in ("t", "sum"):
        return display(eq.expr, rec, "", latex)
    step = {s: shifted(carried[s.name], rec, latex) for s in eq.expr.atoms(sp.MatrixSymbol) if s.name in carried}
    inner = eq.expr.xreplace(step)
    if when == "t":
        return display(inner, rec, "t", latex)
    inner = inner.xreplace({ts: TimeSum(display(ts.arg, rec, "t", latex)) for ts in inner.atoms(TimeSum)})
    return display(inner, rec, "", latex)


def readable_target(eq: Equation, rec: Recurrence, latex: bool = False) -> str:
    when = time_of(eq, rec)
    if when == "boundary":
        return _at(f"d{rec.previous[eq.target[1:]]}", "T", latex)
    if when == "t":
        base = eq.target.removeprefix("d")
        if base in rec.previous:
            return _at(f"d{rec.previous[base]}", "t-1", latex)
        return _at(eq.target, "t", latex)
    return eq.target


def readable_text(eq: Equation, rec: Recurrence, carried: dict) -> str:
    """``dh_t = V2ᵀ dZ2_t + Whᵀ dZ1_{t+1}`` and the like."""
    when = time_of(eq, rec)
    target = readable_target(eq, rec)
    if eq.target == "J" and rec.is_step(eq.operands[0] if eq.operands else ""):
        A, Y = eq.operands[:2]
        return eq.text.replace(A, f"{A}_t").replace(Y, f"{Y}_t").replace("(1/m) Σ", "(1/m) Σ_t Σ", 1)
    if when == "boundary":
        h = rec.previous[eq.target[1:]]
        if isinstance(eq.expr, sp.ZeroMatrix):
            return f"at t = T, step t+1's term in d{h}_t is 0 (there is no step T+1)"
        value = matrix_text(readable(eq, rec, {}))
        return f"at t = T, step t+1's term in d{h}_t is {value} ({h}_T is read after the last step)"
    expr = readable(eq, rec, carried)
    if when == "sum" or eq.kind == "sum":
        parts = list(expr.args) if isinstance(expr, sp.MatAdd) else [expr]
        return f"{target} = {sum_text(parts)}"
    return f"{target} = {matrix_text(expr)}"


def check_step_reads(net, name: str, value, where) -> None:
    """After the step, only a state's last value may be read."""
    from ..errors import DeclarationError

    rec = net.recurrence
    if rec is None or rec.open:
        return
    for n in names_in(value):
        if rec.is_step(n) and n not in rec.states:
            raise DeclarationError(
                f"'{name}' reads '{n}', a quantity of each step; after the step only a state's last value"
                f" ({', '.join(rec.states) or 'none declared'}) can be read",
                where,
            )
