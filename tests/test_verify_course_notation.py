"""verify reads the notation the courses print, as a student copies it: derive's own text (``rowsum``,
``Σ_columns``, ``√``), NumPy as written in assignments (a positional axis, ``keepdims=1``, ``np.int64(Z > 0)``
and comparisons, ``.astype``), a BPTT loop as min-char-rnn writes it (``dW += …`` with ``hs[t-1]``), Ng's
stacked LSTM weights (``Wf[:, :n]``), the name ``lambd``; in LaTeX ``\\epsilon``, ``\\varepsilon``, ``\\sqrt``,
Ng's ``^{\\langle t \\rangle}``, ``\\mathcal{L}``, ``\\dfrac``, ``g^{[1]\\prime}``, ``\\sum_{batch}``,
``\\operatorname{rowsum}``; and cs231n's rank-1 gradients of row parameters (held, with a note)."""

from __future__ import annotations

import pytest

from codegen.cli.cmd_verify import load_target
from derive.verify.scalar import verify_spec

_TARGETS: dict = {}


def target_of(network: str):
    if network not in _TARGETS:
        _TARGETS[network] = load_target(network)
    return _TARGETS[network]


BATCHNORM = "(m * dZtilde1 - np.sum(dZtilde1 * Zhat1, 1, keepdims=1) * Zhat1 - Σ_columns dZtilde1)"
HOLDS = [
    # text: derive's own notation
    ("self_attention", "dS = P * (dP - rowsum(dP * P))", False),
    ("batchnorm_mlp", f"dZ1 = (1/m) gamma1 / √(var1 + ε) * {BATCHNORM}", False),
    ("batchnorm_mlp", f"dZ1 = (1/m) gamma1 / sqrt(var1 + eps) * {BATCHNORM}", False),
    (
        "layernorm_mlp",
        "dZ1 = (1/n1) (n1 dZhat1 - Σ_rows(dZhat1 * Zhat1) * Zhat1 - Σ_rows(dZhat1)) / √(var1 + ε)",
        False,
    ),
    # text: NumPy as the assignments write it
    ("one_hidden_layer", "db1 = (1/m) * np.sum(dZ1, 1, keepdims=1)", False),
    ("dropout_mlp", "dZ1 = dA1 * np.int64(Z1 > 0)", False),
    ("dropout_mlp", "dZ1 = dA1 * (Z1 >= 0).astype(float)", False),
    ("dropout_mlp", "dZ2 = dA2 * np.float64(Z2 > 0)", False),
    ("l2_mlp", "dW1 = (1/m) dZ1 @ X.T + (lambd/m) * W1", False),
    # text: a BPTT loop as min-char-rnn writes it (inside `for t in reversed(range(T))`)
    ("elman_rnn", "dW += np.dot(da[t], hs[t-1].T) / m", False),
    ("elman_rnn", "dU += (1/m) * da[t] @ xs[t].T", False),
    ("elman_rnn", "db += (1/m) * np.sum(da[t], axis=1, keepdims=True)", False),
    ("elman_rnn", "da[t] = dh[t] * (1 - hs[t]**2)", False),
    # Ng's stacked LSTM weights: the columns of Wf that multiply a_{t−1}, and those that multiply x_t
    (
        "lstm_cell",
        "da_{t-1} = Wf[:, :n].T @ dZf_t + Wu[:, :n].T @ dZu_t + Wc[:, :n].T @ dZc_t + Wo[:, :n].T @ dZo_t",
        False,
    ),
    (
        "lstm_cell",
        "dx_t = Wf[:, n:].T @ dZf_t + Wu[:, n:].T @ dZu_t + Wc[:, n:].T @ dZc_t + Wo[:, n:].T @ dZo_t",
        False,
    ),
    # LaTeX
    ("label_smoothing", r"\mathrm{d}Z^{[2]} = A^{[2]} - \left((1 - \epsilon) Y + \frac{\varepsilon}{n_2}\right)", True),
    (
        "batchnorm_mlp",
        (
            r"dZ^{[1]} = \frac{1}{m} \frac{\gamma_1}{\sqrt{var_1 + \epsilon}} \odot (m\, dZtilde_1 - \sum_{batch} "
            r"(dZtilde_1 \odot Zhat_1) \odot Zhat_1 - \sum_{batch} dZtilde_1)"
        ),
        True,
    ),
    ("two_layer_sigmoid", r"\frac{\partial \mathcal{L}}{\partial W_{11}} = (\hat{y}-y) w_1 a_1 (1-a_1) x_1", True),
    ("two_layer_sigmoid", r"\frac{\partial L}{\partial W_{11}} = (\hat{y}-y) w_1 \sigma^{\prime}(z_1) x_1", True),
    ("one_hidden_layer", r"\mathrm{d}W^{[1]} = \dfrac{1}{m} \mathrm{d}Z^{[1]} X^{\top}", True),
    ("one_hidden_layer", r"dZ^{[1]} = W^{[2]T} dZ^{[2]} \odot g^{[1]\prime}(Z^{[1]})", True),
    ("one_hidden_layer", r"db^{[1]} = \frac{1}{m} \sum_{batch} dZ^{[1]}", True),
    ("one_hidden_layer", r"db^{[1]} = \frac{1}{m} \operatorname{rowsum}(dZ^{[1]})", True),
    ("l2_mlp", r"\mathrm{d}W^{[1]} = \frac{1}{m} \mathrm{d}Z^{[1]} X^{T} + \frac{\lambda}{m} W^{[1]}", True),
    (
        "rnn_lm",
        r"\mathrm{d}h^{\langle t \rangle} = V^{T} \mathrm{d}o^{\langle t \rangle} + W^{T} \mathrm{d}a^{\langle t+1 \rangle}",
        True,
    ),
    ("elman_rnn", r"da^{\langle t \rangle} = dh^{\langle t \rangle} \odot (1 - (h^{\langle t \rangle})^2)", True),
]


@pytest.mark.parametrize(("network", "claim", "latex"), HOLDS)
def test_the_courses_notation_is_read(network, claim, latex):
    v = verify_spec(target_of(network), None, claim, latex=latex)
    assert v.equal, v.report()


@pytest.mark.parametrize(
    ("network", "claim", "param"),
    [
        ("batchnorm_mlp", "dbeta1 = (1/m) np.sum(dZtilde1, axis=1)", "beta1"),
        ("batchnorm_mlp", "dgamma1 = (1/m) np.sum(dZtilde1 * Zhat1, 1)", "gamma1"),
        ("layernorm_mlp", "db2 = np.sum(dZ2, axis=1) / m", "b2"),
    ],
)
def test_rank_one_gradients_of_row_parameters_hold_with_a_note(network, claim, param):
    v = verify_spec(target_of(network), None, claim)
    assert v.equal, v.report()
    assert v.details["note"].startswith(f"d{param} is a rank-1 array of shape (")
    assert f"{param} is an (" in v.details["note"] and "cs231n" in v.details["note"]


def test_a_mask_written_with_a_comparison_is_wrong_only_where_it_is_wrong():
    v = verify_spec(target_of("dropout_mlp"), None, "dZ1 = dA1 * np.int64(Z1 < 0)")
    assert not v.equal and v.counterexample is not None


@pytest.mark.parametrize(
    ("network", "claim", "message"),
    [
        (
            "one_hidden_layer",
            "dW1 += dZ1 @ X.T",
            "'+=' adds up over the steps of a loop: it is read only for a recurrence",
        ),
        ("one_hidden_layer", "dZ1 = dA1 * (Z1 == 0)", "'==' and '!=' are not allowed in a claim"),
        ("one_hidden_layer", "dZ1 = dA1 * (0 < Z1 < 1)", "a chained comparison is not allowed"),
        ("one_hidden_layer", "dZ1 = dA1[0]", "subscripting is not allowed"),
        ("lstm_cell", "dx_t = Uf[:, :n].T @ dZf_t", "cannot read Uf[:, …]: Uf is not a weight that multiplies"),
    ],
)
def test_what_is_not_notation_is_refused_by_name(network, claim, message):
    from derive.verify.claims import ClaimError

    with pytest.raises(ClaimError) as err:
        verify_spec(target_of(network), None, claim)
    assert message in err.value.message
