"""Exact strings from the LaTeX printers (derive.printing.latex and codegen.render.latex_printer)."""

import pytest
import sympy as sp
from sympy.matrices.expressions.special import OneMatrix

from codegen.render.latex_printer import HandoutLatexPrinter, cancel_latex, number
from derive import functions as F
from derive.catalogue import load
from derive.functions import RULES
from derive.printing.latex import latex, name_latex, partial_latex, step_latex, why_latex
from derive.steps import Rewrite

x1, x2, W11, W21, b1, w1, a1, z1, z, y, yhat = sp.symbols("x1 x2 W11 W21 b1 w1 a1 z1 z y yhat")


@pytest.mark.parametrize(
    "name, expected",
    [
        ("x1", "x_1"),
        ("W11", "W_{11}"),
        ("yhat", r"\hat{y}"),
        ("yhat3", r"\hat{y}_3"),
        ("y\u03023", r"\hat{y}_3"),  # ŷ3 as text.display_name writes it
        ("alpha1", r"\alpha_1"),
        ("b", "b"),
        ("W2_11", "W_{2,11}"),
        ("∂L/∂yhat", r"\frac{\partial L}{\partial \hat{y}}"),
    ],
)
def test_names(name, expected):
    assert name_latex(name) == expected


def test_layer_names():
    assert name_latex("A1", layers=True) == "A^{[1]}"
    assert name_latex("dZ2", layers=True) == r"\mathrm{d}Z^{[2]}"
    assert name_latex("dZ2", layers=True, delta=True) == r"\delta^{[2]}"
    assert name_latex("dW2", layers=True, delta=True) == r"\mathrm{d}W^{[2]}"
    assert name_latex("X", layers=True) == "X"


def test_partial():
    assert partial_latex("L", "W11") == r"\frac{\partial L}{\partial W_{11}}"


def test_functions_use_the_rules_table():
    assert latex(F.Sigmoid(z1)) == rf"{RULES[F.Sigmoid].latex}(z_1)" == r"\sigma(z_1)"
    assert latex(F.Tanh(z)) == r"\tanh(z)"
    assert latex(F.ReLU(z1)) == r"\operatorname{ReLU}(z_1)"
    assert latex(F.Step(z1)) == r"\mathbf{1}[z_1 \geq 0]"  # (\mathbb has no digits)
    assert latex(F.BinaryCrossEntropy(yhat, y)) == r"L_{\mathrm{CE}}(\hat{y}, y)"
    zs = sp.symbols("z1:7")
    assert latex(F.softmax(zs)[0]) == r"\operatorname{softmax}_{1}(z_1, \dots, z_6)"
    assert latex(F.softmax(zs[:2])[1]) == r"\operatorname{softmax}_{2}(z_1, z_2)"


def test_products_keep_chain_order_and_positive_terms_lead():
    expr = sp.Mul(yhat - y, w1, a1, 1 - a1, x1, evaluate=False)
    assert latex(expr) == r"\left(\hat{y} - y\right) w_1 a_1 \left(1 - a_1\right) x_1"
    assert latex(-y / yhat + (1 - y) / (1 - yhat)) == r"\frac{1 - y}{1 - \hat{y}} - \frac{y}{\hat{y}}"
    assert latex(sp.Mul(2, z, evaluate=False)) == "2 z"
    assert latex(sp.Mul(z, 2, evaluate=False)) == r"z \cdot 2"
    assert latex(1 - F.Tanh(z) ** 2) == r"1 - \left(\tanh(z)\right)^{2}"


def test_worked_values_replace_names():
    expr = sp.Add(sp.Mul(W11, x1, evaluate=False), sp.Mul(W21, x2, evaluate=False), b1, evaluate=False)
    p = HandoutLatexPrinter({"values": {"W11": 0.1, "x1": 0.5, "W21": 0.2, "x2": -1.0, "b1": 0.0}})
    assert p.doprint(expr) == r"0.1 \cdot 0.5 + 0.2 \cdot \left(-1\right) + 0"


def test_output_in_layer_notation():
    p = HandoutLatexPrinter({"output": "layer", "layer_count": 2, "outputs": ("yhat",)})
    assert p.doprint(yhat - y) == "a^{[2]} - y"
    assert p.partial("L", "yhat") == r"\frac{\partial L}{\partial a^{[2]}}"


@pytest.mark.parametrize(
    "value, text",
    [(0.7047, "0.70"), (0.0547, "0.055"), (0.0903, "0.090"), (0.00601, "0.0060"), (0.87, "0.87"),
     (-10.0, "-10"), (3.2, "3.2"), (0.5, "0.5"), (0.0, "0"), (1.5e-5, r"1.5 \times 10^{-5}")],
)  # fmt: skip
def test_numbers_as_the_lecture_writes_them(value, text):
    assert number(value, 2) == text


@pytest.mark.parametrize(
    "value, text",
    [(0.298371109, "0.2984"), (0.7047, "0.7047"), (0.0547, "0.05470"), (-10.0, "-10"), (0.5, "0.5"),
     (1.23456e-5, r"1.235 \times 10^{-5}"), (4.18965474, "4.190")],
)  # fmt: skip
def test_four_significant_digits_by_default(value, text):
    assert number(value) == text


def test_why_texts_become_math():
    assert why_latex(RULES[F.Sigmoid].why) == r"\sigma'(z) = \sigma(z)(1 - \sigma(z))"
    assert why_latex(RULES[F.ReLU].why) == r"\operatorname{ReLU}'(z) = 1\text{ for }z \geq  0,\ 0\text{ for }z < 0"
    for rule in RULES.values():
        assert why_latex(rule.why).isascii(), rule.why


def test_cancelled_pair_is_coloured():
    d = load("two_layer_sigmoid").derive()
    cancel = next(s for s in d.steps("W11") if isinstance(s, Rewrite) and s.kind == "cancel")
    assert cancel_latex(HandoutLatexPrinter(), cancel.before, cancel.cancelled) == (
        r"\left(\frac{1 - y}{\textcolor{red}{1 - \hat{y}}} - \frac{y}{\textcolor{red}{\hat{y}}}\right)"
        r" \textcolor{red}{\hat{y}} \left(\textcolor{red}{1 - \hat{y}}\right)"
    )


def test_a_term_of_a_sum_is_not_marked():
    d = load("softmax_layer").derive()
    cancel = next(s for s in d.steps("b1") if isinstance(s, Rewrite) and s.kind == "cancel")
    assert cancel_latex(HandoutLatexPrinter(), cancel.before, cancel.cancelled) == (
        r"\left(-\frac{y_1}{\textcolor{red}{\hat{y}_1}}\right) \textcolor{red}{\hat{y}_1} \left(1 - \hat{y}_1\right)"
    )


def test_steps_display_in_jupyter():
    steps = load("two_layer_sigmoid").derive().steps("W11")
    assert step_latex(steps[0]) == (
        r"\frac{\partial L}{\partial W_{11}} = \frac{\partial L}{\partial \hat{y}} \frac{\partial \hat{y}}{\partial z}"
        r" \frac{\partial z}{\partial a_1} \frac{\partial a_1}{\partial z_1} \frac{\partial z_1}{\partial W_{11}}"
    )
    assert steps[-1]._repr_latex_() == (
        r"$\displaystyle \frac{\partial L}{\partial W_{11}} = \left(\hat{y} - y\right) w_1 a_1 \left(1 - a_1\right) x_1$"
    )
    factor = steps[4]
    assert factor._repr_latex_() == (
        r"$\displaystyle \frac{\partial a_1}{\partial z_1} = \sigma'(z_1) = \sigma(z_1) \left(1 - \sigma(z_1)\right)"
        r" = a_1 \left(1 - a_1\right)\qquad \left[\sigma'(z) = \sigma(z)(1 - \sigma(z))\right]$"
    )
    for step in steps:
        assert step._repr_latex_().startswith("$") and step._repr_latex_().isascii()


def test_matrices():
    n0, n1, m = sp.symbols("n0 n1 m", positive=True, integer=True)
    W, X, b, dZ, A = (sp.MatrixSymbol(s, *shape) for s, shape in
                      [("W1", (n1, n0)), ("X", (n0, m)), ("b1", (n1, 1)), ("dZ1", (n1, m)), ("A1", (n1, m))])  # fmt: skip
    p = HandoutLatexPrinter({"layers": True})
    assert p.doprint(W * X + b * OneMatrix(1, m)) == "W^{[1]} X + b^{[1]}"
    assert p.doprint(dZ * X.T / m) == r"\frac{1}{m}\, \mathrm{d}Z^{[1]} X^{\top}"
    assert p.doprint(dZ * OneMatrix(m, 1) / m) == r"\frac{1}{m}\, \sum_{\text{columns}} \mathrm{d}Z^{[1]}"
    assert (
        p.doprint(sp.HadamardProduct(dZ, OneMatrix(n1, m) - A)) == r"\mathrm{d}Z^{[1]} \odot \left(1 - A^{[1]}\right)"
    )
    assert p.doprint(A.T) == r"{A^{[1]}}^{\top}"
    delta = HandoutLatexPrinter({"layers": True, "delta": True})
    assert delta.doprint(dZ * X.T) == r"\delta^{[1]} X^{\top}"
