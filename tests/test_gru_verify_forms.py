"""verify reads the GRU as a cell's backward computes it (CMU 11-785 HW3P1's ``GRUCell.backward``: one step's term of
each parameter's gradient, the RNN over the sequence adds them up) and as d2l prints it (§10.2: row vectors,
X_t W_xr + H_{t−1} W_hr, the transposes of ``gru_d2l``'s column-layout matrices)."""

from __future__ import annotations

import pytest

from derive.catalogue import load
from derive.verify.recurrent import RecTarget
from derive.verify.scalar import verify_spec


@pytest.fixture(scope="module")
def targets():
    return {n: RecTarget(load(n)) for n in ("gru", "gru_d2l")}


STEP_HOLDS = [  # (network, --wrt, claim, LaTeX, what it is for)
    ("gru", None, "self.dWnx = (1/m) (dn_t * (1 - n_t**2)) @ x_t.T", False, "dW_n"),
    ("gru", None, "dW_n_t = (1/m) dZ_n_t @ x_t.T", False, "dW_n"),
    ("gru", None, "self.dWnh = (1/m) (dZ_n_t * r_t) @ self.hidden.T", False, "dU_n"),
    ("gru", None, "self.dbnh = (1/m) np.sum(dZ_n_t * r_t, axis=1, keepdims=True)", False, "db_hn"),
    ("gru", None, "self.dWzh = (1/m) (dh_t * (h_{t-1} - n_t) * z_t * (1 - z_t)) @ h_{t-1}.T", False, "dU_z"),
    ("gru", None, "self.dWrx = (1/m) (dZ_n_t * (Wnh @ h_{t-1} + bnh) * r_t * (1 - r_t)) @ x_t.T", False, "dW_r"),
    ("gru", "dWnh_t", "(1/m) (dZ_n_t * r_t) @ self.hidden.T", False, "dU_n"),
    ("gru", None, r"\mathrm{d}W_{nh,t} = \frac{1}{m} (\mathrm{d}Z_{n,t} \odot r_t) h_{t-1}^\top", True, "dU_n"),
    ("gru_d2l", None, "dU_n_t = (1/m) dZ_n_t @ (r_t * h_{t-1}).T", False, "dU_n"),
]


@pytest.mark.parametrize("net, wrt, claim, latex, name", STEP_HOLDS)
def test_one_steps_term_verifies(targets, net, wrt, claim, latex, name):
    verdict = verify_spec(targets[net], wrt, claim, latex=latex)
    assert verdict.equal and verdict.wrt == name, verdict.report()
    assert "step t's term: (1/m)" in verdict.truth and "Σ_t" not in verdict.truth.split("step t's term")[1]


STEP_SLIPS = [  # (network, claim, the start of the slip's name)
    ("gru", "self.dWnx = (1/m) (dh_t * z_t * (1 - n_t**2)) @ x_t.T", "z_t and 1 − z_t swapped"),
    ("gru", "dWnh_t = (1/m) dZ_n_t @ (r_t * h_{t-1}).T", "this is dU_n in d2l's and Cho et al.'s convention"),
    ("gru_d2l", "dU_n_t = (1/m) (dZ_n_t * r_t) @ h_{t-1}.T", "this is dU_n in PyTorch's and 11-785's convention"),
    ("gru", "self.dWnx = (1/m) (dn_t * (1 - n_t)) @ x_t.T", "the square left out: 1 - n written for 1 - n**2"),
    ("gru", "dWnh_t = (1/m) (dZ_n_t * r_t) @ h_t.T", "h_t written for h_{t−1}"),
    ("gru", "self.dWnx = (dn_t * (1 - n_t**2)) @ x_t.T", "a missing factor 1/m"),
]


@pytest.mark.parametrize("net, claim, slip", STEP_SLIPS)
def test_one_steps_slips_are_named(targets, net, claim, slip):
    verdict = verify_spec(targets[net], None, claim)
    assert not verdict.equal and verdict.counterexample is not None, verdict.report()
    assert verdict.hint and verdict.hint.startswith(slip), verdict.report()


def test_the_whole_gradient_without_its_sum_is_still_refused(targets):
    verdict = verify_spec(targets["gru"], None, "dW_n = (1/m) dZ_n_t @ x_t.T")
    assert not verdict.equal and verdict.hint.startswith("the sum over t is missing: W_n is used at every step")
    assert "dW_n_t = …" in verdict.hint  # and says how to write one step's term


def test_one_steps_term_with_a_sum_is_refused(targets):
    verdict = verify_spec(targets["gru"], None, "dW_n_t = (1/m) Σ_t dZ_n_t @ x_t.T")
    assert not verdict.equal and verdict.hint.startswith("step t's term of dW_n has no sum over t"), verdict.report()


D2L_HOLDS = [  # d2l §10.2's names, a batch in rows
    ("R_t = sigmoid(X_t @ W_xr + H_{t-1} @ W_hr + b_r)", False, "r"),
    ("Z_t = sigmoid(X_t @ W_xz + H_{t-1} @ W_hz + b_z)", False, "z"),
    ("Htilde_t = tanh(X_t @ W_xh + (R_t * H_{t-1}) @ W_hh + b_h)", False, "n"),
    ("H_t = Z_t * H_{t-1} + (1 - Z_t) * Htilde_t", False, "h"),  # d2l's and gru_d2l's: Z_t keeps H_{t−1}
    ("dW_hh = (1/m) Σ_t (R_t * H_{t-1}).T @ (dHtilde_t * (1 - Htilde_t**2))", False, "dU_n"),
    ("db_h = (1/m) Σ_t np.sum(dHtilde_t * (1 - Htilde_t**2), axis=0, keepdims=True)", False, "db_n"),
    ("dW_xz_t = (1/m) X_t.T @ (dZ_t * Z_t * (1 - Z_t))", False, "dW_z"),
    (r"R_t = \sigma(X_t W_{xr} + H_{t-1} W_{hr} + b_r)", True, "r"),
    (
        (
            r"\frac{\partial J}{\partial W_{hh}} = \frac{1}{m} \sum_{t=1}^{T} (R_t \odot H_{t-1})^\top"
            r" (\mathrm{d}\tilde{H}_t \odot (1 - \tilde{H}_t^2))"
        ),
        True,
        "dU_n",
    ),
]


@pytest.mark.parametrize("claim, latex, name", D2L_HOLDS)
def test_d2ls_row_vector_names_verify(targets, claim, latex, name):
    verdict = verify_spec(targets["gru_d2l"], None, claim, latex=latex)
    assert verdict.equal and verdict.wrt == name, verdict.report()


D2L_SLIPS = [
    ("H_t = (1 - Z_t) * H_{t-1} + Z_t * Htilde_t", "z_t and 1 − z_t swapped"),
    ("dW_hh = (1/m) Σ_t (dHtilde_t * (1 - Htilde_t**2)) @ (R_t * H_{t-1}).T", "the product order reversed"),
    ("dW_hh_t = (1/m) (R_t * H_{t-1}).T @ (dHtilde_t * (1 - Htilde_t))", "the square left out"),
    ("dW_hh = (1/m) (R_t * H_{t-1}).T @ (dHtilde_t * (1 - Htilde_t**2))", "the sum over t is missing"),
]


@pytest.mark.parametrize("claim, slip", D2L_SLIPS)
def test_d2ls_slips_are_named(targets, claim, slip):
    verdict = verify_spec(targets["gru_d2l"], None, claim)
    assert not verdict.equal, verdict.report()
    assert verdict.hint and verdict.hint.startswith(slip), verdict.report()


def test_d2ls_names_against_the_pytorch_gru_are_named(targets):
    from derive.verify.claims import ClaimError

    with pytest.raises(ClaimError, match="'W_xr' is d2l §10.2's name for W_r in d2l's and Cho et al.'s convention"):
        verify_spec(targets["gru"], None, "R_t = sigmoid(X_t @ W_xr + H_{t-1} @ W_hr + b_r)")


def test_the_cli_prints_one_steps_term(capsys):
    from codegen.cli.app import main

    assert main(["verify", "gru", "--claim", "self.dWnx = (1/m) (dn_t * (1 - n_t**2)) @ x_t.T"]) == 0
    out = capsys.readouterr().out
    assert "dW_n: holds" in out and "step t's term: (1/m) dZ_n_t x_tᵀ" in out
