"""word2vec (cs224n assignment 2): the derivation is the course's, the gradients agree with finite differences, a
negative sample drawn twice has its terms summed, verify reads the course's printed forms one pair at a time and
names the classic slips with a counterexample, and the module learns word vectors from the shipped corpus."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from codegen.emit.load import load_file
from derive import DeclarationError, VecNetwork, dots, embed
from derive.catalogue import load
from derive.gradcheck import check, evaluate, random_instance, rel_errors
from derive.verify.pairs import PairTarget, reads_pairs
from derive.verify.scalar import verify_spec

ROOT = Path(__file__).resolve().parent.parent
NAMES = ("word2vec_softmax", "word2vec_negative")


@pytest.fixture(scope="module")
def derived():
    return {n: load(n).derive() for n in NAMES}


@pytest.fixture(scope="module")
def target():
    return {n: PairTarget(load(n)) for n in NAMES}


def test_the_derivation_is_cs224ns(derived):
    softmax = {e.target: e.text for e in derived["word2vec_softmax"].backward}
    assert softmax == {
        "dz": "dz = yhat − y",  # ŷ − y
        "dU": "dU = v_c dzᵀ",  # ∂J/∂U = v_c (ŷ − y)ᵀ
        "dv_c": "dv_c = U dz",  # ∂J/∂v_c = U (ŷ − y)
        "dV": "dV = scatter_add(dv_c, c)",  # the center vector's column, once per pair
    }
    negative = {e.target: e.text for e in derived["word2vec_negative"].backward}
    assert negative == {
        "ds": "ds = yhat − y",  # σ(u_oᵀv_c) − 1 for o, σ(u_kᵀv_c) for each sample
        "dU_O": "dU_O = v_c dsᵀ",  # ∂J/∂u_o and every ∂J/∂u_k
        "dU": "dU = scatter_add(dU_O, O)",  # a word drawn twice: its terms summed
        "dv_c": "dv_c = U_O ds",  # Σ over the looked-up vectors
        "dV": "dV = scatter_add(dv_c, c)",
    }
    forward = {e.target: e.text for e in derived["word2vec_negative"].forward}
    assert forward["s"] == "s = U_Oᵀ v_c" and forward["J"] == "J = Σ_columns binary_cross_entropy(yhat, y)"


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("m", [1, 6])
def test_gradients_match_finite_differences(derived, name, m):
    errors = rel_errors(check(derived[name], m=m, seed=m))
    assert max(errors.values()) <= 1e-7, errors


def test_a_negative_sample_drawn_twice_has_its_terms_summed(derived):
    d = derived["word2vec_negative"]
    env = random_instance(d, m=1, seed=3)
    o, w, x = 5, 7, 9
    K = env["O"].shape[0] - 1
    env["O"] = np.array([[o, w, w] + [x] * (K - 2)]).T  # w drawn twice, x drawn K − 2 times
    env["c"] = np.array([[2]])
    env["y"] = np.eye(K + 1)[:, [0]]  # the labels: 1 for o, 0 for every sample
    values = evaluate(d, env, 1)
    blocks = values["dU_O"].reshape(K + 1, -1).T  # column j: the gradient of the j-th looked-up vector
    np.testing.assert_allclose(values["dU"][:, w], blocks[:, 1] + blocks[:, 2])
    np.testing.assert_allclose(values["dU"][:, x], blocks[:, 3:].sum(axis=1))
    np.testing.assert_allclose(values["dU"][:, o], blocks[:, 0])
    s = values["s"][:, 0]  # ∂J/∂u_w = Σ_{k: w_k = w} (1 − σ(−u_kᵀ v_c)) v_c
    v_c = values["v_c"][:, 0]
    np.testing.assert_allclose(values["dU"][:, w], 2 / (1 + np.exp(-s[1])) * v_c)


def test_dots_needs_stacked_vectors_of_the_vectors_rows():
    net = VecNetwork("bad")
    d, e, nV, n = net.dims(d=3, e=2, nV=6, n=3)
    O, c = net.indices("O", n, nV), net.indices("c", 1, nV)
    U, V = net.param("U", (d, nV)), net.param("V", (e, nV))
    U_O, v = net.let("U_O", embed(U, O)), net.let("v", embed(V, c))
    with pytest.raises(DeclarationError, match="shape mismatch in 's = .*': U_O is d·n×m: its rows are not a whole"):
        net.let("s", dots(U_O, v))


def test_pairs_are_read_by_what_the_declaration_holds():
    assert all(reads_pairs(load(n)) for n in NAMES)
    assert not reads_pairs(load("rnn_lm")) and not reads_pairs(load("one_hidden_layer"))


# ---------------------------------------------------------------- verify: the course's printed forms
HOLDS = [
    ("word2vec_softmax", "dv_c = U (yhat - y)", False),
    ("word2vec_softmax", "dU = v_c (yhat - y).T", False),
    ("word2vec_softmax", r"\frac{\partial J}{\partial v_c} = U(\hat{y} - y)", True),
    ("word2vec_softmax", r"\frac{\partial J}{\partial U} = v_c (\hat{y} - y)^\top", True),
    ("word2vec_softmax", r"\frac{\partial J}{\partial v_c} = -u_o + \sum_{w \in V} \hat{y}_w u_w", True),
    ("word2vec_softmax", r"\frac{\partial J}{\partial u_w} = (\hat{y}_w - y_w) v_c", True),
    ("word2vec_softmax", "du_o = (ŷ_o - 1) v_c", False),
    ("word2vec_negative", "dv_c = -(1 - σ(u_o.T v_c)) u_o + Σ_k (1 - σ(-u_k.T v_c)) u_k", False),
    ("word2vec_negative", "dv_c = (σ(u_o.T v_c) - 1) u_o + sum_{k=1}^K σ(u_k.T v_c) u_k", False),  # J&M's form
    (
        "word2vec_negative",
        (
            r"\frac{\partial J}{\partial v_c} = -\left(1 - \sigma(u_o^\top v_c)\right) u_o"
            r" + \sum_{k=1}^{K} \left(1 - \sigma(-u_{w_k}^\top v_c)\right) u_{w_k}"
        ),
        True,
    ),
    ("word2vec_negative", "du_o = -(1 - σ(u_o.T v_c)) v_c", False),
    ("word2vec_negative", r"\frac{\partial J}{\partial u_k} = (1 - \sigma(-u_k^\top v_c)) v_c", True),
    (
        "word2vec_negative",
        r"\frac{\partial J}{\partial u_{w_s}} = \sum_{k: w_k = w_s} (1 - \sigma(-u_{w_k}^\top v_c)) v_c",
        True,
    ),
    ("word2vec_negative", "dv_c = U_O (yhat - y)", False),  # the handout's own: one column of U_O is d×(K + 1)
    ("word2vec_negative", "dU_O = v_c ds.T", False),
]


@pytest.mark.parametrize("name, claim, latex", HOLDS)
def test_the_courses_forms_verify(target, name, claim, latex):
    verdict = verify_spec(target[name], None, claim, latex=latex)
    assert verdict.equal, verdict.report()


SLIPS = [
    # the sign of the negative-sample term
    (
        "dv_c = -(1 - σ(u_o.T v_c)) u_o - Σ_k (1 - σ(-u_k.T v_c)) u_k",
        False,
        "the sign of the negative samples' term",
    ),
    ("du_k = -(1 - σ(-u_k.T v_c)) v_c", False, "the sign of the negative sample's term"),
    # σ(x) written where σ(−x) belongs
    (
        r"\frac{\partial J}{\partial v_c} = -(1 - \sigma(u_o^\top v_c)) u_o + \sum_{k=1}^{K} (1 - \sigma(u_k^\top v_c)) u_k",
        True,
        "σ(x) written where σ(−x) belongs",
    ),
    ("du_k = (1 - σ(u_k.T v_c)) v_c", False, "σ(x) written where σ(−x) belongs"),
    # repeated samples not summed
    (
        r"\frac{\partial J}{\partial u_{w_s}} = (1 - \sigma(-u_{w_s}^\top v_c)) v_c",
        True,
        "a word drawn twice among the negative samples has its terms summed",
    ),
]


@pytest.mark.parametrize("claim, latex, slip", SLIPS)
def test_the_classic_slips_are_named_with_a_counterexample(target, claim, latex, slip):
    verdict = verify_spec(target["word2vec_negative"], None, claim, latex=latex)
    assert not verdict.equal and verdict.hint and verdict.hint.startswith(slip), verdict.report()
    assert verdict.counterexample is not None
    if "twice" in slip:  # the counterexample is a draw with a repeated sample
        samples = str(verdict.counterexample.point["w_1…w_K"]).split()
        assert len(samples) != len(set(samples)), verdict.report()


SOFTMAX_SLIPS = [  # naive softmax: (claim, the start of the slip's name)
    # cs224n's code keeps the outside vectors as rows (|V| × d): its gradient is dUᵀ here
    ("dU = (yhat - y) v_c.T", "dU transposed: the claim is dUᵀ, one row per word, as cs224n's code stores"),
    ("dU = v_c yhat.T", "−y left out: the loss's gradient at the scores is yhat − y"),
    ("du_w = yhat_w v_c", "−y left out"),
    ("dv_c = Σ_w yhat_w u_w", "−y left out"),  # −u_o missing
    ("dv_c = U.T (yhat - y)", "an extra transpose: U.T written for U"),
    ("dv_c = U (y - yhat)", "a flipped sign"),
]


@pytest.mark.parametrize("claim, slip", SOFTMAX_SLIPS)
def test_the_softmax_slips_are_named_with_a_counterexample(target, claim, slip):
    verdict = verify_spec(target["word2vec_softmax"], None, claim)
    assert not verdict.equal and verdict.hint and verdict.hint.startswith(slip), verdict.report()
    assert verdict.counterexample is not None


def test_a_shape_error_names_the_shape_the_derivation_has(target):
    verdict = verify_spec(target["word2vec_softmax"], None, "dU = (yhat - y) v_c.T")
    assert verdict.counterexample.true == "shape (4, 8)", verdict.report()  # d × |V|, not the trial's 1 × 1
    assert "shape (8, 4), not (4, 8)" in str(verdict.counterexample.claimed)


def test_a_per_pair_form_with_1_over_m_is_wrong_for_a_batch(target):
    verdict = verify_spec(target["word2vec_softmax"], None, "dU = (1/m) v_c (yhat - y).T")
    assert not verdict.equal and "J sums the pairs' losses, so no 1/m" in verdict.hint, verdict.report()


def test_a_free_word_variable_must_be_bound(target):
    from derive.verify.claims import ClaimError

    with pytest.raises(ClaimError, match="the word variable k is free on the right"):
        verify_spec(target["word2vec_negative"], None, "dv_c = σ(u_k.T v_c) u_k")


# ---------------------------------------------------------------- the module learns word vectors
def test_the_module_learns_neighbours_from_the_shipped_corpus():
    mod = load_file(ROOT / "generated" / "word2vec_negative.py", "golden_word2vec_negative")
    (X, Y), (X_test, Y_test), vocab = mod.load_data()
    params = mod.init_params(seed=0)
    before = mod.heldout_loss(params, X_test, Y_test), mod.neighbour_agreement(params, vocab)
    params, _ = mod.train_word_vectors(X, Y, epochs=4, lr=0.05, batch_size=16, seed=0, params=params)
    after = mod.heldout_loss(params, X_test, Y_test), mod.neighbour_agreement(params, vocab)
    assert after[0] < before[0] and before[1] < 0.2 and after[1] > 0.7, (before, after)
    assert {"dog", "kitten", "puppy", "rabbit"} & {w for w, _ in mod.neighbours(params, vocab, "cat", 3)}
