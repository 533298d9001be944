r"""Claims about a recurrence (backpropagation through time), checked numerically at one step t.

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

The same claims are read in LaTeX as the handout prints them:
``\mathrm{d}c_{t-1} = \mathrm{d}c_{t} \odot \Gamma_{f,t}``,
``\mathrm{d}W = \frac{1}{m} \sum_{t=1}^{T} \mathrm{d}a_{t} h_{t-1}^{\top}``, time alone or last
in a subscript (``Z_{f,t+1}``).  Also read: the boundary
``\left.\mathrm{d}h_{t-1}\right|_{t=T+1} = V^{\top} \mathrm{d}o`` (what reads h_T after the last
step), the cost J (with its Σ_t when there is a loss at every step) and the updates ``W ← W − α dW``.
"""

from __future__ import annotations

import dataclasses
import re

import numpy as np
import sympy as sp

from ..ir.recurrence import carried_values
from ..ops.nodes import TimeSum
from .claims import ClaimError, names_in
from .vec_hints import vector_hint
from .vec_read import read, resolve, target_name
from .vec_target import VecTarget
from .vec_trials import run_trials
from .verdict import Verdict

NOT_SYMBOLIC = "not attempted (claims about a recurrence are checked numerically, at one step t)"
LATER = "__next"  # the suffix of a quantity of step t+1
SENT = "__sent"  # the suffix of what step t+1 sends back to step t (d<h_prev> at t+1)
AT_END = "__end"  # the suffix of a boundary value: d<h_prev> "at t = T + 1", what reads h_T after the last step


class RecTarget(VecTarget):
    """A recurrent ``VecNetwork``: the names a BPTT claim may use, and their values at one step t."""

    def __init__(self, net):
        self.net = net
        self.name = net.name
        self.rec = net.recurrence
        self.d = net.derive()
        eqs = [e for e in self.d.equations if e.kind != "boundary"]
        self.boundaries = {e.target + AT_END: e for e in self.d.equations if e.kind == "boundary"}
        self.shown = {e.target: e.text for e in eqs}
        self.equations = {e.target: e for e in eqs}
        self.activation = {e.operands[0]: e.function for e in self.d.forward if e.kind == "activation"}
        (self.y,) = net.names("target")
        self.params = tuple(net.names("param"))
        self.scalars = {"J"}
        self.data = (*net.names("input"), self.y, "m")
        self.staged = []
        self._at = {}
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

    def knows(self, name: str) -> bool:
        """A name of the step, also as LaTeX spells it (``Gamma_f`` for Γf, ``dZ_f_next`` for step t+1's dZf)."""
        return super().knows(name) or (_step_name(name) != name and super().knows(_step_name(name)))

    def names(self) -> tuple[str, ...]:
        return (*super().names(), *self.later, *self.boundaries)

    def values(self, rng: np.random.Generator, equations=None) -> tuple[dict, dict]:
        from ..ir.network import M
        from ..ir.numeric import run

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
        if net.target_kind == "one-hot":
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
        equations = [e for e in (self.d.equations if equations is None else equations) if e.kind != "boundary"]
        one_step = [_eq(e.target, e.expr.xreplace({ts: ts.arg for ts in e.expr.atoms(TimeSum)})) for e in equations]
        with np.errstate(all="ignore"):
            values = run(one_step, env, dims)
        values["m"] = float(dims[M])
        for target in self.carried:
            values[target + SENT] = env[target]
        for name, e in self.boundaries.items():
            values[name] = run([_eq(name, e.expr)], values, dims)[name]
        self.add_updates(values)  # p ← p − α dp, with one step's term of dp
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
    return _sums(s)


def _sums(s: str) -> str:
    """Each marked Σ_t as ``sum_t(operand)``, the operand's own Σ_t too (``Σ_t Σ_t X``)."""
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
        out.append(f"sum_t({_sums(s[j:end])})")
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


_LATEX_SUM = re.compile(r"\\sum\s*_\s*(?:\{\s*t\s*(?:=\s*1\s*)?\}|t)(?:\s*\^\s*(?:\{\s*T\s*\}|T))?")
_LATEX_TIME = {  # time alone (h_{t-1}) or last in a subscript (Z_{f,t}, \\Gamma_{f,t+1})
    "prev": re.compile(r"_\s*\{\s*(\w+\s*,\s*)?t\s*(?:-|−)\s*1\s*\}"),
    "next": re.compile(r"_\s*\{\s*(\w+\s*,\s*)?t\s*\+\s*1\s*\}"),
    "": re.compile(r"_\s*(?:\{\s*(\w+\s*,\s*)?[tT]\s*\}|[tT](?![A-Za-z]))"),
}


_AT_END = re.compile(r"\\left\.\s*(.*?)\\right\|\s*_\s*\{\s*t\s*=\s*T\s*\+\s*1\s*\}")


def untimed_latex(claim: str) -> tuple[str, bool, bool]:
    """(a LaTeX claim with time written out, whether it sums over t, whether it is the boundary): ``h_{t-1}`` →
    ``h_{prev}``, ``da_{t+1}`` → step t+1's ``da``, ``Q_t`` and ``h_T`` → the step's names; ``\\sum_{t=1}^{T}`` is
    taken out (the claim is checked at one step, and Σ_t is linear); the handout's boundary
    ``\\left.\\mathrm{d}h_{t-1}\\right|_{t=T+1}`` is what step T + 1 would send back."""
    text = claim.strip().strip("$").strip().rstrip(",.;").rstrip()
    text, ends = _AT_END.subn(r"\1", text)
    text, sums = _LATEX_SUM.subn(" ", text)
    for word, pattern in _LATEX_TIME.items():
        text = pattern.sub(lambda m, word=word: _subscript((m.group(1) or "").replace(" ", "") + word), text)
    return text, sums > 0, ends > 0


def _subscript(sub: str) -> str:
    return "_{" + sub.rstrip(",") + "}" if sub.rstrip(",") else ""


_INDEX = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\[\s*t\s*(?:([+-])\s*1\s*)?\]")
_SLICE = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\[\s*:\s*,\s*(?::\s*(\w+)|(\w+)\s*:)\s*\]")
_NG_TIME = re.compile(
    r"(_\{([^{}]*)\}|_([A-Za-z0-9]))?\s*\^\s*\{\s*(?:\\langle|<)\s*(t\s*(?:[+-]\s*1)?)\s*(?:\\rangle|>)\s*\}"
)


def _ng_time(m) -> str:
    """Ng's time superscript ``a^{\\langle t \rangle}`` as a time subscript (``a_{t}``; ``W_{f}^{⟨t⟩}`` → ``W_{f,t}``)."""
    sub = m.group(2) or m.group(3)
    return f"_{{{sub},{m.group(4)}}}" if sub else f"_{{{m.group(4)}}}"


def as_loop(net: RecTarget, claim: str, where=None) -> str:
    """A line of a BPTT loop as the claim it makes: ``dW += np.dot(da, hs[t-1].T)`` (min-char-rnn, inside
    ``for t in reversed(range(T))``) is ``dW = Σ_t da_t h_{t−1}ᵀ``; ``hs[t]`` is ``h_t`` (a list of the
    states); Ng's stacked ``Wf[:, :n]`` (the columns that multiply a_{t−1}) is ``Wf``, ``Wf[:, n:]`` ``Uf``."""

    def index(m) -> str:
        base = m.group(1)
        if not net.knows(base) and base.endswith("s") and net.knows(base[:-1]):
            base = base[:-1]  # hs[t]: the list of h
        return f"{base}_{{t{m.group(2)}1}}" if m.group(2) else f"{base}_t"

    text = _INDEX.sub(index, claim)
    text = _SLICE.sub(lambda m: _stacked(net, m.group(1), "state" if m.group(2) else "input", where), text)
    loop = re.match(r"^\s*([^=]+?)\s*\+=\s*(.+)$", text)
    if loop:
        text = f"{loop.group(1)} = Σ_t ({loop.group(2)})"
    return text


def _stacked(net: RecTarget, name: str, part: str, where=None) -> str:
    """The parameter that block of a stacked weight is here: ``Wf[:, :n]`` multiplies the previous state
    (``Wf a_{t−1}``), ``Wf[:, n:]`` the step's input (``Uf x_t``), in the same pre-activation."""
    states = set(net.rec.states.values())
    for eq in net.d.forward:
        products = [a for a in eq.expr.args if isinstance(a, sp.MatMul) and len(a.args) == 2]
        on_state = [a for a in products if getattr(a.args[1], "name", None) in states]
        if not any(getattr(a.args[0], "name", None) == name for a in on_state):
            continue
        if part == "state":
            return name
        inputs = [a for a in products if a not in on_state and isinstance(a.args[1], sp.MatrixSymbol)]
        other = [a.args[0].name for a in inputs if getattr(a.args[0], "name", None) in net.params]
        if len(other) == 1:
            return other[0]
    raise ClaimError(
        f"cannot read {name}[:, …]: {name} is not a weight that multiplies the previous state "
        "(a stacked weight's columns are read as the weights of the state and of the input)",
        where,
    )


def _read(net: RecTarget, claim: str, latex: bool, where):
    """(lhs, rhs, whether the claim sums over t, the boundary it claims or None) of a text or LaTeX claim."""
    if not latex:
        claim = re.sub(r"(?<![\w.])self\.", "", claim)  # HW3P1's GRUCell: self.dWnx, self.n, self.hidden
        lhs, rhs = _course_names(net, *read(net, untimed(as_loop(net, claim, where)), False, where), where)
        return lhs, rhs, _has_sum(rhs), None
    text, summed, at_end = untimed_latex(_NG_TIME.sub(_ng_time, claim))
    lhs, rhs = read(net, text, True, where)
    names = {n: _step_name(n) for n in names_in(rhs) | names_in(lhs)}
    rename = {n: m for n, m in names.items() if m != n and net.knows(m)}
    lhs, rhs = _course_names(net, _renamed(lhs, rename), _renamed(rhs, rename), where)
    if not at_end:
        return lhs, rhs, summed, None
    target = resolve(net, lhs[1], where) if lhs is not None and lhs[0] == "name" else None
    if target is None or target + AT_END not in net.boundaries:
        raise ClaimError(f"only a state's adjoint has a value at t = T + 1 ({_list(net.boundaries)})", where)
    return lhs, rhs, summed, target + AT_END


def _course_names(net: RecTarget, lhs, rhs, where):
    """The claim in the network's names where it spells a parameter as its course does (``derive.convention``:
    11-785's ``Wnh`` or PyTorch's ``W_hn`` for ``U_n``, ``dWnh`` for ``dU_n``).  Two spellings of one parameter in a
    claim are refused: 11-785 adds a bias on each side (brx + brh), this network has one (b_r).  A claim in the names
    of a course that writes the network in rows (d2l's ``X_t W_xr + H_{t−1} W_hr``) is read in rows: each of its
    matrices is the transpose of the network's, and so is what it claims."""
    from ..convention import convention_of

    conv = convention_of(net.net)
    if conv is None or not conv.names:
        return lhs, rhs
    used = names_in(rhs) | (names_in(lhs) if lhs is not None else set()) | _partials(lhs)
    rows = {f[1] for n in used if not net.knows(n) and (f := _spelling(conv, n)) and conv.in_rows(f[1])}
    course = min(rows) if rows else None  # in rows, the course's names come first (d2l's Z_t is the update gate)
    rename, spelled = {}, {}
    for n in used:
        found = _spelling(conv, n, course) if course else None
        if found is None and not net.knows(n):
            found = _spelling(conv, n)
        if found is None:
            continue
        rename[n] = found[0]
        spelled.setdefault((found[2], found[1]), set()).add(found[3])
    for (own, course_), names in spelled.items():
        if len(names) > 1:
            a, b = sorted(names)[:2]
            raise ClaimError(
                f"'{a}' and '{b}' are both {own} here: {course_} has a bias on each side where this network has one,"
                f" {own} = {a} + {b} (∂J/∂{a} = ∂J/∂{b} = d{own}); name one of them",
                where,
            )
    lhs, rhs = _renamed(lhs, rename), _renamed(rhs, rename)
    scalars = {"m", *net.scalars}
    return lhs, (("T", _leaves_transposed(rhs, scalars)) if course else rhs)


def _spelling(conv, name: str, course: str | None = None):
    """(the network's name, the course, the parameter, the course's spelling) for a course's spelling of a name or
    of its gradient (``dWnh`` → ``dU_n``), at step t or t ± 1 (d2l's ``H_prev`` → ``h_prev``), or None."""
    from ..convention import course_name

    for suffix in ("_prev", LATER, ""):
        base = name.removesuffix(suffix) if suffix else name
        if suffix and base == name:
            continue
        grad = base.startswith("d") and course_name(conv, base[1:], course) and not course_name(conv, base, course)
        found = course_name(conv, base[1:] if grad else base, course)
        if found is not None:
            return ("d" if grad else "") + found[0] + suffix, found[1], found[0], base[1:] if grad else base
    return None


def _leaves_transposed(tree, scalars):
    """A claim written in rows, each matrix its column-layout value transposed: ``X W_xr`` as ``xᵀ W_rᵀ``."""
    if not isinstance(tree, tuple) or tree[0] in ("num", "partial"):
        return tree
    if tree[0] == "name":
        return tree if tree[1] in scalars else ("T", tree)
    if tree[0] == "call":
        return ("call", tree[1], tuple(_leaves_transposed(a, scalars) for a in tree[2]))
    return (tree[0], *(_leaves_transposed(x, scalars) for x in tree[1:]))


def _partials(tree) -> set[str]:
    """The variables of ∂J/∂X on a left-hand side."""
    return {tree[2]} if tree is not None and tree[0] == "partial" else set()


def _list(boundaries) -> str:
    return ", ".join(n[: -len(AT_END)] for n in boundaries)


def _step_name(name: str) -> str:
    """A name read from LaTeX in the step's spelling: ``dGamma_f`` → ``dΓf``, ``dZ_f_next`` → step t+1's dZf."""
    later = name.endswith("next")
    base = name[: -len("next")] if later else name
    if "Gamma" in base:
        base = base.replace("Gamma", "Γ").replace("_", "")
    return base.rstrip("_") + (LATER if later else "")


def _renamed(tree, names: dict):
    if not isinstance(tree, tuple):
        return tree
    if tree[0] == "name" and tree[1] in names:
        return ("name", names[tree[1]])
    if tree[0] == "partial" and tree[2] in names:  # ∂J/∂Wnh
        return ("partial", tree[1], names[tree[2]], *tree[3:])
    return tuple(_renamed(part, names) for part in tree)


# ------------------------------------------------------------- verifying
def verify_recurrent(net: RecTarget, wrt: str | None, claim: str, *, latex: bool = False, where=None) -> Verdict:
    """Check a BPTT claim for ``wrt`` (``dW``, ``dh``, ``da`` …), text or LaTeX, numerically at one step t."""
    step = _of_one_step(claim, latex, wrt)
    lhs, rhs, summed, boundary = _read(net, claim, latex, where)
    if wrt is not None:
        wrt = _STEP_MARK.sub("", wrt)
    if wrt is not None and not net.knows(wrt):  # --wrt dWnh: the course's name
        wrt = _course_names(net, None, ("name", wrt), where)[1][1]
    for n in sorted(names_in(rhs)):
        try:
            resolve(net, n, where)
        except ClaimError:
            _named_in_other_convention(net, n, where)
            raise
    if boundary is not None:
        return _verdict(net, boundary, claim, rhs, net.boundaries[boundary].text)
    name = target_name(net, wrt, lhs, where)
    if name.endswith("←"):
        return _verdict(net, name, claim, rhs, net.truth_text(name))
    truth = net.truth_text(name)
    eq = net.equations[name]
    true_sum = eq.kind == "time_sum" or (name == "J" and net.rec.is_step(eq.operands[0]))
    if step and eq.kind == "time_sum":  # GRUCell.backward's self.dWnx: step t's term, the caller sums over t
        term = f"{truth}; step t's term: {truth.split(' = ', 1)[1].replace('Σ_t ', '', 1)}"
        if summed:
            hint = f"step t's term of {name} has no sum over t: the sum is what adds the steps' terms up"
            return Verdict(name, claim, False, NOT_SYMBOLIC, "a sum over t in one step's term", term, None, hint)
        return _verdict(net, name, claim, _without_sums(rhs), term, " of one step", slip=True)
    if true_sum != summed:
        hint = _sum_hint(name, true_sum)
        numeric = "no sum over t" if true_sum else "a sum over t where there is none"
        return Verdict(name, claim, False, NOT_SYMBOLIC, numeric, truth, None, hint)
    return _verdict(net, name, claim, _without_sums(rhs), truth, " of one step", slip=True)


_STEP_MARK = re.compile(r"^\s*self\.|(?:_\{?\s*t\s*\}?|,\s*t\s*\})(?=\s*\}*\s*$)")


def _of_one_step(claim: str, latex: bool, wrt: str | None) -> bool:
    """Whether the claim is for one step's term of a parameter's gradient: the left-hand side (or --wrt) at step t
    (``dW_n_t``, ``dWnx_t``, ``\\mathrm{d}W_{n,t}``), or HW3P1's ``GRUCell.backward`` (``self.dWnx``, which the RNN
    over the sequence adds up over t)."""
    lhs = wrt if wrt is not None else (claim.split("=", 1)[0] if "=" in claim else "")
    return not re.search(r"[-+*/<>!]$", lhs.rstrip()) and bool(_STEP_MARK.search(lhs))


def _sum_hint(name: str, true_sum: bool) -> str:
    if name == "J" and true_sum:
        return "the sum over t is missing: there is a prediction and a loss at every step t = 1 … T"
    if name == "J":
        return "the loss is of the prediction after the last step only: J has no sum over t"
    if true_sum:
        return (
            f"the sum over t is missing: {name[1:]} is used at every step t = 1 … T, so {name} sums the step's term"
            f" over t (a claim for one step's term, as a cell's backward computes it, is written {name}_t = …)"
        )
    return f"{name[1:]} is used once, not at every step: {name} has no sum over t"


def _verdict(net: RecTarget, name: str, claim: str, tree, truth: str, at: str = "", slip: bool = False) -> Verdict:
    """The claim ``tree`` for ``name`` against random values (``at`` says of what); a wrong claim of a state's
    adjoint is tested for the usual slip when ``slip``."""
    trials = run_trials(net, name, tree)
    if tree[0] == "num" and tree[1] == 0:  # "= 0": the zero matrix
        trials = [dataclasses.replace(t, claimed=np.zeros_like(t.true)) for t in trials]
    bad = [t for t in trials if not t.agrees]
    if not bad:
        return Verdict(name, claim, True, NOT_SYMBOLIC, f"agrees at {len(trials)} random shapes and values{at}", truth)
    numeric = f"differs at {len(bad)} of {len(trials)} random shapes and values{at}"
    hint = None
    if slip:
        hint = (
            _slip(net, name, tree)
            or _time_slip(net, name, tree)
            or _other_convention(net, name, tree)
            or _gate_swap(net, name, tree)
            or vector_hint(net, name, tree, trials)
        )
        hint = hint and re.sub(r"(\w+)__next", r"\1_{t+1}", re.sub(r"(\w+)_prev\b", r"\1_{t−1}", hint))
    return Verdict(name, claim, False, NOT_SYMBOLIC, numeric, truth, bad[0].counterexample(), hint)


def _time_slip(net: RecTarget, name: str, tree) -> str | None:
    """A derivative taken at the previous step's state: ``1 − h_{t−1}²`` where ``h_t = tanh(a_t)`` needs
    ``1 − h_t²``."""
    from .vec_repairs import _replace, _walk
    from .vec_slips import _function_text

    for state, prev in net.rec.states.items():
        eq = net.equations.get(state)
        for old, new in ((prev, state), (state, prev)):
            paths = [path for path, node in _walk(tree) if node[0] == "name" and _resolves_to(net, node[1], old)]
            repaired = tree
            for path in paths:
                repaired = _replace(repaired, path, ("name", new))
            if not paths or not all(t.agrees for t in run_trials(net, name, repaired, trials=3)):
                continue
            if old == prev and eq is not None and eq.kind == "activation":
                f, Z = _function_text(eq.function), eq.operands[0]
                return (
                    f"{f}′ taken at {state}_{{t−1}}: {state}_t = {f}({Z}_t), so its derivative is taken at step t's "
                    f"own state, {state}_t (not the state it was computed from)"
                )
            if old == state:
                return f"{state}_t written for {state}_{{t−1}}: step t reads the previous state {state}_{{t−1}}"
            return f"{state}_{{t−1}} written for {state}_t"
    return None


def _named_in_other_convention(net: RecTarget, name: str, where) -> None:
    """A ClaimError for a name of the other convention this network does not have (PyTorch's b_hn in d2l's GRU, or
    11-785's Wnh)."""
    from ..convention import convention_of, course_name

    mine = convention_of(net.net)
    if mine is None:
        return
    if getattr(net, "_other", None) is None:
        net._other = RecTarget(mine.other())
    theirs = convention_of(net._other.net)
    spelled = course_name(theirs, name)
    if spelled is not None and course_name(mine, name) is None and not net._other.knows(name):
        raise ClaimError(
            f"'{name}' is {spelled[1]}'s name for {spelled[0]} in {theirs.name} convention ({theirs.formula});"
            f" this network is in {mine.name}"
            f" ({mine.formula}) and reads its own names ({', '.join(net.params)})",
            where,
        )
    if theirs is not None and net._other.knows(name):
        raise ClaimError(
            f"'{name}' is of {theirs.name} convention ({theirs.formula}); this network is in {mine.name}"
            f" ({mine.formula}) and has no '{name}'",
            where,
        )


def _other_convention(net: RecTarget, name: str, tree) -> str | None:
    """A formula of the other convention the network is taught in (``derive.convention``: d2l's GRU against
    PyTorch's), checked against this one: it holds there, at that network's own random values."""
    from ..convention import convention_of

    mine = convention_of(net.net)
    if mine is None:
        return None
    if getattr(net, "_other", None) is None:
        net._other = RecTarget(mine.other())
    other = net._other
    theirs = convention_of(other.net)
    if name not in other.equations or theirs is None:
        return None
    try:
        agrees = all(t.agrees for t in run_trials(other, name, tree, trials=3))
    except ClaimError:
        return None
    if not agrees:
        return None
    return (
        f"this is {name} in {theirs.name} convention ({theirs.formula}), where it is {other.truth_text(name)};"
        f" this network is in {mine.name} ({mine.formula}): a different function, with a different {name}"
    )


def _gate_swap(net: RecTarget, name: str, tree) -> str | None:
    """A gate that mixes two states, written for its complement and back: ``z_t`` for ``1 − z_t``.  The GRU
    is printed both ways: h_t = (1 − z_t) ⊙ n_t + z_t ⊙ h_{t−1} (PyTorch, 11-785, d2l, Cho et al. 2014: z_t keeps
    the old state) and h_t = z_t ⊙ n_t + (1 − z_t) ⊙ h_{t−1} (Chung et al. 2014, Olah's blog: 1 − z_t keeps it)."""
    for state in net.rec.states:
        eq = net.equations.get(state)
        if eq is None:
            continue
        for gate in sorted(s.name for s in eq.expr.atoms(sp.MatrixSymbol)):
            g = f"{gate}_t"
            if f"(1 − {g})" not in eq.text:
                continue
            swapped = _swap_complement(net, tree, gate)
            if swapped == tree and name == f"d{gate}":  # dz = dh ⊙ (n − h_{t−1}): the swap flips dz's sign
                swapped = ("neg", tree)
            if swapped == tree or not all(t.agrees for t in run_trials(net, name, swapped, trials=3)):
                continue
            other = eq.text.replace(f"(1 − {g})", "\0")
            other = re.sub(rf"(?<![\w(]){re.escape(g)}(?![\w])", f"(1 − {g})", other).replace("\0", g)
            old_state = f"{state}_{{t−1}}"
            keeps = f"{old_state} ⊙ {g}" in eq.text or f"{g} ⊙ {old_state}" in eq.text
            return (
                f"{g} and 1 − {g} swapped: here {eq.text} ({g} is the share of {old_state} kept); the claim is of "
                f"{other}, the form "
                + (
                    "Chung et al. (2014) and Olah's blog print"
                    if keeps
                    else "PyTorch, 11-785, d2l and Cho et al. print"
                )
            )
    return None


def _swap_complement(net: RecTarget, tree, gate: str):
    """``tree`` with ``1 − gate`` written as ``gate`` and every other ``gate`` as ``1 − gate``."""
    if not isinstance(tree, tuple):
        return tree
    if tree[0] == "sub" and tree[1] == ("num", 1) and tree[2][0] == "name" and _resolves_to(net, tree[2][1], gate):
        return tree[2]
    if tree[0] == "name":
        return ("sub", ("num", 1), tree) if _resolves_to(net, tree[1], gate) else tree
    if tree[0] in ("num", "partial"):
        return tree
    if tree[0] == "call":
        return ("call", tree[1], tuple(_swap_complement(net, a, gate) for a in tree[2]))
    return (tree[0], *(_swap_complement(net, x, gate) for x in tree[1:]))


def _resolves_to(net: RecTarget, name: str, target: str) -> bool:
    try:
        return resolve(net, name) == target
    except ClaimError:
        return False


def _slip(net: RecTarget, name: str, tree) -> str | None:
    """The usual BPTT slip: a state's adjoint without the term step t+1 sends back (Wᵀ δ_{t+1})."""
    from .vec_evaluate import evaluate

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
