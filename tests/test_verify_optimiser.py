"""``chainrule verify adam``: an optimiser's update rule as the courses write it (Kingma and Ba's and d2l's
notations, text and LaTeX), each classic slip named with a counterexample, the variants named as variants,
bad input in one line, and the reference rule the generated module's own ``update``."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from codegen.cli import main
from codegen.emit.load import load_file
from derive.training import OPTIMIZERS
from derive.verify.claims import ClaimError
from derive.verify.equivalence import numeric_function
from derive.verify.optimiser import OptimiserTarget, points
from derive.verify.optimiser_rules import RULES

ROOT = Path(__file__).resolve().parent.parent


def check(claim, optimizer="adam", latex=False, wrt=None, notation=None):
    return OptimiserTarget(optimizer, notation).check_claim(wrt, claim, latex=latex)


# ------------------------------------------------------------------ what holds
@pytest.mark.parametrize(
    "claim, latex, target, notation",
    [
        ("m_t = beta1*m_{t-1} + (1-beta1)*g_t", False, "m_t", "kingma"),
        ("v_t = beta2*v_tm1 + (1 - beta2)*g_t**2", False, "v_t", "kingma"),
        ("mhat_t = m_t/(1 - beta1^t)", False, "m̂_t", "kingma"),
        ("v̂_t = v_t/(1 − β2ᵗ)", False, "v̂_t", "kingma"),
        ("θ_t = θ_{t-1} − α·m̂_t/(√v̂_t + ε)", False, "θ_t", "kingma"),
        ("theta ← theta - alpha*mhat/(sqrt(vhat) + eps)", False, "θ_t", "kingma"),
        (  # written out to the inputs
            (
                "theta_t = theta_tm1 - alpha*(beta1*m_tm1 + (1-beta1)*g_t)/(1-beta1**t)"
                " / (sqrt((beta2*v_tm1 + (1-beta2)*g_t*g_t)/(1-beta2**t)) + eps)"
            ),
            False,
            "θ_t",
            "kingma",
        ),
        (r"\hat{m}_t = \frac{m_t}{1-\beta_1^t}", True, "m̂_t", "kingma"),
        (r"\theta_t = \theta_{t-1} - \frac{\alpha \hat{m}_t}{\sqrt{\hat{v}_t} + \epsilon}", True, "θ_t", "kingma"),
        # d2l §12.10: v the first moment, s the second, x the parameters, η the rate, g′ the step
        (r"\mathbf{v}_t \leftarrow \beta_1 \mathbf{v}_{t-1} + (1 - \beta_1) \mathbf{g}_t", True, "v_t", "kingma"),
        (r"\mathbf{s}_t \leftarrow \beta_2 \mathbf{s}_{t-1} + (1-\beta_2)\mathbf{g}_t^2", True, "s_t", "d2l"),
        (
            r"\mathbf{s}_t \leftarrow \beta_2 \mathbf{s}_{t-1} + (1-\beta_2)\mathbf{g}_t \odot \mathbf{g}_t",
            True,
            "s_t",
            "d2l",
        ),
        (r"\hat{\mathbf{s}}_t = \frac{\mathbf{s}_t}{1 - \beta_2^t}", True, "ŝ_t", "d2l"),
        (r"\mathbf{g}_t' = \frac{\eta \hat{\mathbf{v}}_t}{\sqrt{\hat{\mathbf{s}}_t} + \epsilon}", True, "g′_t", "d2l"),
        (r"\mathbf{x}_t \leftarrow \mathbf{x}_{t-1} - \mathbf{g}_t'", True, "x_t", "d2l"),
        ("x_t = x_{t-1} - eta*vhat_t/(sqrt(shat_t) + eps)", False, "x_t", "d2l"),
        ("g'_t = eta*vhat_t/(sqrt(shat_t) + eps)", False, "g′_t", "d2l"),
    ],
)
def test_the_module_form_holds_in_each_notation(claim, latex, target, notation):
    v = check(claim, latex=latex)
    if claim.startswith(r"\mathbf{v}_t"):  # v alone decides nothing: Kingma's v is the second moment
        assert not v and "no name decides it: --notation d2l" in v.details["note"]
        v = check(claim, latex=latex, notation="d2l")
        target, notation = "v_t", "d2l"
    assert v.equal, v.report()
    assert v.target == target
    assert v.details["notation"] == notation
    assert "read in " + ("Kingma and Ba's" if notation == "kingma" else "d2l's") in v.report()
    assert v.symbolic.startswith("proved")


def test_the_d2l_first_moment_is_not_kingmas_second():
    """The same letters, two rules: v_t = β1 v + (1 − β1) g is d2l's first moment, Kingma's v is g²'s."""
    claim = "v_t = beta1*v_tm1 + (1 - beta1)*g_t"
    assert check(claim, notation="d2l").equal
    assert not check(claim).equal
    assert check("s_t = beta2*s_tm1 + (1-beta2)*g_t**2").details["notation"] == "d2l"


# ------------------------------------------------------------------ the slips
SLIPS = [
    ("mhat_t = m_t/(1 - beta1**(t-1))", "t counted from 0 in the first moment's bias correction"),
    ("vhat_t = v_t/(1 - beta2**(t-1))", "t counted from 0 in the second moment's bias correction"),
    (
        "theta = theta - alpha*(m/(1-beta1**(t-1)))/(sqrt(v/(1-beta2**(t-1))) + eps)",
        "t counted from 0 in the bias corrections",
    ),
    ("mhat_t = m_t", "the bias correction left out of the first moment only"),
    ("theta = theta - alpha*m/(sqrt(v) + eps)", "the bias corrections left out: m_t and v_t used for m̂_t"),
    ("theta = theta - alpha*mhat/(sqrt(v) + eps)", "the bias correction left out of the second moment only"),
    ("theta = theta - alpha*m/(sqrt(vhat) + eps)", "the bias correction left out of the first moment only"),
    ("m_t = (1-beta1)*m_tm1 + beta1*g_t", "β1 and 1 − β1 swapped"),
    ("v_t = (1-beta2)*v_tm1 + beta2*g_t**2", "β2 and 1 − β2 swapped"),
    ("v_t = beta2*v_tm1 + (1-beta2)*g_t", "g_t for g_t² in the second moment"),
    ("v_t = beta2*v_tm1 + ((1-beta2)*g_t)**2", "(1 − β2) squared with the gradient"),
    ("m_t = beta1*m_tm1 + (1-beta1)*g_t**2", "g_t² in the first moment"),
    ("theta = theta - alpha*mhat/(vhat + eps)", "the square root left out"),
    ("theta = theta - alpha*mhat/(sqrt(v)/(1-beta2**t) + eps)", "the correction of v outside the square root"),
    ("theta = theta + alpha*mhat/(sqrt(vhat) + eps)", "the sign of the step"),
    ("theta = theta - mhat/(sqrt(vhat) + eps)", "the rate α left out of the step"),
    ("theta = theta - mhat/(alpha*(sqrt(vhat) + eps))", "the rate α divides the step"),
    ("theta = theta - alpha*mhat/sqrt(vhat) + eps", "ε added to the step, not to the denominator"),
    ("theta = theta - alpha*mhat/sqrt(vhat)", "ε left out"),
    ("theta = theta - 2*alpha*mhat/(sqrt(vhat) + eps)", "in the step: an extra factor 2"),
    # d2l's letters: the slip is named in them
    ("x = x - eta*v/(sqrt(s) + eps)", "the bias corrections left out: v_t and s_t used for v̂_t"),
    ("s_t = beta2*s_tm1 + (1-beta2)*g_t", "g_t for g_t² in the second moment: s averages"),
]


@pytest.mark.parametrize("claim, slip", SLIPS)
def test_each_slip_is_named_with_a_counterexample(claim, slip):
    v = check(claim)
    assert not v.equal and not v.details["variant"]
    assert v.hint is not None and v.hint.startswith(slip), v.report()
    c = v.counterexample
    assert c is not None and math.isfinite(c.claimed) and not math.isclose(c.claimed, c.true)
    assert "likely slip: " + slip in v.report() and "counterexample: at " in v.report()


def test_the_counterexample_is_a_point_of_the_rule_with_both_values():
    v = check("v_t = beta2*v_tm1 + (1-beta2)*g_t")
    p = v.counterexample.point
    assert set(p) == {"g_t", "v_{t−1}", "β2"}
    assert math.isclose(v.counterexample.true, p["β2"] * p["v_{t−1}"] + (1 - p["β2"]) * p["g_t"] ** 2)
    assert math.isclose(v.counterexample.claimed, p["β2"] * p["v_{t−1}"] + (1 - p["β2"]) * p["g_t"])


# ------------------------------------------------------------------ variants
@pytest.mark.parametrize(
    "claim, variant",
    [
        ("theta = theta - alpha*mhat/sqrt(vhat + eps)", "the ε-inside-√ variant"),
        (r"$\theta_t = \theta_{t-1} - \frac{\alpha \hat{m}_t}{\sqrt{\hat{v}_t + \epsilon}}$", "the ε-inside-√ variant"),
        (
            "theta = theta - alpha*sqrt(1 - beta2**t)/(1 - beta1**t)*m/(sqrt(v) + eps)",
            "Kingma and Ba's efficient form",
        ),
        ("v = 0.99*v + 0.01*g**2", "some courses' β2 = 0.99"),
    ],
)
def test_a_variant_is_named_as_one_not_as_a_slip(claim, variant):
    v = check(claim)
    assert not v.equal and v.details["variant"]
    assert v.hint.startswith("not the form the module uses: this is " + variant), v.hint
    report = v.report()
    assert "a variant, not the module's form" in report and "variant: " in report and "likely slip" not in report


def test_the_module_defaults_written_as_numbers_hold():
    v = check("m_t = 0.9*m_tm1 + 0.1*g_t")
    assert v.equal and "checked at the module's defaults: β1 = 0.9" in v.details["note"]


def test_t_is_one_at_some_points_and_large_at_others():
    ts = {p["t"] for p in points(RULES["adam"])}
    assert 1 in ts and max(ts) >= 100
    assert all(p["m_prev"] == 0 and p["v_prev"] == 0 for p in points(RULES["adam"]) if p["t"] == 1)
    # ε not negligible: inside and outside the square root differ at every point
    assert all(0.01 <= p["eps"] <= 0.1 for p in points(RULES["adam"]))


# ------------------------------------------------------------------ the other optimisers
@pytest.mark.parametrize(
    "optimizer, claim, slip",
    [
        ("sgd", "theta = theta - lr*g", None),
        ("sgd", "w ← w + alpha*g", "the sign of the step"),
        ("momentum", "v_t = mu*v_tm1 + g_t", None),
        ("momentum", "theta = theta - alpha*v", None),
        ("momentum", "v = v + beta*g", "μ multiplies the gradient instead of the old velocity"),
        ("momentum", "v = v + g", "the decay μ left out"),
        ("momentum", "theta = theta - alpha*g", "the step uses g_t, not the velocity"),
        ("momentum", "v = beta*v + (1-beta)*g", "not the form the module uses: this is the exponential-average"),
        ("adagrad", "G = G + g**2", None),
        ("adagrad", "G = G + g", "g_t for g_t² in the sum"),
        ("adagrad", "G = g**2", "G replaced, not accumulated"),
        ("adagrad", "theta = theta - alpha*g/(G + eps)", "the square root left out"),
        ("rmsprop", "s = rho*s + (1-rho)*g**2", None),
        ("rmsprop", r"$s_t \leftarrow \gamma s_{t-1} + (1-\gamma) g_t^2$", None),
        ("rmsprop", "s = (1-rho)*s + rho*g**2", "ρ and 1 − ρ swapped"),
        ("rmsprop", "s = s + g**2", "the average not decayed"),
        ("rmsprop", "theta = theta - alpha*g/sqrt(s + eps)", "not the form the module uses: this is the ε-inside-√"),
    ],
)
def test_other_optimisers(optimizer, claim, slip):
    v = check(claim, optimizer)
    assert v.equal == (slip is None), v.report()
    if slip is not None:
        assert v.hint.startswith(slip), v.hint


def test_every_optimiser_of_the_module_has_a_rule():
    assert set(RULES) == set(OPTIMIZERS)


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_the_rule_is_the_generated_modules_update(optimizer):
    """Three steps of the golden module's ``update`` on known gradients against the record's rule applied
    three times with the module's defaults: verify checks what the module does."""
    mod = load_file(ROOT / "generated" / "one_hidden_layer.py", "golden_one_hidden_layer")
    rng = np.random.default_rng(3)
    p0 = rng.normal(size=5)
    params, state = {"W1": p0.copy()}, {}
    mod.PARAMS, saved = ("W1",), mod.PARAMS
    rule = RULES[optimizer]
    resolved = rule.resolved()
    carried = {k: np.zeros(5) for k in rule.state}
    theta = p0.copy()
    hyper = {"alpha": 0.05, "mu": 0.9, "beta1": 0.9, "beta2": 0.999, "rho": 0.9, "eps": 1e-8}
    try:
        for t in (1, 2, 3):
            g = rng.normal(size=5)
            mod.update(params, {"W1": g}, state, optimizer, 0.05, t)
            values = [
                {**hyper, "t": t, "g": g[i], "theta_prev": theta[i], **{f"{k}_prev": carried[k][i] for k in carried}}
                for i in range(5)
            ]
            new = {k: np.array([numeric_function(resolved[k])(x) for x in values]) for k in (*rule.state, "theta")}
            theta = new.pop("theta")
            carried = new
            np.testing.assert_allclose(params["W1"], theta, rtol=1e-12, atol=1e-15)
    finally:
        mod.PARAMS = saved


# ------------------------------------------------------------------ bad input
@pytest.mark.parametrize(
    "claim, message",
    [
        ("q_t = m_t", "unknown name 'q_t'"),
        ("m_t = beta1*m_tm1 + (1-beta1)*gg", "(did you mean 'g'?)"),
        ("m_t = beta1*m_tm1 + (1-beta1)*rho", "unknown name 'rho'"),
        ("m_t = mhat_tm1", "'mhat_tm1' is not an input of adam's step (its inputs: θ_{t−1}, g_t, m_{t−1}"),
        ("m_t = g_tm1", "'g_tm1' is not an input"),
        ("g_t = m_t", "'g_t' is not something adam's step defines (it defines m_t, v_t, mhat_t, vhat_t, theta_t)"),
        ("beta1*m + (1-beta1)*g", "say what the claim defines"),
        ("s_t = beta2*s_tm1 + m_t", "the claim mixes two notations: m (kingma); s (d2l)"),
        ("m_t = beta1*m_tm1 + (1-beta1)*log(g_t)", "'log' has no place in an update rule"),
        ("m_t = beta1*m_tm1 + (1-beta1)*g_t)", "unbalanced parenthesis"),
    ],
)
def test_bad_input_is_one_line(claim, message):
    with pytest.raises(ClaimError) as err:
        check(claim)
    assert message in str(err.value) and "\n" not in str(err.value)


def test_eps_is_not_in_sgd():
    with pytest.raises(ClaimError, match="'eps' is not in sgd's rule"):
        check("theta = theta - alpha*g/eps", "sgd")


# ------------------------------------------------------------------ the CLI
def run(capsys, *argv):
    status = main(["verify", *argv])
    out, err = capsys.readouterr()
    return status, out, err


def test_cli_exit_statuses(capsys):
    status, out, _ = run(capsys, "adam", "--claim", "m_t = beta1*m_{t-1} + (1-beta1)*g_t")
    assert status == 0 and out.startswith("m_t: holds")
    status, out, _ = run(capsys, "adam", "--latex", r"\hat{v}_t = \frac{v_t}{1-\beta_2^{t-1}}")
    assert status == 1 and "likely slip: t counted from 0" in out and "counterexample: at " in out
    status, out, _ = run(capsys, "adam", "--claim", "theta = theta - alpha*mhat/sqrt(vhat + eps)")
    assert status == 1 and "variant: not the form the module uses" in out
    status, out, _ = run(capsys, "adam", "--notation", "d2l", "--wrt", "v_t", "--claim", "beta1*v + (1-beta1)*g")
    assert status == 0 and "read in d2l's notation" in out


@pytest.mark.parametrize(
    "argv, message",
    [
        (("adam", "--claim", "q_t = 1"), "--claim: unknown name 'q_t'"),
        (("adamm", "--claim", "m_t = 1"), "unknown network or optimiser 'adamm' (did you mean 'adam'?)"),
        (("adam", "--notation", "d3l", "--claim", "m_t = g"), "adam has no notation 'd3l'"),
        (("two_layer_sigmoid", "--notation", "d2l", "--claim", "x"), "--notation is for an optimiser's update rule"),
    ],
)
def test_cli_bad_input_exits_2_in_one_line(capsys, argv, message):
    status, out, err = run(capsys, *argv)
    assert status == 2 and out == ""
    assert message in err and len(err.strip().splitlines()) == 1, err


def test_cli_sheet_of_optimiser_claims(capsys, tmp_path):
    sheet = tmp_path / "adam.txt"
    sheet.write_text(
        "m_t: beta1*m_tm1 + (1-beta1)*g_t\n"
        "vhat_t: v_t/(1-beta2**(t-1))\n"
        "theta_t: $\\theta_{t-1} - \\frac{\\alpha \\hat{m}_t}{\\sqrt{\\hat{v}_t} + \\epsilon}$\n",
        encoding="utf-8",
    )
    status, out, _ = run(capsys, "adam", "--claims", str(sheet))
    assert status == 1 and "2 of 3 claims hold" in out and "t counted from 0" in out


def test_grade_questions_on_an_optimiser(capsys, tmp_path):
    """``chainrule grade`` takes an optimiser as a question's spec: d2l's letters answer a question asked in
    Kingma and Ba's, and a slip is named in the feedback."""
    (tmp_path / "questions.toml").write_text(
        '[[question]]\nid = "q1"\nspec = "adam"\nwrt = "mhat_t"\npoints = 1\n\n'
        '[[question]]\nid = "q2"\nspec = "adam"\nwrt = "theta_t"\npoints = 2\n',
        encoding="utf-8",
    )
    subs = tmp_path / "subs"
    subs.mkdir()
    (subs / "ada.txt").write_text(
        "q1: m_t/(1-beta1**t)\nq2: $x_t \\leftarrow x_{t-1} - \\frac{\\eta \\hat{v}_t}{\\sqrt{\\hat{s}_t} + \\epsilon}$\n",
        encoding="utf-8",
    )
    (subs / "bob.txt").write_text("q1: mhat_t = m_t/(1-beta1**(t-1))\nq2: theta = theta - alpha*mhat/(vhat+eps)\n")
    report = tmp_path / "report"
    status = main(["grade", str(tmp_path / "questions.toml"), str(subs), "-o", str(report), "--jobs", "1"])
    capsys.readouterr()
    assert status == 0
    assert "**Total: 3 of 3 points**" in (report / "feedback" / "ada.md").read_text(encoding="utf-8")
    bob = (report / "feedback" / "bob.md").read_text(encoding="utf-8")
    assert "**Total: 0 of 3 points**" in bob and "t counted from 0" in bob and "the square root left out" in bob
