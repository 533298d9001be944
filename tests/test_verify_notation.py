"""verify reads the notation of the standard texts: Nielsen's and Ng's δ, the Kronecker δ,
component forms with free indices over layer networks, multi-letter subscripts, learning rates
written as numbers, NumPy lines as Ng writes them, Σ over classes, max, and the handouts' own
left-hand sides.  Each claim below was refused as unreadable before; now it holds (or, where it
is wrong on purpose, gets a verdict and not an error)."""

from __future__ import annotations

import pytest

from codegen.cli import main
from codegen.cli.cmd_verify import load_target
from derive.verify.claims import ClaimError
from derive.verify.scalar import verify_spec

MAZUR = """
from derive import Network, sigmoid, squared_error

network = Network("mazur")
i1, i2 = network.inputs("i1 i2")
y1, y2 = network.targets("y1 y2")
w1, w2, w3, w4, w5, w6, w7, w8, b1, b2 = network.params("w1 w2 w3 w4 w5 w6 w7 w8 b1 b2")
net_h1 = network.let("net_h1", w1*i1 + w2*i2 + b1)
out_h1 = network.let("out_h1", sigmoid(net_h1))
net_h2 = network.let("net_h2", w3*i1 + w4*i2 + b1)
out_h2 = network.let("out_h2", sigmoid(net_h2))
net_o1 = network.let("net_o1", w5*out_h1 + w6*out_h2 + b2)
out_o1 = network.let("out_o1", sigmoid(net_o1))
net_o2 = network.let("net_o2", w7*out_h1 + w8*out_h2 + b2)
out_o2 = network.let("out_o2", sigmoid(net_o2))
network.loss(squared_error([out_o1, out_o2], [y1, y2]))
"""

G1 = """
from derive import Network, sigmoid, binary_cross_entropy

network = Network("named_g")
x1 = network.inputs("x1")
y = network.targets("y")
w, b, v, c = network.params("w b v c")
z1 = network.let("z1", w*x1 + b)
g1 = network.let("g1", sigmoid(z1))
z2 = network.let("z2", v*g1 + c)
yhat = network.let("yhat", sigmoid(z2))
network.loss(binary_cross_entropy(yhat, y))
"""


@pytest.fixture(scope="module")
def targets(tmp_path_factory):
    folder = tmp_path_factory.mktemp("specs")
    (folder / "mazur.py").write_text(MAZUR, encoding="utf-8")
    (folder / "named_g.py").write_text(G1, encoding="utf-8")
    out = {}
    for name in ("one_hidden_layer", "two_layer_sigmoid", "softmax_layer", "two_layer_relu", "single_unit"):
        out[name] = load_target(name)
    out["mazur"] = load_target(str(folder / "mazur.py"))
    out["named_g"] = load_target(str(folder / "named_g.py"))
    return out


HOLDS = [
    # Ng's and Nielsen's δ, per layer and per unit
    ("one_hidden_layer", None, r"\delta^{[2]} = A^{[2]} - Y", True),
    ("one_hidden_layer", None, r"\delta^{[1]} = W^{[2]T} \delta^{[2]} \odot (1 - (A^{[1]})^2)", True),
    ("one_hidden_layer", None, r"\delta^{2} = \hat{Y} - Y", True),
    ("one_hidden_layer", None, r"\delta^L = \hat{Y} - Y", True),
    (
        "two_layer_sigmoid",
        None,
        r"\delta^{[2]} = (a^{[2]} - y) \odot \sigma'(z^{[2]}) \frac{1}{a^{[2]}(1 - a^{[2]})}",
        True,
    ),
    ("one_hidden_layer", None, r"\delta^{[2]}_1 = a^{[2]} - y", True),
    ("one_hidden_layer", None, r"\delta_j^{[1]} = W^{[2]}_{1j} \delta^{[2]}_1 (1 - (a^{[1]}_j)^2)", True),
    # the Kronecker delta in the softmax Jacobian (free indices i, j: every pair checked)
    ("softmax_layer", None, r"\frac{\partial \hat{y}_i}{\partial z_j} = \hat{y}_i(\delta_{ij} - \hat{y}_j)", True),
    # component forms with free indices over a layer network, Nielsen's C for the cost
    ("one_hidden_layer", None, r"\frac{\partial C}{\partial w^{[2]}_{jk}} = a^{[1]}_k \delta^{[2]}_j", True),
    ("one_hidden_layer", None, r"\frac{\partial L}{\partial W^{[1]}_{jk}} = x_k \delta^{[1]}_j", True),
    ("one_hidden_layer", None, r"\frac{\partial L}{\partial b^{[1]}_{j}} = \delta^{[1]}_j", True),
    # multi-letter names and subscripts, \text{…} and \mathrm{…}
    (
        "mazur",
        None,
        r"\frac{\partial E}{\partial w_5} = (\text{out}_{o1} - y_1) \text{out}_{o1}(1 - \text{out}_{o1}) \text{out}_{h1}",
        True,
    ),
    ("mazur", "w5", r"$(\mathrm{out}_{o1} - y_1) \mathrm{out}_{o1}(1 - \mathrm{out}_{o1}) \mathrm{out}_{h1}$", True),
    ("mazur", "w5", "(out_o1 - y1)*out_o1*(1 - out_o1)*out_h1", True),
    # a learning rate written as a number
    ("mazur", None, "w5 := w5 - 0.5 * dw5", True),
    ("mazur", None, "w5 ← w5 - 0.5*(out_o1 - y1)*out_o1*(1 - out_o1)*out_h1", True),
    (
        "mazur",
        None,
        r"$w_5 \leftarrow w_5 - 0.5 (\text{out}_{o1} - y_1) \text{out}_{o1}(1 - \text{out}_{o1}) \text{out}_{h1}$",
        True,
    ),
    # a declared name g1 is a name, not the function g
    ("named_g", "w", "(yhat - y)*v*g1*(1 - g1)*x1", True),
    ("named_g", "w", "(yhat - y)*v*g1(1 - g1)*x1", True),
    ("named_g", "w", r"$(\hat{y} - y) v g_1 (1 - g_1) x_1$", True),
    # Ng's literal NumPy line, np.power, np.multiply, np.exp, np.log, np.tanh
    ("one_hidden_layer", "dZ1", "np.dot(W2.T, dZ2) * (1 - np.power(A1, 2))", True),
    ("one_hidden_layer", "dZ1", "np.multiply(np.dot(W2.T, dZ2), 1 - np.power(np.tanh(Z1), 2))", True),
    ("one_hidden_layer", "A2", "1 / (1 + np.exp(-Z2))", True),
    ("one_hidden_layer", "dZ2", "A2 - Y + 0 * np.log(A2)", True),
    # \hat{Y}, \mathrm{d}Z, \sum_{\text{columns}}
    ("one_hidden_layer", None, r"\mathrm{d}Z^{[2]} = \hat{Y} - Y", True),
    ("one_hidden_layer", None, r"\mathrm{d}b^{[2]} = \frac{1}{m}\, \sum_{\text{columns}} \mathrm{d}Z^{[2]}", True),
    ("one_hidden_layer", None, r"\mathrm{d}W^{[1]} = \frac{1}{m}\, \mathrm{d}Z^{[1]} X^{\top}", True),
    ("one_hidden_layer", None, r"dW^{[1]} = \frac{1}{m} dZ^{[1]} X^T", True),
    ("one_hidden_layer", None, r"d W^{[1]} = \frac{1}{m} dZ^{[1]} X^T", True),
    # Σ over classes and max in scalar claims
    ("softmax_layer", None, r"L = -\sum_{k} y_k \log \hat{y}_k", True),
    ("softmax_layer", None, r"L = -\sum_{k=1}^{6} y_k \log \hat{y}_k", True),
    ("two_layer_relu", None, r"a_1 = \max(0, z_1)", True),
    ("two_layer_relu", None, "a1 = max(0, z1)", True),
    # Nielsen's output error under a quadratic cost (single_unit: σ output, squared error)
    ("single_unit", None, r"\delta^{[1]} = (a^{[1]} - y) \odot \sigma'(z^{[1]})", True),
    ("single_unit", None, r"\delta^L = (a^L - y) \sigma'(z^L)", True),
    # the handouts' own left-hand sides, section 3 and 4 of one_hidden_layer
    (
        "one_hidden_layer",
        None,
        r"\frac{\partial L}{\partial W^{[1]}_{11}} = \left(\hat{y} - y\right) W^{[2]}_{11} \left(1 - \left(a^{[1]}_{1}\right)^{2}\right) x_{1}",
        True,
    ),
    ("one_hidden_layer", None, r"\frac{\partial L}{\partial b^{[2]}_{1}} = a^{[2]} - y", True),
    (
        "one_hidden_layer",
        None,
        r"\mathrm{d}Z^{[1]} = \mathrm{d}A^{[1]} \odot \left(1 - \left(A^{[1]}\right)^{\odot 2}\right)",
        True,
    ),
    (
        "one_hidden_layer",
        None,
        r"\frac{\partial L}{\partial \hat{y}} = \frac{\partial}{\partial \hat{y}} L_{\mathrm{CE}}(\hat{y}, y)",
        True,
    ),
    ("one_hidden_layer", None, r"J = \frac{1}{m}\, \sum_{\text{columns}} L_{\mathrm{CE}}(A^{[2]}, Y)", True),
    # and wrong ones get a verdict, not an error
    ("mazur", None, "w5 := w5 - 0.5 * dw6", False),
    ("softmax_layer", None, r"\frac{\partial \hat{y}_i}{\partial z_j} = \hat{y}_i(1 - \hat{y}_j)", False),
]


@pytest.mark.parametrize(("network", "wrt", "claim", "holds"), HOLDS)
def test_the_texts_notation_is_read(targets, network, wrt, claim, holds):
    latex = claim.startswith("$") or "\\" in claim
    verdict = verify_spec(targets[network], wrt, claim.strip("$"), latex=latex)
    assert verdict.equal == holds, verdict.report()


def test_free_index_verdict_names_every_index_value(targets):
    v = verify_spec(
        targets["one_hidden_layer"],
        None,
        r"\frac{\partial C}{\partial w^{[2]}_{jk}} = a^{[1]}_k \delta^{[2]}_j",
        latex=True,
    )
    assert v.numeric.startswith("j,k = 1,1; 1,2; 1,3; 1,4: agrees everywhere"), v.numeric


def test_update_with_a_number_is_checked_with_that_rate(targets):
    v = verify_spec(targets["mazur"], None, "w5 := w5 - 0.25 * dw5")
    assert v.equal, v.report()
    v = verify_spec(targets["mazur"], None, "w5 := w5 + 0.5 * dw5")
    assert not v.equal and "sign" in (v.hint or ""), v.report()


def test_indices_swapped_in_a_component_form_are_named(targets):
    claim = r"\frac{\partial C}{\partial w^{[2]}_{jk}} = a^{[1]}_j \delta^{[2]}_k"
    with pytest.raises(ClaimError, match=r"for j,k = 1,2: unknown name 'delta\[2\]_2'"):
        verify_spec(targets["one_hidden_layer"], None, claim, latex=True)
    claim = r"\frac{\partial L}{\partial W^{[1]}_{jk}} = x_j \delta^{[1]}_k"
    with pytest.raises(ClaimError, match=r"for j,k = 3,1: unknown name 'x3'"):
        verify_spec(targets["one_hidden_layer"], None, claim, latex=True)
    v = verify_spec(
        targets["one_hidden_layer"],
        None,
        r"\frac{\partial L}{\partial W^{[2]}_{1k}} = a^{[1]}_1 \delta^{[2]}_1",
        latex=True,
    )
    assert not v.equal and v.numeric.startswith("k = 1; 2; 3; 4: wrong for k = 2"), v.report()


def test_delta_needs_a_layer_it_can_find(targets):
    with pytest.raises(ClaimError):
        verify_spec(targets["one_hidden_layer"], None, r"\delta^{[7]} = A^{[2]} - Y", latex=True)


def test_cli_reads_nielsen_and_ng(capsys):
    status = main(["verify", "single_unit", "--latex", r"\delta^{[1]} = (a^{[1]} - y) \odot \sigma'(z^{[1]})"])
    out, err = capsys.readouterr()
    assert status == 0, out + err
    status = main(
        ["verify", "one_hidden_layer", "--wrt", "dZ1", "--claim", "np.dot(W2.T, dZ2) * (1 - np.power(A1, 2))"]
    )
    out, err = capsys.readouterr()
    assert status == 0 and "dZ1: holds" in out, out + err
