"""Are two expressions over a network equal?  Bounded symbolic steps, then numbers.

* ``symbolic_verdict``: the difference with every node written out, brought to
  0 by bounded steps (expand; cancel; σ and tanh with exp; losses written
  out), under a size limit and a time limit — never an unbounded ``simplify()``;
* ``numeric_rows``: both sides at seeded random points on a 1/16 grid (exact in
  binary) and, for ReLU/step networks, exactly on each kink (``ReLU'(0) = 1``)
  and 10⁻³ either side; where the claim's float arithmetic disagrees it is
  re-evaluated exactly (``precise_value``).
"""

from __future__ import annotations

import math
import random
import signal
import threading
from contextlib import contextmanager
from dataclasses import dataclass

import sympy as sp

from .errors import ChainruleError
from .functions import BinaryCrossEntropy, CrossEntropy, ReLU, Sigmoid, SquaredError, Step, Tanh
from .functions import numeric_function as float_function
from .gradcheck import random_point

RANDOM_POINTS = 24
KINK_OFFSET = 1e-3
TOLERANCE = 1e-8
SYMBOLIC_SECONDS = 2.0
SYMBOLIC_MAX_OPS = 3000
PRECISE_SECONDS = 1.0


class TimedOut(BaseException):  # not an Exception: library code must not swallow it
    """Raised by the alarm of ``time_limit``."""


@contextmanager
def time_limit(seconds: float):
    """Raise ``TimedOut`` after ``seconds`` (main thread only; elsewhere no limit but the size bound)."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        yield
        return

    def handler(signum, frame):
        raise TimedOut()

    old = signal.signal(signal.SIGALRM, handler)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def _to_exp(expr: sp.Expr) -> sp.Expr:
    """Sigmoid and tanh written with exp, the losses written out (bounded: one pass each)."""
    return (
        expr.replace(lambda e: isinstance(e, Sigmoid), lambda e: 1 / (1 + sp.exp(-e.args[0])))
        .replace(lambda e: isinstance(e, Tanh), lambda e: sp.tanh(e.args[0]))
        .replace(lambda e: isinstance(e, BinaryCrossEntropy), lambda e: _bce(*e.args))
        .replace(lambda e: isinstance(e, (CrossEntropy, SquaredError)), _written_out)
    )


def _bce(p, y):
    return -(y * sp.log(p) + (1 - y) * sp.log(1 - p))


def _written_out(e):
    k = len(e.args) // 2
    pairs = list(zip(e.args[:k], e.args[k:]))
    if isinstance(e, CrossEntropy):
        return -sp.Add(*(y * sp.log(p) for p, y in pairs))
    return sp.Rational(1, 2) * sp.Add(*((p - y) ** 2 for p, y in pairs))


def symbolic_verdict(d, claim: sp.Expr, truth: sp.Expr) -> str:
    """Return "proved" when the difference (over leaves) reaches 0 by bounded steps, else "not proved"."""
    diff = d.expand_nodes(claim) - d.expand_nodes(truth)
    for group in d.net.one_hot:  # one-hot targets: the last is 1 − the others
        diff = diff.xreplace({group[-1]: 1 - sp.Add(*group[:-1])})
    if sp.count_ops(diff) > SYMBOLIC_MAX_OPS:
        return "skipped (expression too large)"
    steps = (
        lambda e: e,
        sp.expand,
        lambda e: sp.cancel(sp.together(e)),
        lambda e: sp.cancel(sp.together(sp.expand(_to_exp(e)))),
        lambda e: sp.cancel(sp.together(sp.expand(_to_exp(e).rewrite(sp.exp)))),
    )
    try:
        with time_limit(SYMBOLIC_SECONDS):
            for step in steps:
                if step(diff) == 0:
                    return "proved"
    except TimedOut:
        return f"not proved (stopped after {SYMBOLIC_SECONDS:g} s)"
    except (TypeError, ValueError, ZeroDivisionError, RecursionError, sp.PolynomialError):
        return "not proved"
    return "not proved"


# -------------------------------------------------------------- numeric
@dataclass(frozen=True)
class Row:
    index: int
    point: dict[str, float]
    claimed: float
    true: float
    at_kink: str  # "", "at a kink" or "beside a kink"

    @property
    def agrees(self) -> bool:
        return agree(self.claimed, self.true)


def agree(a: float, b: float, tol: float = TOLERANCE) -> bool:
    if math.isnan(a) or math.isnan(b):
        return False
    scale = max(abs(a), abs(b))
    return scale < 1e-12 or abs(a - b) <= tol * max(scale, 1e-6)


def numeric_function(expr: sp.Expr):
    args = sorted(expr.free_symbols, key=lambda s: s.name)
    fn = float_function(args, expr)
    names = [a.name for a in args]
    return lambda values: float(fn(*(values[n] for n in names)))


def numeric_rows(d, claim: sp.Expr, truth: sp.Expr) -> tuple[list[Row], int]:
    """The claim and the truth at every test point; (rows, how many are at or beside a kink)."""
    f_claim, f_truth = numeric_function(claim), numeric_function(truth)
    rows, kinks = [], 0
    for i, (point, at_kink) in enumerate(test_points(d)):
        try:
            values = values_at(d, point)
            true = f_truth(values)
        except (ValueError, ZeroDivisionError, OverflowError, ChainruleError):  # undefined here: not a test point
            continue
        if not math.isfinite(true):
            continue
        try:
            claimed = f_claim(values)
        except (ZeroDivisionError, ValueError, OverflowError, TypeError):
            claimed = math.nan
        if not agree(claimed, true):  # rounding in the claim's own arithmetic must not make it wrong
            precise = precise_value(claim, values)
            if precise is not None:
                claimed = precise
        rows.append(Row(i, point, claimed, true, at_kink))
        kinks += bool(at_kink)
    return rows, kinks


RATE_VALUES = {"alpha": 0.125, "eta": 0.125, "lr": 0.125}  # a learning rate, exact in binary


def values_at(d, point: dict) -> dict:
    """Every name's value at ``point``, and the learning rate an update claim may use."""
    return {**d.forward(point), **RATE_VALUES}


def precise_value(expr: sp.Expr, values: dict) -> float | None:
    """``expr`` at ``values`` in exact rationals and 40-digit floats (None when that is not possible in time)."""
    exact = {s: sp.Rational(values[s.name]) for s in expr.free_symbols}
    opened = _to_exp(expr).replace(lambda e: isinstance(e, ReLU), lambda e: sp.Max(e.args[0], 0))
    opened = opened.replace(lambda e: isinstance(e, Step), lambda e: sp.Piecewise((1, e.args[0] >= 0), (0, True)))
    try:
        with time_limit(PRECISE_SECONDS):
            value = opened.xreplace(exact).evalf(40)
            return float(value) if value.is_real and value.is_finite else None
    except (TimedOut, TypeError, ValueError, ZeroDivisionError, OverflowError, AttributeError):
        return None


def grid_value(rng: random.Random) -> float:
    """A random multiple of 1/16 in [−2, 2], nonzero: exact in binary, short in decimal."""
    while True:
        v = rng.randint(-32, 32) / 16
        if v:
            return v


def test_points(d, n: int = RANDOM_POINTS, seed: int = 0):
    """Seeded random points, then for each ReLU/step argument: exactly on the kink and either side."""
    net = d.net
    rng = random.Random(seed)
    for _ in range(n):
        yield random_point(net, rng=rng, draw=grid_value), ""
    for arg in kink_arguments(net):
        for _ in range(2):
            base = random_point(net, rng=rng, draw=grid_value)
            found = on_kink(d, arg, base)
            if found is None:
                continue
            on, (leaf, coeff) = found
            yield on, "at a kink"
            for side in (-1, 1):
                shifted = dict(on)
                shifted[leaf] += side * KINK_OFFSET / coeff
                yield shifted, "beside a kink"


def kink_arguments(net) -> list[sp.Expr]:
    out = []
    for node in net.nodes:
        for f in node.expr.atoms(ReLU, Step):
            if f.args[0] not in out:
                out.append(f.args[0])
    return out


def on_kink(d, arg: sp.Expr, point: dict[str, float]):
    """``point`` moved so that ``arg`` is exactly 0 (solving for a parameter it is linear in)."""
    expr = d.expand_nodes(arg)
    for sym in sorted(expr.free_symbols, key=lambda s: (d.net.kinds[s.name] != "param", s.name)):
        if d.net.kinds[sym.name] == "target":
            continue
        coeff = sp.diff(expr, sym)
        if coeff.free_symbols or coeff == 0:
            continue
        value = float(expr.subs({s: point[s.name] for s in expr.free_symbols}))
        moved = dict(point)
        moved[sym.name] = point[sym.name] - value / float(coeff)
        check = float(expr.subs({s: moved[s.name] for s in expr.free_symbols}))
        if check == 0.0:
            return moved, (sym.name, float(coeff))
    return None
