"""Every derived gradient, printed as text (the lecture form and SymPy's str), verifies as a claim;
the same claim with a dropped constant or a flipped sign does not, and the slip is named."""

from __future__ import annotations

import warnings

import pytest

from derive.catalogue import load, names
from derive.printing.text import text

SCALAR = [n for n in names() if not hasattr(load(n), "assignments")]


@pytest.fixture(scope="module")
def derived():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return {n: load(n).derive() for n in SCALAR}


@pytest.mark.parametrize("network", SCALAR)
def test_derived_gradients_verify_as_text_claims(derived, network):
    d = derived[network]
    for name in d.net.names("param")[:8]:
        for claim in (text(d.gradient(name)), str(d.gradient(name))):
            verdict = d.verify(name, claim)
            assert verdict.equal, verdict.report()


@pytest.mark.parametrize("network", SCALAR)
def test_scaled_and_negated_gradients_are_caught(derived, network):
    d = derived[network]
    name = d.net.names("param")[0]
    claim = str(d.gradient(name))
    doubled = d.verify(name, f"2*({claim})")
    negated = d.verify(name, f"-({claim})")
    assert not doubled.equal and "extra factor 2" in doubled.hint, doubled.report()
    assert not negated.equal and "flipped sign" in negated.hint, negated.report()
