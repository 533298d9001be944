"""Declared names: Python identifiers that are not keywords, builtins or the generated module's own
names, and distinct once Unicode-normalised (NFKC, as Python reads them) — per unit and per layer."""

from __future__ import annotations

import pytest

from derive import DeclarationError, Network, VecNetwork

BAD = [
    ("class", "is a Python keyword"),
    ("float", "is a Python builtin"),
    ("print", "is a Python builtin"),
    ("np", "is a name the generated module uses itself"),
    ("sigmoid", "is a name the generated module uses itself"),
    ("params", "is a name the generated module uses itself"),
    ("forward", "is a name the generated module uses itself"),
    ("__x", "starts with __"),
    ("1w", "is not a valid name"),
    ("w-1", "is not a valid name"),
]


@pytest.mark.parametrize(("name", "why"), BAD)
def test_per_unit_leaf_names(name, why):
    net = Network("n")
    with pytest.raises(DeclarationError) as err:
        net.params(name)
    assert why in str(err.value) and str(err.value).startswith("tests/test_names.py:") and "\n" not in str(err.value)


@pytest.mark.parametrize(("name", "why"), BAD)
def test_per_unit_node_names(name, why):
    net = Network("n")
    x = net.inputs("x")
    with pytest.raises(DeclarationError, match=why):
        net.let(name, 2 * x)


@pytest.mark.parametrize(("name", "why"), BAD)
def test_layer_names(name, why):
    net = VecNetwork("v")
    n0 = net.dims(n0=2)
    with pytest.raises(DeclarationError, match=why):
        net.input(name, n0)
    X = net.input("X", n0)
    with pytest.raises(DeclarationError, match=why):
        net.let(name, "2*X")
    assert X is not None


@pytest.mark.parametrize(("first", "second"), [("w1", "ｗ1"), ("x", "𝑥"), ("fi", "ﬁ")])
def test_names_equal_after_nfkc_are_one_name(first, second):
    net = Network("n")
    net.params(first)
    with pytest.raises(DeclarationError, match=f"'{second}' is the same name as '{first}' once Unicode-normalised"):
        net.params(second)
    vec = VecNetwork("v")
    n0 = vec.dims(n0=2)
    vec.input(first, n0)
    with pytest.raises(DeclarationError, match="NFKC"):
        vec.param(second, (n0, 1))


def test_ordinary_names_are_accepted():
    net = Network("n")
    assert len(net.params("w1 W_11 b ŷ e x_i alpha")) == 7
