"""Bad vectorised declarations: one clear line naming the problem and its place."""

import inspect

import pytest

from codegen.cli import main
from derive import ChainruleError, VecNetwork, binary_cross_entropy, mlp, sigmoid, tanh

HERE = "test_vectorised_errors.py"


def two_layer(w2_shape=None, b2_shape=None):
    net = VecNetwork("bad")
    n0, n1, n2 = net.dims(n0=3, n1=4, n2=1)
    X, Y = net.input("X", n0), net.target("Y", n2)
    W1, b1 = net.param("W1", (n1, n0)), net.param("b1", (n1, 1))
    W2 = net.param("W2", w2_shape(n0, n1, n2) if w2_shape else (n2, n1))
    b2 = net.param("b2", b2_shape(n0, n1, n2) if b2_shape else (n2, 1))
    A1 = net.let("A1", tanh(net.let("Z1", W1 * X + b1)))
    return net, W2, A1, b2, Y


def test_a_w_of_the_wrong_shape_is_named_with_both_shapes_and_the_line():
    net, W2, A1, b2, _ = two_layer(w2_shape=lambda n0, n1, n2: (n2, n0))
    line = inspect.currentframe().f_lineno + 2
    with pytest.raises(ChainruleError) as err:
        net.let("Z2", W2 * A1 + b2)
    message = str(err.value)
    assert "shape mismatch in 'Z2 = W2 A1 + b2': W2 is n2×n0 but A1 is n1×m (W2 needs n1 columns)" in message
    assert err.value.where.endswith(f"{HERE}:{line}")
    assert "\n" not in message


def test_the_explicit_form_checks_shapes_too():
    net, W2, A1, b2, _ = two_layer(w2_shape=lambda n0, n1, n2: (n2, n0))
    with pytest.raises(ChainruleError, match="W2 is n2×n0 but A1 is n1×m"):
        net.affine("Z2", W2, A1, b2)


def test_a_bias_of_the_wrong_shape():
    net, W2, A1, b2, _ = two_layer(b2_shape=lambda n0, n1, n2: (n1, 1))
    with pytest.raises(ChainruleError, match=r"shape mismatch in 'Z2 = W2 A1 \+ b2': b2 is n1×1 but W2 A1 is n2×m"):
        net.let("Z2", W2 * A1 + b2)


def test_the_cost_checks_output_and_target_shapes():
    net = VecNetwork("bad_cost")
    n0, n1 = net.dims(n0=2, n1=3)
    X, Y = net.input("X", n0), net.target("Y", n0)
    W, b = net.param("W1", (n1, n0)), net.param("b1", (n1, 1))
    A = net.let("A1", sigmoid(net.let("Z1", W * X + b)))
    with pytest.raises(ChainruleError, match=r"shape mismatch in the cost: A1 is n1×m but Y is n0×m"):
        net.cost(binary_cross_entropy(A, Y))


def test_reversed_product_is_refused():
    net = two_layer()[0]
    with pytest.raises(ChainruleError, match=r"shape mismatch in 'Z2 = A1 W2 \+ b2': A1 is n1×m but W2 is n2×n1"):
        net.let("Z2", "A1 @ W2 + b2")


def test_undeclared_and_unreadable():
    net, W2, A1, _, _ = two_layer()
    with pytest.raises(ChainruleError, match="undeclared symbol 'V' in 'Z2'"):
        net.let("Z2", "V @ A1 + b2")
    with pytest.raises(ChainruleError, match="shape mismatch in 'Z2 = W2 A1 W2': A1 is n1×m but W2 is n2×n1"):
        net.let("Z2", W2 * A1 * W2)
    with pytest.raises(ChainruleError, match="defined twice"):
        net.let("A1", "tanh(Z1)")
    with pytest.raises(ChainruleError, match="declares no cost"):
        net.derive()


def test_unknown_activation_in_a_hand_declaration():
    net, W2, A1, b2, _ = two_layer()
    net.let("Z2", W2 * A1 + b2)
    with pytest.raises(ChainruleError, match="unknown activation 'mish'"):
        net.let("A2", "mish(Z2)")
    with pytest.raises(ChainruleError, match="unknown activation 'maxout'"):
        net.activation("A2", "maxout", "Z2")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"hidden": "mish"},
            "unknown hidden activation 'mish' (expected one of: elu, gelu, leaky_relu, relu, sigmoid, silu, softplus, tanh)",
        ),
        (
            {"hidden": "softmax"},
            "softmax cannot be the hidden activation (expected one of: elu, gelu, leaky_relu, relu, sigmoid, silu, softplus, tanh)",
        ),
        ({"output": tanh}, "tanh cannot be the output activation (expected one of: sigmoid, softmax, identity)"),
        ({"output": "gelu"}, "gelu cannot be the output activation (expected one of: sigmoid, softmax, identity)"),
        ({"output": "mish"}, "unknown output activation 'mish' (expected one of: sigmoid, softmax, identity)"),
        ({"output": "relu"}, "relu cannot be the output activation"),
        ({"loss": "hinge"}, "unknown loss 'hinge' (expected one of: binary_cross_entropy, cross_entropy, mse)"),
        ({"loss": print}, "unknown loss 'print'"),
        ({"output": "identity"}, "loss binary_cross_entropy needs probabilities: output sigmoid or softmax"),
        ({"output": "softmax", "loss": "cross_entropy", "sizes": [2, 1]}, "softmax in 'A1' needs at least 2 rows"),
        ({"sizes": [3]}, "sizes must be a list of at least two positive integers"),
        ({"sizes": [3, 0, 1]}, "sizes must be a list of at least two positive integers"),
    ],
)
def test_builder_errors(kwargs, message):
    args = {"sizes": [2, 3, 1], "hidden": "relu", "output": "sigmoid", "loss": "binary_cross_entropy", **kwargs}
    with pytest.raises(ChainruleError) as err:
        mlp("bad", **args)
    assert message in str(err.value)
    assert HERE in (err.value.where or "")


def test_cli_reports_a_shape_mismatch_in_a_spec_in_one_line(tmp_path, capsys):
    spec = tmp_path / "spec.py"
    spec.write_text(
        "from derive import VecNetwork, tanh\n"
        "net = VecNetwork('spec')\n"
        "n0, n1 = net.dims(n0=2, n1=3)\n"
        "X = net.input('X', n0)\n"
        "W1, b1 = net.param('W1', (n1, n1)), net.param('b1', (n1, 1))\n"
        "Z1 = net.let('Z1', W1 * X + b1)\n"
    )
    assert main(["derive", str(spec)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("chainrule: error: ")
    assert "spec.py:6" in err and "W1 is n1×n1 but X is n0×m" in err
    assert len(err.splitlines()) == 1


def test_cli_derives_a_vectorised_spec(tmp_path, capsys):
    spec = tmp_path / "deep.py"
    spec.write_text(
        "from derive import mlp\nnetwork = mlp('deep', [4, 8, 8, 3], hidden='relu', output='softmax', loss='ce')\n"
    )
    assert main(["derive", str(spec)]) == 0
    out = capsys.readouterr().out
    assert "dZ3 = A3 − Y" in out and "dA1 = W2ᵀ dZ2" in out and "dZ1 = dA1 ⊙ 1[Z1 ≥ 0]" in out


def test_cli_derive_one_hidden_layer(capsys):
    assert main(["derive", "one_hidden_layer"]) == 0
    out = capsys.readouterr().out
    for line in ("dZ2 = A2 − Y", "dW2 = (1/m) dZ2 A1ᵀ", "db2 = (1/m) Σ_columns dZ2", "dW1 = (1/m) dZ1 Xᵀ"):
        assert line in out
