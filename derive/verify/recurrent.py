"""Claims about a recurrence (backpropagation through time), checked numerically at one step t.

A claim is written as the course writes BPTT (Goodfellow §10.2.2; Ng, course 5,
``rnn_backward``), in text::

    dh_t = W.T @ da_{t+1} + V.T @ do_t        (the state's two uses)
    da_t = dh_t * (1 - h_t**2)
    dW = (1/m) Σ_t da_t @ h_{t−1}.T          (a parameter of the step: a sum over t)
    dc_{t−1} = (dc_{t+1} * Γf_{t+1} + Γo_t * (1 - tanh(c_t)**2) * da_t) * Γf_t

``Q_t`` (or ``Q``) is step t's, ``Q_{t−1}`` (or ``Q_prev``) the previous step's
state, ``Q_{t+1}`` step t+1's, ``Q_T`` the last step's; ``Σ_t`` (or ``sum_t``)
sums what follows (to the end, or the parenthesised group) over t.  The
truth is the recurrence's derivation evaluated at one step with random
values: parameters, the step's inputs, the previous state and every
quantity of step t+1 that reaches step t (``da_{t+1}``) drawn at random,
the rest computed by the step's equations.  Because Σ_t is linear and the
steps are independent, a sum over t holds when its step term does; a claim
that leaves a sum over t out (or puts one where the quantity is used once)
is refused by name.
"""

from __future__ import annotations

import re

import numpy as np
import sympy as sp

from ..ir.nodes import TimeSum
from ..ir.recurrence import carried_values
from .claims import ClaimError, names_in
from .vectorised import VecTarget, read, resolve, run_trials, target_name
from .verdict import Verdict

NOT_SYMBOLIC = "not attempted (claims about a recurrence are checked numerically, at one step t)"
LATER = "__next"  # the suffix of a quantity of step t+1
SENT = "__sent"  # the suffix of what step t+1 sends back to step t (d<h_prev> at t+1)


class RecTarget(VecTarget):
    """A recurrent ``VecNetwork``: the names a BPTT claim may use, and their values at one step t."""

    def __init__(self, net):
        self.net = net
        self.name = net.name
        self.rec = net.recurrence
        self.d = net.derive()
        eqs = [e for e in self.d.equations if e.kind != "boundary"]
        self.shown = {e.target: e.text for e in eqs}
        self.equations = {e.target: e for e in eqs}
        self.activation = {e.operands[0]: e.function for e in self.d.forward if e.kind == "activation"}
        (self.y,) = net.names("target")
        self.params = tuple(net.names("param"))
        self.scalars = {"J"}
        self.data = (*net.names("input"), self.y, "m")
        self.staged = []
        self.carried = carried_values(self.d.backward, self.rec)
        self.later = sorted(
            {
                _next(s.name)
                for expr in self.carried.values()
                for s in expr.atoms(sp.MatrixSymbol)
                if self._of_step(s.name)
            }
        )

    def _of_step(self, name: str) -> bool:
        base = name[1:] if name.startswith("d") and name[1:] in self.net.kinds else name
        return base in self.rec.per_step

    def names(self) -> tuple[str, ...]:
        return (*super().names(), *self.later)

    def values(self, rng: np.random.Generator) -> tuple[dict, dict]:
        from ..vecnumeric import run
        from ..vectorised import M

        net, rec = self.net, self.rec
        dims = self.dims(rng)

        def shape(name):
            return tuple(int(sp.sympify(x).subs(dims)) for x in net.matrices[name].shape)

        env = {p: rng.normal(0.0, 0.7, shape(p)) for p in self.params}
        for name in net.names("input"):
            if name in net.index_inputs:
                env[name] = rng.integers(1, int(sp.sympify(net.index_inputs[name]).subs(dims)), shape(name))
            else:
                env[name] = rng.normal(0.0, 1.0, shape(name))
        rows, cols = shape(self.y)
        if net.output == "softmax":
            env[self.y] = np.eye(rows)[:, rng.integers(0, rows, cols)]
        else:
            env[self.y] = rng.integers(0, 2, (rows, cols)).astype(float)
        for prev in rec.states.values():
            env[prev] = rng.uniform(-0.9, 0.9, shape(prev))
        for later in self.later:  # step t+1's quantities that reach step t
            base = later[: -len(LATER)]
            env[later] = rng.uniform(0.1, 0.9, self._shape(base, shape))
        for target, expr in self.carried.items():  # what step t+1 sends back: d<h_prev> there
            ahead = expr.xreplace(
                {
                    s: sp.MatrixSymbol(_next(s.name), *s.shape)
                    for s in expr.atoms(sp.MatrixSymbol)
                    if self._of_step(s.name)
                }
            )
            env[target] = run([_eq(target, ahead)], env, dims)[target]
        forward = [e for e in self.d.forward if e.target != "J"]
        backward = [e for e in self.d.backward if e.kind != "boundary"]
        one_step = [_eq(e.target, e.expr.xreplace({ts: ts.arg for ts in e.expr.atoms(TimeSum)})) for e in backward]
        with np.errstate(all="ignore"):
            values = run(forward + one_step, env, dims)
        values["m"] = float(dims[M])
        for target in self.carried:
            values[target + SENT] = env[target]
        return values, dims

    def _shape(self, name, shape):
        """A quantity's or a gradient's shape (d<Q> is Q's)."""
        return shape(name if name in self.net.matrices else name[1:])


def _next(name: str) -> str:
    return f"{name}{LATER}"


def _eq(target, expr):
    from ..ir.equation import Equation

    return Equation(0, target, "let", (), None, expr.shape, expr, "")


# ------------------------------------------------------------- reading time
_SUM = re.compile(r"(Σ|∑|sum)_\{?t\}?")
_MARK = re.compile("\x00")


def untimed(claim: str) -> str:
    """A text claim with time written out, in the names the step's equations use."""
    s = _SUM.sub("\x00", claim.replace("−", "-"))  # Σ_t first: its own _t is not a time index
    s = re.sub(r"([^\W\d][\w]*)_\{t\s*-\s*1\}", r"\1_prev", s)
    s = re.sub(r"([^\W\d][\w]*)_\{t\s*\+\s*1\}", r"\1" + LATER, s)
    s = re.sub(r"([^\W\d][\w]*)_\{?[tT]\}?(?![\w{])", r"\1", s)
    out, i = [], 0
    while True:
        m = _MARK.search(s, i)
        if m is None:
            out.append(s[i:])
            break
        out.append(s[i : m.start()])
        j = m.end()
        while j < len(s) and s[j] == " ":
            j += 1
        end = _scope_end(s, j)
        out.append(f"sum_t({s[j:end]})")
        i = end
    return "".join(out)


def _scope_end(s: str, j: int) -> int:
    """Where Σ_t's operand ends: its parenthesised group, else the first unbalanced ')' or the end."""
    depth = 0
    if j < len(s) and s[j] == "(":
        for k in range(j, len(s)):
            depth += {"(": 1, ")": -1}.get(s[k], 0)
            if depth == 0:
                return k + 1
        return len(s)
    for k in range(j, len(s)):
        depth += {"(": 1, ")": -1}.get(s[k], 0)
        if depth < 0:
            return k
    return len(s)


def _has_sum(tree) -> bool:
    if not isinstance(tree, tuple):
        return False
    if tree[:2] == ("call", "sum_t"):
        return True
    return any(_has_sum(part) for part in tree[1:] if isinstance(part, tuple))


def _without_sums(tree):
    """Σ_t X as X: a claim at one step (the steps are independent, Σ_t is linear)."""
    if not isinstance(tree, tuple):
        return tree
    if tree[:2] == ("call", "sum_t"):
        (arg,) = tree[2]
        return _without_sums(arg)
    return tuple(_without_sums(part) for part in tree)  # the arguments of a call are a tuple of trees too


# ------------------------------------------------------------- verifying
def verify_recurrent(net: RecTarget, wrt: str | None, claim: str, *, latex: bool = False, where=None) -> Verdict:
    """Check a BPTT claim for ``wrt`` (``dW``, ``dh``, ``da`` …) numerically at one step t."""
    if latex:
        raise ClaimError("a claim about a recurrence is read as text (dh_t = W.T @ da_{t+1} …), not LaTeX yet", where)
    lhs, rhs = read(net, untimed(claim), False, where)
    name = target_name(net, wrt, lhs, where)
    for n in sorted(names_in(rhs)):
        resolve(net, n, where)
    truth = net.truth_text(name)
    summed, true_sum = _has_sum(rhs), net.equations[name].kind == "time_sum"
    if true_sum and not summed:
        p = name[1:]
        hint = f"the sum over t is missing: {p} is used at every step t = 1 … T, so {name} sums the step's term over t"
        return Verdict(name, claim, False, NOT_SYMBOLIC, "no sum over t", truth, None, hint)
    if summed and not true_sum:
        hint = f"{name[1:]} is used once, not at every step: {name} has no sum over t"
        return Verdict(name, claim, False, NOT_SYMBOLIC, "a sum over t where there is none", truth, None, hint)
    trials = run_trials(net, name, _without_sums(rhs))
    bad = [t for t in trials if not t.agrees]
    if not bad:
        return Verdict(
            name, claim, True, NOT_SYMBOLIC, f"agrees at {len(trials)} random shapes and values of one step", truth
        )
    hint = _slip(net, name, _without_sums(rhs))
    numeric = f"differs at {len(bad)} of {len(trials)} random shapes and values of one step"
    return Verdict(name, claim, False, NOT_SYMBOLIC, numeric, truth, bad[0].counterexample(), hint)


def _slip(net: RecTarget, name: str, tree) -> str | None:
    """The usual BPTT slip: a state's adjoint without the term step t+1 sends back (Wᵀ δ_{t+1})."""
    from .vectorised import evaluate

    base = name[1:]
    if base not in net.rec.states:
        return None
    prev = net.rec.states[base]
    carried = f"d{prev}"
    rng = np.random.default_rng(7)
    for _ in range(3):
        values, _dims = net.values(rng)
        with np.errstate(all="ignore"):
            claimed = evaluate(net, tree, values)
        if not np.allclose(claimed + values[carried + SENT], values[name], rtol=1e-9, atol=1e-12):
            return None
    step = net.equations[name].text.split(" + ")[-1]
    return (
        f"the term from step t+1 is missing: {base}_t is also read by step t+1 (as its {base}_{{t−1}}),"
        f" which sends back {step}"
    )
