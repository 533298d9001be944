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
import os
import pickle
import random
import select
import signal
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache

import mpmath
import sympy as sp

from ..errors import ChainruleError
from ..functions import numeric_function as float_function
from ..gradcheck import random_point
from ..ops import NetFunctionBase, records

RANDOM_POINTS = 24
KINK_OFFSET = 1e-3
TOLERANCE = 1e-8
SYMBOLIC_SECONDS = 2.0
SYMBOLIC_MAX_OPS = 3000
SYMBOLIC_MAX_TERMS = 4000
REPEAT_SECONDS = 0.25  # a time or CPU limit that has run out signals again this often until its block ends


class TimedOut(BaseException):  # not an Exception: library code must not swallow it
    """Raised by the alarm of ``time_limit``; ``limit`` is the limit that ran out."""

    def __init__(self, limit=None):
        super().__init__()
        self.limit = limit


_LIMITS: list[tuple[float, object]] = []  # (deadline, token) of each active time_limit, outermost first


def _arm() -> None:
    """The alarm for the nearest deadline of the active limits (at once, when one has passed)."""
    if _LIMITS:
        left = min(deadline for deadline, _ in _LIMITS) - time.monotonic()
        signal.setitimer(signal.ITIMER_REAL, max(left, 1e-6))
    else:
        signal.setitimer(signal.ITIMER_REAL, 0)


@contextmanager
def time_limit(seconds: float):
    """Raise ``TimedOut`` after ``seconds`` (main thread only; elsewhere use ``bounded``); yields the limit,
    which the ``TimedOut`` it raises carries.

    Limits nest: an inner limit never outlasts an outer one.  When the outer one runs out first, its
    ``TimedOut`` (not the inner's) is raised, so code that catches only its own limit's lets it through."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        yield None
        return
    token = object()

    def handler(signum, frame):
        now = time.monotonic()
        expired = [t for deadline, t in _LIMITS if deadline <= now]
        if expired:
            # rings again in 0.25 s: an exception raised in a gc callback (hypothesis installs one) or in a
            # __del__ is printed and dropped, and the work it meant to stop would run on unbounded
            signal.setitimer(signal.ITIMER_REAL, REPEAT_SECONDS)
            raise TimedOut(expired[0])  # the outermost that ran out
        _arm()

    old = signal.signal(signal.SIGALRM, handler)
    _LIMITS.append((time.monotonic() + seconds, token))
    try:
        _arm()
        yield token
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        _LIMITS.remove(next(entry for entry in _LIMITS if entry[1] is token))
        signal.signal(signal.SIGALRM, old)
        _arm()


class OutOfTime(BaseException):  # not an Exception, and not a TimedOut: ``bounded`` must not swallow it
    """Raised by ``cpu_limit``: a whole claim's allowance of CPU time is spent."""


_CPU_DEADLINE: list[float] = []  # the main thread's CPU time (time.thread_time) at which each open cpu_limit ends


def _arm_cpu() -> None:
    """SIGPROF when the process has spent what the main thread has left.  The process's CPU clock runs at
    least as fast as the thread's, so the signal never comes late; when other threads (BLAS, JAX) spent
    part of it, the handler finds time left and arms again for the rest."""
    left = _CPU_DEADLINE[-1] - time.thread_time()
    signal.setitimer(signal.ITIMER_PROF, max(left, 1e-3), REPEAT_SECONDS)


@contextmanager
def cpu_limit(seconds: float):
    """Raise ``OutOfTime`` once the main thread has spent ``seconds`` more of CPU time (SIGPROF, main thread
    only; elsewhere nothing).  CPU time, not wall time, so that a check's outcome does not depend on how
    busy the machine is; the checking thread's own, so that threads of other libraries working beside it
    (JAX's pool) do not spend its allowance.  Nested limits keep the earliest end.  After the first signal
    it repeats every 0.25 s of CPU time, so a library that swallows one cannot run on unbounded."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        yield
        return

    def handler(signum, frame):
        if time.thread_time() >= _CPU_DEADLINE[-1]:
            raise OutOfTime()
        _arm_cpu()  # the process spent it, this thread did not: arm for what the thread has left

    end = time.thread_time() + seconds
    if _CPU_DEADLINE:
        end = min(end, _CPU_DEADLINE[-1])
    _CPU_DEADLINE.append(end)
    old = signal.signal(signal.SIGPROF, handler)
    _arm_cpu()
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        _CPU_DEADLINE.pop()
        signal.signal(signal.SIGPROF, old)
        if _CPU_DEADLINE:  # an outer limit goes on
            _arm_cpu()


def bounded(fn, seconds: float, default):
    """``fn()``, or ``default`` when it takes longer than ``seconds`` — in any thread.

    On the main thread an alarm interrupts ``fn`` (an outer limit that runs out meanwhile is raised,
    not turned into ``default``); on any other thread ``fn``
    runs in a forked child process that is killed at the deadline (its
    result, which must pickle, comes back through a pipe).  Where neither is
    available ``fn`` runs unbounded, and only the size bounds of the callers
    hold."""
    if threading.current_thread() is threading.main_thread() and hasattr(signal, "setitimer"):
        limit = None
        try:
            with time_limit(seconds) as limit:
                return fn()
        except TimedOut as exc:
            if exc.limit is not limit:
                raise
            return default
    if not hasattr(os, "fork"):
        return fn()
    return _in_child(fn, seconds, default)


def _in_child(fn, seconds: float, default):
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: compute, send, exit without cleanup
        try:
            os.close(read_end)
            try:
                data = pickle.dumps(("ok", fn()))
            except BaseException:  # noqa: BLE001 - any failure in the child is "no result"
                data = pickle.dumps(("failed", None))
            with os.fdopen(write_end, "wb") as out:
                out.write(data)
        finally:
            os._exit(0)
    os.close(write_end)
    chunks, deadline = [], time.monotonic() + seconds
    try:
        with os.fdopen(read_end, "rb") as inp:
            while True:
                left = deadline - time.monotonic()
                if left <= 0 or not select.select([inp], [], [], left)[0]:
                    return default
                chunk = os.read(inp.fileno(), 1 << 16)
                if not chunk:
                    break
                chunks.append(chunk)
        status, value = pickle.loads(b"".join(chunks))
        return value if status == "ok" else default
    except (OSError, EOFError, pickle.UnpicklingError):
        return default
    finally:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        os.waitpid(pid, 0)


# ------------------------------------------------------------- size bounds
def expanded_terms(expr: sp.Expr, limit: int = SYMBOLIC_MAX_TERMS) -> int:
    """An upper estimate of the number of terms ``sp.expand`` makes of ``expr`` (capped at limit + 1),
    with the terms made inside function arguments added.  Linear in the size of ``expr`` as a DAG."""
    memo: dict = {}
    work = 0
    cap = limit + 1

    def terms(e) -> int:
        nonlocal work
        if e in memo:
            return memo[e]
        if e.is_Atom:
            out = 1
        elif e.is_Add:
            out = sum(terms(a) for a in e.args)
        elif e.is_Mul:
            out = 1
            for a in e.args:
                out = min(out * terms(a), cap)
        elif e.is_Pow:
            base = terms(e.base)
            n = e.exp
            if n.is_Integer and base > 1:
                k = abs(int(n))
                out = math.comb(base + k - 1, k) if k <= 64 else cap
            else:
                out = base
                if not n.is_Atom:
                    work += terms(n)
        else:  # a function: one term; expanding its arguments is work of its own
            out = 1
            for a in e.args:
                work += terms(a)
        out = min(out, cap)
        memo[e] = out
        return out

    return min(terms(expr) + work, cap)


def exp_written_size(expr: sp.Expr, limit: int = SYMBOLIC_MAX_TERMS) -> int:
    """The size of ``expr`` as a tree once σ and tanh are written with exp (each tanh repeats its
    argument 4 times, so nesting grows exponentially); capped at limit + 1."""
    memo: dict = {}

    def size(e) -> int:
        if e in memo:
            return memo[e]
        if e.is_Atom:
            out = 1
        else:
            inner = sum(size(a) for a in e.args)
            out = 1 + (4 * inner if _is_tanh(e) else inner)
        out = min(out, limit + 1)
        memo[e] = out
        return out

    return size(expr)


def _is_tanh(e) -> bool:
    """tanh, SymPy's or the activation's (defined as SymPy's)."""
    return isinstance(e, sp.tanh) or getattr(getattr(e, "record", None), "definition", None) is sp.tanh


def _written(e) -> bool:
    """A function the symbolic steps write out by its record's definition: smooth, one value (not a kink, not
    one component of softmax)."""
    return isinstance(e, NetFunctionBase) and not e.record.kinks and e.record.form != "component"


def _to_exp(expr: sp.Expr) -> sp.Expr:
    """σ, tanh and the other smooth activations written by their definitions (with exp, SymPy's tanh …), the
    losses written out (bounded: one pass)."""
    return expr.replace(_written, lambda e: e.record.definition(*e.args))


def symbolic_verdict(d, claim: sp.Expr, truth: sp.Expr) -> str:
    """Return "proved" when the difference (over leaves) reaches 0 by bounded steps, else "not proved".

    Each step runs only when a size estimate says it stays small (``expanded_terms``,
    ``exp_written_size``, ``too_many_ops``), and all of them within ``SYMBOLIC_SECONDS`` in any
    thread (``bounded``)."""
    diff = d.expand_nodes(claim) - d.expand_nodes(truth)
    for group in d.net.one_hot:  # one-hot targets: the last is 1 − the others
        diff = diff.xreplace({group[-1]: 1 - sp.Add(*group[:-1])})
    if exp_written_size(diff) > SYMBOLIC_MAX_TERMS or too_many_ops(diff):
        return "skipped (expression too large)"
    stopped = f"not proved (stopped after {SYMBOLIC_SECONDS:g} s)"
    return bounded(lambda: _symbolic_steps(diff), SYMBOLIC_SECONDS, stopped)


def too_many_ops(e: sp.Expr, limit: int = SYMBOLIC_MAX_OPS) -> bool:
    """Whether ``sp.count_ops(e)`` is over ``limit``, without counting a huge tree to its end: count_ops walks
    the whole tree (deep_sigmoid's dW7 written out took it 0.8 s, twice per claim), so the nodes are counted
    first and over 4 × limit (an operation per node or two, leaves aside) it is too many."""
    for nodes, _ in enumerate(sp.preorder_traversal(e), 1):
        if nodes > 4 * limit:
            return True
    return sp.count_ops(e) > limit


def _small(e: sp.Expr) -> bool:
    return expanded_terms(e) <= SYMBOLIC_MAX_TERMS and not too_many_ops(e)


def brought_to_zero(diff: sp.Expr, seconds: float = SYMBOLIC_SECONDS) -> bool:
    """Whether the bounded symbolic steps (``_symbolic_steps``) bring ``diff`` to 0 within ``seconds``."""
    return bounded(lambda: _symbolic_steps(diff) == "proved", seconds, False)


def _symbolic_steps(diff: sp.Expr) -> str:
    """The bounded steps: expand; cancel; σ and tanh with exp, losses written out; tanh as exp.
    A step whose estimated size is over the bounds is left out (then: "not proved (too large …)")."""
    skipped = False

    def zero(e: sp.Expr, step) -> bool:
        nonlocal skipped
        if expanded_terms(e) > SYMBOLIC_MAX_TERMS or too_many_ops(e):
            skipped = True
            return False
        return step(e) == 0

    try:
        if diff == 0 or zero(diff, sp.expand) or zero(diff, lambda e: sp.cancel(sp.together(e))):
            return "proved"
        if skipped:  # σ and tanh written with exp only make it larger: not worth writing them out
            return "not proved (too large to expand within the bounds)"
        opened = _to_exp(diff)
        if zero(opened, lambda e: sp.cancel(sp.together(sp.expand(e)))):
            return "proved"
        if zero(opened.rewrite(sp.exp), lambda e: sp.cancel(sp.together(sp.expand(e)))):
            return "proved"
    except (TypeError, ValueError, ZeroDivisionError, RecursionError, sp.PolynomialError):
        return "not proved"
    return "not proved (too large to expand within the bounds)" if skipped else "not proved"


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
    """Whether two finite values agree (an overflow or an undefined value agrees with nothing: inf ≤ tol·inf)."""
    if not (math.isfinite(a) and math.isfinite(b)):
        return False
    scale = max(abs(a), abs(b))
    return scale < 1e-12 or abs(a - b) <= tol * max(scale, 1e-6)


@lru_cache(maxsize=1024)
def numeric_function(expr: sp.Expr):
    """``expr`` as a function of a dict of values (lambdified once per expression: the truth of a gradient
    is the same for every claim about it)."""
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
        if not agree(claimed, true):  # rounding or overflow in the claim's own arithmetic must not decide it
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
    """``expr`` at ``values`` in 40-digit arithmetic (mpmath), or None where it is not defined.

    Evaluated node by node over the expression as a DAG (each shared subexpression once), so the
    work is linear in its size: no symbolic rewriting, nothing that can run away."""
    try:
        with mpmath.workdps(40):
            value = _mp_value(expr, values)
            if isinstance(value, mpmath.mpc) or not mpmath.isfinite(value):
                return None
            return float(value)  # ±inf when it is finite but beyond the float range (then it agrees with nothing)
    except (TypeError, ValueError, ZeroDivisionError, OverflowError, KeyError, RecursionError):
        return None


def _mp_value(expr: sp.Expr, values: dict):
    memo: dict = {}
    stack = [expr]
    while stack:
        e = stack[-1]
        if e in memo:
            stack.pop()
            continue
        pending = [a for a in e.args if a not in memo] if not e.is_Atom else []
        if pending:
            stack.extend(pending)
            continue
        stack.pop()
        memo[e] = _mp_node(e, [memo[a] for a in e.args] if not e.is_Atom else [], values)
    return memo[expr]


_MP_FUNCTIONS = {
    sp.exp: mpmath.exp,
    sp.log: mpmath.log,
    sp.tanh: mpmath.tanh,
    sp.Abs: abs,
    **{r.cls: r.mpmath for r in records()},  # every activation and loss, by its record
}


def _mp_node(e, args, values):
    if e.is_Symbol:
        return mpmath.mpf(values[e.name])
    if e.is_Rational:
        return mpmath.mpf(e.p) / e.q
    if e.is_Number:
        return mpmath.mpf(str(e))
    if e is sp.E:
        return mpmath.e
    if e.is_Add:
        return mpmath.fsum(args)
    if e.is_Mul:
        return mpmath.fprod(args)
    if e.is_Pow:
        base, exponent = args
        if base == 0 and exponent < 0:
            raise ZeroDivisionError
        return mpmath.power(base, exponent)
    if type(e) in _MP_FUNCTIONS:
        return _MP_FUNCTIONS[type(e)](*args)
    if isinstance(e, sp.Max):
        return max(args)
    if isinstance(e, sp.Min):
        return min(args)
    raise TypeError(f"no precise form for {type(e).__name__}")


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


_KINKED = tuple(r.cls for r in records() if r.kinks)  # ReLU, step: not differentiable at 0


def kink_arguments(net) -> list[sp.Expr]:
    out = []
    for node in net.nodes:
        for f in node.expr.atoms(*_KINKED):
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
