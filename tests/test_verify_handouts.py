"""The LaTeX the handouts print (derive.latex, issue 4) reads back: every gradient verifies.

This ties the LaTeX reader to the notation chainrule itself writes: ``\\left(…\\right)``,
``\\hat{y}_1``, ``W_{2,11}``, ``\\mathbb{1}[z_1 \\geq 0]`` for ReLU', ``h_1^{2}``.
"""

from __future__ import annotations

import warnings

import pytest

from derive.catalogue import load, names

latex_module = pytest.importorskip("derive.latex")

SCALAR = [n for n in names() if not hasattr(load(n), "assignments")]


@pytest.mark.parametrize("network", SCALAR)
def test_handout_latex_of_every_gradient_verifies(network):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        d = load(network).derive()
    for name in d.net.names("param")[:10]:
        tex = latex_module.latex(d.shown_gradient(name))
        lhs = latex_module.partial_latex(d.loss, name)
        for claim in (tex, f"{lhs} = {tex}"):
            verdict = d.verify(name, claim, latex=True)
            assert verdict.equal, verdict.report()


def test_indicator_with_strict_inequality_is_the_other_kink_convention():
    d = load("two_layer_relu").derive()
    assert d.verify("W11", r"(\hat{y}-y) w_1 \mathbb{1}[z_1 \geq 0] x_1", latex=True).equal
    wrong = d.verify("W11", r"(\hat{y}-y) w_1 \mathbb{1}[z_1 > 0] x_1", latex=True)
    assert not wrong.equal and "ReLU'(0)" in wrong.hint
