"""The classic slips are named, each as a repair that makes the claim agree at every test point."""

from __future__ import annotations

import pytest

from codegen.cli.cmd_verify import load_target
from derive.verify.scalar import verify_spec

MSE_NET = """
from derive import mlp
network = mlp("mse_net", sizes=[2, 3, 1], hidden="tanh", output="sigmoid", loss="mse")
"""


@pytest.fixture(scope="module")
def mse_net(tmp_path_factory):
    path = tmp_path_factory.mktemp("specs") / "mse_net.py"
    path.write_text(MSE_NET, encoding="utf-8")
    return load_target(str(path))


def hint(target, wrt, claim):
    v = verify_spec(target, wrt, claim)
    assert not v.equal, v.report()
    return v.hint or ""


def test_output_derivative_left_out_under_a_quadratic_cost(mse_net):
    assert hint(mse_net, None, "dZ2 = A2 - Y").startswith(
        "σ'(Z_L) left out: under a quadratic cost dZ2 = (A2 − Y) ⊙ sigmoid'(Z2)"
    )
    assert verify_spec(mse_net, None, "dZ2 = (A2 - Y) * A2 * (1 - A2)").equal
    single = load_target("single_unit")  # per unit: σ output, squared error
    assert hint(single, "w1", "(yhat - y)*x1") == (
        "a missing factor ŷ·(1 − ŷ) — σ'(z^L) left out: under a quadratic cost the output error is "
        "(ŷ − y)·σ'(z); ŷ − y alone holds for σ with binary cross-entropy"
    )


@pytest.mark.parametrize(
    ("claim", "expected"),
    [
        (
            "dZ1 = W2.T @ dZ2 * sigmoid'(A1)",
            (
                "the derivative at the wrong node: sigmoid'(A1) written for g'(Z1) "
                "(g' is taken at the pre-activation Z, not the activation A)"
            ),
        ),
        ("dZ1 = W2.T @ dZ2 * tanh'(A1)", "the derivative at the wrong node: tanh'(A1) written for g'(Z1)"),
        (
            "dZ1 = W2.T @ dZ2 * A2*(1-A2)",
            "the derivative at the wrong node: A2*(1 - A2) is the derivative at A2; this needs g'(Z1)",
        ),
        ("dZ1 = W2.T @ dZ2 * g'(Z2)", "the derivative at the wrong node: g'(Z2) written for g'(Z1)"),
        ("dW1 = (1/m) X @ dZ1.T", "dW1 transposed: the claim is dW1ᵀ (swap the factors of the product)"),
        ("dW2 = (1/m) A1 @ dZ2.T", "dW2 transposed: the claim is dW2ᵀ (swap the factors of the product)"),
        (
            "db1 = (1/m) np.sum(dZ1, axis=0, keepdims=True)",
            "axis=0 for axis=1: np.sum(…, axis=0) sums over the units (rows); the examples are the columns: axis=1",
        ),
    ],
)
def test_vectorised_classic_slips(claim, expected):
    assert hint(load_target("one_hidden_layer"), None, claim).startswith(expected)


def test_one_of_two_paths_left_out():
    d = load_target("two_layer_sigmoid")
    assert hint(d, "x1", "(yhat - y)*w1*a1*(1 - a1)*W11") == (
        "one of the 2 paths left out: the path through yhat → z → a2 → z2 (∂L/∂x1 adds up the products along every path)"
    )
    assert hint(d, "x1", "(yhat - y)*w2*a2*(1 - a2)*W12") == (
        "one of the 2 paths left out: the path through yhat → z → a1 → z1 (∂L/∂x1 adds up the products along every path)"
    )


def test_each_classic_hint_is_a_repair_that_holds():
    t = load_target("one_hidden_layer")
    for repaired in (
        "dZ1 = W2.T @ dZ2 * g'(Z1)",
        "dW1 = ((1/m) X @ dZ1.T).T",
        "db1 = (1/m) np.sum(dZ1, axis=1, keepdims=True)",
        "dZ1 = W2.T @ dZ2 * (1 - A1**2)",
    ):
        assert verify_spec(t, None, repaired).equal, repaired
