"""The vectorised equations are right: against finite differences, and against the scalar derivation."""

import itertools
import zlib

import numpy as np
import pytest
import sympy as sp

from derive import Network, binary_cross_entropy, cross_entropy, mlp, mse, relu, sigmoid, softmax, tanh
from derive.catalogue import load
from derive.gradcheck import check, cost, evaluate, random_instance, rel_errors, relative_error, worst
from derive.ir.network import M
from derive.ir.numeric import SymPyEvaluator, run

PAIRS = [
    ("sigmoid", "binary_cross_entropy"),
    ("softmax", "cross_entropy"),
    ("identity", "mse"),
    ("sigmoid", "cross_entropy"),
    ("sigmoid", "mse"),
    ("softmax", "binary_cross_entropy"),
    ("softmax", "mse"),
]


# ------------------------------------------------------- finite differences
@pytest.mark.parametrize(("hidden", "pair"), list(itertools.product(["relu", "sigmoid", "tanh"], PAIRS)))
def test_vectorised_gradients_match_finite_differences(hidden, pair):
    output, loss = pair
    rng = np.random.default_rng(zlib.crc32(f"{hidden} {output} {loss}".encode()))
    sizes = [int(s) for s in rng.integers(2, 6, size=int(rng.integers(2, 5)))]
    m = int(rng.integers(1, 7))
    d = mlp("fd", sizes, hidden=hidden, output=output, loss=loss).derive()
    errors = rel_errors(check(d, m=m, seed=int(rng.integers(0, 1000))))
    assert set(errors) == {f"{p}{l}" for l in range(1, len(sizes)) for p in "Wb"}
    assert max(errors.values()) <= 1e-6, (sizes, m, errors)


@pytest.mark.parametrize("fuse", [False, True])
def test_one_hidden_layer_gradients_and_shapes(fuse):
    d = load("one_hidden_layer").derive(fuse=fuse)
    assert worst(check(d, m=9, seed=3)) <= 1e-6
    env = random_instance(d, m=9, seed=3)
    values = evaluate(d, env, 9)
    for name, shape in d.concrete_shapes(9).items():
        assert np.shape(values[name]) == shape, name


@pytest.mark.unshared  # it breaks an equation of its derivation
def test_finite_differences_catch_a_wrong_equation():
    """The check has teeth: drop the 1/m of dW1 and it fails."""
    d = load("one_hidden_layer").derive()
    i = next(k for k, e in enumerate(d.backward) if e.target == "dW1")
    wrong = d.backward[i]
    d.backward[i] = type(wrong)(**{**wrong.__dict__, "expr": M * wrong.expr})
    assert rel_errors(check(d, m=4))["W1"] > 0.5


def test_cost_is_the_mean_over_examples():
    d = load("one_hidden_layer").derive()
    env = random_instance(d, m=6, seed=1)
    j = cost(d, env, 6)
    singles = [cost(d, {**env, "X": env["X"][:, [i]], "Y": env["Y"][:, [i]]}, 1) for i in range(6)]
    assert j == pytest.approx(np.mean(singles), rel=1e-12)


# ---------------------------------------------- scalar and vectorised agree
ACT = {"sigmoid": sigmoid, "tanh": tanh, "relu": relu}


def scalar_network(sizes, hidden, output, loss) -> Network:
    """The same network written unit by unit: W{l}_{i}_{j} is entry (i, j) of W_l."""
    net = Network("scalar")
    prev = list(net.inputs(" ".join(f"x{j}" for j in range(1, sizes[0] + 1))) if sizes[0] > 1 else [net.inputs("x1")])
    ys = net.targets(" ".join(f"y{k}" for k in range(1, sizes[-1] + 1)))
    ys = list(ys) if isinstance(ys, tuple) else [ys]
    L = len(sizes) - 1
    for l in range(1, L + 1):
        zs = []
        for i in range(1, sizes[l] + 1):
            ws = [net.params(f"W{l}_{i}_{j}") for j in range(1, sizes[l - 1] + 1)]
            b = net.params(f"b{l}_{i}")
            zs.append(net.let(f"z{l}_{i}", sum(w * a for w, a in zip(ws, prev)) + b))
        if l < L:
            prev = [net.let(f"a{l}_{i}", ACT[hidden](z)) for i, z in enumerate(zs, 1)]
        elif output == "softmax":
            prev = list(net.let(" ".join(f"a{l}_{i}" for i in range(1, len(zs) + 1)), softmax(zs)))
        else:
            prev = [net.let(f"a{l}_{i}", sigmoid(z)) for i, z in enumerate(zs, 1)]
    if loss == "binary_cross_entropy":
        net.loss(sum(binary_cross_entropy(a, y) for a, y in zip(prev, ys)))
    elif loss == "cross_entropy":
        net.loss(cross_entropy(prev, ys))
    else:
        net.loss(mse(prev, ys))
    return net


INSTANCES = [
    ([2, 2, 1], "sigmoid", "sigmoid", "binary_cross_entropy"),
    ([2, 3, 2], "sigmoid", "softmax", "cross_entropy"),
]


@pytest.mark.parametrize(("sizes", "hidden", "output", "loss"), INSTANCES)
def test_entry_ij_of_dW_is_the_scalar_gradient_of_W_ij_numerically(sizes, hidden, output, loss):
    vec = mlp("v", sizes, hidden=hidden, output=output, loss=loss).derive()
    sca = scalar_network(sizes, hidden, output, loss).derive()
    m = 3
    env = random_instance(vec, m=m, seed=5)
    values = evaluate(vec, env, m)
    per_example = []
    for col in range(m):
        point = {f"x{j + 1}": env["X"][j, col] for j in range(sizes[0])}
        point.update({f"y{k + 1}": env["Y"][k, col] for k in range(sizes[-1])})
        for l in range(1, len(sizes)):
            for i in range(sizes[l]):
                point[f"b{l}_{i + 1}"] = env[f"b{l}"][i, 0]
                for j in range(sizes[l - 1]):
                    point[f"W{l}_{i + 1}_{j + 1}"] = env[f"W{l}"][i, j]
        per_example.append(sca.evaluate(point).gradients)
    compared = 0
    for l in range(1, len(sizes)):
        for i in range(sizes[l]):
            mean_b = np.mean([g[f"b{l}_{i + 1}"] for g in per_example])
            assert relative_error(values[f"db{l}"][i, 0], mean_b) <= 1e-12
            for j in range(sizes[l - 1]):
                mean_w = np.mean([g[f"W{l}_{i + 1}_{j + 1}"] for g in per_example])
                assert relative_error(values[f"dW{l}"][i, j], mean_w) <= 1e-12
                compared += 1
    assert compared == sum(a * b for a, b in itertools.pairwise(sizes))


def explicit_values(vec, sizes):
    """The vectorised equations for one example (m = 1) with explicit SymPy matrices of scalar symbols."""
    env = {
        "X": sp.Matrix([sp.Symbol(f"x{j}") for j in range(1, sizes[0] + 1)]),
        "Y": sp.Matrix([sp.Symbol(f"y{k}") for k in range(1, sizes[-1] + 1)]),
    }
    for l in range(1, len(sizes)):
        env[f"W{l}"] = sp.Matrix(sizes[l], sizes[l - 1], lambda i, j, l=l: sp.Symbol(f"W{l}_{i + 1}_{j + 1}"))
        env[f"b{l}"] = sp.Matrix([sp.Symbol(f"b{l}_{i}") for i in range(1, sizes[l] + 1)])
    dims = {**vec.network.dim_sizes, M: 1}
    return run(vec.equations, env, dims, evaluator=SymPyEvaluator)


@pytest.mark.parametrize(("sizes", "hidden", "output", "loss"), INSTANCES)
def test_entry_ij_of_dW_is_the_scalar_gradient_of_W_ij_symbolically(sizes, hidden, output, loss):
    vec = mlp("v", sizes, hidden=hidden, output=output, loss=loss).derive()
    sca = scalar_network(sizes, hidden, output, loss).derive()
    values = explicit_values(vec, sizes)
    ys = [sp.Symbol(f"y{k}") for k in range(1, sizes[-1] + 1)]
    one_hot = {ys[-1]: 1 - sum(ys[:-1])} if output == "softmax" else {}
    for l in range(1, len(sizes)):
        for i in range(sizes[l]):
            for j in range(sizes[l - 1]):
                vector = values[f"dW{l}"][i, j]
                scalar = sca.gradient(f"W{l}_{i + 1}_{j + 1}", expanded=True)
                assert sp.expand((vector - scalar).subs(one_hot)) == 0, (l, i, j)
            assert sp.expand((values[f"db{l}"][i, 0] - sca.gradient(f"b{l}_{i + 1}", expanded=True)).subs(one_hot)) == 0


def test_symbolic_check_has_teeth():
    vec = mlp("v", [2, 2, 1], hidden="sigmoid", output="sigmoid", loss="binary_cross_entropy").derive()
    sca = scalar_network([2, 2, 1], "sigmoid", "sigmoid", "binary_cross_entropy").derive()
    values = explicit_values(vec, [2, 2, 1])
    assert sp.expand(values["dW1"][0, 1] - sca.gradient("W1_1_1", expanded=True)) != 0


def test_a_random_instance_is_the_first_draw_clear_of_the_kinks_else_the_farthest():
    """Redrawn until every kink is ``margin`` away; a program where no draw gets there (conv_net's thousands of
    ReLU inputs) gets the farthest of ``DRAWS`` draws, not the last, so the check's step shrinks the least."""
    from derive.gradcheck import DRAWS, _draw, layer_kink_distance

    d = mlp("kinks", [3, 6, 1], hidden="relu", output="sigmoid", loss="binary_cross_entropy").derive()
    rng = np.random.default_rng(7)
    distances = [layer_kink_distance(d, _draw(d, 4, rng, 0.5), 4) for _ in range(DRAWS)]
    farthest = random_instance(d, m=4, seed=7, margin=np.inf)
    assert layer_kink_distance(d, farthest, 4) == max(distances)
    margin = sorted(distances)[-3]  # met by three draws: the first of them is taken
    first = random_instance(d, m=4, seed=7, margin=margin)
    assert layer_kink_distance(d, first, 4) == next(x for x in distances if x >= margin)
