"""The truth vectorised claims are checked against, checked itself.

An independent NumPy forward/backward pass for the one-hidden-layer network
of LECTURES.md E (written out here by hand) must agree with central finite
differences of J and with the values ``VecTarget`` takes from the vectorised
derivation, at the random shapes the verifier uses.
"""

from __future__ import annotations

import numpy as np
import pytest

from derive.catalogue import load
from derive.verify.vec_target import VecTarget
from derive.verify.vec_trials import TRIALS
from derive.verify.vectorised import verify_vector


@pytest.fixture(scope="module")
def target():
    return VecTarget(load("one_hidden_layer"))


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def by_hand(v):
    """Forward and the six backward equations, tanh hidden layer, σ output, J = mean BCE."""
    m = v["X"].shape[1]
    Z1 = v["W1"] @ v["X"] + v["b1"]
    A1 = np.tanh(Z1)
    Z2 = v["W2"] @ A1 + v["b2"]
    A2 = sigmoid(Z2)
    dZ2 = A2 - v["Y"]
    dZ1 = (v["W2"].T @ dZ2) * (1 - A1**2)
    return {
        "Z1": Z1,
        "A1": A1,
        "Z2": Z2,
        "A2": A2,
        "dZ2": dZ2,
        "dW2": dZ2 @ A1.T / m,
        "db2": dZ2.sum(axis=1, keepdims=True) / m,
        "dZ1": dZ1,
        "dW1": dZ1 @ v["X"].T / m,
        "db1": dZ1.sum(axis=1, keepdims=True) / m,
    }


def cost(v):
    A2 = by_hand(v)["A2"]
    Y = v["Y"]
    return float(-np.mean(Y * np.log(A2) + (1 - Y) * np.log(1 - A2)))


@pytest.mark.parametrize("seed", range(TRIALS))
def test_truth_matches_hand_written_numpy(target, seed):
    values, _ = target.values(np.random.default_rng(seed))
    mine = by_hand(values)
    for name, array in mine.items():
        assert values[name].shape == array.shape, name
        np.testing.assert_allclose(values[name], array, rtol=1e-12, atol=1e-14, err_msg=name)


@pytest.mark.parametrize("seed", range(3))
def test_hand_written_gradients_match_finite_differences(target, seed):
    values, _ = target.values(np.random.default_rng(seed))
    grads = by_hand(values)
    h = 1e-5
    for name in ("W1", "b1", "W2", "b2"):
        numeric = np.zeros_like(values[name])
        for idx in np.ndindex(*values[name].shape):
            saved = values[name][idx]
            values[name][idx] = saved + h
            plus = cost(values)
            values[name][idx] = saved - h
            minus = cost(values)
            values[name][idx] = saved
            numeric[idx] = (plus - minus) / (2 * h)
        rel = np.max(
            np.abs(numeric - grads[f"d{name}"]) / np.maximum(np.abs(numeric) + np.abs(grads[f"d{name}"]), 1e-8)
        )
        assert rel <= 1e-6, (name, rel)


def test_random_shapes_differ_and_keep_the_output_width(target):
    shapes = set()
    for seed in range(TRIALS):
        _, dims = target.values(np.random.default_rng(seed))
        sizes = {str(k): v for k, v in dims.items()}
        assert sizes["n2"] == 1
        assert len({sizes["n0"], sizes["n1"], sizes["m"]}) == 3  # a missing transpose cannot hide
        shapes.add((sizes["n0"], sizes["n1"], sizes["m"]))
    assert len(shapes) > 1


def test_a_square_shape_would_hide_a_missing_transpose_so_the_verifier_avoids_it(target):
    """With n0 = m, dZ1 X (no transpose) has dW1's shape; the distinct shapes make it a shape error."""
    verdict = verify_vector(target, "dW1", "(1/m) dZ1 X")
    assert not verdict.equal
    assert "do not match" in str(verdict.counterexample.claimed)


def test_unknown_names_and_bad_targets_are_bad_input(target):
    from derive.verify.claims import ClaimError

    with pytest.raises(ClaimError, match="unknown name 'q'"):
        verify_vector(target, "dW1", "(1/m) dZ1 q.T")
    with pytest.raises(ClaimError, match="data"):
        verify_vector(target, "X", "W1")
    with pytest.raises(ClaimError, match="left-hand side is dW2"):
        verify_vector(target, "dW1", "dW2 = (1/m) dZ2 A1.T")


def test_cost_and_sums_over_examples(target):
    assert verify_vector(target, None, "J = -(1/m) np.sum(Y*np.log(A2) + (1-Y)*np.log(1-A2))").equal
    assert not verify_vector(target, None, "J = -(1/m) np.sum(Y*np.log(A2))").equal
    assert verify_vector(target, None, r"db^{[2]} = \frac{1}{m} \sum_{i=1}^{m} dZ^{[2](i)}", latex=True).equal


def test_softmax_output_network():
    from derive.ir.layers import mlp

    net = VecTarget(mlp("softmax_out", [3, 4, 3], hidden="relu", output="softmax", loss="cross_entropy"))
    assert verify_vector(net, None, "A2 = softmax(Z2)").equal
    assert verify_vector(net, None, "dZ2 = A2 - Y").equal
    assert verify_vector(net, None, "dZ1 = W2.T @ dZ2 * step(Z1)").equal
    wrong = verify_vector(net, None, "dZ1 = W2.T @ dZ2 * (1 - A1**2)")
    assert not wrong.equal and "relu(Z1)" in wrong.hint


def test_true_layer_claims_are_proved_at_a_small_shape_entry_by_entry():
    from codegen.cli.cmd_verify import load_target
    from derive.verify.scalar import verify_spec

    t = load_target("one_hidden_layer")
    for claim in (
        "dW1 = (1/m) dZ1 X.T",
        "dZ1 = np.dot(W2.T, dZ2) * (1 - np.power(A1, 2))",
        "db2 = (1/m) np.sum(dZ2, axis=1, keepdims=True)",
        "dZ2 = A2 - Y",
        "A1 = tanh(W1 @ X + b1)",
    ):
        v = verify_spec(t, None, claim)
        assert v.equal and v.symbolic == "proved at shape m = 2, n0 = 2, n1 = 3, n2 = 1", v.report()
    # the numeric check decides: a claim the bounded steps cannot prove still holds, "numeric only"
    v = verify_spec(t, None, "dZ2 = A2 - Y + 0 * np.log(A2)")
    assert v.equal, v.report()
    assert v.symbolic.startswith(("proved at shape", "numeric only")), v.report()
    # a wrong claim is not proved
    v = verify_spec(t, None, "dZ1 = W2.T @ dZ2 * (1 - A1)")
    assert not v.equal and not v.symbolic.startswith("proved")
