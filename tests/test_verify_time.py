"""verify answers within 5 s whatever the claim, on the main thread and on any other: nested functions,
towers, huge powers and products, long sums, deep LaTeX (the symbolic steps are bounded; numeric
checking decides)."""

from __future__ import annotations

import threading
import time

import pytest

from codegen.cli.cmd_verify import load_target
from derive import ChainruleError
from derive.verify.scalar import verify_spec

SECONDS = 5.0
CLAIMS = [
    ("tanh(" * 20 + "x1" + ")" * 20, False),
    ("sigmoid(" * 20 + "x1" + ")" * 20, False),
    ("(yhat - y)*w1*a1*(1 - a1)*x1 + 0*" + "tanh(" * 40 + "x1" + ")" * 40, False),
    ("(x1 + x2 + W11 + W21 + b1)**60", False),
    ("exp(exp(exp(exp(x1))))", False),
    ("*".join(["sigmoid(W11*x1 + W21*x2 + b1)"] * 60), False),
    ("log(" * 30 + "x1**2 + 2" + ")" * 30, False),
    (r"\tanh(" * 15 + "x_1" + ")" * 15, True),
    (r"\frac{" * 30 + "x_1" + "}{2}" * 30, True),
]


@pytest.fixture(scope="module")
def target():
    return load_target("two_layer_sigmoid")


def answer(target, claim, latex):
    start = time.monotonic()
    try:
        verify_spec(target, "W11", claim, latex=latex, where="--claim")
    except ChainruleError:
        pass
    return time.monotonic() - start


@pytest.mark.parametrize(("claim", "latex"), CLAIMS, ids=[f"claim{i}" for i in range(len(CLAIMS))])
def test_every_claim_answers_within_5_s_in_any_thread(target, claim, latex):
    assert answer(target, claim, latex) < SECONDS
    took = []
    worker = threading.Thread(target=lambda: took.append(answer(target, claim, latex)))
    worker.start()
    worker.join(30)
    assert not worker.is_alive() and took[0] < SECONDS


def test_time_limits_nest():
    """An inner limit never disarms an outer one: the outer still strikes after the inner ends, and when the
    outer runs out first its TimedOut goes past code that catches only the inner's (bounded's default)."""
    from derive.verify.equivalence import TimedOut, bounded, time_limit

    start = time.monotonic()
    with pytest.raises(TimedOut), time_limit(0.3):
        with time_limit(5):
            pass
        time.sleep(3)
    assert time.monotonic() - start < 1.5
    start = time.monotonic()
    with pytest.raises(TimedOut) as caught, time_limit(0.3) as outer:
        bounded(lambda: time.sleep(3), 5.0, "the inner's default")
    assert caught.value.limit is outer and time.monotonic() - start < 1.5
    assert bounded(lambda: time.sleep(3), 0.2, "default") == "default"  # its own limit: the default


def test_a_swallowed_alarm_rings_again():
    """An exception raised while a gc callback or a ``__del__`` runs is printed and dropped (CI saw hypothesis's
    gc callback eat one, and a symbolic step then ran past 300 s): the limit signals again until its block ends."""
    from derive.verify.equivalence import TimedOut, time_limit

    start, swallowed = time.monotonic(), 0
    with pytest.raises(TimedOut), time_limit(0.1):
        while time.monotonic() - start < 5:
            try:
                while time.monotonic() - start < 5:
                    pass
            except TimedOut:
                swallowed += 1
                if swallowed == 2:
                    raise
    assert swallowed == 2 and time.monotonic() - start < 2


def test_the_cpu_limit_counts_the_checking_threads_time_only():
    """Threads of other libraries (BLAS, JAX's pool) spending CPU beside a check do not spend its allowance;
    the checking thread's own work does."""
    import numpy as np

    from derive.verify.equivalence import OutOfTime, cpu_limit

    a = np.random.default_rng(0).standard_normal((400, 400))
    stop = time.monotonic() + 1.5

    def busy():
        while time.monotonic() < stop:
            a @ a  # releases the GIL: CPU time of this thread, not the main one

    worker = threading.Thread(target=busy)
    with cpu_limit(0.3):
        worker.start()
        worker.join()  # the main thread waits, spending next to nothing
    start = time.monotonic()
    with pytest.raises(OutOfTime), cpu_limit(0.3):
        while time.monotonic() - start < 5:
            pass
    assert time.monotonic() - start < 2
