"""Every symbolic step of verify is bounded, in any thread: a deeply nested claim answers in time.

The CLI case is the one from the issue: 20 nested tanh(…) ran for minutes (the exact
re-evaluation rewrote it to exp outside its time limit).  Time is measured as CPU time (this
process and its children), so that other jobs on a shared machine do not make the test flaky; a
runaway computation spins the CPU and is caught all the same.
"""

from __future__ import annotations

import resource
import subprocess
import sys
import threading
import time

import pytest

from derive.catalogue import load
from derive.verify import equivalence


def cpu_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


NESTED = "x1"
for _ in range(20):
    NESTED = f"tanh({NESTED})"


@pytest.fixture(scope="module")
def relu():
    return load("two_layer_relu").derive()


def test_nested_tanh_claim_answers_within_the_limit_from_the_cli():
    start = cpu_seconds()
    proc = subprocess.run(
        [sys.executable, "-m", "codegen", "verify", "two_layer_relu", "--wrt", "W11", "--claim", NESTED],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert cpu_seconds() - start < 5 + 3  # 5 s for the check, up to 3 s to start Python and SymPy
    assert proc.returncode == 1, proc.stderr
    assert "∂L/∂W11: WRONG" in proc.stdout and "counterexample: at x1 = " in proc.stdout


def _in_thread(fn):
    out = {}
    thread = threading.Thread(target=lambda: out.setdefault("value", fn()))
    thread.start()
    thread.join(30)
    assert not thread.is_alive()
    return out["value"]


def test_nested_tanh_claim_answers_within_the_limit_in_a_thread(relu):
    start = cpu_seconds()
    verdict = _in_thread(lambda: relu.verify("W11", NESTED))
    assert cpu_seconds() - start < 5
    assert not verdict.equal and verdict.counterexample is not None


def test_true_nested_claim_holds_and_the_symbolic_check_is_bounded(relu):
    """The nested part cancels; written with exp it would be 4²⁰ nodes: symbolic work is skipped."""
    claim = f"{NESTED} - {NESTED} + (yhat - y)*w1*step(z1)*x1"
    for run in (lambda f: f(), _in_thread):
        start = cpu_seconds()
        verdict = run(lambda: relu.verify("W11", claim))
        assert cpu_seconds() - start < 5
        assert verdict.equal, verdict.report()


def test_nested_claim_that_does_not_cancel_is_skipped_by_size(relu):
    d = load("two_layer_sigmoid").derive()
    claim = f"{NESTED}*0 + (yhat - y)*w1*a1*(1 - a1)*x1 + {NESTED} - {NESTED.replace('x1', 'x2')}"
    verdict = _in_thread(lambda: d.verify("W11", claim))
    assert not verdict.equal


def test_bounded_stops_a_runaway_call_in_the_main_thread_and_in_other_threads():
    def forever():
        while True:
            time.sleep(0.01)

    start = time.perf_counter()
    assert equivalence.bounded(forever, 0.2, "stopped") == "stopped"
    assert _in_thread(lambda: equivalence.bounded(forever, 0.2, "stopped")) == "stopped"
    assert time.perf_counter() - start < 5
    assert _in_thread(lambda: equivalence.bounded(lambda: "done", 5, "stopped")) == "done"
    assert _in_thread(lambda: equivalence.bounded(lambda: 1 / 0, 5, "failed")) == "failed"


def test_size_estimates_are_linear_in_the_dag_and_capped():
    import sympy as sp

    x, y = sp.symbols("x y")
    assert equivalence.expanded_terms((x + y) ** 2) == 3
    assert equivalence.expanded_terms(sp.Add(*sp.symbols("a:12")) ** 9) == equivalence.SYMBOLIC_MAX_TERMS + 1
    nested = x
    for _ in range(200):  # a DAG of 200 nodes, a tree of 2²⁰⁰
        nested = nested * nested + nested
    assert equivalence.expanded_terms(nested) == equivalence.SYMBOLIC_MAX_TERMS + 1
    assert equivalence.exp_written_size(sp.tanh(sp.tanh(x))) == 4 * (4 * 1 + 1) + 1


def test_precise_value_is_exact_and_linear():
    import sympy as sp

    from derive.functions import Tanh

    x = sp.Symbol("x")
    e = sp.Integer(10) ** 20 + x - sp.Integer(10) ** 20
    assert equivalence.precise_value(e, {"x": 0.125}) == 0.125
    nested = x
    for _ in range(20):
        nested = Tanh(nested)
    start = cpu_seconds()
    assert equivalence.precise_value(nested, {"x": 0.5}) is not None
    assert cpu_seconds() - start < 1
