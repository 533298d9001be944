"""The vectorised equations: LECTURES.md section E for one hidden layer, their L-layer generalisation."""

import itertools

import pytest
import sympy as sp

from derive import Equation, VecDerivation, VecNetwork, binary_cross_entropy, mlp, relu, sigmoid, tanh
from derive.catalogue import describe, load, names
from derive.ir.network import M
from derive.ir.steps import Cancellation, Convention, VecChainRule

n0, n1, n2, n3 = (sp.Symbol(f"n{i}", positive=True, integer=True) for i in range(4))
m = M

# every (output, loss) pair the builder allows; identity + (B)CE is refused (log of an unbounded output)
PAIRS = [
    ("sigmoid", "binary_cross_entropy"),
    ("softmax", "cross_entropy"),
    ("identity", "mse"),
    ("sigmoid", "cross_entropy"),
    ("sigmoid", "mse"),
    ("softmax", "binary_cross_entropy"),
    ("softmax", "mse"),
]
MATCHED = {("sigmoid", "binary_cross_entropy"), ("softmax", "cross_entropy"), ("identity", "mse")}
HIDDEN = ["relu", "sigmoid", "tanh"]
G_PRIME = {"sigmoid": "A{l} ⊙ (1 − A{l})", "tanh": "(1 − A{l}²)", "relu": "1[Z{l} ≥ 0]"}


def rows(eqs):
    return [(e.target, e.kind, e.operands, e.shape, e.text) for e in eqs]


# ------------------------------------------------------------- section E
def test_one_hidden_layer_is_in_the_catalogue():
    assert "one_hidden_layer" in names()
    net = load("one_hidden_layer")
    assert isinstance(net, VecNetwork)
    assert net.sizes == [2, 4, 1]
    assert (net.hidden, net.output, net.loss) == ("tanh", "sigmoid", "binary_cross_entropy")
    assert net.params() == [("W1", (n1, n0)), ("b1", (n1, 1)), ("W2", (n2, n1)), ("b2", (n2, 1))]
    assert "deeplearning.ai" in describe("one_hidden_layer")


def test_forward_equations_of_section_e():
    d = load("one_hidden_layer").derive()
    assert rows(d.forward) == [
        ("Z1", "affine", ("W1", "X", "b1"), (n1, m), "Z1 = W1 X + b1"),
        ("A1", "activation", ("Z1",), (n1, m), "A1 = tanh(Z1)"),
        ("Z2", "affine", ("W2", "A1", "b2"), (n2, m), "Z2 = W2 A1 + b2"),
        ("A2", "activation", ("Z2",), (n2, m), "A2 = σ(Z2)"),
        ("J", "loss", ("A2", "Y"), (1, 1), "J = −(1/m) Σ (Y ⊙ log A2 + (1 − Y) ⊙ log(1 − A2))"),
    ]
    assert [e.function for e in d.forward] == [None, "tanh", None, "sigmoid", "binary_cross_entropy"]
    assert [e.number for e in d.forward] == [1, 2, 3, 4, 5]


def test_the_six_equations_of_section_e():
    """dZ2 = A2 − Y; dW2 = (1/m) dZ2 A1ᵀ; db2 = (1/m) Σ dZ2; dZ1 = W2ᵀ dZ2 ⊙ g1'(Z1); dW1; db1."""
    d = load("one_hidden_layer").derive(fuse=True)
    assert rows(d.backward) == [
        ("dZ2", "output_delta", ("A2", "Y"), (n2, m), "dZ2 = A2 − Y"),
        ("dW2", "weight_grad", ("dZ2", "A1"), (n2, n1), "dW2 = (1/m) dZ2 A1ᵀ"),
        ("db2", "bias_grad", ("dZ2",), (n2, 1), "db2 = (1/m) Σ_columns dZ2"),
        ("dZ1", "activation_grad", ("W2", "dZ2", "A1"), (n1, m), "dZ1 = W2ᵀ dZ2 ⊙ (1 − A1²)"),
        ("dW1", "weight_grad", ("dZ1", "X"), (n1, n0), "dW1 = (1/m) dZ1 Xᵀ"),
        ("db1", "bias_grad", ("dZ1",), (n1, 1), "db1 = (1/m) Σ_columns dZ1"),
    ]
    assert [e.number for e in d.backward] == [6, 7, 8, 9, 10, 11]
    assert d.equation("dZ1").function == "tanh"


def test_unfused_form_names_da1():
    d = load("one_hidden_layer").derive()
    assert [(e.target, e.kind) for e in d.backward] == [
        ("dZ2", "output_delta"),
        ("dW2", "weight_grad"),
        ("db2", "bias_grad"),
        ("dA1", "backprop"),
        ("dZ1", "activation_grad"),
        ("dW1", "weight_grad"),
        ("db1", "bias_grad"),
    ]
    assert d.equation("dA1").text == "dA1 = W2ᵀ dZ2"
    assert d.equation("dA1").operands == ("W2", "dZ2")
    assert d.equation("dZ1").text == "dZ1 = dA1 ⊙ (1 − A1²)"
    assert d.equation("dZ1").operands == ("dA1", "A1")


def test_expressions_are_matrix_expressions_with_the_stated_shape():
    d = load("one_hidden_layer").derive()
    for eq in d.equations:
        assert isinstance(eq, Equation)
        assert tuple(eq.expr.shape) == eq.shape
        scalars = {s for s in eq.expr.free_symbols if not isinstance(s, sp.MatrixSymbol)}
        assert scalars <= {n0, n1, n2, m}  # no entries, only shape symbols: shapes stay symbolic
    dW2 = d.equation("dW2").expr
    assert dW2 == sp.MatMul(1 / m, sp.MatrixSymbol("dZ2", n2, m), sp.MatrixSymbol("A1", n1, m).T)


def test_shapes_and_concrete_shapes():
    d = load("one_hidden_layer").derive()
    shapes = d.shapes()
    assert shapes["X"] == (n0, m) and shapes["Y"] == (n2, m)
    assert shapes["W1"] == shapes["dW1"] == (n1, n0)
    assert shapes["b2"] == shapes["db2"] == (n2, 1)
    assert shapes["J"] == (1, 1)
    concrete = d.concrete_shapes(7)
    assert concrete["X"] == (2, 7)
    assert concrete["dW1"] == (4, 2)
    assert concrete["db1"] == (4, 1)
    assert concrete["dZ2"] == (1, 7)
    assert set(concrete) == set(shapes)


def test_steps_record_the_chain_rule_and_the_cancellation():
    d = load("one_hidden_layer").derive()
    assert isinstance(d.steps[0], Convention)
    cancels = [s for s in d.steps if isinstance(s, Cancellation)]
    assert len(cancels) == 1
    (c,) = cancels
    assert c.target == "dZ2" and c.kind == "cancel"
    assert "A ⊙ (1 − A)" in c.reason
    assert str(c) == (
        "simplify: dZ2 = ((1 − Y)/(1 − A2) − Y/A2) ⊙ A2 ⊙ (1 − A2) = A2 − Y"
        "    [σ'(Z) = A ⊙ (1 − A) cancels the denominators A and 1 − A of ∂L/∂A]"
    )
    before, after = c.entry
    a1, y1 = sp.symbols("a1 y1")
    assert after == a1 - y1 and sp.simplify(before - after) == 0
    rules = {s.target: s for s in d.steps if isinstance(s, VecChainRule)}
    assert set(rules) >= {"dA2", "dZ2", "dW2", "db2", "dA1", "dZ1", "dW1", "db1"}
    assert "G Bᵀ" in rules["dW2"].rule and "Σ_columns" in rules["db1"].rule


def test_softmax_cancellation_needs_one_hot_targets():
    d = mlp("s", [2, 3, 4], hidden="relu", output="softmax", loss="cross_entropy").derive()
    (c,) = [s for s in d.steps if isinstance(s, Cancellation)]
    assert c.kind == "one-hot" and "one-hot" in c.reason
    assert d.backward[0].text == "dZ2 = A2 − Y"


def test_text_lists_equations_with_shapes():
    out = load("one_hidden_layer").derive().text()
    assert "(10) dZ1 = dA1 ⊙ (1 − A1²)" in out
    assert "n1×n0" in out and "steps:" in out


# ------------------------------------------------------------ L layers
@pytest.mark.parametrize(("hidden", "pair"), list(itertools.product(HIDDEN, PAIRS)))
def test_l_layer_generalisation(hidden, pair):
    output, loss = pair
    net = mlp("deep", [5, 4, 3, 2], hidden=hidden, output=output, loss=loss)
    d = net.derive()
    assert isinstance(d, VecDerivation)
    dims = [n0, n1, n2, n3]
    got = {e.target: e for e in d.backward}
    # output layer
    if pair in MATCHED:
        assert d.backward[0].target == "dZ3" and d.backward[0].kind == "output_delta"
        assert got["dZ3"].text == "dZ3 = A3 − Y" and "dA3" not in got
    else:
        assert [e.kind for e in d.backward[:2]] == ["loss_grad", "activation_grad"]
        assert got["dA3"].function == loss and got["dZ3"].function == output
        assert got["dZ3"].shape == (n3, m)
        assert not any(isinstance(s, Cancellation) for s in d.steps)
    # every layer: dW_l = (1/m) dZ_l A_{l-1}ᵀ, db_l = (1/m) Σ_columns dZ_l, dA_{l-1} = W_lᵀ dZ_l
    for l in (1, 2, 3):
        prev = "X" if l == 1 else f"A{l - 1}"
        assert got[f"dW{l}"].text == f"dW{l} = (1/m) dZ{l} {prev}ᵀ"
        assert got[f"dW{l}"].shape == (dims[l], dims[l - 1])
        assert got[f"dW{l}"].operands == (f"dZ{l}", prev)
        assert got[f"db{l}"].text == f"db{l} = (1/m) Σ_columns dZ{l}"
        assert got[f"db{l}"].shape == (dims[l], 1)
        if l > 1:
            assert got[f"dA{l - 1}"].text == f"dA{l - 1} = W{l}ᵀ dZ{l}"
            assert got[f"dA{l - 1}"].kind == "backprop"
            assert got[f"dA{l - 1}"].shape == (dims[l - 1], m)
            dz = got[f"dZ{l - 1}"]
            assert dz.kind == "activation_grad" and dz.function == hidden
            assert dz.text == f"dZ{l - 1} = dA{l - 1} ⊙ " + G_PRIME[hidden].format(l=l - 1)
            assert dz.shape == (dims[l - 1], m)
    assert "dX" not in got and "dY" not in got
    # handout order: dZ_l, dW_l, db_l, dA_{l-1}, then the layer below
    order = [e.target for e in d.backward if e.kind not in ("loss_grad",)]
    assert order == ["dZ3", "dW3", "db3", "dA2", "dZ2", "dW2", "db2", "dA1", "dZ1", "dW1", "db1"]
    assert [e.number for e in d.equations] == list(range(1, len(d.equations) + 1))


def test_fused_l_layer_keeps_one_line_per_hidden_delta():
    d = mlp("deep", [5, 4, 3, 2], hidden="relu", output="softmax", loss="cross_entropy").derive(fuse=True)
    assert [e.target for e in d.backward] == ["dZ3", "dW3", "db3", "dZ2", "dW2", "db2", "dZ1", "dW1", "db1"]
    assert d.equation("dZ2").text == "dZ2 = W3ᵀ dZ3 ⊙ 1[Z2 ≥ 0]"
    assert d.equation("dZ2").operands == ("W3", "dZ3", "Z2")


def test_unmatched_output_texts():
    d = mlp("u", [2, 2], output="sigmoid", loss="mse").derive()
    assert [e.text for e in d.backward[:2]] == ["dA1 = A1 − Y", "dZ1 = dA1 ⊙ A1 ⊙ (1 − A1)"]
    d = mlp("u", [2, 3], output="softmax", loss="mse").derive()
    assert d.backward[1].text == "dZ1 = A1 ⊙ (dA1 − Σ_rows(dA1 ⊙ A1))"
    assert d.backward[1].operands == ("dA1", "A1")
    d = mlp("u", [2, 1], output="sigmoid", loss="cross_entropy").derive()
    assert d.backward[0].text == "dA1 = −Y/A1"


def test_logistic_regression_has_no_backprop_to_x():
    d = mlp("lr", [3, 1], output="sigmoid", loss="binary_cross_entropy").derive()
    assert [e.target for e in d.backward] == ["dZ1", "dW1", "db1"]


def test_builder_accepts_functions_and_strings_alike():
    a = mlp("a", [2, 3, 1], hidden=relu, output=sigmoid, loss=binary_cross_entropy).derive()
    b = mlp("a", [2, 3, 1], hidden="relu", output="sigmoid", loss="binary_cross_entropy").derive()
    assert rows(a.equations) == rows(b.equations)


def test_hand_declared_network_matches_the_builder():
    net = VecNetwork("by_hand")
    d0, d1, d2 = net.dims(n0=2, n1=4, n2=1)
    X, Y = net.input("X", d0), net.target("Y", d2)
    W1, b1 = net.param("W1", (d1, d0)), net.param("b1", (d1, 1))
    net.param("W2", (d2, d1)), net.param("b2", (d2, 1))
    Z1 = net.let("Z1", W1 * X + b1)
    net.let("A1", tanh(Z1))
    net.let("Z2", "W2 @ A1 + b2")  # a string reads the declared names
    A2 = net.activation("A2", "sigmoid", "Z2")
    net.cost(binary_cross_entropy(A2, Y))
    assert net.sizes == [2, 4, 1]
    assert rows(net.derive().equations) == rows(load("one_hidden_layer").derive().equations)


@pytest.mark.unshared  # two derivations, each made afresh
def test_derivation_is_deterministic():
    a = load("one_hidden_layer").derive().text()
    b = load("one_hidden_layer").derive().text()
    assert a == b


def test_hand_declared_variants_no_bias_and_linear_hidden_layer():
    """J&M's z = U h has no bias; a linear hidden layer is ``A1 = Z1`` (identity)."""
    from derive.gradcheck import check, worst

    net = VecNetwork("variants")
    d0, d1, d2 = net.dims(n0=3, n1=2, n2=3)
    X, Y = net.input("X", d0), net.target("Y", d2)
    W, b, U = net.param("W", (d1, d0)), net.param("b", (d1, 1)), net.param("U", (d2, d1))
    H = net.let("H", net.let("Zh", W * X + b))  # identity
    Z = net.let("Z", U * H)
    net.cost("cross_entropy", net.activation("Yhat", "softmax", Z), Y)
    d = net.derive()
    assert [(e.target, e.kind, e.text) for e in d.backward] == [
        ("dZ", "output_delta", "dZ = Yhat − Y"),
        ("dU", "weight_grad", "dU = (1/m) dZ Hᵀ"),
        ("dH", "backprop", "dH = Uᵀ dZ"),
        ("dZh", "activation_grad", "dZh = dH"),
        ("dW", "weight_grad", "dW = (1/m) dZh Xᵀ"),
        ("db", "bias_grad", "db = (1/m) Σ_columns dZh"),
    ]
    assert d.forward[1].text == "H = identity(Zh)"
    assert net.sizes == [3, 2, 3] and net.hidden == "identity" and net.output == "softmax"
    assert worst(check(d, m=4)) <= 1e-6
