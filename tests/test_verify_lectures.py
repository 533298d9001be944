r"""Every formula of LECTURES.md (sections A–E), as the lecture writes it, verifies against its network.

Each case is (section, catalogue network, --wrt or None, claim).  LaTeX claims
use the lecture's notation; text claims the Python form.  Not formulas to
verify (listed for completeness): the update rules w ← w − η dL/dw (A, B, E),
the optimisers (D), the worked numbers (checked by the core tests), and
softmax's definition with a Σ over classes (C.4; its gradient is here).
"""

from __future__ import annotations

import pytest

from derive.catalogue import load
from derive.verify.vec_target import VecTarget
from derive.verify.vectorised import verify_vector

_DERIVED = {}


def derivation(name):
    if name not in _DERIVED:
        net = load(name)
        _DERIVED[name] = VecTarget(net) if hasattr(net, "assignments") else net.derive()
    return _DERIVED[name]


SCALAR_LATEX = [
    # A. logistic regression, seed 000
    ("A", "logistic_regression", None, r"\hat{y} = \sigma(w \cdot x + b)"),
    ("A", "logistic_regression", None, r"L = -[y \log \hat{y} + (1-y) \log(1-\hat{y})]"),
    ("A", "logistic_regression", None, r"\frac{\partial L}{\partial w_j} = (\sigma(w \cdot x + b) - y) x_j"),
    ("A", "logistic_regression", None, r"w_j \leftarrow w_j - \eta \frac{\partial L}{\partial w_j}"),
    (
        "A",
        "logistic_regression",
        None,
        r"\frac{\partial L}{\partial w_i} = \frac{\partial L}{\partial \hat{y}} \cdot \frac{\partial \hat{y}}{\partial z} \cdot \frac{\partial z}{\partial w_i}",
    ),
    # B. the 2-2-1 sigmoid network by hand, seed 001 (the lecture writes W1, W2 for the output weights w1, w2)
    ("B", "two_layer_sigmoid", None, r"z_1 = W_{11} x_1 + W_{21} x_2 + b_1"),
    ("B", "two_layer_sigmoid", None, r"a_1 = \sigma(z_1)"),
    ("B", "two_layer_sigmoid", None, r"z_2 = W_{12} x_1 + W_{22} x_2 + b_2"),
    ("B", "two_layer_sigmoid", None, r"z = W_1 a_1 + W_2 a_2 + b"),
    ("B", "two_layer_sigmoid", None, r"\hat{y} = \sigma(z)"),
    (
        "B",
        "two_layer_sigmoid",
        None,
        (
            r"\frac{\partial L}{\partial W_{11}} = \frac{\partial L}{\partial \hat{y}} \cdot \frac{\partial \hat{y}}{\partial z}"
            r" \cdot \frac{\partial z}{\partial a_1} \cdot \frac{\partial a_1}{\partial z_1} \cdot \frac{\partial z_1}{\partial W_{11}}"
        ),
    ),
    ("B", "two_layer_sigmoid", None, r"\frac{\partial z_1}{\partial W_{11}} = x_1"),
    ("B", "two_layer_sigmoid", None, r"\frac{\partial a_1}{\partial z_1} = a_1(1-a_1)"),
    ("B", "two_layer_sigmoid", None, r"\frac{\partial z}{\partial a_1} = W_1"),
    ("B", "two_layer_sigmoid", None, r"\frac{\partial \hat{y}}{\partial z} = \hat{y}(1-\hat{y})"),
    (
        "B",
        "two_layer_sigmoid",
        None,
        r"\frac{\partial L}{\partial \hat{y}} = -\frac{y}{\hat{y}} + \frac{1-y}{1-\hat{y}}",
    ),
    (
        "B",
        "two_layer_sigmoid",
        None,
        r"\frac{\partial L}{\partial W_{11}} = (\hat{y} - y) \cdot W_1 \cdot a_1(1-a_1) \cdot x_1",
    ),
    ("B", "two_layer_sigmoid", "W11", r"(\hat{y}-y) w_1 a_1 (1-a_1) x_1"),
    ("B", "two_layer_sigmoid", None, r"\frac{\partial z_1}{\partial b_1} = 1"),
    ("B", "two_layer_sigmoid", None, r"\frac{\partial L}{\partial b_1} = (\hat{y} - y) \cdot W_1 \cdot a_1(1-a_1)"),
    ("B", "two_layer_sigmoid", None, r"\frac{\partial L}{\partial W_1} = (\hat{y} - y) a_1"),
    ("B", "two_layer_sigmoid", None, r"W_1 \leftarrow W_1 - \alpha (\hat{y} - y) a_1"),
    ("B", "two_layer_sigmoid", None, r"W_1 \leftarrow W_1 + \alpha (y - \hat{y}) a_1"),
    ("B", "two_layer_sigmoid", None, r"\frac{\partial L}{\partial W_{22}} = (\hat{y} - y) W_2 a_2(1-a_2) x_2"),
    # C.1 neural unit
    ("C.1", "single_unit", None, r"z = w \cdot x + b"),
    ("C.1", "single_unit", None, r"\sigma(z) = \frac{1}{1+e^{-z}}"),
    ("C.1", "single_unit", None, r"\frac{\partial L}{\partial w_i} = (\hat{y} - y) \hat{y}(1-\hat{y}) x_i"),
    # C.3 XOR: ReLU hidden units, squared error
    ("C.3", "xor", None, r"h_1 = \operatorname{ReLU}(W_{11} x_1 + W_{21} x_2 + b_1)"),
    ("C.3", "xor", None, r"\frac{\partial L}{\partial \hat{y}} = \hat{y} - y"),
    ("C.3", "xor", None, r"\frac{\partial L}{\partial W_{11}} = (\hat{y} - y) w_1 \operatorname{ReLU}'(z_1) x_1"),
    # C.4 softmax layer
    ("C.4", "softmax_layer", None, r"\frac{\partial L}{\partial z_k} = \hat{y}_k - y_k"),
    # C.5 two-layer network, softmax output: h = σ(Wx + b), z = Uh
    ("C.5", "two_layer_softmax", None, r"h_1 = \sigma(W_{11} x_1 + W_{21} x_2 + b_1)"),
    ("C.5", "two_layer_softmax", None, r"\frac{\partial L}{\partial u_k} = \hat{y}_k - y_k"),
    ("C.5", "two_layer_softmax", None, r"\frac{\partial L}{\partial U_{jk}} = (\hat{y}_k - y_k) h_j"),
    # C.11 computation graph
    ("C.11", "computation_graph", None, r"d = 2b"),
    ("C.11", "computation_graph", None, r"e = a + d"),
    ("C.11", "computation_graph", None, r"L = c \cdot e"),
    ("C.11", "computation_graph", None, r"\frac{\partial L}{\partial e} = c"),
    ("C.11", "computation_graph", None, r"\frac{\partial L}{\partial c} = e"),
    ("C.11", "computation_graph", None, r"\frac{\partial e}{\partial a} = 1"),
    ("C.11", "computation_graph", None, r"\frac{\partial e}{\partial d} = 1"),
    ("C.11", "computation_graph", None, r"\frac{\partial d}{\partial b} = 2"),
    (
        "C.11",
        "computation_graph",
        None,
        r"\frac{\partial L}{\partial a} = \frac{\partial L}{\partial e} \frac{\partial e}{\partial a}",
    ),
    (
        "C.11",
        "computation_graph",
        None,
        r"\frac{\partial L}{\partial b} = \frac{\partial L}{\partial e} \cdot \frac{\partial e}{\partial d} \cdot \frac{\partial d}{\partial b}",
    ),
    # C.12 backward pass: ReLU hidden, sigmoid output; a = a^{[2]} = ŷ, z = z^{[2]}
    ("C.12", "two_layer_relu", None, r"a_1 = \operatorname{ReLU}(z_1)"),
    ("C.12", "two_layer_relu", None, r"\frac{\partial a_1}{\partial z_1} = \operatorname{step}(z_1)"),
    ("C.12", "two_layer_relu", None, r"\sigma'(z) = \sigma(z)(1 - \sigma(z))"),
    ("C.12", "two_layer_relu", None, r"\frac{\partial L}{\partial a} = -\left(\frac{y}{a} + \frac{y-1}{1-a}\right)"),
    ("C.12", "two_layer_relu", None, r"\frac{\partial a}{\partial z} = a(1-a)"),
    ("C.12", "two_layer_relu", None, r"\frac{\partial L}{\partial z} = a - y"),
    ("C.12", "two_layer_relu", "z", r"a^{[2]} - y"),
    ("C.12", "two_layer_relu", None, r"\frac{\partial L}{\partial W_{11}} = (\hat{y} - y) w_1 g'(z_1) x_1"),
    ("C.12", "two_layer_sigmoid", "z", r"\hat{y} - y"),
    ("C.12", "two_layer_sigmoid", None, r"\frac{\partial \hat{y}}{\partial z} = \sigma(z)(1-\sigma(z))"),
]

SCALAR_TEXT = [
    ("A", "logistic_regression", "w2", "(sigmoid(w1*x1 + w2*x2 + w3*x3 + b) - y)*x2"),
    ("B", "two_layer_sigmoid", "W11", "(yhat - y)*w1*a1*(1 - a1)*x1"),
    ("B", "two_layer_sigmoid", "b1", "(ŷ − y)·w1·a1(1 − a1)"),
    ("B", "two_layer_sigmoid", "w1", "(yhat - y) a1"),
    ("B", "two_layer_sigmoid", "W11", "dW11 = (yhat - y) w1 sigmoid(z1) (1 - sigmoid(z1)) x1"),
    ("C.12", "two_layer_relu", "W11", "(yhat - y)*w1*step(z1)*x1"),
    ("C.12", "two_layer_relu", "W11", "(yhat - y)*w1*relu'(z1)*x1"),
    ("C.11", "computation_graph", "b", "2*c"),
    ("B", "two_layer_sigmoid", None, "w1 ← w1 + α(y − ŷ)a1"),
    ("B", "two_layer_sigmoid", None, "W11 <- W11 - alpha*dW11"),
]

VECTOR = [
    # E: forward and the six backward equations, LaTeX and text
    ("E", r"Z^{[1]} = W^{[1]} X + b^{[1]}"),
    ("E", r"A^{[1]} = g^{[1]}(Z^{[1]})"),
    ("E", r"Z^{[2]} = W^{[2]} A^{[1]} + b^{[2]}"),
    ("E", r"A^{[2]} = \sigma(Z^{[2]})"),
    ("E", r"dZ^{[2]} = A^{[2]} - Y"),
    ("E", r"dW^{[2]} = \frac{1}{m} dZ^{[2]} A^{[1]T}"),
    ("E", r"db^{[2]} = \frac{1}{m} np.sum(dZ^{[2]}, axis=1, keepdims=True)"),
    ("E", r"dZ^{[1]} = W^{[2]T} dZ^{[2]} \odot g'(Z^{[1]})"),
    ("E", r"dZ^{[1]} = W^{[2]T} dZ^{[2]} \odot g^{[1]}'(Z^{[1]})"),
    ("E", r"dW^{[1]} = \frac{1}{m} dZ^{[1]} X^T"),
    ("E", r"db^{[1]} = \frac{1}{m} np.sum(dZ^{[1]}, axis=1, keepdims=True)"),
    ("E", r"\frac{\partial J}{\partial W^{[1]}} = \frac{1}{m} dZ^{[1]} X^{\top}"),
    ("E", "dZ2 = A2 - Y"),
    ("E", "dW2 = (1/m) dZ2 A1.T"),
    ("E", "db2 = (1/m) np.sum(dZ2, axis=1, keepdims=True)"),
    ("E", "dZ1 = W2.T @ dZ2 * (1 - A1**2)"),
    ("E", "dZ1 = np.dot(W2.T, dZ2) * g1'(Z1)"),
    ("E", "dW1 = (1/m) dZ1 X.T"),
    ("E", "db1 = np.sum(dZ1, axis=1, keepdims=True) / m"),
    ("E", "W1 <- W1 - alpha*dW1"),
    ("E", r"b^{[2]} \leftarrow b^{[2]} - \alpha \, db^{[2]}"),
]


@pytest.mark.parametrize(("section", "network", "wrt", "claim"), SCALAR_LATEX)
def test_lecture_latex_formula_verifies(section, network, wrt, claim):
    verdict = derivation(network).verify(wrt, claim, latex=True)
    assert verdict.equal, verdict.report()
    assert verdict.symbolic == "proved", verdict.report()


@pytest.mark.parametrize(("section", "network", "wrt", "claim"), SCALAR_TEXT)
def test_lecture_text_formula_verifies(section, network, wrt, claim):
    verdict = derivation(network).verify(wrt, claim)
    assert verdict.equal, verdict.report()


@pytest.mark.parametrize(("section", "claim"), VECTOR)
def test_lecture_vectorised_formula_verifies(section, claim):
    latex = "\\" in claim or "^{" in claim
    verdict = verify_vector(derivation("one_hidden_layer"), None, claim, latex=latex)
    assert verdict.equal, verdict.report()


def test_relu_claims_are_checked_on_and_beside_the_kinks():
    verdict = derivation("two_layer_relu").verify("W11", "(yhat - y)*w1*step(z1)*x1")
    assert "kink" in verdict.numeric
    # ReLU'(0) = 1: a claim using the other convention (0 at the kink) is caught exactly there
    wrong = derivation("two_layer_relu").verify("W11", "(yhat - y)*w1*(1 - step(-z1))*x1")
    assert not wrong.equal
    assert wrong.counterexample.note == "at a kink"
    assert "ReLU'(0) = 1" in wrong.hint


def test_lhs_must_match_wrt():
    from derive.verify.claims import ClaimError

    with pytest.raises(ClaimError, match="W11"):
        derivation("two_layer_sigmoid").verify("W12", r"\frac{\partial L}{\partial W_{11}} = x_1", latex=True)
