"""The lecture catalogue: worked numbers, lecture formulas, and gradients against finite differences."""

import math

import pytest
import sympy as sp

from derive import gradcheck
from derive.catalogue import load, names
from derive.functions import Step

SCALAR = [n for n in names() if hasattr(load(n), "nodes")]


@pytest.fixture(scope="module")
def derived():
    return {name: load(name).derive() for name in SCALAR}


def S(*names_):
    out = sp.symbols(names_)
    return out if len(names_) > 1 else out[0]


def same(a, b):
    return sp.simplify(sp.expand(a - b)) == 0


# ----------------------------------------------------------------- worked numbers
def test_computation_graph_worked_values(derived):
    d = derived["computation_graph"]
    r = d.evaluate(d.net.examples["lecture"])
    assert (r.values["d"], r.values["e"], r.values["L"]) == (2.0, 5.0, -10.0)
    assert (r.gradients["a"], r.gradients["b"], r.gradients["c"]) == (-2.0, -4.0, 5.0)


@pytest.mark.parametrize("name", ["single_unit", "logistic_regression"])
def test_neural_unit_worked_example_070(derived, name):
    d = derived[name]
    r = d.evaluate(d.net.examples["lecture"])
    assert r.values["z"] == pytest.approx(0.87, abs=1e-12)
    assert round(r.values["yhat"], 2) == 0.70


def test_softmax_worked_example(derived):
    from derive.catalogue.softmax_layer import LECTURE_SOFTMAX

    d = derived["softmax_layer"]
    r = d.evaluate(d.net.examples["lecture"])
    got = [r.values[f"yhat{k}"] for k in range(1, 7)]
    assert sum(got) == pytest.approx(1.0, abs=1e-15)
    for value, lecture in zip(got, LECTURE_SOFTMAX):
        digits = len(str(lecture).split(".")[1])
        assert abs(value - lecture) < 10**-digits, (value, lecture)  # within one unit of the last digit printed


def test_xor_hand_set_solution_is_exact(derived):
    from derive.catalogue.xor import TRUTH_TABLE

    d = derived["xor"]
    for a, b, target in TRUTH_TABLE:
        r = d.evaluate(d.net.examples[f"hand_set_{a}{b}"])
        assert r.values["yhat"] == target
        assert r.values["L"] == 0.0


# ---------------------------------------------------------- lecture formulas
def test_seed001_W11(derived):
    d = derived["two_layer_sigmoid"]
    yhat, y, w1, a1, x1 = S("yhat", "y", "w1", "a1", "x1")
    assert same(d.gradient("W11"), (yhat - y) * w1 * a1 * (1 - a1) * x1)
    assert same(d.gradient("b1"), (yhat - y) * w1 * a1 * (1 - a1))
    assert same(d.gradient("w1"), (yhat - y) * a1)
    assert same(d.gradient("z"), yhat - y)
    assert same(d.gradient("b"), yhat - y)
    # every other Wij, bi the same way, changing subscripts
    w2, a2, x2 = S("w2", "a2", "x2")
    assert same(d.gradient("W22"), (yhat - y) * w2 * a2 * (1 - a2) * x2)


def test_seed001_W11_steps_show_the_lecture_factors(derived):
    d = derived["two_layer_sigmoid"]
    steps = d.steps("W11")
    kinds = [type(s).__name__ for s in steps]
    assert kinds[0] == "ChainRule" and kinds[-1] == "Result"
    assert kinds.index("Product") > max(i for i, k in enumerate(kinds) if k == "Factor")
    assert steps[0].paths == (("L", "yhat", "z", "a1", "z1", "W11"),)
    yhat, y, w1, a1, x1 = S("yhat", "y", "w1", "a1", "x1")
    factors = {(s.of, s.wrt): s.value for s in steps if type(s).__name__ == "Factor"}
    assert factors[("z1", "W11")] == x1
    assert same(factors[("a1", "z1")], a1 * (1 - a1))
    assert factors[("z", "a1")] == w1
    assert same(factors[("yhat", "z")], yhat * (1 - yhat))
    assert same(factors[("L", "yhat")], -y / yhat + (1 - y) / (1 - yhat))
    reasons = [s.reason for s in steps if type(s).__name__ == "Rewrite"]
    assert "σ'(z) written as ŷ·(1 − ŷ)" in reasons
    assert "ŷ·(1 − ŷ) cancels" in reasons
    assert str(steps[-1]) == "result: ∂L/∂W11 = (ŷ − y)·w1·a1·(1 − a1)·x1"


def test_logistic_regression_gradient_is_sigma_minus_y_times_x(derived):
    d = derived["logistic_regression"]
    from derive.functions import Sigmoid

    w1, w2, w3, b, x1, x2, x3, y = S("w1", "w2", "w3", "b", "x1", "x2", "x3", "y")
    zexpr = w1 * x1 + w2 * x2 + w3 * x3 + b
    for j, x in enumerate((x1, x2, x3), start=1):
        assert same(d.gradient(f"w{j}", expanded=True), (Sigmoid(zexpr) - y) * x)


def test_single_unit_squared_error_keeps_sigma_prime(derived):
    d = derived["single_unit"]
    yhat, y, x1 = S("yhat", "y", "x1")
    assert same(d.gradient("w1"), (yhat - y) * yhat * (1 - yhat) * x1)


def test_relu_network_uses_the_lecture_step(derived):
    d = derived["two_layer_relu"]
    yhat, y, w1, x1, z1 = S("yhat", "y", "w1", "x1", "z1")
    assert same(d.gradient("W11"), (yhat - y) * w1 * Step(z1) * x1)
    assert same(d.gradient("z"), yhat - y)


@pytest.mark.parametrize("net,k_max", [("softmax_layer", 6), ("two_layer_softmax", 3)])
def test_softmax_cross_entropy_gives_yhat_minus_y(derived, net, k_max):
    d = derived[net]
    logits = "z" if net == "softmax_layer" else "u"
    for k in range(1, k_max + 1):
        assert d.gradient(f"{logits}{k}") == S(f"yhat{k}") - S(f"y{k}")
    if net == "softmax_layer":
        assert d.gradient("W23") == (S("yhat3") - S("y3")) * S("x2")
    else:
        assert same(d.gradient("U12"), (S("yhat2") - S("y2")) * S("h1"))
    reasons = [s.reason for s in d.steps(f"{logits}1") if type(s).__name__ == "Rewrite"]
    assert any("one-hot" in r for r in reasons)


def test_computation_graph_db_is_2c(derived):
    d = derived["computation_graph"]
    c, e = S("c", "e")
    assert d.gradient("b") == 2 * c
    assert d.gradient("a") == c
    assert d.gradient("c") == e
    assert str(d.steps("b")[0]) == "chain rule: ∂L/∂b = ∂L/∂e · ∂e/∂d · ∂d/∂b"


# ------------------------------------------------------------ numeric proofs
@pytest.mark.parametrize("name", SCALAR)
@pytest.mark.parametrize("seed", range(3))
def test_gradients_match_central_differences(derived, name, seed):
    d = derived[name]
    point = gradcheck.smooth_point(d, seed=seed)
    rows = gradcheck.check(d, point, d.net.names("param") + d.net.names("input") + d.order[:-1])
    assert rows, name
    bad = [(r.name, r.analytic, r.numeric, r.rel_error) for r in rows if not r.ok]
    assert not bad, bad


@pytest.mark.parametrize("name", SCALAR)
def test_gradients_match_sympy_diff_of_the_expanded_loss(derived, name):
    """An independent engine: SymPy's own diff of the loss written in leaves only."""
    d = derived[name]
    loss = d.expand_nodes(d.net.symbols[d.loss])
    point = gradcheck.smooth_point(d, seed=7)
    subs = {d.net.symbols[k]: v for k, v in point.items()}
    from derive.functions import NUMERIC

    leaves = [d.net.symbols[n] for n in d.net.leaves]
    r = d.evaluate(point)
    for p in d.net.names("param"):
        reference = sp.diff(loss, d.net.symbols[p])
        fn = sp.lambdify(leaves, reference, modules=[NUMERIC, "math"], cse=True)  # cse: ffnn_lm's 6x faster
        want = fn(*(subs[s] for s in leaves))
        assert gradcheck.relative_error(r.gradients[p], want) <= 1e-9, p


def test_gradient_expanded_has_only_leaves(derived):
    d = derived["two_layer_sigmoid"]
    g = d.gradient("W11", expanded=True)
    assert {s.name for s in g.free_symbols} <= set(d.net.leaves)


@pytest.mark.unshared  # two derivations, each made afresh
def test_derivation_is_deterministic():
    a = load("two_layer_softmax").derive()
    b = load("two_layer_softmax").derive()
    for name in a.net.kinds:
        assert [str(s) for s in a.steps(name)] == [str(s) for s in b.steps(name)]
    assert math.isfinite(a.evaluate(gradcheck.random_point(a.net)).loss)
