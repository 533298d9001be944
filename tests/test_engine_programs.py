"""The one engine on matrix programs that are not chains: a residual, an L2 penalty, a tied weight.

Each derives with its steps (the adjoint of a quantity used twice is the sum
over its uses), matches central finite differences, generates a module whose
gradients match finite differences of its own loss, and accepts its standard
formula through verify.  Bad programs get one line naming the problem and
its place, and exit status 2.
"""

import subprocess
import sys
import textwrap

import numpy as np
import pytest
from test_ops import ROWS, network

from codegen.emit.load import load_module
from derive.catalogue import load
from derive.gradcheck import check, five_point, worst
from derive.ir.steps import SumOverUses

PROGRAMS = ("residual_mlp", "l2_mlp", "tied_autoencoder")


def backward_texts(name):
    return {e.target: e.text for e in load(name).derive().backward}


def test_residual_collects_the_skip_and_the_layer():
    d = load("residual_mlp").derive()
    assert d.equation("H").text == "H = A1 + A2"
    assert d.equation("dA1").text == "dA1 = W2ᵀ dZ2 + dH"
    assert d.equation("dA1").kind == "sum"
    assert [t.via for t in d.equation("dA1").terms] == ["Z2", "H"]
    (step,) = [s for s in d.steps if isinstance(s, SumOverUses)]
    assert str(step) == "sum over uses: dA1 = [from Z2] W2ᵀ dZ2 + [from H] dH    [A1 is used 2 times]"


def test_l2_gives_ngs_weight_gradient_and_leaves_biases_alone():
    texts = backward_texts("l2_mlp")
    assert texts["dW1"] == "dW1 = (1/m) dZ1 Xᵀ + (λ/m) W1"
    assert texts["dW2"] == "dW2 = (1/m) dZ2 A1ᵀ + (λ/m) W2"
    assert texts["db1"] == "db1 = (1/m) Σ_columns dZ1"
    assert texts["dZ2"] == "dZ2 = A2 − Y"
    J = load("l2_mlp").derive().equation("J")
    assert J.text == "J = −(1/m) Σ (Y ⊙ log A2 + (1 − Y) ⊙ log(1 − A2)) + (λ/(2m)) (‖W1‖² + ‖W2‖²)"
    assert [t.kind for t in J.terms] == ["loss", "penalty"]


def test_tied_weight_sums_both_uses():
    texts = backward_texts("tied_autoencoder")
    assert texts["dW"] == "dW = (1/m) dZ1 Xᵀ + (1/m) A1 dZ2ᵀ"
    assert texts["dA1"] == "dA1 = W dZ2"


@pytest.mark.parametrize("name", PROGRAMS)
def test_program_gradients_match_finite_differences(name):
    for seed in range(3):
        assert worst(check(load(name).derive(), m=4, seed=seed)) <= 1e-6


def _module_gradcheck(mod, seed=0, m=5):
    X, Y = mod.demo_data(seed)
    X, Y = X[:, :m], Y[:, :m]
    params = mod.init_params(seed)
    grads = mod.gradients(params, X, Y, seed=seed)  # the gradient of the training cost with seed's masks
    worst = 0.0
    for name in mod.PARAMS:
        p = params[name]
        for idx in np.ndindex(*p.shape):
            saved = p[idx]

            def shifted(delta, p=p, idx=idx, saved=saved):
                p[idx] = saved + delta
                return mod.loss(params, X, Y, train=True, seed=seed)

            numeric = five_point(shifted, 1e-4)
            p[idx] = saved
            worst = max(worst, abs(grads[name][idx] - numeric) / max(1e-8, abs(numeric) + abs(grads[name][idx])))
    return worst


@pytest.mark.parametrize("name", PROGRAMS)
def test_generated_program_modules_match_finite_differences(name):
    assert _module_gradcheck(load_module(load(name))) <= 1e-6


@pytest.mark.parametrize("op", sorted(set(ROWS) - {"hadamard"}))  # a mask as a second input: see "dropout"
def test_generated_code_of_every_op_matches_finite_differences(op):
    body, extra, _ = ROWS[op]
    assert _module_gradcheck(load_module(network(3, 2, body, extra))) <= 1e-6


def test_l2_module_takes_lambda_as_a_keyword():
    mod = load_module(load("l2_mlp"))
    X, Y = mod.demo_data(0)
    params = mod.init_params(0)
    base = mod.loss(params, X, Y, lam=0.0)
    penalty = sum(float(np.sum(params[w] ** 2)) for w in ("W1", "W2")) * 0.7 / (2 * X.shape[1])
    assert mod.loss(params, X, Y) == pytest.approx(base + penalty, rel=1e-12)
    g0, g = mod.gradients(params, X, Y, lam=0.0), mod.gradients(params, X, Y)
    np.testing.assert_allclose(g["W1"] - g0["W1"], 0.7 / X.shape[1] * params["W1"], rtol=1e-10)
    np.testing.assert_allclose(g["b1"], g0["b1"], rtol=0, atol=0)


def test_the_autoencoder_reconstructs_its_input():
    mod = load_module(load("tied_autoencoder"))
    X, Y = mod.demo_data(0)
    np.testing.assert_array_equal(X, Y)
    params, history = mod.train(X, Y, epochs=2000, lr=0.05, optimizer="adam")
    assert history[-1] < 0.05 and mod.accuracy(params, X, Y) == 1.0


def run_cli(*args, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "codegen", *args], capture_output=True, text=True, cwd=cwd, check=False, timeout=120
    )


@pytest.mark.parametrize(
    ("name", "claim"),
    [
        ("l2_mlp", "dW1 = (1/m) dZ1 X.T + (lam/m) W1"),
        ("residual_mlp", "dA1 = W2.T dZ2 + dH"),
        ("tied_autoencoder", "dW = (1/m) (dZ1 X.T + A1 dZ2.T)"),
    ],
)
def test_verify_accepts_the_standard_formula_and_refuses_a_missing_term(name, claim):
    assert run_cli("verify", name, "--claim", claim).returncode == 0
    short = claim.rsplit(" + ", 1)[0].replace("(dZ1", "dZ1")
    wrong = run_cli("verify", name, "--claim", short)
    assert wrong.returncode == 1 and "WRONG" in wrong.stdout and "counterexample" in wrong.stdout


@pytest.mark.parametrize("name", PROGRAMS)
def test_cli_derives_generates_and_writes_a_handout(name, tmp_path):
    out = run_cli("derive", name)
    assert out.returncode == 0 and "sum over uses" in out.stdout
    assert run_cli("generate", name, "-o", str(tmp_path / f"{name}.py")).returncode == 0
    assert run_cli("handout", name, "-o", str(tmp_path / f"{name}.tex")).returncode == 0
    assert "The derivation, step by step" in (tmp_path / f"{name}.tex").read_text()


HEADER = """\
from derive import VecNetwork, binary_cross_entropy, frobenius_sq, sigmoid, tanh
net = VecNetwork("bad")
n0, n1 = net.dims(n0=2, n1=3)
X, Y = net.input("X", n0), net.target("Y", 1)
W1, b1 = net.param("W1", (n1, n0)), net.param("b1", (n1, 1))
"""


@pytest.mark.parametrize(
    ("body", "line", "message"),
    [
        ('A1 = net.let("A1", tanh(X * W1 + b1))', 6, "shape mismatch in 'A1 = "),
        ('A1 = net.let("A1", "swish(W1 @ X + b1)")', 6, "unknown activation 'swish' in 'A1'"),
        ('A1 = net.let("A1", "A1 + W1 @ X")', 6, "'A1' is defined in terms of itself (a cycle)"),
        ('A1 = net.let("A1", tanh(W1 * X + b1))\nnet.cost(A1)', 7, "the cost must be a scalar (1×1)"),
        ('A1 = net.let("W1", tanh(W1 * X + b1))', 6, "'W1' is defined twice"),
        ('A1 = net.let("A1", W1 ** X)', 6, "'W1^X' in 'A1' has a matrix as an exponent"),
    ],
)
def test_bad_programs_get_one_line_and_exit_2(tmp_path, body, line, message):
    spec = tmp_path / "spec.py"
    spec.write_text(HEADER + textwrap.dedent(body) + "\nnetwork = net\n")
    out = run_cli("derive", str(spec), cwd=tmp_path)
    assert out.returncode == 2, out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in out.stderr
    assert f"spec.py:{line}:" in lines[0] and message in lines[0], lines[0]
