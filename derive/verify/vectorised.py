"""Vectorised claims, checked numerically at random shapes and values.

The truth is the vectorised derivation (``derive.ir.network``) of a
``VecNetwork``, e.g. the one-hidden-layer network of deeplearning.ai course 1, week 3
(catalogue ``one_hidden_layer``)::

    Z1 = W1 X + b1,  A1 = g1(Z1),  Z2 = W2 A1 + b2,  A2 = σ(Z2),  J = (1/m) Σ L
    dZ2 = A2 − Y;  dW2 = (1/m) dZ2 A1ᵀ;  db2 = (1/m) Σ_columns dZ2 (n2×1);
    dZ1 = W2ᵀ dZ2 ⊙ g1'(Z1);  dW1 = (1/m) dZ1 Xᵀ;  db1 = (1/m) Σ_columns dZ1 (n1×1)

(``dZ`` per example, as the lecture writes it; ``dW``, ``db`` are ∂J/∂W,
∂J/∂b).  A claim is evaluated with NumPy on its claim tree (never as
Python), with the true values of every name it uses, at several random
shapes (every width but the output's drawn afresh, pairwise distinct with
m, so a missing transpose cannot hide) and random values.  It holds when it
has the true shape and values everywhere: a wrong shape (``(n,)`` for
``(n, 1)``, or a rank-1 array broadcast to ``(n, n)``) is wrong.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import sympy as sp

from ..ir.numeric import NUMPY_ACTIVATIONS
from ..names import did_you_mean
from ..printing.matrix import GREEK, matrix_text, unbroadcast
from .claims import RATES, ClaimError, names_in, parse_text, split_equation, split_update, to_text
from .slips import describe_constant
from .verdict import Counterexample, Verdict

TRIALS = 6
RATE = 0.125  # the learning rate of update claims, exact in binary
TOLERANCE = 1e-9
NOT_SYMBOLIC = "not attempted (vectorised claims are checked numerically)"


_sigmoid = NUMPY_ACTIVATIONS["sigmoid"]

# name -> (function, derivative); the functions are the reference interpreter's
ACTIVATION = {
    "tanh": (NUMPY_ACTIVATIONS["tanh"], lambda z: 1 - np.tanh(z) ** 2),
    "sigmoid": (_sigmoid, lambda z: _sigmoid(z) * (1 - _sigmoid(z))),
    "relu": (NUMPY_ACTIVATIONS["relu"], lambda z: np.asarray(z >= 0, dtype=float)),
    "step": (lambda z: np.asarray(z >= 0, dtype=float), lambda z: np.zeros_like(z)),
    "identity": (NUMPY_ACTIVATIONS["identity"], lambda z: np.ones_like(z)),
}


FUNCS = {
    "exp": (np.exp, np.exp),
    "sqrt": (np.sqrt, lambda z: 0.5 / np.sqrt(z)),
    "sign": (np.sign, np.zeros_like),  # the subgradient convention of L1: sign(0) = 0
    "log": (np.log, lambda z: 1 / z),
    "softmax": (NUMPY_ACTIVATIONS["softmax"], None),
    **ACTIVATION,
}


class VecTarget:
    """A ``VecNetwork`` with its derivation: every name a claim may use, and their true values."""

    def __init__(self, net):
        self.net = net
        self.name = net.name
        self.d = net.derive()
        self.shown = {eq.target: eq.text for eq in net.derive(fuse=True).equations}
        self.equations = {eq.target: eq for eq in self.d.equations}
        self.activation = {eq.operands[0]: eq.function for eq in self.d.forward if eq.kind == "activation"}
        (self.y,) = net.names("target")
        self.params = tuple(net.names("param"))
        self.scalars = {eq.target for eq in self.d.forward if eq.kind == "loss"}
        self.data = tuple(net.names("input")) + (self.y, "m")
        self.staged = _staged_equations(self.d)
        for step in self.staged:
            self.equations.update({e.target: e for e in step if e.target not in self.equations})

    def names(self) -> tuple[str, ...]:
        derived = tuple(t for t in self.equations if t not in self.net.kinds)
        sizes = tuple(s.name for s in self._sizes())  # a width used as a number: attention's 1/√d
        return (*self.net.kinds, *derived, "m", *sizes, *sorted(set(RATES.values())))

    def _sizes(self) -> list:
        """The dimensions a claim may use as numbers: those the derivation's equations use as numbers (d of 1/√d)."""
        used = set()
        for eq in self.d.equations:
            for node in sp.preorder_traversal(eq.expr):
                if isinstance(node, sp.MatMul):
                    used |= sp.sympify(node.as_coeff_matrices()[0]).free_symbols
        return sorted((s for s in self.net.dim_sizes if s in used and s.name not in self.net.kinds), key=str)

    def knows(self, name: str) -> bool:
        try:
            resolve(self, name)
        except ClaimError:
            return False
        return True

    def truth_text(self, name: str) -> str:
        if name.endswith("←"):
            p = name[:-1]
            return f"{p} ← {p} − α d{p}"
        return self.shown.get(name) or self.equations[name].text

    def dims(self, rng: np.random.Generator) -> dict:
        """Random widths: the output's as declared; the others and m pairwise distinct, from 2 up."""
        from ..ir.network import M

        out_rows = self.net.matrices[self.y].shape[0]
        free = [d for d in self.net.dim_sizes if d != out_rows]
        sizes = rng.permutation(np.arange(2, max(10, len(free) + 3)))[: len(free) + 1]
        dims = {d: int(s) for d, s in zip(free, sizes)}
        dims[out_rows] = self.net.dim_sizes[out_rows]
        dims[M] = int(sizes[-1])
        return dims

    def values(self, rng: np.random.Generator) -> tuple[dict, dict]:
        """(every name's true value, the dims) at random shapes and values."""
        from ..ir.network import M
        from ..ir.numeric import run

        dims = self.dims(rng)
        constants = getattr(self.net, "constant_values", {})
        dims.update({self.net.constants[n]: v for n, v in constants.items()})  # hyperparameters, as declared

        def shape(name):
            return tuple(int(sp.sympify(x).subs(dims)) for x in self.net.matrices[name].shape)

        env = {}
        for name in self.params + tuple(self.net.names("input")):
            if name in self.net.index_inputs:  # word indices: 1 … |V| − 1 (no padding)
                vocab = int(sp.sympify(self.net.index_inputs[name]).subs(dims))
                env[name] = rng.integers(1, vocab, shape(name))
                continue
            env[name] = rng.normal(0.0, 0.7, shape(name))
        for name, keep in self.net.masks.items():  # a dropout mask of one training step
            p = float(sp.sympify(keep).subs(dims))
            env[name] = (rng.random(shape(name)) < p).astype(float)
        rows, cols = shape(self.y)
        if self.net.output == "softmax":
            env[self.y] = np.eye(rows)[:, rng.integers(0, rows, cols)]
        elif self.net.output == "identity":
            env[self.y] = rng.normal(0.0, 1.0, (rows, cols))
        else:
            env[self.y] = rng.integers(0, 2, (rows, cols)).astype(float)
        with np.errstate(all="ignore"):
            values = run(self.d.equations, env, dims)
            for step in self.staged:  # the stages a named rewrite replaced (dσ², dμ of batch norm): claimable too
                values.update(run(step, values, dims))
        values["m"] = float(dims[M])
        values.update({s.name: float(dims[s]) for s in self._sizes()})
        values.update(constants)
        self.add_updates(values)
        return values, dims

    def add_updates(self, values: dict) -> None:
        """The learning rate's names (α, η, lr) and each parameter's gradient-descent update p ← p − α dp."""
        for rate in set(RATES.values()):
            values[rate] = RATE
        for p in self.params:
            values[f"{p}←"] = values[p] - RATE * values[f"d{p}"]


def _staged_equations(d) -> list[list]:
    """The staged equations each named rewrite replaced (all but its result), as evaluable equations."""
    from ..ir.equation import Equation
    from ..ir.rewrites import NamedRewrite
    from ..printing.matrix import matrix_text

    out = []
    for step in d.steps:
        if isinstance(step, NamedRewrite):
            out.append(
                [
                    Equation(0, t, "adjoint", (), None, tuple(e.shape), e, f"{t} = {matrix_text(e)}", None)
                    for t, e in step.staged[:-1]
                ]
            )
    return out


# ------------------------------------------------------------ evaluation
class ShapeError(Exception):
    pass


def output_layer(net: VecTarget) -> str:
    """The number of the output layer (``A2`` → ``2``), for ``a^{[L]}`` and ``δ^L``."""
    return "".join(ch for ch in net.net.cost_operands[0] if ch.isdigit())


def resolve(net: VecTarget, name: str, where=None) -> str:
    known = net.names()
    if name in known:
        return name
    if name.lower() == "yhat":  # \hat{Y}: the output layer's activations
        return net.net.cost_operands[0]
    layer = re.match(r"^([A-Za-z]+)\[(\d+|L)\]$", name)  # a^{[1]} → A1 or a1, as the network declares it
    if layer:
        base, k = layer.groups()
        k = output_layer(net) if k == "L" else k
        name = ("dZ" if base == "delta" else base) + k  # Ng's δ^{[l]} is dZ^{[l]}
        if name in known:
            return name
    if name == "delta":
        name = "dZ" + output_layer(net)
    spelled = [k for k in known if GREEK.get(k) == name]  # λ as chainrule derive prints the constant lam
    if len(spelled) == 1:
        return spelled[0]
    same = [k for k in known if k.lower() == name.lower()] or [
        k
        for k in known
        if "_" in k and k.replace("_", "").lower() == name.lower()  # keep\_prob read as keepprob
    ]
    if len(same) == 1:
        return same[0]
    hint = did_you_mean(name, known)
    raise ClaimError(f"unknown name '{name}'{hint} (vectorised network '{net.name}' has: {', '.join(known)})", where)


def evaluate(net: VecTarget, tree, env: dict):
    """The claim tree evaluated with NumPy (never as Python)."""
    kind = tree[0]
    if kind == "num":
        return float(tree[1])
    if kind == "name":
        return env[resolve(net, tree[1])]
    if kind == "neg":
        return -evaluate(net, tree[1], env)
    if kind == "T":
        x = evaluate(net, tree[1], env)
        return x.T if isinstance(x, np.ndarray) else x
    if kind == "sum":
        x = evaluate(net, tree[1], env)
        return np.sum(x, axis=tree[2], keepdims=tree[3]) if isinstance(x, np.ndarray) else x
    if kind in ("kron", "isum", "dop"):
        raise ClaimError(f"'{to_text(tree)}' is per unit: write it for a network written out unit by unit")
    if kind == "call" and tree[1] in ("max", "loss"):
        args = [evaluate(net, a, env) for a in tree[2]]
        if len(args) != 2:
            raise ClaimError(f"{tree[1]}(…) takes two arguments")
        return np.maximum(*args) if tree[1] == "max" else batch_loss(net, *args)
    if kind == "call" and tree[1] == "norm":  # ‖W‖_F
        x = evaluate(net, tree[2][0], env)
        return float(np.sqrt(np.sum(np.asarray(x) ** 2)))
    if kind == "call":
        fname = tree[1]
        if len(tree[2]) != 1:
            raise ClaimError(f"{fname}(…) takes one argument")
        (arg,) = tree[2]
        x = evaluate(net, arg, env)
        base = fname.rstrip("'")
        if base == "g":
            base = activation_of(net, arg)
        if base not in FUNCS:
            raise ClaimError(f"unknown function '{base}'")
        f, df = FUNCS[base]
        if fname.endswith("'") and df is None:
            raise ClaimError(f"{base}'(…) is not element-wise: write its derivative out")
        return df(x) if fname.endswith("'") else f(x)
    if kind == "partial":
        raise ClaimError("write vectorised gradients as dW1, db1, dZ1 … (not ∂/∂)")
    a, b = evaluate(net, tree[1], env), evaluate(net, tree[2], env)
    try:
        if kind == "add":
            return a + b
        if kind == "sub":
            return a - b
        if kind == "mul":
            return a * b
        if kind == "div":
            return a / b
        if kind == "pow":
            return a**b
        if kind == "matmul" or (kind == "jux" and _matrix(a) and _matrix(b)):
            if not (_matrix(a) and _matrix(b)):
                raise ShapeError(f"{_shown(tree, lambda n: resolve(net, n))}: '@' needs two matrices")
            if a.shape[-1] != b.shape[0]:
                raise ShapeError(
                    f"{_shown(tree, lambda n: resolve(net, n))}: shapes {a.shape} and {b.shape} do not match"
                )
            return a @ b
        if kind == "jux":
            return a * b
    except ValueError as exc:
        raise ShapeError(str(exc).split(" (")[0]) from None
    raise ClaimError(f"cannot use '{kind}' in a vectorised claim")  # pragma: no cover


def batch_loss(net: VecTarget, A, Y):
    """L(A, Y) of each example (a row of m losses), for ``J = (1/m) Σ_columns L(A, Y)``."""
    loss = net.net.loss
    if loss == "cross_entropy":
        return -np.sum(Y * np.log(A), axis=0, keepdims=True)
    if loss == "binary_cross_entropy":
        return np.sum(-(Y * np.log(A) + (1 - Y) * np.log(1 - A)), axis=0, keepdims=True)
    return 0.5 * np.sum((A - Y) ** 2, axis=0, keepdims=True)


def _matrix(x) -> bool:
    return isinstance(x, np.ndarray) and x.ndim >= 1


def activation_of(net: VecTarget, arg) -> str:
    """The activation the network applies to ``arg`` (``g'(Z1)``): Z1 → g1."""
    if arg[0] == "name":
        name = resolve(net, arg[1])
        if name in net.activation:
            fname = net.activation[name]
            if fname not in ACTIVATION:
                raise ClaimError(f"g'({name}) is not element-wise for {fname}")
            return fname
    raise ClaimError(f"g'(…) needs a pre-activation ({', '.join(net.activation)}) as its argument, not {to_text(arg)}")


# -------------------------------------------------------------- verifying
def target_name(net: VecTarget, wrt: str | None, lhs, where=None) -> str:
    """The name a claim is for: ``dW1`` (``W1`` means ``dW1``), from --wrt or the left-hand side."""
    named = None
    if lhs is not None and lhs[0] == "update":
        if lhs[1][0] != "name" or resolve(net, lhs[1][1], where) not in net.params:
            raise ClaimError(f"an update assigns to a parameter ({', '.join(net.params)})", where)
        param = resolve(net, lhs[1][1], where)
        if wrt is not None and wrt not in (param, "d" + param):
            raise ClaimError(f"the update is for '{param}' but the claim is given for '{wrt}'", where)
        return param + "←"
    if lhs is not None:
        if lhs[0] == "jux" and lhs[1] == ("name", "d") and lhs[2][0] == "name":  # d W[1], \mathrm{d}W^{[1]}
            lhs = ("name", "d" + lhs[2][1])
        if lhs[0] == "partial":
            named = "d" + lhs[2] if lhs[1] in ("J", "L", "C") else None
        elif lhs[0] == "name":
            named = lhs[1]
        if named is None:
            raise ClaimError(f"the left-hand side '{to_text(lhs)}' does not name a variable", where)
    names = [n for n in (wrt, named) if n is not None]
    if not names:
        raise ClaimError("say which variable the claim is for (--wrt dW1, or a left-hand side)", where)
    known = net.names()
    out = []
    for n in names:
        r = resolve(net, n if n in known or ("d" + n) not in known else "d" + n, where)
        if r in net.params:
            r = "d" + r
        if r in net.data or r not in net.equations:
            raise ClaimError(f"'{r}' is data, not something derived (derived: {', '.join(net.equations)})", where)
        out.append(r)
    if len(out) == 2 and out[0] != out[1]:
        raise ClaimError(f"the left-hand side is {out[1]} but the claim is given for '{wrt}'", where)
    return out[0]


def read(net: VecTarget, claim: str, latex: bool, where=None):
    if latex:
        from .latex_reader import parse_latex

        return parse_latex(claim.strip().strip("$"), where, vector=True, known=net.knows)
    lhs, rhs = split_update(claim)
    if lhs is not None:
        return ("update", parse_text(lhs, where, net.knows)), parse_text(rhs, where, net.knows)
    lhs, rhs = split_equation(claim)
    return (parse_text(lhs, where, net.knows) if lhs is not None else None), parse_text(rhs, where, net.knows)


def verify_vector(net: VecTarget, wrt: str | None, claim: str, *, latex: bool = False, where=None) -> Verdict:
    """Check a vectorised claim for ``wrt`` (``dW1``, ``db2``, ``dZ1``, ``A1`` …) numerically."""
    lhs, rhs = read(net, claim, latex, where)
    name = target_name(net, wrt, lhs, where)
    for n in sorted(names_in(rhs)):
        resolve(net, n, where)
    trials = run_trials(net, name, rhs)
    bad = [t for t in trials if not t.agrees]
    truth = net.truth_text(name)
    if not bad:
        return Verdict(
            name, claim, True, prove(net, name, rhs), f"agrees at {len(trials)} random shapes and values", truth
        )
    hint = vector_hint(net, name, rhs, trials)
    numeric = f"differs at {len(bad)} of {len(trials)} random shapes and values"
    return Verdict(name, claim, False, NOT_SYMBOLIC, numeric, truth, bad[0].counterexample(), hint)


# ------------------------------------------------------------ the proof
PROOF_WIDTHS = (2, 3, 4, 5)  # n0, n1, … of the free widths; m = 2
PROOF_MAX_ENTRIES = 40


def prove(net: VecTarget, name: str, tree) -> str:
    """ "proved at shape …" when every entry of claim − truth reaches 0 by the bounded symbolic steps
    of ``derive.verify.equivalence`` at one small concrete shape (symbols for every entry of the data and
    parameters), else "numeric only (…)".  The random-shape numeric check decides either way."""
    from ..ir.network import M
    from ..ir.numeric import SymPyEvaluator, run
    from .equivalence import SYMBOLIC_SECONDS, bounded

    if name.endswith("←") or net.net.output == "softmax":  # one-hot targets: not a symbolic identity
        return "numeric only (not attempted for this claim)"
    out_rows = net.net.matrices[net.y].shape[0]
    free = [d for d in net.net.dim_sizes if d != out_rows]
    dims = {d: PROOF_WIDTHS[i % len(PROOF_WIDTHS)] for i, d in enumerate(free)}
    dims[out_rows] = net.net.dim_sizes[out_rows]
    dims[M] = 2
    shape_text = ", ".join(f"{k} = {v}" for k, v in sorted(((str(k), v) for k, v in dims.items())))

    def attempt() -> str:
        env = {}
        for leaf in (*net.params, *net.net.names("input"), net.y):
            rows, cols = (int(sp.sympify(x).subs(dims)) for x in net.net.matrices[leaf].shape)
            env[leaf] = sp.Matrix(rows, cols, lambda i, j, leaf=leaf: sp.Symbol(f"{leaf}_{i + 1}_{j + 1}"))
        values = run(net.d.equations, env, dims, evaluator=SymPyEvaluator)
        values["m"] = sp.Integer(dims[M])
        true = values[name]
        claimed = _symbolic(net, tree, values)
        if not isinstance(claimed, sp.MatrixBase):
            claimed = sp.Matrix([[claimed]])
        if claimed.shape != true.shape or len(true) > PROOF_MAX_ENTRIES:
            return "numeric only (shape)"
        from .equivalence import _symbolic_steps

        for a, b in zip(claimed, true):
            if _symbolic_steps(a - b) != "proved":
                return "numeric only (an entry was not brought to 0 by the bounded steps)"
        return f"proved at shape {shape_text}"

    try:
        return bounded(attempt, SYMBOLIC_SECONDS, f"numeric only (stopped after {SYMBOLIC_SECONDS:g} s)")
    except (ClaimError, ShapeError, TypeError, ValueError, KeyError, NotImplementedError, AttributeError):
        return "numeric only"


def _symbolic(net: VecTarget, tree, env):
    """The claim tree over explicit SymPy matrices (element-wise products, ``@``, sums, functions)."""
    from ..ir.numeric import SYMPY_ACTIVATIONS

    kind = tree[0]
    if kind == "num":
        return tree[1]
    if kind == "name":
        return env[resolve(net, tree[1])]
    if kind == "neg":
        return -_symbolic(net, tree[1], env)
    if kind == "T":
        x = _symbolic(net, tree[1], env)
        return x.T if isinstance(x, sp.MatrixBase) else x
    if kind == "sum":
        x = _symbolic(net, tree[1], env)
        if tree[2] == 1 and tree[3]:
            return sp.Matrix([[sum(x[i, :])] for i in range(x.rows)])
        if tree[2] == 0 and tree[3]:
            return sp.Matrix([[sum(x[:, j]) for j in range(x.cols)]])
        raise ShapeError("not a kept sum")
    if kind == "call":
        fname = tree[1]
        if len(tree[2]) != 1:
            raise ShapeError("not element-wise")
        x = _symbolic(net, tree[2][0], env)
        base = fname.rstrip("'")
        if base == "g":
            base = activation_of(net, tree[2][0])
        funcs = {**SYMPY_ACTIVATIONS, "exp": sp.exp, "log": sp.log}
        if base not in funcs:
            raise ShapeError(base)
        f = funcs[base]
        if fname.endswith("'"):
            z = sp.Dummy("z")
            derivative = sp.Lambda(z, sp.diff(f(z), z))
            return x.applyfunc(derivative) if isinstance(x, sp.MatrixBase) else derivative(x)
        return x.applyfunc(f) if isinstance(x, sp.MatrixBase) else f(x)
    a, b = _symbolic(net, tree[1], env), _symbolic(net, tree[2], env)
    ma, mb = isinstance(a, sp.MatrixBase), isinstance(b, sp.MatrixBase)
    if kind in ("add", "sub"):
        if ma and mb and a.shape != b.shape:
            if b.cols == 1 and a.rows == b.rows:  # a column broadcast across the examples
                b = b * sp.ones(1, a.cols)
            elif a.cols == 1 and a.rows == b.rows:
                a = a * sp.ones(1, b.cols)
            else:
                raise ShapeError("shapes")
        if ma and not mb:
            b = b * sp.ones(*a.shape)
        if mb and not ma:
            a = a * sp.ones(*b.shape)
        return a + b if kind == "add" else a - b
    if kind == "matmul" or (kind == "jux" and ma and mb):
        return a * b
    if kind in ("mul", "jux"):
        if ma and mb:
            return a.multiply_elementwise(b)
        return a * b
    if kind == "div":
        if mb:
            inverse = b.applyfunc(lambda e: 1 / e)
            return a.multiply_elementwise(inverse) if ma else inverse * a
        return a.applyfunc(lambda e: e / b) if ma else a / b
    if kind == "pow":
        return a.applyfunc(lambda e: e**b) if ma else a**b
    raise ShapeError(kind)


@dataclass
class Trial:
    shape: dict  # dimension name -> size
    seed: int
    claimed: object
    true: np.ndarray
    problem: str | None  # a shape error, or None

    @property
    def agrees(self) -> bool:
        return self.problem is None and same(self.claimed, self.true)

    def counterexample(self) -> Counterexample:
        point = {**{str(k): v for k, v in self.shape.items()}, "seed": self.seed}
        if self.problem:
            return Counterexample(point, f"error ({self.problem})", f"shape {self.true.shape}")
        claimed = np.asarray(self.claimed, dtype=float)
        if claimed.shape != self.true.shape:
            return Counterexample(point, f"shape {claimed.shape}", f"shape {self.true.shape}")
        idx = tuple(int(i) for i in np.unravel_index(np.argmax(np.abs(claimed - self.true)), self.true.shape))
        return Counterexample(point, float(claimed[idx]), float(self.true[idx]), f"entry {list(idx)}")


def same(claimed, true: np.ndarray) -> bool:
    claimed = np.asarray(claimed, dtype=float)
    if claimed.shape != true.shape:
        return False
    return bool(np.all(np.isfinite(claimed))) and bool(np.allclose(claimed, true, rtol=TOLERANCE, atol=1e-12))


def run_trials(net: VecTarget, name: str, tree, trials: int = TRIALS) -> list[Trial]:
    out = []
    for seed in range(trials):
        env, dims = net.values(np.random.default_rng(seed))
        shape = {str(k): v for k, v in sorted(dims.items(), key=lambda kv: str(kv[0]))}
        with np.errstate(all="ignore"):
            try:
                claimed, problem = evaluate(net, tree, env), None
            except ShapeError as exc:
                claimed, problem = None, str(exc)
        if name in net.scalars and problem is None and np.ndim(claimed) == 0:
            claimed = np.full((1, 1), claimed, dtype=float)  # the cost J is a number
        out.append(Trial(shape, seed, claimed, env[name], problem))
    return out


# ------------------------------------------------------------------ hints
def vector_hint(net: VecTarget, name: str, tree, trials: list[Trial]) -> str | None:
    def holds(candidate) -> bool:
        try:
            return all(t.agrees for t in run_trials(net, name, candidate, trials=3))
        except ClaimError:  # a repair naming something the network does not have (dA2)
            return False

    kept = [t for t in trials if t.problem is None and np.asarray(t.claimed).shape == t.true.shape]
    if len(kept) == len(trials):
        slip = topic_slip(net, name, kept)
        if slip:
            return slip
    if len(kept) == len(trials):
        ratios = [_ratio(np.asarray(t.claimed, float), t.true) for t in kept]
        if all(r is not None for r in ratios):
            ms = [t.shape["m"] for t in kept]
            if all(math.isclose(r, m, rel_tol=1e-9) for r, m in zip(ratios, ms)):
                return "a missing factor 1/m (the claim is m × the truth)"
            if all(math.isclose(r, 1 / m, rel_tol=1e-9) for r, m in zip(ratios, ms)):
                return "an extra factor 1/m"
            if all(math.isclose(r, ratios[0], rel_tol=1e-9) for r in ratios):
                return describe_constant(Fraction(ratios[0]).limit_denominator(1000))
    candidates = [
        *classic_repairs(net, name, tree),
        *repairs(tree, lambda n: resolve(net, n)),
        *derivative_repairs(net, tree),
    ]
    for label, candidate in candidates:
        if holds(candidate):
            square = [
                np.shape(t.claimed) for t in trials if t.problem is None and _square(np.shape(t.claimed), t.true.shape)
            ]
            if label.startswith("keepdims") and square:
                n = square[0][0]
                label += f"; the rank-1 ({n},) array broadcasts against an ({n}, 1) column to {square[0]}"
            return label
    for t in trials:
        shape = np.shape(t.claimed) if t.problem is None else None
        if shape and _square(shape, t.true.shape) and _unkept_sum(tree):
            return f"keepdims left out: a rank-1 ({shape[0]},) array broadcast against a column gives {shape}, not {t.true.shape}"
    return None


def topic_slip(net: VecTarget, name: str, trials: list[Trial]) -> str | None:
    """The usual slips of the training lecture's further topics, each tested as a correction of the claim:
    dropout's 1/keep_prob, the penalty's (λ/m) W, a regularised bias, and batch norm's two Σ terms."""
    from ..ir.numeric import NumPyEvaluator

    candidates = list(_topic_candidates(net, name))
    if not candidates:
        return None
    for label, correct in candidates:
        ok = True
        for t in trials:
            env, dims = net.values(np.random.default_rng(t.seed))
            value = NumPyEvaluator(env, dims)
            with np.errstate(all="ignore"):
                repaired = correct(np.asarray(t.claimed, dtype=float), value, env)
            if not same(repaired, t.true):
                ok = False
                break
        if ok:
            return label
    return None


def _topic_candidates(net: VecTarget, name: str):
    """``(label, correct(claimed, evaluate, env))`` pairs for the slips that apply to ``name``."""
    from ..ir.rewrites import NamedRewrite

    eq = net.equations.get(name)
    vn = net.net
    if eq is None:
        return
    yield from _attention_candidates(net, name, eq)
    masks = [d for d in vn.masks if d in {s.name for s in eq.expr.atoms(sp.MatrixSymbol)}]
    for d in masks:
        keep = vn.masks[d]
        shown = "keep_prob" if str(keep) == "keep_prob" else str(keep)
        yield (
            f"the inverted-dropout scaling 1/{shown} is missing: the backward pass scales like the forward, {eq.text}",
            lambda c, ev, env, keep=keep: c / ev.scalar(keep),
        )
        yield (
            f"multiplied by {shown} instead of divided: inverted dropout divides by it in both passes",
            lambda c, ev, env, keep=keep: c / ev.scalar(keep) ** 2,
        )
    penalties = [t for t in eq.terms if t.via == "J" and t.kind != "loss_grad"] if eq.kind == "sum" else []
    for t in penalties:
        shown = matrix_text(t.expr)
        yield (
            f"the penalty's term {shown} is missing: {name[1:]} is used twice, by its layer and by the penalty",
            lambda c, ev, env, e=t.expr: c + ev(e),
        )
        yield (
            f"λ where the gradient has λ/m: the penalty's term is {shown}",
            lambda c, ev, env, e=t.expr: c - (env["m"] - 1) * ev(e),
        )
        yield (
            f"the penalty's term counted twice: the ½ of (λ/2m)‖W‖² cancels the 2 of ∂W²/∂W, leaving {shown}",
            lambda c, ev, env, e=t.expr: c - ev(e),
        )
    if name[1:] in vn.names("param") and vn.kinds.get(name[1:]) == "param" and not penalties:
        for other in net.equations.values():
            for t in other.terms if other.kind == "sum" else ():
                if t.via != "J" or t.kind == "loss_grad":
                    continue
                scalar, factors = t.expr.as_coeff_matrices() if isinstance(t.expr, sp.MatMul) else (1, [t.expr])
                if len(factors) != 1:
                    continue
                b = vn.matrices[name[1:]]
                mine = factors[0].xreplace({a: b for a in factors[0].atoms(sp.MatrixSymbol)})
                yield (
                    (
                        f"the bias {name[1:]} is not regularised: the penalty sums over the weights only,"
                        f" so {name} has no {matrix_text(scalar * mine)} term"
                    ),
                    lambda c, ev, env, e=scalar * mine: c - ev(e),
                )
                return
    for step in net.d.steps:
        if isinstance(step, NamedRewrite) and step.target == name:
            scalar, (product,) = step.after.as_coeff_matrices()
            spread, inner = product.args if not isinstance(product.args[0], sp.MatAdd) else product.args[::-1]
            for term in inner.args:
                if not term.could_extract_minus_sign():
                    continue
                part = sp.MatMul(scalar, sp.HadamardProduct(spread, -term))
                variance = len((-term).atoms(sp.MatrixSymbol)) > 1  # Ẑ ⊙ Σ(dZ̃ ⊙ Ẑ): through σ²
                what = (
                    ("the batch's σ²" if variance else "the batch's μ")
                    if step.name.startswith("the batch")
                    else ("the example's σ²" if variance else "the example's μ")
                )
                yield (
                    f"the term −{matrix_text(unbroadcast(-term))} is missing: it comes through {what}",
                    lambda c, ev, env, e=part: c - ev(e),
                )


def _attention_candidates(net: VecTarget, name: str, eq):
    """Self-attention's usual slips: dS = dP ⊙ P without the rowsum correction, a missing 1/√d."""
    from ..ir.nodes import Apply

    vn = net.net
    softmaxes = {
        a.operands[0]: a.name
        for a in vn.assignments
        if isinstance(a.value, Apply) and a.value.function == "softmax_rows"
    }
    if name[1:] in softmaxes:
        P, dP = softmaxes[name[1:]], f"d{softmaxes[name[1:]]}"
        yield (
            f"the rowsum correction is missing: the row softmax's Jacobian is diag(p) − p pᵀ, not diag(p), so {eq.text}",
            lambda c, ev, env, P=P, dP=dP: c - env[P] * np.sum(env[dP] * env[P], axis=1, keepdims=True),
        )
    roots = [
        p.base
        for p in sp.sympify(eq.expr.as_coeff_matrices()[0] if isinstance(eq.expr, sp.MatMul) else 1).atoms(sp.Pow)
        if p.exp == -sp.S.Half and p.base in vn.dim_sizes
    ]
    for d in roots:
        yield (
            f"the scale 1/√{d} is missing: S = Q Kᵀ/√{d} scales its gradient too, {eq.text}",
            lambda c, ev, env, d=d: c / np.sqrt(ev.size(d)),
        )


def classic_repairs(net: VecTarget, name: str, tree):
    """The classic slips, each as a repair: σ'(Z_L) left out under a quadratic cost; σ' of the wrong
    node or of the activation instead of the pre-activation; the whole gradient transposed;
    ``axis=0`` for ``axis=1``."""
    show = lambda n: resolve(net, n)
    A_out = net.net.cost_operands[0]
    Z_out = net.equations[A_out].operands[0] if A_out in net.equations else None
    if name == f"dZ{output_layer(net)}" and Z_out and net.net.loss == "mse" and net.activation.get(Z_out) != "identity":
        g = net.activation.get(Z_out)
        yield (
            (
                f"σ'(Z_L) left out: under a quadratic cost dZ{output_layer(net)} = ({A_out} − Y) ⊙ {g}'({Z_out}); "
                f"{A_out} − Y alone holds for σ with cross-entropy (or softmax with cross-entropy)"
            ),
            ("mul", tree, ("call", "g'", (("name", Z_out),))),
        )
    for path, node in _walk(tree):
        if node[0] == "call" and node[1].endswith("'") and len(node[2]) == 1:
            arg = node[2][0]
            for Z in net.activation:
                if arg == ("name", Z):
                    continue
                shown = _shown(node, show)
                label = f"the derivative at the wrong node: {shown} written for g'({Z})"
                if arg[0] == "name" and show(arg[1]).startswith("A"):
                    label += " (g' is taken at the pre-activation Z, not the activation A)"
                yield label, _replace(tree, path, ("call", "g'", (("name", Z),)))
        found = _derivative_form(net, node) if node[0] in ("mul", "jux", "sub") else None
        if found is None and node[0] == "mul":  # … * A2 * (1 - A2): the pair inside a longer product
            factors = _mul_factors(node)
            for i, j in ((i, j) for i in range(len(factors)) for j in range(len(factors)) if i < j):
                pair = _derivative_form(net, ("mul", factors[i], factors[j]))
                if pair is not None:
                    rest = [f for k, f in enumerate(factors) if k not in (i, j)]
                    _, A = pair
                    for Z in net.activation:
                        if net.equations.get(A) is not None and net.equations[A].operands[0] == Z:
                            continue
                        product = ("call", "g'", (("name", Z),))
                        for f in reversed(rest):
                            product = ("mul", f, product)
                        shown = _shown(("mul", factors[i], factors[j]), show)
                        yield (
                            f"the derivative at the wrong node: {shown} is the derivative at {A}; this needs g'({Z})",
                            _replace(tree, path, product),
                        )
                    break
        if found is not None:
            _used, A = found
            for Z in net.activation:
                if net.equations.get(A) is not None and net.equations[A].operands[0] == Z:
                    continue
                if net.activation[Z] not in DERIVATIVE_TEXT:
                    continue
                own = [a for a, eq in net.equations.items() if eq.kind == "activation" and eq.operands[0] == Z]
                label = (
                    f"the derivative at the wrong node: {_shown(node, show)} is the derivative at {A}; "
                    f"this needs g'({Z})"
                    + (f" = {DERIVATIVE_TEXT[net.activation[Z]].replace('A', own[0]).replace('Z', Z)}" if own else "")
                )
                yield label, _replace(tree, path, ("call", "g'", (("name", Z),)))
    if name.startswith("dW"):
        yield f"{name} transposed: the claim is {name}ᵀ (swap the factors of the product)", ("T", tree)
    for path, node in _walk(tree):
        if node[0] == "sum" and node[2] in (0, 1):
            other = 1 - node[2]
            label = (
                f"axis={node[2]} for axis={other}: np.sum(…, axis={node[2]}) sums over the "
                f"{'units (rows)' if node[2] == 0 else 'examples (columns)'}; "
                f"{'the examples are the columns: axis=1' if other == 1 else 'the units are the rows: axis=0'}"
            )
            yield label, _replace(tree, path, ("sum", node[1], other, node[3]))


def _square(shape, true_shape) -> bool:
    return len(shape) == 2 and shape[0] == shape[1] == true_shape[0] and true_shape[1] == 1 and shape != true_shape


def _unkept_sum(tree) -> bool:
    return any(node[0] == "sum" and not node[3] for _, node in _walk(tree))


def _ratio(claimed: np.ndarray, true: np.ndarray) -> float | None:
    mask = np.abs(true) > 1e-9
    if not mask.any():
        return None
    r = claimed[mask] / true[mask]
    return float(r[0]) if np.allclose(r, r[0], rtol=1e-9) else None


def repairs(tree, show=lambda n: n):
    """(label, repaired tree) for every single edit: keepdims, a transpose, '*' vs '@', a layer index."""
    for path, node in _walk(tree):
        if node[0] == "sum" and not node[3]:
            shown = "np.sum(…)" if node[2] is None else f"np.sum(…, axis={node[2]})"
            yield (
                f"keepdims left out: {shown} gives a rank-1 array, not a column (use keepdims=True)",
                _replace(tree, path, ("sum", node[1], node[2], True)),
            )
    for path, node in _walk(tree):
        if node[0] == "name":
            yield (
                f"a missing transpose: {show(node[1])} written for {show(node[1])}.T",
                _replace(tree, path, ("T", node)),
            )
        if node[0] == "T":
            yield (
                f"an extra transpose: {_shown(node, show)} written for {_shown(node[1], show)}",
                _replace(tree, path, node[1]),
            )
    for path, node in _walk(tree):
        if node[0] in ("mul", "jux"):
            yield (
                f"'*' (element-wise) written for '@' (matrix product) in {_shown(node, show)}",
                _replace(tree, path, ("matmul", node[1], node[2])),
            )
        if node[0] in ("matmul", "jux"):
            yield (
                f"a matrix product written for '*' (element-wise, ⊙) in {_shown(node, show)}",
                _replace(tree, path, ("mul", node[1], node[2])),
            )
    for path, node in _walk(tree):
        if node[0] == "name" and show(node[1])[-1:] in ("1", "2"):
            name = show(node[1])
            other = name[:-1] + ("2" if name.endswith("1") else "1")
            yield f"a wrong layer index: {name} written for {other}", _replace(tree, path, ("name", other))
    for path, node in _walk(tree):
        if node[0] == "neg":
            yield "a flipped sign", _replace(tree, path, node[1])
        if node[0] in ("add", "sub"):
            other = "sub" if node[0] == "add" else "add"
            shown = _shown(node, show)
            yield (
                f"a flipped sign: '{'+' if node[0] == 'add' else '-'}' in {shown}",
                _replace(tree, path, (other, *node[1:])),
            )
    yield "a flipped sign", ("neg", tree)


def _shown(tree, show) -> str:
    """A tree as text with the network's names (``A[1]`` → ``A1``)."""

    def rename(node):
        if node[0] == "name":
            try:
                return ("name", show(node[1]))
            except ClaimError:
                return node
        if node[0] in ("num", "partial"):
            return node
        if node[0] == "call":
            return ("call", node[1], tuple(rename(a) for a in node[2]))
        return (node[0], *(rename(x) if isinstance(x, tuple) else x for x in node[1:]))

    return to_text(rename(tree))


DERIVATIVE_TEXT = {"sigmoid": "A(1 − A)", "tanh": "1 − A²", "relu": "step(Z)", "identity": "1"}


def derivative_repairs(net: VecTarget, tree):
    """The derivative of the wrong activation: σ' = A(1 − A) written where g1 is tanh (1 − A²), and so on."""
    for path, node in _walk(tree):
        found = _derivative_form(net, node)
        if found is None and node[0] == "mul":  # … * A1 * (1 - A1): the pair inside a longer product
            factors = _mul_factors(node)
            for i, j in ((i, j) for i in range(len(factors)) for j in range(len(factors)) if i != j):
                pair = _derivative_form(net, ("mul", factors[i], factors[j]))
                if pair is not None:
                    rest = [f for k, f in enumerate(factors) if k not in (i, j)]
                    found, node = pair, ("mul", factors[i], factors[j])
                    break
            if found is None:
                continue
            Z = net.equations[found[1]].operands[0] if found[1] in net.equations else None
            if net.activation.get(Z) in (None, found[0]):
                continue
            product = ("call", "g'", (("name", Z),))
            for f in reversed(rest):
                product = ("mul", f, product)
            label = _wrong_derivative_label(net, node, found[0], found[1], Z)
            yield label, _replace(tree, path, product)
            continue
        if found is None:
            continue
        used, A = found
        Z = net.equations[A].operands[0] if A in net.equations else None
        actual = net.activation.get(Z)
        if actual is None or actual == used:
            continue
        label = _wrong_derivative_label(net, node, used, A, Z)
        yield label, _replace(tree, path, ("call", "g'", (("name", Z),)))


def _wrong_derivative_label(net: VecTarget, node, used: str, A: str, Z: str) -> str:
    actual = net.activation[Z]
    formula = DERIVATIVE_TEXT.get(actual, "?").replace("A", A).replace("Z", Z)
    shown = _shown(node, lambda n: resolve(net, n))
    return (
        f"the derivative of the wrong activation: {shown} is {used}', but {A} = {actual}({Z}), so g'({Z}) = {formula}"
    )


def _mul_factors(node) -> list:
    if node[0] != "mul":
        return [node]
    return _mul_factors(node[1]) + _mul_factors(node[2])


def _derivative_form(net: VecTarget, node):
    """(activation, A) when ``node`` is A(1 − A), (1 − A)A or 1 − A²; else None."""

    def name(x):
        if x[0] != "name":
            return None
        try:
            return resolve(net, x[1])
        except ClaimError:
            return None

    if node[0] in ("mul", "jux"):
        a, b = node[1], node[2]
        for x, y in ((a, b), (b, a)):
            if y[0] == "sub" and y[1][0] == "num" and y[1][1] == 1 and name(x) and name(y[2]) == name(x):
                return "sigmoid", name(x)
    if node[0] == "sub" and node[1][0] == "num" and node[1][1] == 1 and node[2][0] == "pow":
        base, exponent = node[2][1], node[2][2]
        if exponent[0] == "num" and exponent[1] == 2 and name(base):
            return "tanh", name(base)
    return None


def _walk(tree, path=()):
    yield path, tree
    if tree[0] in ("num", "name", "partial"):
        return
    children = tree[2] if tree[0] == "call" else tree[1:]
    for i, child in enumerate(children):
        if isinstance(child, tuple):
            yield from _walk(child, path + (i,))


def _replace(tree, path, new):
    if not path:
        return new
    i = path[0]
    if tree[0] == "call":
        args = list(tree[2])
        args[i] = _replace(args[i], path[1:], new)
        return ("call", tree[1], tuple(args))
    items = list(tree)
    items[i + 1] = _replace(items[i + 1], path[1:], new)
    return tuple(items)
