"""Second order: the Hessian the engine reads off the R-operator (newton_logistic, CS229's H), Newton's
method against gradient descent, and the refusals (a matrix parameter, newton where no Hessian is derived)."""

from pathlib import Path

import numpy as np
import pytest

from codegen.emit.load import load_file
from derive import ChainruleError, VecNetwork, binary_cross_entropy, sigmoid
from derive.catalogue import load
from derive.gradcheck import dims_of, evaluate, five_point, random_instance
from derive.ir.hessian import hessian
from derive.ir.numeric import NumPyEvaluator
from derive.training import with_training

NET = load("newton_logistic")
D = NET.derive()
H = hessian(D)


def test_the_engine_derives_cs229s_hessian_block_by_block():
    assert [b.text for b in H.blocks.values()] == [
        "H[w, w] = (1/m) X diag(A ⊙ (1 − A)) Xᵀ",
        "H[b, w] = (1/m) (A ⊙ (1 − A)) Xᵀ",
        "H[w, b] = (1/m) X (A ⊙ (1 − A))ᵀ",
        "H[b, b] = (1/m) Σ_columns (A ⊙ (1 − A))",
    ]


def full_hessian(env, m):
    values = evaluate(D, env, m)
    ev = NumPyEvaluator(values, dims_of(NET, m))
    return np.block([[ev(H.blocks[(r, c)].expr) for c in H.params] for r in H.params])


def flat_gradient(env, m):
    values = evaluate(D, env, m)
    return np.concatenate([np.ravel(values[f"d{p}"]) for p in H.params])


@pytest.mark.parametrize("seed", range(3))
def test_the_hessian_matches_differences_of_the_gradients_and_is_positive_semidefinite(seed):
    m = 7
    env = random_instance(D, m, seed, scale=1.0)
    Hm = full_hessian(env, m)
    columns = []
    for p in H.params:
        for i in range(env[p].size):

            def moved(r, p=p, i=i):
                at = {k: np.array(v) for k, v in env.items()}
                at[p].reshape(-1)[i] += r
                return flat_gradient(at, m)

            columns.append(five_point(moved, 1e-4))
    numeric = np.stack(columns, axis=1)
    assert np.linalg.norm(Hm - numeric) / np.linalg.norm(numeric) <= 1e-7
    # CS229's form with the intercept row: X̃ = [X; 1ᵀ], H = (1/m) X̃ diag(s) X̃ᵀ, s = σ(1 − σ)
    Xt = np.vstack([env["X"], np.ones((1, m))])
    A = evaluate(D, env, m)["A"]
    np.testing.assert_allclose(Hm, (Xt * (A * (1 - A))) @ Xt.T / m, rtol=1e-12)
    z = np.random.default_rng(seed).standard_normal((Hm.shape[0], 50))
    assert np.all(np.einsum("ij,ik,kj->j", z, Hm, z) >= 0)  # zᵀ H z = (1/m) Σ s_i (x̃_iᵀ z)² ≥ 0


@pytest.fixture(scope="module")
def module(tmp_path_factory):
    from codegen.cli.cmd_generate import render

    text, _ = render("newton_logistic", "newton_logistic")
    path = tmp_path_factory.mktemp("newton") / "newton_logistic.py"
    path.write_text(text)
    return load_file(path, "second_order_newton_logistic")


def steps(mod, optimizer, lr, limit=2000):
    X, Y = mod.demo_data()
    params, state = mod.init_params(seed=0), {}
    for t in range(1, limit + 1):
        if optimizer == "newton":
            mod.newton_step(params, X, Y, lr)
        else:
            mod.update(params, mod.gradients(params, X, Y), state, optimizer, lr, t)
        if np.sqrt(sum(np.sum(g * g) for g in mod.gradients(params, X, Y).values())) <= 1e-8:
            return t
    return None


def test_newton_converges_in_a_handful_of_steps_where_gradient_descent_needs_hundreds(module):
    """‖∇J‖ ≤ 1e-8 on the demo data: Newton in 5 steps, gradient descent (α = 1) in 267."""
    assert steps(module, "newton", 1.0) <= 6
    assert steps(module, "sgd", 1.0) >= 200


def test_a_matrix_parameter_has_no_hessian_as_a_matrix_and_newton_is_refused():
    net = load("one_hidden_layer")
    with pytest.raises(ChainruleError, match="'W1' is n1×n0 \\(use hvp\\(params, X, Y, V\\)\\)"):
        hessian(net.derive())
    from codegen.emit.load import context_for

    with_training(net, optimizer="newton")
    with pytest.raises(ChainruleError, match="optimizer='newton'\\) needs the Hessian as a matrix"):
        context_for(net, "one_hidden_layer")


def test_a_copy_under_another_name_gets_the_same_hessian():
    net = VecNetwork("my_logit")
    n = net.dims(n=2)
    X, Y = net.input("X", n), net.target("Y", 1)
    w, c = net.param("theta", (1, n)), net.param("c", (1, 1))
    A = net.let("h", sigmoid(net.let("z", w * X + c)))
    net.cost(binary_cross_entropy(A, Y))
    assert hessian(net.derive()).blocks[("theta", "theta")].text == "H[theta, theta] = (1/m) X diag(h ⊙ (1 − h)) Xᵀ"


# ---- verify: the Hessian as CS229 prints it, and its classic slips, each with a counterexample
@pytest.fixture(scope="module")
def target():
    from derive.verify.vec_target import VecTarget

    return VecTarget(NET)


@pytest.mark.parametrize(
    "claim, latex",
    [
        ("H = (1/m) X diag(A ⊙ (1 − A)) Xᵀ", False),
        ("H = (X * (A * (1 - A))) @ X.T / m", False),
        ("H_b_b = (1/m) Σ_columns(A ⊙ (1 − A))", False),
        (r"H = \frac{1}{m} X \operatorname{diag}(\sigma(Z) \odot (1 - \sigma(Z))) X^\top", True),
    ],
)
def test_verify_accepts_the_hessian_as_courses_print_it(target, claim, latex):
    from derive.verify.vectorised import verify_vector

    verdict = verify_vector(target, None, claim, latex=latex)
    assert verdict, verdict


@pytest.mark.parametrize(
    "claim, slip",
    [
        ("H = X diag(A ⊙ (1 − A)) Xᵀ", "a missing factor 1/m"),
        ("H = (1/m) Xᵀ diag(A ⊙ (1 − A)) X", "the inner and outer products swapped"),
        ("H = (1/m) X Xᵀ", "σ(1 − σ) dropped"),
    ],
)
def test_verify_names_each_classic_hessian_slip_with_a_counterexample(target, claim, slip):
    from derive.verify.vectorised import verify_vector

    verdict = verify_vector(target, None, claim)
    assert not verdict
    assert verdict.hint.startswith(slip), verdict.hint
    assert verdict.counterexample


# ---- Adam, derived: the handout's form is the module's
def test_the_adam_handout_derives_the_correction_and_names_the_modules_variant():
    from codegen.handout.builder import HandoutOptions, render

    tex = render(load("two_layer_sigmoid"), HandoutOptions(optimizer="adam"))
    assert r"\sum_{i<t} \beta_1^i = \frac{1 - \beta_1^t}{1 - \beta_1}" in tex
    assert r"\sqrt{\hat{v} + \epsilon}" in tex and r"\beta_2 = 0.99" in tex  # the variants, named
    source = (Path(__file__).resolve().parent.parent / "generated" / "one_hidden_layer.py").read_text()
    assert "Kingma and Ba's Algorithm 1" in source and "ε outside the square root" in source


def test_the_modules_adam_is_the_handouts_form(module):
    """θ ← θ − α m̂/(√v̂ + ε), m̂ = m/(1 − β1ᵗ), v̂ = v/(1 − β2ᵗ), t from 1, against the module's update."""
    rng = np.random.default_rng(0)
    params = {name: rng.standard_normal(shape) for name, (shape, _, _) in module.PARAMS.items()}
    ours = {k: v.copy() for k, v in params.items()}
    m = {k: np.zeros_like(v) for k, v in params.items()}
    v = {k: np.zeros_like(p) for k, p in params.items()}
    state = {}
    for t in range(1, 6):
        grads = {k: rng.standard_normal(p.shape) for k, p in params.items()}
        module.update(ours, grads, state, "adam", 0.01, t, beta1=0.9, beta2=0.999, eps=1e-8)
        for k, g in grads.items():
            m[k] = 0.9 * m[k] + 0.1 * g
            v[k] = 0.999 * v[k] + 0.001 * g**2
            params[k] = params[k] - 0.01 * (m[k] / (1 - 0.9**t)) / (np.sqrt(v[k] / (1 - 0.999**t)) + 1e-8)
    for k, want in params.items():
        np.testing.assert_allclose(ours[k], want, rtol=1e-14)
