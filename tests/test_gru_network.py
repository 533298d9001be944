"""The GRU in both conventions: PyTorch's and 11-785's (``gru``: the reset gate after the hidden product) and d2l's and
Cho et al.'s (``gru_d2l``: before it).  Different functions with different gradients, each derived right (finite
differences); the handout sets the equations that differ side by side; verify names a formula of one convention
checked against the other; both read numbers at each step and word embeddings alike."""

from __future__ import annotations

import numpy as np
import pytest

from derive.catalogue import load
from derive.convention import convention_of
from derive.gradcheck import check, rel_errors
from derive.ir.numeric import NumPyEvaluator
from derive.ir.unroll import run_sequence
from derive.verify.claims import ClaimError
from derive.verify.recurrent import RecTarget
from derive.verify.scalar import verify_spec

NAMES = ("gru", "gru_d2l")


@pytest.fixture(scope="module")
def nets():
    return {n: load(n) for n in NAMES}


@pytest.fixture(scope="module")
def targets(nets):
    return {n: RecTarget(net) for n, net in nets.items()}


def texts(net) -> dict[str, str]:
    return {e.target: e.text for e in net.derive().equations if e.kind != "boundary"}


def test_the_reset_gate_is_applied_after_or_before_the_hidden_product(nets):
    pytorch, d2l = texts(nets["gru"]), texts(nets["gru_d2l"])
    assert pytorch["Z_n"] == "Z_n_t = W_n x_t + (U_n h_{t−1} + b_hn) ⊙ r_t + b_n"
    assert d2l["Z_n"] == "Z_n_t = U_n (h_{t−1} ⊙ r_t) + W_n x_t + b_n"
    # where the derivations part: the reset gate, U_n, and what h_{t−1} gets through the candidate
    assert pytorch["dr"] == "dr_t = dZ_n_t ⊙ (U_n h_{t−1} + b_hn)"
    assert d2l["dr"] == "dr_t = U_nᵀ dZ_n_t ⊙ h_{t−1}"
    assert pytorch["dU_n"] == "dU_n = (1/m) Σ_t (dZ_n_t ⊙ r_t) h_{t−1}ᵀ"
    assert d2l["dU_n"] == "dU_n = (1/m) Σ_t dZ_n_t (h_{t−1} ⊙ r_t)ᵀ"
    assert "U_nᵀ (dZ_n_t ⊙ r_t)" in pytorch["dh_prev"] and "U_nᵀ dZ_n_t ⊙ r_t" in d2l["dh_prev"]
    # and everything else is the same equation in both
    same = {t for t in pytorch if t in d2l and pytorch[t] == d2l[t]}
    assert {"dz", "dZ_z", "dn", "dZ_n", "dW_n", "db_n", "dU_z", "dU_r", "dV"} <= same
    assert set(pytorch) - set(d2l) == {"db_hn"}


def test_they_are_different_functions_of_the_same_parameters(nets):
    """With b_hn = 0 the two have the same parameters; one sequence gives different costs unless r = 1."""
    rng = np.random.default_rng(0)
    costs = {}
    for name, net in nets.items():
        d = net.derive()
        dims = {**net.dim_sizes, net.m: 4}
        rng = np.random.default_rng(0)  # the same draws for both
        static = {p: rng.normal(0, 0.8, (net.size(net.matrices[p].shape[0]), net.size(net.matrices[p].shape[1])))
                  for p in ("W_r", "U_r", "b_r", "W_z", "U_z", "b_z", "W_n", "U_n", "b_n", "V", "c")}  # fmt: skip
        static["b_hn"] = np.zeros_like(static["b_n"])
        static["Y"] = np.array([[1.0, 0.0, 1.0, 0.0]])
        steps = [{"x": np.random.default_rng(t).normal(size=(3, 4))} for t in range(net.size(net.recurrence.T))]
        costs[name] = float(run_sequence(d, static, steps, dims, NumPyEvaluator)["J"][0, 0])
    assert abs(costs["gru"] - costs["gru_d2l"]) > 1e-3, costs


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("inputs", ["numbers", "words"])
def test_gradients_match_finite_differences(name, inputs):
    net = load(name) if inputs == "numbers" else _words(name)
    errors = rel_errors(check(net.derive(), m=3, seed=2, h=1e-3))  # five-point: truncation O(h⁴), far below
    assert max(errors.values()) <= 1e-7, errors


def _words(name):
    from derive.catalogue import gru, gru_d2l

    return (gru if name == "gru" else gru_d2l).build("words")


def test_both_read_numbers_at_each_step_and_word_embeddings_alike():
    for name in NAMES:
        numbers, words = load(name), _words(name)
        assert numbers.names("input") == ["x"] and "x" not in numbers.index_inputs
        assert words.names("input") == ["w"] and "w" in words.index_inputs
        assert words.assignment("x").value.__class__.__name__ == "Embed"  # x_t = E[:, w_t]
        step = [t for t in texts(numbers) if t not in ("dE",)]
        assert set(step) <= set(texts(words)), name  # the same step, with the lookup in front


def test_each_declares_the_other_convention(nets):
    for name, other in (("gru", "gru_d2l"), ("gru_d2l", "gru")):
        mine = convention_of(nets[name])
        assert mine.other().name == other and convention_of(mine.other()).other().name == name


# ---------------------------------------------------------------- verify
HOLDS = [
    ("gru", "n_t = tanh(W_n x_t + b_n + r_t * (U_n h_{t-1} + b_hn))", False),
    ("gru", r"n_t = \tanh(W_n x_t + b_n + r_t \odot (U_n h_{t-1} + b_{hn}))", True),
    ("gru", "dr_t = dn_t * (1 - n_t**2) * (U_n h_{t-1} + b_hn)", False),  # 11-785's backward, through tanh'
    ("gru", "dU_n = (1/m) Σ_t (dZ_n_t * r_t) @ h_{t-1}.T", False),
    ("gru", "db_hn = (1/m) Σ_t np.sum(dZ_n_t * r_t, axis=1, keepdims=True)", False),
    ("gru", "dh_{t-1} = U_r.T dZ_r_t + U_z.T dZ_z_t + U_n.T (dZ_n_t * r_t) + dh_t * z_t", False),  # .T (…): a product
    ("gru", r"\mathrm{d}z_{t} = \mathrm{d}h_{t} \odot (h_{t-1} - n_{t})", True),
    ("gru_d2l", "n_t = tanh(W_n x_t + U_n (r_t * h_{t-1}) + b_n)", False),
    ("gru_d2l", "dr_t = (U_n.T @ dZ_n_t) * h_{t-1}", False),
    ("gru_d2l", "dU_n = (1/m) Σ_t dZ_n_t @ (r_t * h_{t-1}).T", False),
    ("gru_d2l", "dh_{t-1} = U_r.T dZ_r_t + U_z.T dZ_z_t + (U_n.T dZ_n_t) * r_t + dh_t * z_t", False),
]


@pytest.mark.parametrize("name, claim, latex", HOLDS)
def test_each_conventions_forms_verify(targets, name, claim, latex):
    verdict = verify_spec(targets[name], None, claim, latex=latex)
    assert verdict.equal, verdict.report()


CROSSED = [  # a formula of the other convention: (network, claim, the convention it belongs to)
    ("gru", "dr_t = (U_n.T @ dZ_n_t) * h_{t-1}", "d2l's and Cho et al.'s"),
    ("gru", "dU_n = (1/m) Σ_t dZ_n_t @ (r_t * h_{t-1}).T", "d2l's and Cho et al.'s"),
    ("gru", "dh_{t-1} = U_r.T dZ_r_t + U_z.T dZ_z_t + (U_n.T dZ_n_t) * r_t + dh_t * z_t", "d2l's and Cho et al.'s"),
    ("gru_d2l", "dU_n = (1/m) Σ_t (dZ_n_t * r_t) @ h_{t-1}.T", "PyTorch's and 11-785's"),
    (
        "gru_d2l",
        "dh_{t-1} = U_n.T @ (dZ_n_t * r_t) + U_r.T dZ_r_t + U_z.T dZ_z_t + dh_t * z_t",
        "PyTorch's and 11-785's",
    ),
]


@pytest.mark.parametrize("name, claim, theirs", CROSSED)
def test_a_formula_of_the_other_convention_is_named(targets, name, claim, theirs):
    verdict = verify_spec(targets[name], None, claim)
    assert not verdict.equal and verdict.counterexample is not None, verdict.report()
    assert verdict.hint.startswith("this is d") and f"in {theirs} convention" in verdict.hint, verdict.report()
    mine = convention_of(targets[name].net).name
    assert f"this network is in {mine}" in verdict.hint


SWAPPED = "z_t and 1 − z_t swapped: here h_t = (1 − z_t) ⊙ n_t + h_{t−1} ⊙ z_t (z_t is the share of h_{t−1} kept)"
SLIPS = [  # (network, claim, the start of the slip's name)
    # h_t = z_t ⊙ n_t + (1 − z_t) ⊙ h_{t−1} (Chung et al., Olah) read into a GRU whose z_t keeps h_{t−1}
    ("gru", "dn_t = dh_t * z_t", SWAPPED + "; the claim is of h_t = z_t ⊙ n_t + h_{t−1} ⊙ (1 − z_t)"),
    ("gru_d2l", "dn_t = dh_t * z_t", SWAPPED),
    ("gru", "dz_t = dh_t * (n_t - h_{t-1})", SWAPPED),  # the swap flips dz's sign
    ("gru", "dh_{t-1} = U_r.T dZ_r_t + U_z.T dZ_z_t + U_n.T (dZ_n_t * r_t) + dh_t * (1 - z_t)", SWAPPED),
    # the direct path h_{t−1} → h_t left out of dh_{t−1}
    (
        "gru",
        "dh_{t-1} = U_r.T dZ_r_t + U_z.T dZ_z_t + U_n.T (dZ_n_t * r_t)",
        "h_{t−1}'s uses not all summed: h_{t−1} is used 4 times (by Z_r, Z_z, Z_n, h)",
    ),
    # σ′ written for the candidate's tanh′, and tanh′ with its parenthesis misplaced
    ("gru", "dZ_n_t = dn_t * n_t * (1 - n_t)", "the derivative of the wrong activation: n*(1 - n) is sigmoid'"),
    ("gru_d2l", "dZ_n_t = dn_t * (1 - n_t)**2", "a misplaced parenthesis: (1 - n)**2 written for 1 - n**2"),
    ("gru", "dZ_z_t = dz_t", "σ′(Z_z) left out"),
]


@pytest.mark.parametrize("name, claim, slip", SLIPS)
def test_the_classic_slips_are_named_with_a_counterexample(targets, name, claim, slip):
    verdict = verify_spec(targets[name], None, claim)
    assert not verdict.equal and verdict.counterexample is not None, verdict.report()
    assert verdict.hint and verdict.hint.startswith(slip), verdict.report()


COURSE_NAMES = [  # 11-785 HW3P1's GRUCell and PyTorch's nn.GRU spell gru's parameters their own way
    ("dWnh = (1/m) Σ_t (dZ_n_t * r_t) @ h_{t-1}.T", False, "dU_n"),
    ("dbnh = (1/m) Σ_t np.sum(dZ_n_t * r_t, axis=1, keepdims=True)", False, "db_hn"),
    ("dbrx = (1/m) Σ_t np.sum(dZ_r_t, axis=1, keepdims=True)", False, "db_r"),
    ("dWzx = (1/m) Σ_t dZ_z_t @ x_t.T", False, "dW_z"),
    ("dr_t = dZ_n_t * (Wnh h_{t-1} + bnh)", False, "dr"),
    ("dh_{t-1} = Wrh.T dZ_r_t + Wzh.T dZ_z_t + Wnh.T (dZ_n_t * r_t) + dh_t * z_t", False, "dh_prev"),
    ("dh_{t-1} = W_hr.T dZ_r_t + W_hz.T dZ_z_t + W_hn.T (dZ_n_t * r_t) + dh_t * z_t", False, "dh_prev"),
    (
        r"\frac{\partial J}{\partial W_{nh}} = \frac{1}{m} \sum_{t=1}^{T} (\mathrm{d}Z_{n,t} \odot r_t) h_{t-1}^\top",
        True,
        "dU_n",
    ),
]


@pytest.mark.parametrize("claim, latex, name", COURSE_NAMES)
def test_the_courses_names_are_read(targets, claim, latex, name):
    verdict = verify_spec(targets["gru"], None, claim, latex=latex)
    assert verdict.equal and verdict.wrt == name, verdict.report()


def test_a_course_name_given_as_wrt_is_read(targets):
    verdict = verify_spec(targets["gru"], "dWnh", "(1/m) Σ_t (dZ_n_t * r_t) @ h_{t-1}.T")
    assert verdict.equal and verdict.wrt == "dU_n", verdict.report()


def test_a_gates_two_biases_in_one_claim_are_refused(targets):
    with pytest.raises(ClaimError, match=r"'brh' and 'brx' are both b_r here: 11-785 HW3P1 has a bias on each side"):
        verify_spec(targets["gru"], None, "Z_r_t = Wrx x_t + brx + Wrh h_{t-1} + brh")


def test_a_course_name_of_the_other_convention_is_named(targets):
    with pytest.raises(ClaimError, match="'Wnh' is 11-785 HW3P1's name for U_n in PyTorch's and 11-785's convention"):
        verify_spec(targets["gru_d2l"], None, "dr_t = dZ_n_t * (Wnh h_{t-1} + bnh)")


def test_a_course_name_must_stand_for_a_declared_parameter():
    from derive import VecNetwork
    from derive.convention import with_convention
    from derive.errors import DeclarationError

    net = VecNetwork("tiny")
    n = net.dims(n=2)
    net.param("W", (n, n))
    with pytest.raises(DeclarationError, match="HW's name 'Wx' stands for 'U', which the network does not declare"):
        with_convention(net, "mine", "f", other=lambda: net, names={"HW": {"Wx": "U"}})
    net.param("U", (n, n))  # a course in rows (d2l's W_xr is W_rᵀ) writes all its names so
    with pytest.raises(DeclarationError, match="HW's names are all in rows .* or none: a course has one layout"):
        with_convention(net, "mine", "f", other=lambda: net, names={"HW": {"Wx": "Wᵀ", "Ux": "U"}})


def test_a_parameter_of_the_other_convention_is_named(targets):
    with pytest.raises(ClaimError, match="'b_hn' is of PyTorch's and 11-785's convention .* has no 'b_hn'"):
        verify_spec(targets["gru_d2l"], None, "dr_t = dZ_n_t * (U_n h_{t-1} + b_hn)")


def test_the_handout_sets_the_equations_that_differ_side_by_side():
    from pathlib import Path

    tex = (Path(__file__).resolve().parent.parent / "docs" / "handouts" / "gru.tex").read_text(encoding="utf-8")
    section = tex.split(r"\section{Two conventions}", 1)[1].split(r"\section", 1)[0]
    assert "d2l's and Cho et al.'s convention" in section and r"\texttt{chainrule handout" in section
    here = [line for line in section.splitlines() if r"\text{here: }" in line]
    there = [line for line in section.splitlines() if r"\text{there: }" in line]
    assert len(here) == 6 and len(there) == 6  # Z_n; dh_t, dU_n, db_hn, dr, dh_{t−1}: one row each side
    assert any(r"\mathrm{d}r_{t}" in line and r"b_{hn}" in line for line in here)
    names = [line for line in section.splitlines() if line.startswith("In the names of")]
    assert (
        len(names) == 2
        and r"$U_{n}$ is \texttt{Wnh}" in names[0]
        and r"$b_{r}$ is \texttt{brx} + \texttt{brh}" in names[0]
    )
    assert r"$U_{n}$ is \texttt{W\_hn}" in names[1]
