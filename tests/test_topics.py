"""The training lecture's further topics (L1/L2, inverted dropout, batch and layer normalisation, vanishing
gradients, label smoothing): derivations, the batch-norm rewrite, generated modules, verify and handouts."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import sympy as sp

from codegen.emit.load import load_file
from derive.catalogue import load
from derive.ir.numeric import NumPyEvaluator, SymPyEvaluator
from derive.ir.rewrites import NamedRewrite, find_normalisations

ROOT = Path(__file__).resolve().parent.parent
TOPICS = (
    "l1_mlp",
    "l2_mlp",
    "dropout_mlp",
    "batchnorm_mlp",
    "layernorm_mlp",
    "deep_sigmoid",
    "deep_relu",
    "label_smoothing",
)


def _module(name):
    return load_file(ROOT / "generated" / f"{name}.py", f"golden_{name}")


def run_cli(*args):
    return subprocess.run(
        [sys.executable, "-m", "codegen", *args], capture_output=True, text=True, timeout=120, check=False
    )


# ------------------------------------------------------------------ derivations
@pytest.mark.parametrize(
    ("name", "target", "text"),
    [
        ("l2_mlp", "dW1", "dW1 = (1/m) dZ1 Xᵀ + (λ/m) W1"),
        ("l2_mlp", "db1", "db1 = (1/m) Σ_columns dZ1"),
        ("l1_mlp", "dW2", "dW2 = (1/m) dZ2 A1ᵀ + (λ/m) sign(W2)"),
        ("dropout_mlp", "dA1", "dA1 = (1/keep_prob) dAtilde1 ⊙ D1"),
        ("batchnorm_mlp", "dgamma1", "dgamma1 = (1/m) Σ_columns (dZtilde1 ⊙ Zhat1)"),
        ("batchnorm_mlp", "dbeta1", "dbeta1 = (1/m) Σ_columns dZtilde1"),
        (
            "batchnorm_mlp",
            "dZ1",
            "dZ1 = (1/m) (gamma1/√(var1 + ε)) ⊙ (m dZtilde1 − Σ_columns (dZtilde1 ⊙ Zhat1) ⊙ Zhat1 − Σ_columns dZtilde1)",
        ),
        ("label_smoothing", "dZ2", "dZ2 = A2 − Q"),
    ],
)
def test_the_course_formulas_are_derived(name, target, text):
    assert load(name).derive().equation(target).text == text


def test_batch_norm_is_derived_through_its_statistics_then_rewritten():
    d = load("batchnorm_mlp").derive()
    steps = [str(s) for s in d.steps]
    assert any(s.startswith("sum over uses: dZ1 = [from mu1]") for s in steps)  # Z through μ and through Z − μ
    assert any(s.startswith("sum over uses: dC1 = [from var1]") for s in steps)  # Z − μ through σ² and through Ẑ
    (rewrite,) = [s for s in d.steps if isinstance(s, NamedRewrite)]
    assert [t for t, _ in rewrite.staged] == ["dZhat1", "dvar1", "dC1", "dmu1", "dZ1"]
    assert rewrite.error <= 1e-12
    assert {"dvar1", "dmu1", "dC1"}.isdisjoint(e.target for e in d.backward)  # the one line replaces the stages


@pytest.mark.parametrize("name", ["batchnorm_mlp", "layernorm_mlp"])
@pytest.mark.parametrize("k", [2, 3])
def test_the_normalisation_rewrite_equals_the_staged_equations_symbolically(name, k):
    """At a small size every entry is a SymPy expression: staged minus one-line simplifies to 0."""
    net = load(name)
    d = net.derive()
    (rewrite,) = [s for s in d.steps if isinstance(s, NamedRewrite)]
    (norm,) = find_normalisations(net)
    rows = 2 if name == "batchnorm_mlp" else k
    dims = {s: rows for s in net.dim_sizes}
    dims[net.m] = k if name == "batchnorm_mlp" else 2
    dims.update({net.constants[c]: sp.Symbol(c, positive=True) for c in net.constants})
    shape = {q: tuple(int(sp.sympify(x).subs(dims)) for x in net.matrices[q].shape) for q in net.matrices}
    env = {}
    for q in ("gamma1", norm.Z, f"d{norm.Zhat.replace('hat', 'tilde')}"):
        base = q.removeprefix("d")
        r, c = shape[base]
        env[q] = sp.Matrix(r, c, lambda i, j, q=q: sp.Symbol(f"{q}_{i}{j}"))
    ev = SymPyEvaluator(env, dims)
    for q in (norm.mu, norm.C, norm.var, norm.Zhat):
        env[q] = ev(net.assignment(q).value)
    for target, expr in rewrite.staged:
        env[target] = ev(expr)
    difference = (env[rewrite.staged[-1][0]] - ev(rewrite.after)).applyfunc(sp.simplify)
    assert difference == sp.zeros(*difference.shape)


@pytest.mark.parametrize("seed", range(5))
def test_the_batch_norm_rewrite_equals_the_staged_equations_at_random_shapes(seed):
    net = load("batchnorm_mlp")
    d = net.derive()
    (rewrite,) = [s for s in d.steps if isinstance(s, NamedRewrite)]
    rng = np.random.default_rng(seed)
    n, m = (int(x) for x in rng.integers(2, 9, 2))
    dims = {**{s: n for s in net.dim_sizes}, net.m: m, net.constants["eps"]: 1e-5}
    Z = rng.normal(size=(n, m)) * rng.uniform(0.1, 10)
    env = {"Z1": Z, "gamma1": rng.normal(size=(n, 1)), "dZtilde1": rng.normal(size=(n, m))}
    env["mu1"] = Z.mean(axis=1, keepdims=True)
    env["C1"] = Z - env["mu1"]
    env["var1"] = (env["C1"] ** 2).mean(axis=1, keepdims=True)
    env["Zhat1"] = env["C1"] / np.sqrt(env["var1"] + 1e-5)
    ev = NumPyEvaluator(env, dims)
    for target, expr in rewrite.staged:
        env[target] = ev(expr)
    np.testing.assert_allclose(ev(rewrite.after), env["dZ1"], rtol=1e-10, atol=1e-12)


# ------------------------------------------------------------------ generated modules
FIVE_POINT = 1e-4


@pytest.mark.parametrize("name", TOPICS)
def test_generated_gradients_match_finite_differences_of_the_training_cost(name):
    mod = _module(name)
    X, Y = mod.demo_data(seed=0)
    X, Y = X[:, :12], Y[:, :12]
    rng = np.random.default_rng(1)
    params = mod.init_params(seed=1)
    for p in mod.PARAMS:
        params[p] = params[p] + 0.3 * rng.standard_normal(params[p].shape)
    grads = mod.gradients(params, X, Y, seed=5)
    for p in mod.PARAMS:
        flat = params[p].reshape(-1)
        numeric = np.zeros(flat.size)
        for i in range(flat.size):
            keep = flat[i]
            values = []
            for k in (-2, -1, 1, 2):
                flat[i] = keep + k * FIVE_POINT
                values.append(mod.loss(params, X, Y, train=True, seed=5))
            flat[i] = keep
            numeric[i] = (values[0] - 8 * values[1] + 8 * values[2] - values[3]) / (12 * FIVE_POINT)
        analytic = grads[p].reshape(-1)
        error = np.linalg.norm(analytic - numeric) / max(np.linalg.norm(analytic) + np.linalg.norm(numeric), 1e-12)
        assert error <= 1e-7, f"{name}: ∂J/∂{p} relative error {error:.1e}"


def test_the_l1_subgradient_takes_sign_0_as_0():
    mod = _module("l1_mlp")
    X, Y = mod.demo_data(seed=0)
    params = mod.init_params(seed=0)
    params["W1"][0, 0] = 0.0
    with_penalty, without = mod.gradients(params, X, Y), mod.gradients(params, X, Y, lam=0.0)
    assert with_penalty["W1"][0, 0] == without["W1"][0, 0]
    assert with_penalty["W1"][1, 1] == pytest.approx(
        without["W1"][1, 1] + 0.05 / X.shape[1] * np.sign(params["W1"][1, 1])
    )


def test_train_takes_lambda_as_a_hyperparameter():
    mod = _module("l2_mlp")
    X, Y = mod.demo_data(seed=0)
    strong, _ = mod.train(X, Y, epochs=200, lr=0.05, optimizer="adam", lam=50.0)
    weak, _ = mod.train(X, Y, epochs=200, lr=0.05, optimizer="adam", lam=0.0)
    assert np.linalg.norm(strong["W1"]) < 0.5 * np.linalg.norm(weak["W1"])


def test_dropout_drops_about_one_unit_in_seven_and_only_in_training():
    mod = _module("dropout_mlp")
    X, Y = mod.demo_data(seed=0)
    params = mod.init_params(seed=0)
    losses = {mod.loss(params, X, Y, train=True, seed=s) for s in range(20)}
    assert len(losses) == 20  # a fresh mask for every seed
    assert len({mod.loss(params, X, Y) for _ in range(3)}) == 1  # none at prediction
    rng = np.random.default_rng(3)
    kept = np.mean(rng.random((16, 100_000)) < mod.KEEP_PROB)  # the module's draw, D = rand < keep_prob
    assert kept == pytest.approx(0.86, abs=0.01)


def test_batch_norm_predictions_use_the_running_averages():
    mod = _module("batchnorm_mlp")
    X, Y = mod.demo_data(seed=0)
    params, _ = mod.train(X, Y, epochs=50, lr=0.05, optimizer="adam", batch_size=32)
    assert set(mod.RUNNING) == {"running_mu1", "running_var1"}
    assert not np.allclose(params["running_var1"], 1.0)
    one = mod.forward(params, X[:, :1])
    np.testing.assert_allclose(mod.forward(params, X)[:, :1], one, rtol=1e-12)


def test_vanishing_gradients_show_in_the_gradient_norms():
    ratios = {}
    for name in ("deep_sigmoid", "deep_relu"):
        mod = _module(name)
        X, Y = mod.demo_data(seed=0)
        norms = mod.gradient_norms(mod.init_params(seed=0), X, Y)
        ratios[name] = norms["W1"] / norms["W6"]
    assert ratios["deep_sigmoid"] < 1e-2  # σ' ≤ 1/4 at every layer
    assert ratios["deep_relu"] > 5e-2  # ReLU' = 1 on active units, He initialisation


# ------------------------------------------------------------------ verify
@pytest.mark.parametrize(
    ("name", "claim"),
    [
        ("l2_mlp", "dW1 = (1/m) dZ1 X.T + (lam/m) W1"),
        ("l1_mlp", "dW1 = (1/m) dZ1 X.T + (lam/m) np.sign(W1)"),
        ("dropout_mlp", "dA1 = dAtilde1 * D1 / keep_prob"),
        (
            "batchnorm_mlp",
            (
                "dZ1 = (1/m) gamma1 / np.sqrt(var1 + eps) * (m * dZtilde1 - np.sum(dZtilde1, axis=1, keepdims=True)"
                " - Zhat1 * np.sum(dZtilde1 * Zhat1, axis=1, keepdims=True))"
            ),
        ),
        ("batchnorm_mlp", "dZ1 = gamma1 / np.sqrt(var1 + eps) * (dZtilde1 - dbeta1 - Zhat1 * dgamma1)"),
        ("batchnorm_mlp", "dgamma1 = (1/m) np.sum(dZtilde1 * Zhat1, axis=1, keepdims=True)"),
        ("batchnorm_mlp", "dmu1 = -(1/m) np.sum(dC1, axis=1, keepdims=True)"),
        ("label_smoothing", "dZ2 = A2 - Q"),
    ],
)
def test_verify_accepts_the_standard_formulas(name, claim):
    result = run_cli("verify", name, "--claim", claim)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "holds" in result.stdout


@pytest.mark.parametrize(
    ("name", "latex"),
    [
        ("l2_mlp", r"dW^{[1]} = \frac{1}{m} dZ^{[1]} X^T + \frac{\lambda}{m} W^{[1]}"),
        ("dropout_mlp", r"dA^{[1]} = \frac{d\tilde{A}^{[1]} \odot D^{[1]}}{keep\_prob}"),
        (
            "batchnorm_mlp",
            r"\mathrm{d}\gamma^{[1]} = \frac{1}{m} \sum_{columns} \left(\mathrm{d}\tilde{Z}^{[1]} \odot \hat{Z}^{[1]}\right)",
        ),
    ],
)
def test_verify_accepts_the_standard_formulas_in_latex(name, latex):
    result = run_cli("verify", name, "--latex", latex)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "holds" in result.stdout


@pytest.mark.parametrize(
    ("name", "claim", "slip"),
    [
        ("dropout_mlp", "dA1 = dAtilde1 * D1", "the inverted-dropout scaling 1/keep_prob is missing"),
        ("l2_mlp", "dW1 = (1/m) dZ1 X.T + lam W1", "λ where the gradient has λ/m"),
        ("l2_mlp", "dW1 = (1/m) dZ1 X.T", "the penalty's term (λ/m) W1 is missing"),
        ("l2_mlp", "db1 = (1/m) np.sum(dZ1, axis=1, keepdims=True) + (lam/m) b1", "the bias b1 is not regularised"),
        (
            "batchnorm_mlp",
            (
                "dZ1 = (1/m) gamma1 / np.sqrt(var1 + eps) * (m * dZtilde1 - Zhat1 * np.sum(dZtilde1 * Zhat1, axis=1,"
                " keepdims=True))"
            ),
            "the term −(Σ_columns dZtilde1) 1ᵀ is missing: it comes through the batch's μ",
        ),
    ],
)
def test_verify_refuses_the_usual_slips_with_a_counterexample_and_names_them(name, claim, slip):
    result = run_cli("verify", name, "--claim", claim)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "counterexample:" in result.stdout
    assert f"likely slip: {slip}" in result.stdout


# ------------------------------------------------------------------ handouts
@pytest.mark.parametrize(
    ("name", "sections"),
    [
        ("l2_mlp", [r"\section{Regularisation}", "weight decay", r"\left(1 - \frac{\alpha \lambda}{m}\right)"]),
        ("l1_mlp", [r"\section{Regularisation}", r"\operatorname{sign}(0) = 0"]),
        ("dropout_mlp", [r"\section{Inverted dropout}", r"\paragraph{Why nothing is rescaled at test time.}"]),
        (
            "batchnorm_mlp",
            [r"\section{Batch normalisation}", "running", r"\frac{m}{m-1}", "batchnorm\\_backward\\_alt"],
        ),
        ("layernorm_mlp", [r"\section{Layer normalisation}", "no running"]),
        ("deep_sigmoid", [r"\section{Vanishing gradients}", r"\addplot", r"\leq \frac{1}{4}"]),
        ("deep_relu", [r"\section{Vanishing gradients}", r"\addplot"]),
        ("label_smoothing", [r"\section{Label smoothing}"]),
    ],
)
def test_each_topic_has_its_handout_section(name, sections):
    tex = (ROOT / "docs" / "handouts" / f"{name}.tex").read_text(encoding="utf-8")
    for text in sections:
        assert text in tex, (name, text)
