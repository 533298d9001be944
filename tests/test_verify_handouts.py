"""The LaTeX the handouts print (derive.printing.latex, issue 4) reads back: every gradient verifies.

This ties the LaTeX reader to the notation chainrule itself writes: ``\\left(…\\right)``,
``\\hat{y}_1``, ``W_{2,11}``, ``\\mathbb{1}[z_1 \\geq 0]`` for ReLU', ``h_1^{2}``.
"""

from __future__ import annotations

import warnings

import pytest

from derive.catalogue import load, names

latex_module = pytest.importorskip("derive.printing.latex")

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


# ----------------------------------------------- every equation, round trip
# Every equation every golden handout prints (sections 1-5, per-unit and layer networks), and the
# same handouts in the other notations (--gradient-notation delta, --output-notation layer),
# checked with verify as a student would paste them: each must hold.  The NLP text-model
# handouts (docs/handouts/nlp/: embedding, pooling) are not claims about a catalogue network.
import contextlib
import io
import sys
from pathlib import Path

from codegen.cli import main
from codegen.cli.cmd_verify import load_target
from codegen.handout.builder import HandoutOptions, render
from derive.verify.scalar import verify_spec

sys.path.insert(0, str(Path(__file__).parent))
from handout_equations import claims, derive_claims

GOLDEN = Path(__file__).resolve().parent.parent / "docs" / "handouts"
ALL = names()


def _check_all(target, equations, what):
    assert equations, f"no equations found in {what}"
    equations = list(dict.fromkeys(equations))  # a handout prints many lines twice (section 3's list)
    failures = []
    for claim in equations:
        try:
            # the round trip checks reading and agreement; the 5 s guard has its own tests (deep_relu's dW7 takes
            # 2.2 s here, and CI machines run up to 1.6x slower)
            verdict = verify_spec(target, None, claim, latex=True, seconds=60)
        except Exception as exc:  # noqa: BLE001 - a claim verify cannot read is a failure to report
            failures.append(f"unreadable: {claim[:160]}: {exc}")
            continue
        if not verdict.equal:
            failures.append(f"WRONG: {claim[:160]}")
    assert not failures, f"{what}: {len(failures)} of {len(equations)} fail:\n" + "\n".join(failures[:10])


# The further topics' handouts print notation the claim reader does not parse yet (‖W‖₁ and sign, 1/√(σ² + ε) as a
# fraction of a square root, Σ over rows, μ and σ² as Greek names, an Add coefficient (1 − ε) Y).  Their standard
# formulas and the usual slips go through verify in tests/test_topics.py.  The attention handouts print the mask,
# softmax_rows, rowsum, 1/√d as a fraction and E_{:,W}, which the LaTeX reader does not parse yet; its standard
# formulas and slips go through verify in tests/test_attention.py.
HANDOUT_NOT_YET_READ = {
    "l1_mlp",
    "batchnorm_mlp",
    "layernorm_mlp",
    "label_smoothing",
    "self_attention",
    "transformer_block",
    "conv_net",  # im2col, mat, unpool_max and the index form: verify reads them in tests/test_conv_verify.py
}
# A recurrence's handout (time on every name: h_{t−1}, da_{t+1}, Σ_t, the boundary at t = T + 1) is read, but for
# the word-vector lookup x_t = E_{:,w_t} and its scatter-add into dE, which the LaTeX reader does not parse (the
# NLP handouts print them too); their gradients are checked against finite differences in tests/test_recurrence.py.
RECURRENT = ("elman_rnn", "lstm_cell", "rnn_lm", "gru", "gru_d2l")


def _read_by_verify(claim: str) -> bool:
    return "_{:," not in claim and r"\operatorname{scatter}" not in claim


@pytest.mark.parametrize("network", [n for n in ALL if n not in HANDOUT_NOT_YET_READ])
def test_every_equation_of_the_golden_handout_verifies(network):
    tex = (GOLDEN / f"{network}.tex").read_text(encoding="utf-8")
    equations = claims(tex)
    if network in RECURRENT:
        assert any(r"\sum_{t=1}^{T}" in c for c in equations) and any(
            r"\mathrm{d}h_{t-1}" in c or r"\mathrm{d}a_{t-1}" in c for c in equations
        )
    # the lookup of word vectors (E_{:,W}, word2vec's V_{:,c}) and its scatter-add are not read by verify (their
    # gradients are checked against finite differences in tests/test_ops.py and the generated modules' tests)
    equations = [c for c in equations if _read_by_verify(c)]
    if "\\section{The backward pass}" in tex:  # section 3 is there (a matrix program's handout has its batch form)
        assert any(r"\frac{\partial L}" in c for c in equations)
    _check_all(load_target(network), equations, f"docs/handouts/{network}.tex")


# the other notations rename layer-indexed quantities (δ^{[l]}, a^{[L]}); a recurrence's handout prints the same in
# them, and so does word2vec's (no layers: v_c, U, ŷ)
NO_LAYERS = ("word2vec_softmax", "word2vec_negative", "newton_logistic")


@pytest.mark.parametrize(
    "network", [n for n in ALL if n not in HANDOUT_NOT_YET_READ and n not in RECURRENT and n not in NO_LAYERS]
)
def test_every_equation_of_the_handout_in_the_other_notations_verifies(network):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tex = render(load(network), HandoutOptions(output="layer", delta="delta"))
    equations = claims(tex)
    if any(r"\mathrm{d}W" in c for c in equations):  # a layer network: section 4 is in δ notation
        assert any(r"\delta^{[" in c for c in equations)
    golden = set(claims((GOLDEN / f"{network}.tex").read_text(encoding="utf-8")))
    equations = [c for c in equations if c not in golden]  # what the other notations print differently
    _check_all(load_target(network), equations, f"{network} handout, --output-notation layer --gradient-notation delta")


# The text chainrule derive prints for the two newest matrix programs (the weight-decay norm, the
# tied weight's sum over uses) is not yet turned into claims by tests/handout_equations.py; their
# handouts are checked above.
# The same holds for the further topics' text, which also writes ReLU' as 1[Z ≥ 0] and 1/keep_prob as a coefficient.
DERIVE_TEXT_NOT_YET_READ = {"l2_mlp", "tied_autoencoder", "dropout_mlp", "deep_relu"} | HANDOUT_NOT_YET_READ
DERIVE_TEXT_NOT_YET_READ |= set(RECURRENT)  # its text is read by verify in tests/test_recurrence.py


@pytest.mark.parametrize("network", [n for n in ALL if n not in DERIVE_TEXT_NOT_YET_READ])
def test_every_equation_chainrule_derive_prints_verifies(network):
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):  # as the command prints it (in this process: no new Python each time)
        assert main(["derive", network]) == 0
    out = printed.getvalue()
    # a lookup V[:, c] and its scatter_add, and a summed cost printed with its loss's name (J = Σ_columns
    # cross_entropy(ŷ, y)), are not read by verify
    equations = [c for c in derive_claims(out) if "[:," not in c and "scatter_add" not in c and "_entropy(" not in c]
    _check_all(load_target(network), equations, f"chainrule derive {network}")


def test_the_extraction_finds_what_a_handout_prints():
    tex = (GOLDEN / "one_hidden_layer.tex").read_text(encoding="utf-8")
    equations = claims(tex)
    assert r"\mathrm{d}Z^{[1]} = \mathrm{d}A^{[1]} \odot \left(1 - {A^{[1]}}^{\odot 2}\right)" in equations
    assert any(c.startswith(r"W^{[1]} \leftarrow") for c in equations)  # the update rule
    assert not any("bmatrix" in c or "0.7" in c for c in equations)  # the worked example's values are left out
    assert not any(r"\mathrel{+}=" in c for c in equations)  # and the steps' accumulations
    per_unit = claims((GOLDEN / "two_layer_sigmoid.tex").read_text(encoding="utf-8"))
    assert any(c.startswith(r"z_1 = W_{11} x_1") for c in per_unit)  # section 1
    assert not any("0.7" in c for c in per_unit)  # section 2's numbers are left out
    # and a wrong copy of one is caught
    wrong = r"\mathrm{d}Z^{[1]} = \mathrm{d}A^{[1]} \odot \left(1 - A^{[1]}\right)"
    assert not verify_spec(load_target("one_hidden_layer"), None, wrong, latex=True).equal
