"""A claim whose value overflows or is undefined at the test points is a verdict, never a pass:
inf ≤ tol·inf must not make ``exp(1000)`` hold.  The claim is re-evaluated with mpmath first
(rounding or overflow in floating point alone decides nothing)."""

from __future__ import annotations

import json

import pytest

from codegen.cli import main

CLAIMS = [
    ("--claim", "exp(1000)"),
    ("--claim", "exp(exp(7))"),
    ("--claim", "-exp(1000)*w1"),
    ("--latex", "e^{1000}"),
    ("--claim", "log(-1 - x1**2)"),
]


@pytest.mark.parametrize(("flag", "claim"), CLAIMS)
def test_overflowing_claims_cannot_be_evaluated(capsys, flag, claim):
    assert main(["verify", "xor", "--wrt", "w1", f"{flag}={claim}"]) == 1
    out = capsys.readouterr().out
    assert out.startswith("∂L/∂w1: WRONG\n")
    assert "numeric:  cannot be evaluated at 36 of 36 points" in out and "holds" not in out


def test_overflow_in_json_is_valid_json(capsys):
    assert main(["verify", "xor", "--wrt", "w1", "--claim", "exp(1000)", "--json"]) == 1

    def refuse(constant):
        raise AssertionError(f"not JSON: {constant}")

    data = json.loads(capsys.readouterr().out, parse_constant=refuse)
    assert data["holds"] is False and data["counterexample"]["claimed"] is None


def test_rounding_alone_does_not_fail_a_true_claim(capsys):
    # (ŷ − y)·h1 written with a large cancelling pair: float64 loses it, mpmath does not
    assert main(["verify", "xor", "--wrt", "w1", "--claim", "(yhat - y)*h1 + exp(40) - exp(40)"]) == 0
