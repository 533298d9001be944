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


# ---------------------------------------------------------------- every classic slip of the courses, named
_TARGETS: dict = {}


def target_of(network: str):
    if network not in _TARGETS:
        _TARGETS[network] = load_target(network)
    return _TARGETS[network]


COURSE_SLIPS = [
    # general
    ("transpose dropped", "one_hidden_layer", None, "dW1 = (1/m) dZ1 @ X", "a missing transpose: X written for X.T"),
    (
        "product order reversed",
        "one_hidden_layer",
        None,
        "dW2 = (1/m) A1.T @ dZ2",
        "the product order reversed: (1/m) A1.T @ dZ2 written for dZ2 @ ((1/m) A1.T)",
    ),
    ("1/m dropped", "one_hidden_layer", None, "dW1 = dZ1 @ X.T", "a missing factor 1/m"),
    ("1/m doubled", "one_hidden_layer", None, "dW1 = (1/m) (1/m) dZ1 @ X.T", "an extra factor 1/m"),
    (
        "σ for σ′ (vectorised)",
        "one_hidden_layer",
        None,
        "dZ1 = W2.T @ dZ2 * tanh(Z1)",
        (
            "tanh written where tanh′ belongs: tanh(Z1) is the activation itself; the chain rule needs its derivative "
            "tanh′(Z1) = 1 − A1²"
        ),
    ),
    (
        "σ for σ′ (the activation's name)",
        "one_hidden_layer",
        None,
        "dZ1 = W2.T @ dZ2 * A1",
        "tanh written where tanh′ belongs: A1 is the activation tanh(Z1)",
    ),
    (
        "σ for σ′ (per unit)",
        "two_layer_sigmoid",
        "W11",
        "(yhat - y)*w1*sigmoid(z1)*x1",
        (
            "σ written where σ′ belongs: σ(z1) is the activation itself; the chain rule needs its derivative "
            "σ′(z1) = a1·(1 − a1)"
        ),
    ),
    ("db not summed", "one_hidden_layer", None, "db1 = (1/m) dZ1", "db1 not summed over the batch: b1 is added"),
    (
        "a reused quantity's gradients not summed (residual)",
        "residual_mlp",
        None,
        "dA1 = W2.T @ dZ2",
        (
            "A1's uses not all summed: A1 is used 2 times (by Z2, H), and dA1 = W2ᵀ dZ2 + dH; the claim leaves out the "
            "term from H"
        ),
    ),
    (
        "a reused quantity's gradients not summed (tied weights)",
        "tied_autoencoder",
        None,
        "dW = (1/m) dZ1 @ X.T",
        "W's uses not all summed: W is used 2 times (by Z1, Z2)",
    ),
    ("ReLU mask lost", "dropout_mlp", None, "dZ1 = dA1", "the ReLU mask lost: ReLU′(Z1) = 1[Z1 ≥ 0]"),
    (
        "ReLU mask lost (per unit)",
        "two_layer_relu",
        "W11",
        "(yhat - y)*w1*x1",
        "the ReLU mask lost: a missing factor step(z1)",
    ),
    # normalisation and dropout
    (
        "batch norm's statistics as constants",
        "batchnorm_mlp",
        None,
        "dZ1 = dZtilde1 * gamma1 / np.sqrt(var1 + eps)",
        "the statistics treated as constants: the batch's μ and σ² depend on Z1 too",
    ),
    (
        "layer norm's statistics as constants",
        "layernorm_mlp",
        None,
        "dZ1 = dZhat1 / np.sqrt(var1 + eps)",
        "the statistics treated as constants: the example's μ and σ² depend on Z1 too",
    ),
    (
        "layer norm summed over the batch axis",
        "layernorm_mlp",
        None,
        (
            "dZ1 = (1/m) * (m*dZhat1 - np.sum(dZhat1*Zhat1, axis=1, keepdims=True)*Zhat1"
            " - np.sum(dZhat1, axis=1, keepdims=True)) / np.sqrt(var1 + eps)"
        ),
        "layer norm's statistics summed over the batch: layer norm normalises each example over its units",
    ),
    (
        "a dropout mask dropped",
        "dropout_mlp",
        None,
        "dA2 = dAtilde2 / keep_prob",
        "the dropout mask D2 is dropped: the backward pass multiplies by D2 as the forward pass did",
    ),
    (
        "the dropout step skipped",
        "dropout_mlp",
        None,
        "dZ1 = dAtilde1 * (Z1 >= 0)",
        "the dropout step skipped in the backward pass: dA1 = (1/keep_prob) dAtilde1 ⊙ D1",
    ),
    # regularisation and label smoothing
    (
        "L2 written into an L1 gradient",
        "l1_mlp",
        None,
        "dW1 = (1/m) dZ1 @ X.T + (lam/m) * W1",
        "the L2 penalty's gradient (λ/m) W1 written for (λ/m) sign(W1): the derivative of |w| is sign(w), not w",
    ),
    (
        "label smoothing left out",
        "label_smoothing",
        None,
        "dZ2 = A2 - Y",
        "label smoothing left out: the loss compares with the smoothed target Q = (1 − ε) Y + ε/n2",
    ),
    ("ε written for ε/K", "label_smoothing", None, "dZ2 = A2 - ((1 - eps) * Y + eps)", "ε written for ε/n2"),
    # recurrences
    (
        "tanh′ taken at h_{t−1}",
        "elman_rnn",
        None,
        "da_t = dh_t * (1 - h_{t-1}**2)",
        "tanh′ taken at h_{t−1}: h_t = tanh(a_t)",
    ),
    (
        "the LSTM's misplaced parenthesis",
        "lstm_cell",
        None,
        "dc_t = (1 - tanh(c_t))**2 * da_t * Γo_t + dc_{t+1} * Γf_{t+1}",
        "a misplaced parenthesis: (1 - tanh(c))**2 written for 1 - tanh(c)**2",
    ),
    (
        "dc_t without its da term",
        "lstm_cell",
        None,
        "dc_t = dc_{t+1} * Γf_{t+1}",
        "c's uses not all summed: c is used 2 times (by a, step t+1)",
    ),
    (
        "dc_prev without its da term",
        "lstm_cell",
        None,
        "dc_{t-1} = dc_{t+1} * Γf_{t+1} * Γf_t",
        (
            "c's uses not all summed: c is used 2 times (by a, step t+1), and dc_t = (1 − tanh(c_t)²) ⊙ da_t ⊙ Γo_t + "
            "dc_{t+1} ⊙ Γf_{t+1}; the claim leaves out the term from a (in dc, which dc_{t−1} is computed from)"
        ),
    ),
    ("a recurrent gradient without 1/m", "elman_rnn", None, "dW = Σ_t da_t @ h_{t-1}.T", "a missing factor 1/m"),
]


@pytest.mark.parametrize(
    ("network", "wrt", "claim", "expected"), [c[1:] for c in COURSE_SLIPS], ids=[c[0] for c in COURSE_SLIPS]
)
def test_every_classic_slip_is_named_with_a_counterexample(network, wrt, claim, expected):
    v = verify_spec(target_of(network), wrt, claim)
    assert not v.equal, v.report()
    assert (v.hint or "").startswith(expected), v.report()
    assert v.counterexample is not None and v.counterexample.point, v.report()
    assert "counterexample: at " in v.report() and "likely slip: " in v.report()
