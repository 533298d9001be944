"""Self-attention (issue 11): the row-wise softmax, the causal mask and rowsum in the op table, and the
catalogue's self_attention derivation, as the course writes it (rows are positions)."""

import subprocess
import sys
import time

import numpy as np
import pytest
import sympy as sp

from derive import DeclarationError, VecNetwork, causal_mask, softmax_rows, transpose
from derive.catalogue import load
from derive.ir.numeric import run
from derive.ops import Apply, PullContext, pull_back
from derive.ops.attention_nodes import Causal, Tril
from derive.ops.attention_numpy import causal_mask as np_causal_mask
from derive.ops.attention_numpy import softmax_rows as np_softmax_rows


@pytest.fixture(scope="module")
def derivation():
    return load("self_attention").derive()


def test_the_attention_backward_reads_as_the_course_writes_it(derivation):
    text = {e.target: e.text for e in derivation.equations}
    assert text["S"] == "S = causal_mask((1/√d) Q Kᵀ)"
    assert text["P"] == "P = softmax_rows(S)"
    assert text["O"] == "O = P V"
    assert text["dV"] == "dV = Pᵀ dO"
    assert text["dP"] == "dP = dO Vᵀ"
    assert text["dS"] == "dS = P ⊙ (dP − rowsum(dP ⊙ P))"
    assert text["dQ"] == "dQ = (1/√d) dS K"
    assert text["dK"] == "dK = (1/√d) dSᵀ Q"
    assert text["dWq"] == "dWq = Xᵀ dQ"
    assert text["dWk"] == "dWk = Xᵀ dK"
    assert text["dWv"] == "dWv = Xᵀ dV"
    assert text["dX"] == "dX = dQ Wqᵀ + dK Wkᵀ + dV Wvᵀ"
    shapes = {e.target: tuple(str(x) for x in e.shape) for e in derivation.equations}
    assert shapes["S"] == shapes["P"] == shapes["dS"] == ("m", "m")
    assert shapes["Q"] == shapes["dK"] == ("m", "d") and shapes["dWq"] == ("dm", "d")


def test_the_row_softmax_step_writes_the_jacobian_out_before_it_simplifies(derivation):
    step = next(s for s in derivation.steps if getattr(s, "target", None) == "dS")
    text = str(step)
    assert "diag(p) − p pᵀ" in text and "p ⊙ g − p (pᵀ g)" in text
    assert text.index("diag(p) − p pᵀ") < text.index("P ⊙ (G − rowsum(G ⊙ P))")
    assert r"\operatorname{diag}(p) - p\,p^{\top}" in step.latex


def test_the_causal_mask_passes_ds_back_unchanged_and_otherwise_zeroes_the_upper_triangle():
    S, G = sp.MatrixSymbol("S", 4, 4), sp.MatrixSymbol("G", 4, 4)
    [(operand, contribution, key)] = pull_back(Causal(S), G, PullContext())
    assert operand == S and contribution == Tril(G) and key == "causal"
    ctx = PullContext({Apply("softmax_rows", S): sp.MatrixSymbol("P", 4, 4)})
    [(operand, contribution, key)] = pull_back(Causal(sp.MatrixSymbol("Q", 4, 4)), sp.MatrixSymbol("dS", 4, 4), ctx)
    assert contribution == sp.MatrixSymbol("dS", 4, 4) and key == "causal-softmax"


def test_masked_entries_of_ds_are_zero_and_the_gradients_match_differences(derivation):
    net = derivation.network
    rng = np.random.default_rng(3)
    T = 7
    dims = {**{d: 3 for d in net.dim_sizes}, net.m: T}
    dims[next(d for d in net.dim_sizes if d.name == "nv")] = 5
    env = {"W": rng.integers(1, 5, size=(1, T)), "Y": np.eye(5)[:, rng.integers(0, 5, size=T)]}
    for name, shape in net.params():
        env[name] = rng.standard_normal(tuple(int(sp.sympify(x).subs(dims)) for x in shape))
    values = run(derivation.equations, env, dims)
    dS = values["dS"]
    upper = np.triu(np.ones((T, T), dtype=bool), 1)
    assert np.all(dS[upper] == 0) and np.all(values["P"][upper] == 0)
    assert np.count_nonzero(dS[~upper]) > T
    np.testing.assert_allclose(values["P"].sum(axis=1), 1)

    def cost(p):
        return run(derivation.forward, {**env, **p}, dims)["J"][0, 0]

    for name in ("Wq", "Wk", "Wv", "E"):
        numeric = np.zeros_like(env[name])
        for idx in np.ndindex(*env[name].shape):
            plus, minus = env[name].copy(), env[name].copy()
            plus[idx] += 1e-6
            minus[idx] -= 1e-6
            numeric[idx] = (cost({name: plus}) - cost({name: minus})) / 2e-6
        np.testing.assert_allclose(values[f"d{name}"], numeric, rtol=1e-6, atol=1e-9)


def test_derivation_takes_under_two_seconds():
    start = time.process_time()
    load("self_attention").derive()
    assert time.process_time() - start < 2.0


def test_the_numpy_forms_are_stable_and_masked():
    S = np.array([[1e4, -3.0, 7.0], [2.0, 1e4, 5.0], [-1e4, 0.0, 1e4]])
    P = np_softmax_rows(np_causal_mask(S))
    assert np.all(np.isfinite(P)) and np.allclose(P.sum(axis=1), 1)
    assert np.all(P[np.triu_indices(3, 1)] == 0)
    np.testing.assert_allclose(P[2], [0.0, 0.0, 1.0])


def test_square_scores_are_required():
    net = VecNetwork("bad_attention")
    n, k = net.dims(n=3, k=2)
    X = net.input("X", n)
    Wq = net.param("Wq", (n, k))
    Q = net.let("Q", transpose(X) * Wq)
    with pytest.raises(DeclarationError, match="square attention scores"):
        net.let("P", softmax_rows(causal_mask(Q)))


def run_cli(*args):
    return subprocess.run(
        [sys.executable, "-m", "codegen", *args], capture_output=True, text=True, check=False, timeout=120
    )


@pytest.mark.parametrize(
    "claim",
    [
        "dV = P.T @ dO",
        "dP = dO @ V.T",
        "dS = P * (dP - np.sum(dP * P, axis=1, keepdims=True))",
        "dQ = dS @ K / np.sqrt(d)",
        "dK = dS.T @ Q / np.sqrt(d)",
        "dWq = X.T @ dQ",
    ],
)
def test_verify_accepts_the_standard_attention_formulas(claim):
    result = run_cli("verify", "self_attention", "--claim", claim)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "holds" in result.stdout


@pytest.mark.parametrize(
    ("claim", "slip"),
    [
        ("dS = dP * P", "the rowsum correction is missing: the row softmax's Jacobian is diag(p) − p pᵀ"),
        ("dQ = dS @ K", "the scale 1/√d is missing"),
        ("dK = dS.T @ Q", "the scale 1/√d is missing"),
        ("dK = dS @ Q / np.sqrt(d)", "a missing transpose: dS written for dS.T"),
    ],
)
def test_verify_names_the_usual_attention_slips_with_a_counterexample(claim, slip):
    result = run_cli("verify", "self_attention", "--claim", claim)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "counterexample:" in result.stdout
    assert f"likely slip: {slip}" in result.stdout


# ------------------------------------------------------------------ transformer_block
def test_the_transformer_block_derives_the_attention_the_residuals_and_layer_norm():
    start = time.process_time()
    d = load("transformer_block").derive()
    assert time.process_time() - start < 2.0
    text = {e.target: e.text for e in d.equations}
    assert text["dS"] == "dS = P ⊙ (dP − rowsum(dP ⊙ P))"
    assert text["dQ"] == "dQ = (1/√d) dS K" and text["dK"] == "dK = (1/√d) dSᵀ Q" and text["dV"] == "dV = Pᵀ dO"
    assert text["dX"] == "dX = dQ Wqᵀ + dK Wkᵀ + dV Wvᵀ + dH"  # four uses: Q, K, V and the residual
    assert text["dHtilde"] == "dHtilde = dG1 W1ᵀ + dH2"  # the feedforward network and its residual
    assert text["dG1"] == "dG1 = dF1 ⊙ 1[G1 ≥ 0]"
    assert text["dH"] == "dH = (1/d) (d dHhat − Σ_columns (dHhat ⊙ Hhat) ⊙ Hhat − Σ_columns dHhat)/√(var + ε)"
    rewrite = next(s for s in d.steps if getattr(s, "target", None) == "dH" and hasattr(s, "after"))
    assert rewrite.name == "the layer-norm backward in one line" and rewrite.error < 1e-9
    assert text["dgamma"] == "dgamma = Σ_rows(dHtilde ⊙ Hhat)" and text["db1"] == "db1 = Σ_rows(dG1)"


def test_the_transformer_block_handout_has_attention_and_layer_norm_sections():
    from pathlib import Path

    tex = (Path(__file__).resolve().parent.parent / "docs" / "handouts" / "transformer_block.tex").read_text()
    assert r"\section{Self-attention: the row-wise softmax}" in tex and r"\section{Layer normalisation}" in tex
    assert "one per position" in tex and r"\operatorname{diag}(p) - p\,p^{\top}" in tex


def test_verify_reads_the_transformer_blocks_attention():
    result = run_cli("verify", "transformer_block", "--claim", "dS = dP * P")
    assert result.returncode == 1 and "likely slip: the rowsum correction is missing" in result.stdout
    result = run_cli("verify", "transformer_block", "--claim", "dX = dQ @ Wq.T + dK @ Wk.T + dV @ Wv.T + dH")
    assert result.returncode == 0, result.stdout + result.stderr
